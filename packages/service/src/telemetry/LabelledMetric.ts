/**
 * Effect metrics with labels, for hot paths: each combination of label values
 * is resolved once to a metric whose key carries the labels, so an update is
 * a map lookup and an addition (no Effect step, no key hashing). Label values
 * must be bounded by the caller (see `MetricLabels`).
 */
import { Metric, MetricBoundaries, MetricKey, MetricLabel } from "effect"

const NO_EXTRA_TAGS: ReadonlyArray<MetricLabel.MetricLabel> = []

type Resolved<In> = Metric.Metric<unknown, In, unknown>

const resolver = <In>(key: MetricKey.MetricKey<any>, labels: ReadonlyArray<string>) => {
  const cache = new Map<string, Resolved<In>>()
  const unlabelled = labels.length === 0 ? Metric.fromMetricKey(key) as Resolved<In> : undefined
  return (values: ReadonlyArray<string>): Resolved<In> => {
    if (unlabelled !== undefined) return unlabelled
    const id = values.length === 1 ? values[0]! : values.join("\u0000")
    let metric = cache.get(id)
    if (metric === undefined) {
      const tags = labels.map((label, index) => MetricLabel.make(label, values[index] ?? ""))
      metric = Metric.fromMetricKey(MetricKey.taggedWithLabels(key, tags)) as Resolved<In>
      cache.set(id, metric)
    }
    return metric
  }
}

/** A counter with labels. */
export interface LabelledCounter {
  readonly name: string
  readonly labels: ReadonlyArray<string>
  /** Adds `by` (default 1) to the series of these label values (in the order of `labels`). */
  readonly inc: (values: ReadonlyArray<string>, by?: number) => void
}

/** A histogram with labels. */
export interface LabelledHistogram {
  readonly name: string
  readonly labels: ReadonlyArray<string>
  readonly boundaries: ReadonlyArray<number>
  /** Records one observation in the series of these label values. */
  readonly observe: (values: ReadonlyArray<string>, value: number) => void
}

/** A gauge with labels. */
export interface LabelledGauge {
  readonly name: string
  readonly labels: ReadonlyArray<string>
  /** Sets the series of these label values. */
  readonly set: (values: ReadonlyArray<string>, value: number) => void
  /** Adds `delta` (may be negative) to the series of these label values. */
  readonly add: (values: ReadonlyArray<string>, delta: number) => void
}

/** A monotonic counter (`…_total`), exported as a Prometheus counter. */
export const counter = (name: string, description: string, labels: ReadonlyArray<string>): LabelledCounter => {
  const at = resolver<number>(MetricKey.counter(name, { description, incremental: true }), labels)
  return {
    name,
    labels,
    inc: (values, by = 1) => {
      if (by > 0) at(values).unsafeUpdate(by, NO_EXTRA_TAGS)
    }
  }
}

/** A histogram with fixed bucket boundaries. */
export const histogram = (
  name: string,
  description: string,
  labels: ReadonlyArray<string>,
  boundaries: ReadonlyArray<number>
): LabelledHistogram => {
  const at = resolver<number>(MetricKey.histogram(name, MetricBoundaries.fromIterable(boundaries), description), labels)
  return { name, labels, boundaries, observe: (values, value) => at(values).unsafeUpdate(value, NO_EXTRA_TAGS) }
}

/** A gauge. */
export const gauge = (name: string, description: string, labels: ReadonlyArray<string>): LabelledGauge => {
  const at = resolver<number>(MetricKey.gauge(name, { description }), labels)
  return {
    name,
    labels,
    set: (values, value) => at(values).unsafeUpdate(value, NO_EXTRA_TAGS),
    add: (values, delta) => at(values).unsafeModify(delta, NO_EXTRA_TAGS)
  }
}

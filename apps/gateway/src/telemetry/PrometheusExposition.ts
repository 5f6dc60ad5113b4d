import { makeProducer } from "@effect/opentelemetry/Metrics"
import { Resource } from "@effect/opentelemetry/Resource"
import { PrometheusSerializer } from "@opentelemetry/exporter-prometheus"
import { resourceFromAttributes } from "@opentelemetry/resources"
import { SwitchyardMetrics } from "@switchyard/service"
import { Effect, type Scope } from "effect"
import { makeProcessMetrics } from "./ProcessMetrics.js"

/** What the exposition reads at each scrape besides the registry. */
export interface ScrapeSources {
  readonly serviceName: string
  readonly version: string
  readonly circuits: (() => ReadonlyArray<{ readonly target: string; readonly open: boolean }>) | undefined
}

/**
 * The Prometheus text of every Effect metric in the process: snapshotted by
 * @effect/opentelemetry's metric producer, written by OpenTelemetry's
 * Prometheus serializer. Process metrics and circuit states are read first.
 */
export const makeScrape = (sources: ScrapeSources): Effect.Effect<Effect.Effect<string>, never, Scope.Scope> =>
  Effect.gen(function*() {
    const producer = yield* makeProducer.pipe(
      Effect.provideService(
        Resource,
        resourceFromAttributes({ "service.name": sources.serviceName, "service.version": sources.version })
      )
    )
    const serializer = new PrometheusSerializer(undefined, false, undefined, false, true)
    const processMetrics = yield* Effect.acquireRelease(Effect.sync(makeProcessMetrics), (metrics) => Effect.sync(metrics.stop))
    return Effect.promise(async () => {
      processMetrics.collect()
      for (const { open, target } of sources.circuits?.() ?? []) SwitchyardMetrics.circuitOpen.set([target], open ? 1 : 0)
      const { resourceMetrics } = await producer.collect()
      return serializer.serialize(resourceMetrics)
    })
  })

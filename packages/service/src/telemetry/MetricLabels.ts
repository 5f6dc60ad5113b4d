/**
 * Bounded label values: a client chooses the `model` of its request, so a
 * metric labelled with it as sent could grow a series per typo. Only what the
 * gateway knows (configured vendors; models that are configured, aliased,
 * routed or listed by the providers) is a label value; anything else is
 * `other`.
 */
import { Effect } from "effect"
import type { ChatCompletions } from "../ChatCompletions.js"

/** The label value of anything the gateway does not know. */
export const OTHER = "other"

/** Maps requested names to bounded label values. */
export interface MetricLabels {
  /** A `vendor/model` (or an alias) → itself if known, else `other`; `undefined` → `""` (no model). */
  readonly model: (model: string | undefined) => string
  /** A vendor → itself if configured, else `other`; `undefined` → `""`. */
  readonly vendor: (vendor: string | undefined) => string
  /** A route name → itself if configured, else `other`; `undefined` → `""`. */
  readonly route: (route: string | undefined) => string
}

/** What the gateway knows: the names that may be label values. */
export interface KnownNames {
  readonly models: Iterable<string>
  readonly vendors: Iterable<string>
  readonly routes?: Iterable<string> | undefined
}

const bounded = (known: ReadonlySet<string>) => (value: string | undefined): string =>
  value === undefined ? "" : known.has(value) ? value : OTHER

/** Labels bounded by the given names. */
export const makeMetricLabels = (known: KnownNames): MetricLabels => ({
  model: bounded(new Set(known.models)),
  vendor: bounded(new Set(known.vendors)),
  route: bounded(new Set(known.routes ?? []))
})

/**
 * The labels of a `ChatCompletions` service: its vendors, the models its
 * providers list, its aliases and their targets, its routes and their targets.
 */
export const labelsOf = (completions: ChatCompletions["Type"]): Effect.Effect<MetricLabels> =>
  Effect.map(completions.models, (models) => {
    const routes = [...completions.routing.routes.values()]
    return makeMetricLabels({
      vendors: completions.vendors,
      models: [
        ...models.map((model) => model.id),
        ...Object.keys(completions.aliases),
        ...Object.values(completions.aliases),
        ...routes.flatMap((route) => [route.name, ...route.targets.map((target) => target.model)])
      ],
      routes: routes.map((route) => route.name)
    })
  })

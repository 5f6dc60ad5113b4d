import { ChatCompletions, labelsOf, SwitchyardMetrics } from "@switchyard/service"
import { Context, Effect, Layer } from "effect"
import { Gateway } from "../config/GatewayConfig.js"

/** `GET /metrics`: the Prometheus text exposition of the process's metrics, when enabled. */
export class MetricsExposition extends Context.Tag("@switchyard/gateway/MetricsExposition")<MetricsExposition, {
  readonly enabled: boolean
  /** The exposition text (`text/plain; version=0.0.4`). */
  readonly scrape: Effect.Effect<string>
}>() {}

const make = Effect.gen(function*() {
  const config = yield* Gateway
  if (!config.metrics.enabled) return MetricsExposition.of({ enabled: false, scrape: Effect.succeed("") })
  const completions = yield* ChatCompletions
  const labels = yield* labelsOf(completions)
  // The exporter loads only when metrics are on.
  const { makeScrape } = yield* Effect.promise(() => import("./PrometheusExposition.js"))
  const write = yield* makeScrape({ serviceName: config.tracing.serviceName, version: "0.1.0" })
  // Breakers without state are closed; one that closed since the last scrape goes back to 0.
  let reported = new Set<string>()
  const circuits = Effect.map(completions.routing.circuits, (states) => {
    const open = new Map<string, number>()
    for (const state of states) {
      const target = labels.model(state.target)
      open.set(target, Math.max(open.get(target) ?? 0, state.status === "closed" ? 0 : 1))
    }
    for (const target of reported) if (!open.has(target)) open.set(target, 0)
    for (const [target, value] of open) SwitchyardMetrics.circuitOpen.set([target], value)
    reported = new Set(open.keys())
  })
  return MetricsExposition.of({ enabled: true, scrape: Effect.zipRight(circuits, write) })
})

/** The exposition, per the `metrics` section. */
export const layer: Layer.Layer<MetricsExposition, never, Gateway | ChatCompletions> = Layer.scoped(MetricsExposition, make)

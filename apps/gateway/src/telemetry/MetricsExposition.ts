import { Context, Effect, Layer, Option } from "effect"
import { Gateway } from "../config/GatewayConfig.js"

/** Circuit breaker states, for the `switchyard_circuit_open` gauge (provided by routing, when configured). */
export class CircuitStates extends Context.Tag("@switchyard/gateway/CircuitStates")<CircuitStates, {
  readonly snapshot: () => ReadonlyArray<{ readonly target: string; readonly open: boolean }>
}>() {}

/** `GET /metrics`: the Prometheus text exposition of the process's metrics, when enabled. */
export class MetricsExposition extends Context.Tag("@switchyard/gateway/MetricsExposition")<MetricsExposition, {
  readonly enabled: boolean
  /** The exposition text (`text/plain; version=0.0.4`). */
  readonly scrape: Effect.Effect<string>
}>() {}

const make = Effect.gen(function*() {
  const config = yield* Gateway
  if (!config.metrics.enabled) return MetricsExposition.of({ enabled: false, scrape: Effect.succeed("") })
  const circuits = yield* Effect.serviceOption(CircuitStates)
  // The exporter loads only when metrics are on.
  const { makeScrape } = yield* Effect.promise(() => import("./PrometheusExposition.js"))
  const scrape = yield* makeScrape({
    serviceName: config.tracing.serviceName,
    version: "0.1.0",
    circuits: Option.isSome(circuits) ? circuits.value.snapshot : undefined
  })
  return MetricsExposition.of({ enabled: true, scrape })
})

/** The exposition, per the `metrics` section. */
export const layer: Layer.Layer<MetricsExposition, never, Gateway> = Layer.scoped(MetricsExposition, make)

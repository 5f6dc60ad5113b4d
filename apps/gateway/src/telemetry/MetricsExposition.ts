import { SwitchyardMetrics } from "@switchyard/service"
import { Context, Effect, Layer } from "effect"
import { Gateway } from "../config/GatewayConfig.js"
import { makeProcessMetrics } from "./ProcessMetrics.js"

/** Circuit breaker states, for the `switchyard_circuit_open` gauge (provided by routing, when configured). */
export class CircuitStates extends Context.Tag("@switchyard/gateway/CircuitStates")<CircuitStates, {
  readonly snapshot: () => ReadonlyArray<{ readonly target: string; readonly open: boolean }>
}>() {}

/**
 * The Prometheus text exposition of every Effect metric in the process:
 * snapshotted by @effect/opentelemetry's metric producer and written by
 * OpenTelemetry's Prometheus serializer (never by hand). Process metrics and
 * circuit states are read at each scrape.
 */
export class MetricsExposition extends Context.Tag("@switchyard/gateway/MetricsExposition")<MetricsExposition, {
  readonly enabled: boolean
  /** The exposition text (`text/plain; version=0.0.4`). */
  readonly scrape: Effect.Effect<string>
}>() {}

const VERSION = "0.1.0"

const make = Effect.gen(function*() {
  const config = yield* Gateway
  if (!config.metrics.enabled) return MetricsExposition.of({ enabled: false, scrape: Effect.succeed("") })
  const [{ makeProducer }, { Resource }, { PrometheusSerializer }, { resourceFromAttributes }] = yield* Effect.promise(() =>
    Promise.all([
      import("@effect/opentelemetry/Metrics"),
      import("@effect/opentelemetry/Resource"),
      import("@opentelemetry/exporter-prometheus"),
      import("@opentelemetry/resources")
    ])
  )
  const producer = yield* makeProducer.pipe(
    Effect.provideService(
      Resource,
      resourceFromAttributes({ "service.name": config.tracing.serviceName, "service.version": VERSION })
    )
  )
  const serializer = new PrometheusSerializer(undefined, false, undefined, false, true)
  const processMetrics = yield* Effect.acquireRelease(Effect.sync(makeProcessMetrics), (metrics) => Effect.sync(metrics.stop))
  const circuits = yield* Effect.serviceOption(CircuitStates)
  const scrape = Effect.promise(async () => {
    processMetrics.collect()
    if (circuits._tag === "Some") {
      for (const { open, target } of circuits.value.snapshot()) SwitchyardMetrics.circuitOpen.set([target], open ? 1 : 0)
    }
    const { resourceMetrics } = await producer.collect()
    return serializer.serialize(resourceMetrics)
  })
  return MetricsExposition.of({ enabled: true, scrape })
})

/** The exposition, per the `metrics` section (disabled: nothing is loaded). */
export const layer: Layer.Layer<MetricsExposition, never, Gateway> = Layer.scoped(MetricsExposition, make)

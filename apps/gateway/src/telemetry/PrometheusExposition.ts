import { makeProducer } from "@effect/opentelemetry/Metrics"
import { Resource } from "@effect/opentelemetry/Resource"
import { PrometheusSerializer } from "@opentelemetry/exporter-prometheus"
import { resourceFromAttributes } from "@opentelemetry/resources"
import { Effect, type Scope } from "effect"
import { makeProcessMetrics } from "./ProcessMetrics.js"

/** What the exposition says about the process. */
export interface ScrapeSources {
  readonly serviceName: string
  readonly version: string
}

/**
 * The Prometheus text of every Effect metric in the process: snapshotted by
 * @effect/opentelemetry's metric producer, written by OpenTelemetry's
 * Prometheus serializer. Process metrics are read first.
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
      const { resourceMetrics } = await producer.collect()
      return serializer.serialize(resourceMetrics)
    })
  })

import { OTLPTraceExporter as JsonExporter } from "@opentelemetry/exporter-trace-otlp-http"
import { OTLPTraceExporter as ProtobufExporter } from "@opentelemetry/exporter-trace-otlp-proto"
import { resourceFromAttributes } from "@opentelemetry/resources"
import { BatchSpanProcessor } from "@opentelemetry/sdk-trace-base"
import { Effect, Layer, Redacted } from "effect"
import type { TracingConfig } from "../config/TelemetryConfig.js"
import { sampler, SpanSink } from "./RequestSpans.js"

const VERSION = "0.1.0"

/**
 * Tracing to an OpenTelemetry collector over OTLP/HTTP (protobuf or JSON), when
 * an endpoint is configured; otherwise nothing at all. Spans are batched and
 * exported off the request path: a collector that is down or slow only loses
 * spans (the queue is bounded), and shutting down waits at most 3 s for the
 * last batch. The listener records each request's spans into it when the
 * request is over (see `RequestSpans`). (The CLI imports this module only when
 * tracing is on.)
 */
export const layer = (config: TracingConfig): Layer.Layer<SpanSink> => {
  const url = config.endpoint
  if (url === undefined) return Layer.succeed(SpanSink, undefined)
  return Layer.unwrapScoped(Effect.gen(function*() {
    const Exporter = config.protocol === "http/json" ? JsonExporter : ProtobufExporter
    const exporter = new Exporter({
      url,
      headers: Object.fromEntries(config.headers.map(([name, value]) => [name, Redacted.value(value)])),
      timeoutMillis: config.exportTimeoutMs
    })
    const processor = yield* Effect.acquireRelease(
      Effect.sync(() =>
        new BatchSpanProcessor(exporter, {
          scheduledDelayMillis: config.scheduleDelayMs,
          exportTimeoutMillis: config.exportTimeoutMs
        })
      ),
      (processor) =>
        Effect.promise(() => processor.shutdown().catch(() => undefined)).pipe(
          Effect.interruptible,
          Effect.timeoutOption("3 seconds")
        )
    )
    return Layer.succeed(SpanSink, {
      processor,
      resource: resourceFromAttributes({
        ...config.resourceAttributes,
        "service.name": config.serviceName,
        "service.version": VERSION
      }),
      scope: { name: "switchyard", version: VERSION },
      sample: sampler(config.sampler, config.samplerArg ?? 1),
      captureContent: config.captureContent
    })
  }))
}

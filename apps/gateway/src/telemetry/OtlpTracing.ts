import * as EffectOtel from "@effect/opentelemetry/Tracer"
import type * as OtelApi from "@opentelemetry/api"
import { OTLPTraceExporter as JsonExporter } from "@opentelemetry/exporter-trace-otlp-http"
import { OTLPTraceExporter as ProtobufExporter } from "@opentelemetry/exporter-trace-otlp-proto"
import { resourceFromAttributes } from "@opentelemetry/resources"
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BasicTracerProvider,
  BatchSpanProcessor,
  ParentBasedSampler,
  type Sampler,
  TraceIdRatioBasedSampler
} from "@opentelemetry/sdk-trace-base"
import { CaptureContent } from "@switchyard/service"
import { Effect, Layer, Redacted, Tracer } from "effect"
import type { TracingConfig } from "../config/TelemetryConfig.js"

const VERSION = "0.1.0"

/**
 * Effect's OpenTelemetry tracer, adjusted: array attributes
 * (`gen_ai.response.finish_reasons`) reach the span as arrays rather than
 * strings, and no OpenTelemetry context is entered on every fiber resumption
 * (spans are parented by Effect; nothing else reads that context).
 */
const adjusted = (inner: Tracer.Tracer): Tracer.Tracer =>
  Tracer.make({
    span: (name, parent, context, links, startTime, kind, options) => {
      const span = inner.span(name, parent, context, links, startTime, kind, options)
      const otel = (span as unknown as { readonly span?: OtelApi.Span }).span
      if (otel !== undefined) {
        const attribute = span.attribute.bind(span)
        const attributes = span.attributes as Map<string, unknown>
        ;(span as { attribute: Tracer.Span["attribute"] }).attribute = (key, value) => {
          if (!Array.isArray(value)) return attribute(key, value)
          otel.setAttribute(key, value as Array<string>)
          attributes.set(key, value)
        }
      }
      return span
    },
    context: (execute) => execute()
  })

/**
 * Tracing to an OpenTelemetry collector over OTLP/HTTP (protobuf or JSON), when
 * an endpoint is configured; otherwise nothing at all. Spans are batched and
 * exported off the request path: a collector that is down or slow only loses
 * spans (the queue is bounded), and shutting down waits at most 3 s for the
 * last batch. Provide it underneath the service: a service decides when it is
 * built whether to trace. (The CLI imports this module only when tracing is on.)
 */
export const layer = (config: TracingConfig): Layer.Layer<never> => {
  const url = config.endpoint
  if (url === undefined) return Layer.empty
  return Layer.unwrapScoped(Effect.gen(function*() {
    const Exporter = config.protocol === "http/json" ? JsonExporter : ProtobufExporter
    const exporter = new Exporter({
      url,
      headers: Object.fromEntries(config.headers.map(([name, value]) => [name, Redacted.value(value)])),
      timeoutMillis: config.exportTimeoutMs
    })
    const ratio = config.samplerArg ?? 1
    const samplers: Record<TracingConfig["sampler"], () => Sampler> = {
      always_on: () => new AlwaysOnSampler(),
      always_off: () => new AlwaysOffSampler(),
      traceidratio: () => new TraceIdRatioBasedSampler(ratio),
      parentbased_always_on: () => new ParentBasedSampler({ root: new AlwaysOnSampler() }),
      parentbased_always_off: () => new ParentBasedSampler({ root: new AlwaysOffSampler() }),
      parentbased_traceidratio: () => new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) })
    }
    const sampler = samplers[config.sampler]()
    const provider = yield* Effect.acquireRelease(
      Effect.sync(() =>
        new BasicTracerProvider({
          resource: resourceFromAttributes({
            ...config.resourceAttributes,
            "service.name": config.serviceName,
            "service.version": VERSION
          }),
          sampler,
          spanProcessors: [
            new BatchSpanProcessor(exporter, {
              scheduledDelayMillis: config.scheduleDelayMs,
              exportTimeoutMillis: config.exportTimeoutMs
            })
          ]
        })
      ),
      (provider) =>
        Effect.promise(() => provider.shutdown().catch(() => undefined)).pipe(
          Effect.interruptible,
          Effect.timeoutOption("3 seconds")
        )
    )
    const tracer = yield* EffectOtel.make.pipe(
      Effect.provideService(EffectOtel.OtelTracer, provider.getTracer("switchyard", VERSION))
    )
    return Layer.merge(Layer.setTracer(adjusted(tracer)), Layer.succeed(CaptureContent, config.captureContent))
  }))
}

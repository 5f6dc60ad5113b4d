/**
 * Spans at the public service methods, free when no tracer is installed: a
 * service reads once, when it is built, whether a tracer is installed
 * (Effect's built-in one means none was) and only then wraps its methods;
 * a span of the built-in tracer would cost ~15 µs per call for nothing.
 */
import { Context, DefaultServices, Effect, Tracer } from "effect"

const builtIn = Context.get(DefaultServices.liveServices, Tracer.Tracer)

/** Whether a tracer other than Effect's built-in one is installed (read it when a service is built). */
export const tracingEnabled: Effect.Effect<boolean> = Effect.map(Effect.tracer, (tracer) => tracer !== builtIn)

/** `effect` in a span named `name`, without the cost of capturing a stack trace per call. */
export const traced = <A, E, R>(
  name: string,
  attributes: Readonly<Record<string, unknown>>,
  effect: Effect.Effect<A, E, R>
): Effect.Effect<A, E, R> => Effect.withSpan(effect, name, { attributes, captureStackTrace: false })

/**
 * Whether spans record prompts and completions (`gen_ai.input.messages`,
 * `gen_ai.output.messages`): off unless configured (`tracing.capture_content`).
 * Read when a service is built.
 */
export class CaptureContent extends Context.Reference<CaptureContent>()("@switchyard/service/CaptureContent", {
  defaultValue: () => false
}) {}

/** A span's W3C `traceparent` header value. */
export const traceparent = (span: Tracer.AnySpan): string => `00-${span.traceId}-${span.spanId}-${span.sampled ? "01" : "00"}`

/**
 * Runs `use` with the current span (the upstream attempt's, inside
 * `ChatCompletions`), if any: what a transport needs to send `traceparent` to
 * the vendor. Only call it when tracing (see `tracingEnabled`).
 */
export const withCurrentSpan = <A, E, R>(use: (span: Tracer.AnySpan | undefined) => Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.withFiberRuntime((fiber) => use(fiber.currentSpan))

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

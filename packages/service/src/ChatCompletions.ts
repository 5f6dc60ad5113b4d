import {
  addUsage,
  type ChatCompletion,
  type ChatCompletionChunk,
  type ChatCompletionRequest,
  type CompletionUsage,
  type GatewayError,
  UpstreamBadResponse,
  UpstreamTimeout
} from "@switchyard/core"
import { Chunk, type Clock, Context, Effect, Exit, Layer, Option, Scope, Stream } from "effect"
import type { CallTimeouts, ChunkPull, ModelInfo, ProviderCall } from "./Provider.js"
import { ProviderRegistry, type Route } from "./ProviderRegistry.js"
import type { RequestContext } from "./RequestContext.js"
import { makePolicy, type ResiliencePolicy, retrySchedule, shouldRetry } from "./ResiliencePolicy.js"

/** Options of the service. */
export interface ChatCompletionsOptions {
  /** Retry and timeout policy; missing values take the defaults. */
  readonly policy?: Partial<ResiliencePolicy> | undefined
}

/**
 * Chat completions over every configured vendor: routes `vendor/model` to its
 * provider, retries what can be retried, and applies the timeouts. Streams
 * are retried transparently until their first chunk; after that a failure
 * ends the stream with a typed error.
 */
export class ChatCompletions extends Context.Tag("@switchyard/service/ChatCompletions")<ChatCompletions, {
  /** A whole completion. */
  readonly create: (request: ChatCompletionRequest, context: RequestContext) => Effect.Effect<ChatCompletion, GatewayError>
  /**
   * A streamed completion. A failure before the first chunk (after retries)
   * fails the stream before it emits anything, so a server can still answer
   * with a proper status.
   */
  readonly stream: (
    request: ChatCompletionRequest,
    context: RequestContext
  ) => Stream.Stream<ChatCompletionChunk, GatewayError>
  /**
   * The same streamed completion, opened in the scope up to its first chunks
   * (retries included), then pulled batch by batch: what a server relays,
   * without the cost of running an Effect stream per request.
   */
  readonly open: (
    request: ChatCompletionRequest,
    context: RequestContext
  ) => Effect.Effect<OpenedCompletion, GatewayError, Scope.Scope>
  /** The models every configured vendor knows. */
  readonly models: Effect.Effect<ReadonlyArray<ModelInfo>>
  /** The configured vendors. */
  readonly vendors: ReadonlyArray<string>
  /**
   * The model aliases (`fast` → `groq/llama-3.1-8b-instant`). The registry
   * resolves them, but a request's `model` must be `vendor/model` to decode:
   * a server substitutes an alias without a slash before decoding.
   */
  readonly aliases: Readonly<Record<string, string>>
  /** The policy in force. */
  readonly policy: ResiliencePolicy
}>() {
  /** The service over the `ProviderRegistry` in context. */
  static readonly layer = (
    options: ChatCompletionsOptions = {}
  ): Layer.Layer<ChatCompletions, never, ProviderRegistry> => Layer.effect(ChatCompletions, makeChatCompletions(options))

  /** Builds the service over the `ProviderRegistry` in context. */
  static readonly make = (options: ChatCompletionsOptions = {}) => makeChatCompletions(options)
}

/** A streamed completion that has started: its first chunks, and a pull for the rest. */
export interface OpenedCompletion {
  /** The first batch: never empty. */
  readonly first: ReadonlyArray<ChatCompletionChunk>
  /** The next batch (never empty), or `null` once the answer is complete. */
  readonly pull: ChunkPull
}

interface Opened extends OpenedCompletion {
  readonly scope: Scope.CloseableScope
  /** When the attempt's total time is up (clock milliseconds). */
  readonly deadline: number
}

/** A pull over an Effect stream's pull, for providers that only offer `stream`. */
const fromStreamPull = (pull: Effect.Effect<Chunk.Chunk<ChatCompletionChunk>, Option.Option<GatewayError>>): ChunkPull => {
  const next: ChunkPull = Effect.matchEffect(pull, {
    onFailure: (error) => Option.isSome(error) ? Effect.fail(error.value) : Effect.succeed(null),
    onSuccess: (batch) => Chunk.isEmpty(batch) ? next : Effect.succeed(Chunk.toReadonlyArray(batch))
  })
  return next
}

/** Opens an Effect stream up to its first chunks. */
const openStream = (
  stream: Stream.Stream<ChatCompletionChunk, GatewayError>,
  vendor: string
): Effect.Effect<OpenedCompletion, GatewayError, Scope.Scope> =>
  Effect.flatMap(Stream.toPull(stream), (pull) => firstBatch(fromStreamPull(pull), vendor))

const firstBatch = (pull: ChunkPull, vendor: string): Effect.Effect<OpenedCompletion, GatewayError> =>
  Effect.flatMap(pull, (first) =>
    first === null
      ? Effect.fail(
        new UpstreamBadResponse({ vendor, message: `Upstream \`${vendor}\` ended the stream without sending a chunk` })
      )
      : Effect.succeed({ first, pull }))

/** The stream of an opened completion. */
const streamOf = (
  opened: Effect.Effect<OpenedCompletion, GatewayError, Scope.Scope>
): Stream.Stream<ChatCompletionChunk, GatewayError> =>
  Stream.unwrapScoped(Effect.map(opened, ({ first, pull }) =>
    Stream.concat(
      Stream.fromIterable(first),
      Stream.repeatEffectChunkOption(
        Effect.matchEffect(pull, {
          onFailure: (error) => Effect.fail(Option.some(error)),
          onSuccess: (batch) => batch === null ? Effect.fail(Option.none()) : Effect.succeed(Chunk.unsafeFromArray(batch))
        })
      )
    )))

const makeChatCompletions = (options: ChatCompletionsOptions = {}) =>
  Effect.gen(function*() {
    const registry = yield* ProviderRegistry
    const policy = makePolicy(options.policy)
    const schedule = retrySchedule(policy)

    const timeouts: CallTimeouts = {
      firstByteMs: policy.firstChunkTimeoutMs,
      idleMs: policy.idleTimeoutMs,
      totalMs: policy.totalTimeoutMs
    }
    const totalTimeout = (vendor: string) => () => new UpstreamTimeout({ vendor, phase: "total", timeoutMs: policy.totalTimeoutMs })

    /**
     * Retries by the policy, paying for it only once an attempt has failed:
     * the schedule is started then, with the failure replayed as its first
     * input, so the success path costs nothing.
     */
    const withRetry = <A>(attempt: Effect.Effect<A, GatewayError>): Effect.Effect<A, GatewayError> =>
      Effect.catchAll(attempt, (first) => {
        if (policy.maxRetries === 0 || !shouldRetry(policy, first)) return Effect.fail(first)
        let replay = true
        return Effect.retry(
          Effect.suspend(() => {
            if (!replay) return attempt
            replay = false
            return Effect.fail(first)
          }),
          schedule
        )
      })

    const createOnce = (route: Route, call: ProviderCall): Effect.Effect<ChatCompletion, GatewayError> =>
      withRetry(
        route.provider.nativeTimeouts === true
          ? route.provider.create(call)
          : Effect.timeoutFail(route.provider.create(call), {
            duration: policy.totalTimeoutMs,
            onTimeout: totalTimeout(call.vendor)
          })
      )

    const firstChunk = (route: Route, call: ProviderCall, scope: Scope.Scope): Effect.Effect<OpenedCompletion, GatewayError> =>
      route.provider.open !== undefined
        ? Effect.flatMap(Scope.extend(route.provider.open(call), scope), (pull) => firstBatch(pull, call.vendor))
        : Scope.extend(openStream(route.provider.stream(call), call.vendor), scope)

    /** Opens one attempt: the upstream stream up to its first non-empty batch of chunks. */
    const openAttempt = (route: Route, call: ProviderCall): Effect.Effect<Opened, GatewayError> =>
      Effect.uninterruptibleMask((restore) =>
        Effect.gen(function*() {
          const scope = yield* Scope.make()
          const deadline = (yield* Effect.clock).unsafeCurrentTimeMillis() + policy.totalTimeoutMs
          const opening = route.provider.nativeTimeouts === true
            ? firstChunk(route, call, scope)
            : Effect.timeoutFail(firstChunk(route, call, scope), {
              duration: Math.min(policy.firstChunkTimeoutMs, policy.totalTimeoutMs),
              onTimeout: () =>
                new UpstreamTimeout({
                  vendor: call.vendor,
                  phase: policy.firstChunkTimeoutMs <= policy.totalTimeoutMs ? "first_byte" : "total",
                  timeoutMs: Math.min(policy.firstChunkTimeoutMs, policy.totalTimeoutMs)
                })
            })
          const exit = yield* Effect.exit(restore(opening))
          if (Exit.isFailure(exit)) {
            yield* Scope.close(scope, exit)
            return yield* Effect.failCause(exit.cause)
          }
          return { ...exit.value, scope, deadline }
        })
      )

    /** For providers without native timeouts: one timer per pull covers both the idle and the total deadline. */
    const timedPull = (opened: Opened, vendor: string, clock: Clock.Clock): ChunkPull =>
      Effect.suspend(() => {
        const remaining = opened.deadline - clock.unsafeCurrentTimeMillis()
        const idle = policy.idleTimeoutMs <= remaining
        return Effect.timeoutFail(opened.pull, {
          duration: Math.max(0, idle ? policy.idleTimeoutMs : remaining),
          onTimeout: () =>
            new UpstreamTimeout({
              vendor,
              phase: idle ? "idle" : "total",
              timeoutMs: idle ? policy.idleTimeoutMs : policy.totalTimeoutMs
            })
        })
      })

    /** One call, retried until its first chunks; the attempt's resources live in the caller's scope. */
    const openOnce = (route: Route, call: ProviderCall): Effect.Effect<OpenedCompletion, GatewayError, Scope.Scope> =>
      Effect.gen(function*() {
        const opened = yield* withRetry(openAttempt(route, call))
        yield* Effect.addFinalizer((exit) => Scope.close(opened.scope, exit))
        if (route.provider.nativeTimeouts === true) return opened
        return { first: opened.first, pull: timedPull(opened, call.vendor, yield* Effect.clock) }
      })

    const callFor = (route: Route, request: ChatCompletionRequest, context: RequestContext): ProviderCall => ({
      request,
      vendor: route.vendor,
      model: route.model,
      context,
      ...(route.provider.nativeTimeouts === true ? { timeouts } : {})
    })

    const create = (request: ChatCompletionRequest, context: RequestContext) =>
      Effect.flatMap(registry.resolve(request.model), (route) => {
        const n = request.n ?? 1
        if (n <= 1 || route.provider.supportsN) return createOnce(route, callFor(route, request, context))
        return fanOutCreate(n, (index) => createOnce(route, callFor(route, { ...request, n: 1 }, withIndex(context, index))))
      })

    const open = (request: ChatCompletionRequest, context: RequestContext) =>
      Effect.flatMap(registry.resolve(request.model), (route) => {
        const n = request.n ?? 1
        if (n <= 1 || route.provider.supportsN) return openOnce(route, callFor(route, request, context))
        const streams = (index: number) =>
          streamOf(openOnce(route, callFor(route, { ...request, n: 1 }, withIndex(context, index))))
        return openStream(fanOutStream(n, streams), route.vendor)
      })

    const stream = (request: ChatCompletionRequest, context: RequestContext) => streamOf(open(request, context))

    return { create, stream, open, models: registry.models, vendors: registry.vendors, aliases: registry.aliases, policy }
  })

const withIndex = (context: RequestContext, index: number): RequestContext =>
  index === 0 ? context : { ...context, requestId: `${context.requestId}-${index}` }

/** `n` concurrent single-choice calls merged into one completion: choices 0..n-1, usage summed. */
export const fanOutCreate = <E>(
  n: number,
  call: (index: number) => Effect.Effect<ChatCompletion, E>
): Effect.Effect<ChatCompletion, E> =>
  Effect.all(Array.from({ length: n }, (_, index) => call(index)), { concurrency: n }).pipe(
    Effect.map((completions) => {
      const first = completions[0]!
      let usage: CompletionUsage | undefined
      for (const completion of completions) {
        if (completion.usage != null) usage = usage === undefined ? completion.usage : addUsage(usage, completion.usage)
      }
      const { usage: _, ...rest } = first
      return {
        ...rest,
        choices: completions.map((completion, index) => ({ ...completion.choices[0]!, index })),
        ...(usage !== undefined ? { usage } : {})
      }
    })
  )

/**
 * `n` concurrent single-choice streams merged into one: chunks interleave as
 * they arrive, each choice renumbered to its stream's index, under one id;
 * the usage chunks are summed into one at the end.
 */
export const fanOutStream = <E>(
  n: number,
  stream: (index: number) => Stream.Stream<ChatCompletionChunk, E>
): Stream.Stream<ChatCompletionChunk, E> =>
  Stream.suspend(() => {
    let id: string | undefined
    let usage: CompletionUsage | undefined
    let last: ChatCompletionChunk | undefined
    const streams = Array.from({ length: n }, (_, index) =>
      stream(index).pipe(
        Stream.filterMap((chunk) => {
          id ??= chunk.id
          last = chunk
          if (chunk.usage != null) usage = usage === undefined ? chunk.usage : addUsage(usage, chunk.usage)
          if (chunk.choices.length === 0) return Option.none()
          const { usage: _, ...rest } = chunk
          return Option.some({ ...rest, id: id!, choices: chunk.choices.map((choice) => ({ ...choice, index })) })
        })
      ))
    const usageChunk = Stream.suspend(() => {
      if (usage === undefined || last === undefined) return Stream.empty
      const { usage: _, ...rest } = last
      return Stream.succeed<ChatCompletionChunk>({ ...rest, id: id!, choices: [], usage })
    })
    return Stream.concat(Stream.mergeAll(streams, { concurrency: n }), usageChunk)
  })

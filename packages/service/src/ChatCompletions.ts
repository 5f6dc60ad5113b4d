import {
  addUsage,
  type ChatCompletion,
  type ChatCompletionChunk,
  type ChatCompletionRequest,
  type CompletionUsage,
  type GatewayError,
  UpstreamBadResponse
} from "@switchyard/core"
import { Cause, Context, Effect, Exit, Layer, Option, Scope, Stream } from "effect"
import { type AttemptKind, finishAttempt, outcomeOf, startAttempt } from "./CallRecord.js"
import * as Deadlines from "./Deadlines.js"
import type { ChunkPull, ModelInfo, ProviderCall } from "./Provider.js"
import { ProviderRegistry, type Route } from "./ProviderRegistry.js"
import type { RequestContext } from "./RequestContext.js"
import { makePolicy, type ResiliencePolicy, retrySchedule, shouldRetry } from "./ResiliencePolicy.js"
import { traced, tracingEnabled } from "./Tracing.js"
import { fromStream, pullAfter, toStream } from "./transport/ChunkStream.js"

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
}

const firstBatch = (pull: ChunkPull, vendor: string): Effect.Effect<OpenedCompletion, GatewayError> =>
  Effect.flatMap(pull, (first) =>
    first === null
      ? Effect.fail(
        new UpstreamBadResponse({ vendor, message: `Upstream \`${vendor}\` ended the stream without sending a chunk` })
      )
      : Effect.succeed({ first, pull }))

/** The stream of an opened completion (for library users; the gateway relays the pull). */
const streamOf = (
  opened: Effect.Effect<OpenedCompletion, GatewayError, Scope.Scope>
): Stream.Stream<ChatCompletionChunk, GatewayError> =>
  toStream(Effect.map(opened, ({ first, pull }) => pullAfter(first, pull)))

const makeChatCompletions = (options: ChatCompletionsOptions = {}) =>
  Effect.gen(function*() {
    const registry = yield* ProviderRegistry
    const policy = makePolicy(options.policy)
    const schedule = retrySchedule(policy)
    const tracing = yield* tracingEnabled
    const nativeDeadlines = Deadlines.native(policy)
    const timerDeadlines = Deadlines.timers(policy)
    const deadlinesOf = (route: Route): Deadlines.Deadlines =>
      route.provider.nativeTimeouts === true ? nativeDeadlines : timerDeadlines

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

    /** A span per attempt (`Provider.create`, `Provider.open`), when tracing. */
    const attemptSpan = <A, E>(name: string, route: Route, call: ProviderCall, attempt: Effect.Effect<A, E>) =>
      tracing
        ? traced(name, {
          "switchyard.vendor": call.vendor,
          "switchyard.provider": route.provider.family,
          "gen_ai.request.model": call.model,
          "switchyard.request_id": call.context.requestId
        }, attempt)
        : attempt

    /**
     * Records one attempt on the call's record, when the caller asked for one
     * (one match step; nothing at all otherwise). An interrupted attempt is left
     * open: `settleAttempts` marks it cancelled when the call is over.
     */
    const recorded = <A>(call: ProviderCall, attempt: Effect.Effect<A, GatewayError>): Effect.Effect<A, GatewayError> => {
      const record = call.context.record
      if (record === undefined) return attempt
      return Effect.suspend(() => {
        const target = `${call.vendor}/${call.model}`
        let kind: AttemptKind = call.attemptKind ?? "first"
        if (call.attemptKind === undefined) {
          for (const previous of record.attempts) {
            kind = previous.target === target ? "retry" : "fallback"
            if (kind === "retry") break
          }
        }
        const entry = startAttempt(record, target, call.vendor, kind)
        return Effect.matchCauseEffect(attempt, {
          onFailure: (cause) => {
            const failure = Cause.failureOption(cause)
            if (Option.isSome(failure)) finishAttempt(record, entry, outcomeOf(failure.value), failure.value.message)
            return Effect.failCause(cause)
          },
          onSuccess: (value) => {
            finishAttempt(record, entry, "ok")
            return Effect.succeed(value)
          }
        })
      })
    }

    const createOnce = (route: Route, call: ProviderCall): Effect.Effect<ChatCompletion, GatewayError> =>
      withRetry(
        recorded(call, attemptSpan("Provider.create", route, call, deadlinesOf(route).create(route.provider.create(call), call.vendor)))
      )

    /** Opens one attempt: the upstream stream up to its first non-empty batch of chunks, in a scope of its own. */
    const openAttempt = (route: Route, call: ProviderCall): Effect.Effect<Opened, GatewayError> =>
      Effect.uninterruptibleMask((restore) =>
        Effect.flatMap(Scope.make(), (scope) => {
          const opening = Effect.flatMap(
            Scope.extend(route.provider.open(call), scope),
            (pull) => firstBatch(pull, call.vendor)
          )
          const attempt = recorded(call, attemptSpan("Provider.open", route, call, deadlinesOf(route).open(opening, call.vendor)))
          return Effect.flatMap(Effect.exit(restore(attempt)), (exit) =>
            Exit.isSuccess(exit)
              ? Effect.succeed({ ...exit.value, scope })
              : Effect.zipRight(Scope.close(scope, exit), Effect.failCause(exit.cause)))
        })
      )

    /** One call, retried until its first chunks; the attempt's resources live in the caller's scope. */
    const openOnce = (route: Route, call: ProviderCall): Effect.Effect<OpenedCompletion, GatewayError, Scope.Scope> =>
      Effect.flatMap(withRetry(openAttempt(route, call)), (opened) =>
        Effect.as(Effect.addFinalizer((exit) => Scope.close(opened.scope, exit)), opened))

    const callFor = (route: Route, request: ChatCompletionRequest, context: RequestContext): ProviderCall => {
      const timeouts = deadlinesOf(route).call
      return {
        request,
        vendor: route.vendor,
        model: route.model,
        context,
        ...(timeouts !== undefined ? { timeouts } : {})
      }
    }

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
        return Effect.flatMap(fromStream(fanOutStream(n, streams)), (pull) => firstBatch(pull, route.vendor))
      })

    /** The public methods, in spans (`ChatCompletions.create`, …) when tracing; never a span per chunk. */
    const methodSpan = <A, E, R>(name: string, request: ChatCompletionRequest, context: RequestContext, effect: Effect.Effect<A, E, R>) =>
      tracing ? traced(name, { "gen_ai.request.model": request.model, "switchyard.request_id": context.requestId }, effect) : effect

    return {
      create: (request: ChatCompletionRequest, context: RequestContext) =>
        methodSpan("ChatCompletions.create", request, context, create(request, context)),
      open: (request: ChatCompletionRequest, context: RequestContext) =>
        methodSpan("ChatCompletions.open", request, context, open(request, context)),
      stream: (request: ChatCompletionRequest, context: RequestContext) => {
        const stream = streamOf(open(request, context))
        return tracing
          ? Stream.withSpan(stream, "ChatCompletions.stream", {
            attributes: { "gen_ai.request.model": request.model, "switchyard.request_id": context.requestId },
            captureStackTrace: false
          })
          : stream
      },
      models: registry.models,
      get vendors() {
        return registry.vendors
      },
      aliases: registry.aliases,
      policy
    }
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

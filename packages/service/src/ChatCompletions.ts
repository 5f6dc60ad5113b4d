import {
  addUsage,
  type ChatCompletion,
  type ChatCompletionChunk,
  type ChatCompletionRequest,
  type CompletionUsage,
  type GatewayError,
  NoHealthyTarget,
  UpstreamBadResponse
} from "@switchyard/core"
import { Cause, Context, Effect, Exit, Layer, Option, Random, Schedule, Scope, Stream, type Tracer } from "effect"
import { type AttemptKind, cancelAttempts, finishAttempt, outcomeOf, startAttempt } from "./CallRecord.js"
import * as Deadlines from "./Deadlines.js"
import type { ChunkPull, ModelInfo, ProviderCall } from "./Provider.js"
import { ProviderRegistry, type Route } from "./ProviderRegistry.js"
import type { RequestContext } from "./RequestContext.js"
import { makePolicy, type ResiliencePolicy, retrySchedule, shouldRetry } from "./ResiliencePolicy.js"
import { ADMITTED, PROBE } from "./routing/CircuitBreaker.js"
import { orderTargets, runHedged, runInTurn } from "./routing/RouteExecutor.js"
import { type PlannedTarget, type RoutePlan, Routing } from "./routing/Routing.js"
import { countsAgainstBreaker, type FallbackReason, type RoutingPolicy, type RoutingPolicyError } from "./routing/RoutingPolicy.js"
import { attemptSpanName, describeCompletion, requestAttributes, StreamDescription } from "./telemetry/GenAiSpans.js"
import { CaptureContent, traced, tracingEnabled } from "./Tracing.js"
import { fromStream, pullAfter, toStream } from "./transport/ChunkStream.js"

/** Options of the service. */
export interface ChatCompletionsOptions {
  /** Retry and timeout policy; missing values take the defaults. */
  readonly policy?: Partial<ResiliencePolicy> | undefined
  /**
   * Routes and circuit breakers (checked against the registry's vendors when
   * the service is built). A `Routing` service in context takes precedence.
   */
  readonly routing?: RoutingPolicy | undefined
}

/**
 * Chat completions over every configured vendor: routes `vendor/model` to its
 * provider (or a route's name to its targets, with fallbacks, load balancing
 * and hedging), retries what can be retried, applies the timeouts, and keeps
 * each target's circuit breaker. Streams are retried and fall back
 * transparently until their first chunk; after that a failure ends the stream
 * with a typed error.
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
  /** The routes and circuit breakers in force (`routing.circuits`: the breakers' state, for metrics). */
  readonly routing: Routing["Type"]
}>() {
  /** The service over the `ProviderRegistry` (and the `Routing`, if any) in context. */
  static readonly layer = (
    options: ChatCompletionsOptions = {}
  ): Layer.Layer<ChatCompletions, RoutingPolicyError, ProviderRegistry> => Layer.effect(ChatCompletions, makeChatCompletions(options))

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

/**
 * An opened attempt whose own scope closes with the caller's. `Scope.addFinalizerExit`, not
 * `Effect.addFinalizer`: the latter diffs and patches every fiber ref (the whole context
 * included) when it runs, which cost about a tenth of a stream's CPU here.
 */
const closedWith = (opened: Opened): Effect.Effect<OpenedCompletion, never, Scope.Scope> =>
  Effect.flatMap(Effect.scope, (scope) =>
    Effect.as(Scope.addFinalizerExit(scope, (exit) => Scope.close(opened.scope, exit)), opened))

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
    const provided = yield* Effect.serviceOption(Routing)
    const routing = Option.isSome(provided) ? provided.value : yield* Routing.make(options.routing)
    const { breakers, routes } = routing
    const directFallbackOn = routing.directFallbackOn
    const clock = yield* Effect.clock
    const now = () => clock.unsafeCurrentTimeMillis()
    const policy = makePolicy(options.policy)
    const tracing = yield* tracingEnabled
    const captureContent = yield* CaptureContent
    const nativeDeadlines = Deadlines.native(policy)
    const timerDeadlines = Deadlines.timers(policy)
    const deadlinesOf = (route: Route): Deadlines.Deadlines =>
      route.provider.nativeTimeouts === true ? nativeDeadlines : timerDeadlines

    /**
     * Retries by a policy, paying for it only once an attempt has failed:
     * the schedule is started then, with the failure replayed as its first
     * input, so the success path costs nothing. A target whose breaker has
     * opened is not retried: its last failure is the answer.
     */
    type Retry = <A, R>(call: ProviderCall, attempt: Effect.Effect<A, GatewayError, R>) => Effect.Effect<A, GatewayError, R>
    const retrying = (retryPolicy: ResiliencePolicy): Retry => {
      if (retryPolicy.maxRetries === 0) return (_call, attempt) => attempt
      const schedule = retrySchedule(retryPolicy)
      return (call, attempt) =>
        Effect.catchAll(attempt, (first) => {
          const closed = () =>
            call.context.providerKey !== undefined || breakers.blockedFor(call.vendor, call.model, now()) === 0
          if (!shouldRetry(retryPolicy, first) || !closed()) return Effect.fail(first)
          let replay = true
          return Effect.retry(
            Effect.suspend(() => {
              if (!replay) return attempt
              replay = false
              return Effect.fail(first)
            }),
            Schedule.whileInput(schedule, closed)
          )
        })
    }
    const retry = retrying(policy)

    /** What each route adds to a request: its retry policy. */
    const routeRetry = new Map<string, Retry>()
    for (const route of routes.values()) {
      routeRetry.set(
        route.name,
        route.retriesPerTarget === undefined ? retry : retrying({ ...policy, maxRetries: route.retriesPerTarget })
      )
    }

    const spanOptions = (call: ProviderCall, kind: AttemptKind) => {
      const attributes = requestAttributes(call, captureContent)
      attributes["switchyard.attempt.kind"] = kind
      return { kind: "client" as const, attributes, captureStackTrace: false }
    }

    /** `attempt` as the child of `span`, which says how it failed (`error.type`) or what it answered. */
    const inSpan = <A>(span: Tracer.Span, attempt: Effect.Effect<A, GatewayError>, onSuccess: (value: A) => A) =>
      Effect.matchCauseEffect(Effect.withParentSpan(attempt, span), {
        onFailure: (cause) => {
          const failure = Cause.failureOption(cause)
          if (Option.isSome(failure)) span.attribute("error.type", outcomeOf(failure.value))
          return Effect.failCause(cause)
        },
        onSuccess: (value) => Effect.succeed(onSuccess(value))
      })

    /** A non-streaming attempt in a GenAI CLIENT span (`chat {model}`) with the answer's id, model, finish reasons, usage. */
    const tracedCreate = (call: ProviderCall, kind: AttemptKind, attempt: Effect.Effect<ChatCompletion, GatewayError>) =>
      Effect.useSpan(attemptSpanName(call), spanOptions(call, kind), (span) =>
        inSpan(span, attempt, (completion) => {
          describeCompletion(span, completion, captureContent)
          return completion
        }))

    /**
     * A streamed attempt in a GenAI CLIENT span that lasts as long as the
     * attempt's scope (the whole stream) and reports what the chunks said when
     * it ends (a plain look at each batch, only while tracing).
     */
    const tracedOpen = (
      call: ProviderCall,
      kind: AttemptKind,
      scope: Scope.Scope,
      attempt: Effect.Effect<OpenedCompletion, GatewayError>
    ) =>
      Effect.flatMap(Scope.extend(Effect.makeSpanScoped(attemptSpanName(call), spanOptions(call, kind)), scope), (span) => {
        const description = new StreamDescription(captureContent)
        return Effect.flatMap(
          inSpan(span, attempt, ({ first, pull }) => ({
            first: description.observe(first)!,
            pull: Effect.map(pull, (batch) => description.observe(batch))
          })),
          (opened) => Effect.as(Scope.addFinalizer(scope, Effect.sync(() => description.describe(span))), opened)
        )
      })

    /**
     * One attempt on a target, through its circuit breaker: refused at once
     * (no connection) while the breaker is open; its outcome counts against
     * the breaker (failures of the kinds `counts` names) and goes on the call's
     * record when the caller asked for one (`first`, then `retry` for each
     * re-run). An interrupted attempt is left open on the record:
     * `settleAttempts` (or a hedge) marks it cancelled. A call with the
     * caller's own provider key bypasses the breaker: its failures (a bad or
     * rate-limited key of one caller) must not close a target for everyone.
     * `send` makes the attempt: it gets the call, which carries the attempt's
     * record when the record is traced (the provider sends its `traceparent`).
     */
    const observed = <A>(
      call: ProviderCall,
      fallbackOn: ReadonlySet<FallbackReason>,
      send: (call: ProviderCall, kind: AttemptKind) => Effect.Effect<A, GatewayError>,
      stream = false
    ): Effect.Effect<A, GatewayError> => {
      const record = call.context.record
      const counts = call.context.providerKey === undefined ? fallbackOn : undefined
      let runs = 0
      return Effect.suspend(() => {
        const admission = counts === undefined ? ADMITTED : breakers.admit(call.vendor, call.model, now())
        if (admission > 0) {
          const target = `${call.vendor}/${call.model}`
          return Effect.fail(new NoHealthyTarget({ model: target, targets: [target], retryAfterMs: admission }))
        }
        const kind: AttemptKind = runs++ === 0 ? call.attemptKind ?? "first" : "retry"
        const entry = record === undefined ? undefined : startAttempt(record, `${call.vendor}/${call.model}`, call.vendor, kind)
        const attempt = send(entry?.spanId === undefined ? call : { ...call, attempt: entry }, kind)
        const settled = Effect.matchCauseEffect(attempt, {
          onFailure: (cause) => {
            const failure = Cause.failureOption(cause)
            if (Option.isSome(failure)) {
              const error = failure.value
              if (entry !== undefined) finishAttempt(record!, entry, outcomeOf(error), error.message)
              if (counts !== undefined && countsAgainstBreaker(error, counts)) breakers.failure(call.vendor, call.model, now())
              else if (admission === PROBE) breakers.release(call.vendor, call.model)
            } else if (admission === PROBE) breakers.release(call.vendor, call.model)
            return Effect.failCause(cause)
          },
          onSuccess: (value) => {
            if (entry !== undefined) finishAttempt(record!, entry, "ok")
            if (counts !== undefined) {
              if (stream) breakers.started(call.vendor, call.model)
              else breakers.success(call.vendor, call.model)
            }
            return Effect.succeed(value)
          }
        })
        return admission === PROBE
          ? Effect.onInterrupt(settled, () => Effect.sync(() => breakers.release(call.vendor, call.model)))
          : settled
      })
    }

    const createOnce = (
      route: Route,
      call: ProviderCall,
      retry: Retry,
      counts: ReadonlySet<FallbackReason>
    ): Effect.Effect<ChatCompletion, GatewayError> =>
      retry(
        call,
        observed(call, counts, (call, kind) => {
          const attempt = deadlinesOf(route).create(route.provider.create(call), call.vendor)
          return tracing ? tracedCreate(call, kind, attempt) : attempt
        })
      )

    /**
     * A stream's later batches, for its target's breaker: its end is the
     * attempt's success; a failure after the first chunks (a cut, a stall past
     * the deadline) counts as the kinds `counts` names do (one frame per
     * batch, not per chunk).
     */
    const watchedPull = (call: ProviderCall, counts: ReadonlySet<FallbackReason>, pull: ChunkPull): ChunkPull =>
      call.context.providerKey !== undefined
        ? pull
        : Effect.matchEffect(pull, {
          onFailure: (error) => {
            if (countsAgainstBreaker(error, counts)) breakers.failure(call.vendor, call.model, now())
            return Effect.fail(error)
          },
          onSuccess: (batch) => {
            if (batch === null) breakers.success(call.vendor, call.model)
            return Effect.succeed(batch)
          }
        })

    /** Opens one attempt: the upstream stream up to its first non-empty batch of chunks, in a scope of its own. */
    const openAttempt = (route: Route, call: ProviderCall, counts: ReadonlySet<FallbackReason>): Effect.Effect<Opened, GatewayError> =>
      Effect.uninterruptibleMask((restore) =>
        Effect.flatMap(Scope.make(), (scope) => {
          const attempt = observed(call, counts, (call, kind) => {
            const opening = deadlinesOf(route).open(
              Effect.flatMap(
                route.provider.openIn !== undefined
                  ? route.provider.openIn(call, scope)
                  : Scope.extend(route.provider.open(call), scope),
                (pull) => firstBatch(pull, call.vendor)
              ),
              call.vendor
            )
            return tracing ? tracedOpen(call, kind, scope, opening) : opening
          }, true)
          return Effect.flatMap(Effect.exit(restore(attempt)), (exit) =>
            Exit.isSuccess(exit)
              ? Effect.succeed({ ...exit.value, pull: watchedPull(call, counts, exit.value.pull), scope })
              : Effect.zipRight(Scope.close(scope, exit), Effect.failCause(exit.cause)))
        })
      )

    /** One call, retried until its first chunks; the attempt's resources live in the caller's scope. */
    const openOnce = (
      route: Route,
      call: ProviderCall,
      retry: Retry,
      counts: ReadonlySet<FallbackReason>
    ): Effect.Effect<OpenedCompletion, GatewayError, Scope.Scope> =>
      Effect.flatMap(retry(call, openAttempt(route, call, counts)), closedWith)

    const callFor = (
      route: Route,
      request: ChatCompletionRequest,
      context: RequestContext,
      kind: AttemptKind | undefined
    ): ProviderCall => {
      const timeouts = deadlinesOf(route).call
      return {
        request,
        vendor: route.vendor,
        model: route.model,
        context,
        ...(timeouts !== undefined ? { timeouts } : {}),
        ...(kind !== undefined ? { attemptKind: kind } : {})
      }
    }

    /** A whole completion from one target, fanning out `n` calls where its vendor cannot answer `n` itself. */
    const createOn = (
      route: Route,
      request: ChatCompletionRequest,
      context: RequestContext,
      kind: AttemptKind | undefined,
      retry: Retry,
      counts: ReadonlySet<FallbackReason>
    ): Effect.Effect<ChatCompletion, GatewayError> => {
      const n = request.n ?? 1
      if (n <= 1 || route.provider.supportsN) return createOnce(route, callFor(route, request, context, kind), retry, counts)
      return fanOutCreate(n, (index) =>
        createOnce(route, callFor(route, { ...request, n: 1 }, withIndex(context, index), kind), retry, counts))
    }

    /** A stream from one target, up to its first chunks, fanning out `n` streams where its vendor cannot answer `n` itself. */
    const openOn = (
      route: Route,
      request: ChatCompletionRequest,
      context: RequestContext,
      kind: AttemptKind | undefined,
      retry: Retry,
      counts: ReadonlySet<FallbackReason>
    ): Effect.Effect<OpenedCompletion, GatewayError, Scope.Scope> => {
      const n = request.n ?? 1
      if (n <= 1 || route.provider.supportsN) return openOnce(route, callFor(route, request, context, kind), retry, counts)
      const streams = (index: number) =>
        streamOf(openOnce(route, callFor(route, { ...request, n: 1 }, withIndex(context, index), kind), retry, counts))
      return Effect.flatMap(fromStream(fanOutStream(n, streams)), (pull) => firstBatch(pull, route.vendor))
    }

    /** A stream from one target in a scope of its own (closed if it fails): what a hedge can drop. */
    const openIsolated = (
      route: Route,
      request: ChatCompletionRequest,
      context: RequestContext,
      kind: AttemptKind,
      retry: Retry,
      counts: ReadonlySet<FallbackReason>
    ): Effect.Effect<Opened, GatewayError> =>
      Effect.uninterruptibleMask((restore) =>
        Effect.flatMap(Scope.make(), (scope) =>
          Effect.flatMap(
            Effect.exit(restore(Scope.extend(openOn(route, request, context, kind, retry, counts), scope))),
            (exit) =>
              Exit.isSuccess(exit)
                ? Effect.succeed({ ...exit.value, scope })
                : Effect.zipRight(Scope.close(scope, exit), Effect.failCause(exit.cause))
          ))
      )

    /** The order of a route's targets for one request (a weighted pick first, for a load-balanced route). */
    const orderOf = (route: RoutePlan): Effect.Effect<ReadonlyArray<PlannedTarget>> =>
      route.strategy === "fallback"
        ? Effect.succeed(route.targets)
        : Effect.map(Random.next, (random) => orderTargets(route, random, breakers, now()))

    /** After a hedge: the attempts that lost are cancelled on the record. */
    const hedgeSettled = (context: RequestContext) =>
      Effect.ensuring(Effect.sync(() => {
        if (context.record !== undefined) cancelAttempts(context.record, context.record.target)
      }))

    const createRouted = (route: RoutePlan, request: ChatCompletionRequest, context: RequestContext) => {
      if (context.record !== undefined) context.record.route = route.name
      const retry = routeRetry.get(route.name)!
      const counts = route.fallbackOn
      if (route.targets.length === 1) {
        return Effect.flatMap(registry.resolve(route.targets[0]!.model), (target) =>
          createOn(target, request, context, undefined, retry, counts))
      }
      const run = (planned: PlannedTarget, kind: AttemptKind) =>
        Effect.flatMap(registry.resolve(planned.model), (target) => createOn(target, request, context, kind, retry, counts))
      const hedgeAfterMs = route.hedgeAfterMs
      return Effect.flatMap(orderOf(route), (order) =>
        hedgeAfterMs === undefined
          ? runInTurn(route, order, run)
          : runHedged(route, order, hedgeAfterMs, run, () => Effect.void).pipe(hedgeSettled(context)))
    }

    const openRouted = (route: RoutePlan, request: ChatCompletionRequest, context: RequestContext) => {
      if (context.record !== undefined) context.record.route = route.name
      const retry = routeRetry.get(route.name)!
      const counts = route.fallbackOn
      if (route.targets.length === 1) {
        return Effect.flatMap(registry.resolve(route.targets[0]!.model), (target) =>
          openOn(target, request, context, undefined, retry, counts))
      }
      const hedgeAfterMs = route.hedgeAfterMs
      if (hedgeAfterMs === undefined) {
        const run = (planned: PlannedTarget, kind: AttemptKind) =>
          Effect.flatMap(registry.resolve(planned.model), (target) => openOn(target, request, context, kind, retry, counts))
        return Effect.flatMap(orderOf(route), (order) => runInTurn(route, order, run))
      }
      const run = (planned: PlannedTarget, kind: AttemptKind) =>
        Effect.flatMap(registry.resolve(planned.model), (target) => openIsolated(target, request, context, kind, retry, counts))
      return Effect.flatMap(orderOf(route), (order) =>
        runHedged(route, order, hedgeAfterMs, run, (late) => Scope.close(late.scope, Exit.void)).pipe(
          hedgeSettled(context),
          Effect.flatMap(closedWith)
        ))
    }

    // A model that is not a route costs one size check (no routes) or one map lookup.
    const create = (request: ChatCompletionRequest, context: RequestContext) => {
      const route = routes.size === 0 ? undefined : routes.get(request.model)
      if (route !== undefined) return createRouted(route, request, context)
      return Effect.flatMap(registry.resolve(request.model), (target) =>
        createOn(target, request, context, undefined, retry, directFallbackOn))
    }

    const open = (request: ChatCompletionRequest, context: RequestContext) => {
      const route = routes.size === 0 ? undefined : routes.get(request.model)
      if (route !== undefined) return openRouted(route, request, context)
      return Effect.flatMap(registry.resolve(request.model), (target) =>
        openOn(target, request, context, undefined, retry, directFallbackOn))
    }

    const routeModels: ReadonlyArray<ModelInfo> = [...routes.values()].map((route) => ({
      id: route.name,
      vendor: "route",
      ownedBy: `route of ${route.targets.map((target) => target.model).join(", ")}`
    }))
    const models = routeModels.length === 0
      ? registry.models
      : Effect.map(registry.models, (list) => [...list.filter((model) => !routes.has(model.id)), ...routeModels])

    /** The public methods, in spans (`ChatCompletions.create`, …) when tracing; never a span per chunk. */
    const methodSpan = <A, E, R>(name: string, request: ChatCompletionRequest, context: RequestContext, effect: Effect.Effect<A, E, R>) =>
      tracing ? traced(name, { "gen_ai.request.model": request.model, "switchyard.request_id": context.requestId }, effect) : effect

    return {
      create: (request: ChatCompletionRequest, context: RequestContext) =>
        methodSpan("ChatCompletions.create", request, context, create(request, context)),
      open: (request: ChatCompletionRequest, context: RequestContext) =>
        tracing
          ? Effect.withSpanScoped(open(request, context), "ChatCompletions.open", {
            attributes: { "gen_ai.request.model": request.model, "switchyard.request_id": context.requestId },
            captureStackTrace: false
          })
          : open(request, context),
      stream: (request: ChatCompletionRequest, context: RequestContext) => {
        const stream = streamOf(open(request, context))
        return tracing
          ? Stream.withSpan(stream, "ChatCompletions.stream", {
            attributes: { "gen_ai.request.model": request.model, "switchyard.request_id": context.requestId },
            captureStackTrace: false
          })
          : stream
      },
      models,
      get vendors() {
        return registry.vendors
      },
      aliases: registry.aliases,
      routing,
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

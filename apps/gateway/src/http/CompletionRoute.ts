import {
  ChatCompletionRequest,
  type ChatCompletionChunk,
  type GatewayError,
  fromParseIssue,
  RequestValidationError,
  Sse
} from "@switchyard/core"
import {
  ChatCompletions,
  type ChunkPull,
  CompletionRecorder,
  forwardedRequest,
  Limits,
  type RecordedOutcome,
  type Recording,
  type RequestContext,
  makeCallRecord,
  routeModel,
  ServiceConfig,
  StreamDescription
} from "@switchyard/service"
import { Cause, Effect, Either, Exit, Option, Schema, Scope } from "effect"
import type { IncomingMessage, ServerResponse } from "node:http"
import { Gateway } from "../config/GatewayConfig.js"
import { SpanSink } from "../telemetry/RequestSpans.js"
import { RequestTelemetry } from "../telemetry/RequestTelemetry.js"
import { awaitDrain, limited, readJsonBody, requestContext, requestFork, runExchange, SSE_HEADERS, streamHeaders } from "./FastPath.js"
import { type Exchange, sendError, sendJson, setTarget } from "./Respond.js"

const decodeRequest = Schema.decodeUnknownEither(ChatCompletionRequest, { errors: "all" })

/** A stream whose client did not ask for the usage chunk (`stream_options.include_usage`). */
const clientHidesUsage = (request: ChatCompletionRequest): boolean =>
  request.stream === true && request.stream_options?.include_usage !== true

/** A chunk as a client that did not ask for usage gets it: without the usage, or not at all when that was all it had. */
const withoutUsage = (chunk: ChatCompletionChunk): ChatCompletionChunk | undefined =>
  chunk.usage == null ? chunk : chunk.choices.length > 0 ? { ...chunk, usage: null } : undefined

/**
 * A stream asks its vendor for the usage chunk even when the client did not:
 * without it a stream's tokens are unknown to the usage ledger, budgets and
 * token limits. The client's stream leaves it out again (see `writeBatch`).
 */
const withUsage = (request: ChatCompletionRequest): ChatCompletionRequest =>
  clientHidesUsage(request)
    ? { ...request, stream_options: { ...request.stream_options, include_usage: true } }
    : request

/**
 * The fast path of `POST /v5/chat/completions` (and `/v1`), on plain node:http:
 * the listener has authenticated the caller and chosen its account; the body
 * is read and validated without Effect, then one fiber per request calls the
 * service. A client that goes away interrupts that fiber, which aborts the
 * upstream call.
 */
export const makeCompletionRoute = Effect.gen(function*() {
  const completions = yield* ChatCompletions
  const recorder = yield* CompletionRecorder
  const limits = yield* Limits
  const config = yield* Gateway
  const telemetry = yield* RequestTelemetry
  const captureContent = (yield* SpanSink)?.captureContent === true
  const runFork = yield* requestFork
  const limit = config.bodyLimitBytes
  const routes = completions.routing.routes

  /** Whether each vendor gets `store` and `metadata` (`forward_store`), by vendor. */
  const forwardStore = new Map<string, boolean>()
  const forwards = (model: string) => {
    const vendor = model.slice(0, model.indexOf("/"))
    let forwarded = forwardStore.get(vendor)
    if (forwarded === undefined) forwardStore.set(vendor, forwarded = ServiceConfig.forwardsStore(config.service, vendor))
    return forwarded
  }

  const respondCreate = (
    res: ServerResponse,
    exchange: Exchange,
    request: ChatCompletionRequest,
    context: RequestContext,
    recording: Recording,
    ended: (outcome: RecordedOutcome) => void
  ) =>
    Effect.map(completions.create(request, context), (answer) => {
      const completion = recording.completion(answer)
      exchange.usage = completion.usage ?? undefined
      exchange.completion = completion
      setTarget(res, exchange)
      sendJson(res, exchange, 200, completion)
      ended({ status: "completed", completion, endedAt: Date.now() })
    })

  const respondStream = (
    res: ServerResponse,
    exchange: Exchange,
    request: ChatCompletionRequest,
    context: RequestContext,
    recording: Recording,
    ended: (outcome: RecordedOutcome) => void
  ) =>
    Effect.suspend(() => {
      const open = () => {
        if (res.headersSent) return
        setTarget(res, exchange)
        res.writeHead(200, streamHeaders(exchange, SSE_HEADERS))
        telemetry.streamOpened(exchange)
      }
      // While nothing is written for `keepAliveMs`, send a comment (a plain timer, refreshed by
      // every write: cheaper than a fiber). Waiting that long for the first chunk commits the
      // response: later failures are then reported in-band.
      const keepAlive = setTimeout(() => {
        if (res.writableEnded) return
        open()
        res.write(Sse.KEEP_ALIVE)
        keepAlive.refresh()
      }, config.keepAliveMs)
      // What one upstream read gives (a batch, and the end of the stream when the same read has it)
      // goes out in one socket write: corked until the current tick is over.
      let corked = false
      const uncork = () => {
        corked = false
        res.uncork()
      }
      const cork = () => {
        if (corked) return
        corked = true
        res.cork()
        process.nextTick(uncork)
      }
      const description = exchange.trace?.sampled === true ? new StreamDescription(captureContent) : undefined
      exchange.description = description
      // The vendor is always asked for usage (the ledger, budgets and token limits need it);
      // the client sees it only if it asked too.
      const hideUsage = exchange.request !== undefined && clientHidesUsage(exchange.request)
      const writeBatch = (received: ReadonlyArray<ChatCompletionChunk>): boolean => {
        exchange.firstChunkAt ??= performance.now()
        const batch = recording.chunks(received, Date.now())
        description?.observe(batch)
        for (const chunk of batch) if (chunk.usage != null) exchange.usage = chunk.usage
        const text = Sse.encodeBatch(batch, hideUsage ? withoutUsage : undefined)
        keepAlive.refresh()
        open()
        cork()
        return res.write(text)
      }
      const fail = (error: GatewayError) => {
        ended({ status: recording.firstChunkMs === null ? "failed" : "incomplete", endedAt: Date.now() })
        if (!res.headersSent) return sendError(res, exchange, error)
        exchange.error = error.message
        res.end(Sse.encodeError(error))
      }
      // Called when the pull runs (after a drain, not before it): the wait is the vendor's.
      const relay = (pull: ChunkPull): Effect.Effect<void> => {
        const asked = performance.now()
        return Effect.matchEffect(pull, {
          onFailure: (error) => Effect.sync(() => fail(error)),
          onSuccess: (batch) => {
            exchange.streamWaitMs = (exchange.streamWaitMs ?? 0) + performance.now() - asked
            if (batch === null) {
              open()
              res.end(Sse.DONE)
              ended({ status: "completed", endedAt: Date.now() })
              return Effect.void
            }
            return writeBatch(batch) ? relay(pull) : Effect.flatMap(awaitDrain(res), () => relay(pull))
          }
        })
      }
      const relayed = Effect.matchEffect(completions.open(request, context), {
        onFailure: (error) => Effect.sync(() => fail(error)),
        onSuccess: ({ first, pull }) => writeBatch(first) ? relay(pull) : Effect.flatMap(awaitDrain(res), () => relay(pull))
      })
      // `Effect.scoped` with the keep-alive timer cleared in the same release (one step fewer than an `ensuring`).
      return Effect.acquireUseRelease(Scope.make(), (scope) => Scope.extend(relayed, scope), (scope, exit) => {
        clearTimeout(keepAlive)
        return Scope.close(scope, exit)
      })
    })

  const accept = (req: IncomingMessage, res: ServerResponse, exchange: Exchange, body: unknown) => {
    let json = body
    const named = typeof json === "object" && json !== null ? (json as { model?: unknown }).model : undefined
    // A route whose name is not a `vendor/model` decodes with its first target in its place, then gets its name back.
    const route = typeof named === "string" && routes.size > 0 && !named.includes("/") ? routes.get(named) : undefined
    if (route !== undefined) {
      json = { ...(json as object), model: route.targets[0]!.model }
    } else if (typeof named === "string" && Object.hasOwn(completions.aliases, named)) {
      json = { ...(json as object), model: completions.aliases[named] }
    }
    const decoded = decodeRequest(json)
    if (Either.isLeft(decoded)) {
      const model = (json as { model?: unknown } | null)?.model
      if (typeof model === "string") exchange.model = route !== undefined ? route.name : model
      return sendError(res, exchange, new RequestValidationError(fromParseIssue(decoded.left.issue)))
    }
    const request = route !== undefined ? { ...decoded.right, model: routeModel(route.name) } : decoded.right
    exchange.model = request.model
    exchange.stream = request.stream === true
    exchange.request = request
    const context = requestContext(req, exchange)
    const recording = recorder.begin({
      request,
      requestedModel: typeof named === "string" ? named : request.model,
      context,
      startedAt: Date.now()
    })
    // The outcome, once known; a call cut short (the client left, a defect) is recorded as such when it ends.
    let outcome: RecordedOutcome | undefined
    const ended = (known: RecordedOutcome) => {
      outcome ??= known
    }
    const forwarded = withUsage(forwardedRequest(request, forwards(request.model)))
    const program = (request.stream === true
      ? respondStream(res, exchange, forwarded, context, recording, ended)
      : respondCreate(res, exchange, forwarded, context, recording, ended)).pipe(
        // A typed failure is a failed call; a call cut short (the client left, a defect) is recorded as such.
        Effect.onExit((exit) => {
          if (Exit.isFailure(exit) && Option.isSome(Cause.failureOption(exit.cause))) ended({ status: "failed", endedAt: Date.now() })
          return recording.finish(outcome ?? { status: recording.firstChunkMs === null ? "failed" : "incomplete", endedAt: Date.now() })
        })
      )
    runExchange(
      runFork,
      res,
      exchange,
      limited(limits, res, exchange, () => limits.reserveChat(request), program),
      (error) => Effect.sync(() => res.end(Sse.encodeError(error)))
    )
  }

  /** Handles one request. */
  return (req: IncomingMessage, res: ServerResponse, exchange: Exchange): void => {
    // A record from the start: every completion answer carries `server-timing`, a 422 too.
    exchange.call = makeCallRecord(exchange.trace)
    readJsonBody(req, res, exchange, limit, (json) => accept(req, res, exchange, json))
  }
})

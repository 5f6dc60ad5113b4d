import {
  CreateResponseRequest,
  encodeResponseEvent,
  fromParseIssue,
  type GatewayError,
  RequestValidationError,
  type ResponseObject,
  type ResponseStreamEvent,
  Sse
} from "@switchyard/core"
import {
  Limits,
  makeCallRecord,
  type PreparedResponse,
  type RequestContext,
  Responses,
  responseUsageRecord,
  UsageLedger
} from "@switchyard/service"
import { Effect, Either, Schema } from "effect"
import type { IncomingMessage, ServerResponse } from "node:http"
import { Gateway } from "../config/GatewayConfig.js"
import { RequestTelemetry } from "../telemetry/RequestTelemetry.js"
import { awaitDrain, limited, readJsonBody, requestContext, requestFork, runExchange, SSE_HEADERS, streamHeaders } from "./FastPath.js"
import { type Exchange, sendError, sendJson, setTarget } from "./Respond.js"

const decodeRequest = Schema.decodeUnknownEither(CreateResponseRequest, { errors: "all" })

const isTerminal = (event: ResponseStreamEvent): event is Extract<ResponseStreamEvent, { readonly response: ResponseObject }> =>
  event.type === "response.completed" || event.type === "response.incomplete" || event.type === "response.failed"

/** What the usage ledger gets to know of a call as it goes. */
interface Progress {
  firstChunkAt?: number | undefined
  response?: ResponseObject | undefined
}

const noteResponse = (exchange: Exchange, response: ResponseObject) => {
  if (response.usage !== null) {
    exchange.usage = {
      prompt_tokens: response.usage.input_tokens,
      completion_tokens: response.usage.output_tokens,
      total_tokens: response.usage.total_tokens
    }
  }
  if (response.error !== null) exchange.error = response.error.message
}

/**
 * The fast path of `POST /v5/responses` (and `/v1`), beside the chat one: the
 * body is read and validated without Effect, one fiber per request runs the
 * Responses facade, and a stream's events are written straight to the socket
 * in batches (`event:` and `data:` lines). A client that goes away interrupts
 * the fiber, which aborts the upstream call.
 */
export const makeResponsesRoute = Effect.gen(function*() {
  const responses = yield* Responses
  const ledger = yield* UsageLedger
  const limits = yield* Limits
  const config = yield* Gateway
  const telemetry = yield* RequestTelemetry
  const runFork = yield* requestFork
  const limit = config.bodyLimitBytes

  const respondCreate = (
    res: ServerResponse,
    exchange: Exchange,
    request: CreateResponseRequest,
    context: RequestContext,
    progress: Progress
  ) =>
    Effect.map(responses.create(request, context), (response) => {
      progress.response = response
      noteResponse(exchange, response)
      setTarget(res, exchange)
      sendJson(res, exchange, 200, response)
    })

  const respondStream = (res: ServerResponse, exchange: Exchange, prepared: PreparedResponse, progress: Progress) =>
    Effect.suspend(() => {
      const open = () => {
        if (res.headersSent) return
        setTarget(res, exchange)
        res.writeHead(200, streamHeaders(exchange, SSE_HEADERS))
        telemetry.streamOpened(exchange)
      }
      // As on the chat path: a comment after `keepAliveMs` of silence. Silence before the model's
      // first chunk commits the answer: `response.created` goes out then, and a later failure is
      // reported in-band (`error`, `response.failed`).
      const keepAlive = setTimeout(() => {
        if (res.writableEnded) return
        if (!res.headersSent) {
          open()
          res.write(encode(prepared.start()))
        }
        res.write(Sse.KEEP_ALIVE)
        keepAlive.refresh()
      }, config.keepAliveMs)
      const encode = (events: ReadonlyArray<ResponseStreamEvent>): string => {
        let text = ""
        for (const event of events) {
          if (isTerminal(event)) {
            progress.response = event.response
            noteResponse(exchange, event.response)
          }
          text += encodeResponseEvent(event)
        }
        return text
      }
      /** Writes a batch; `undefined` once the terminal event is out (the answer is then complete). */
      const write = (events: ReadonlyArray<ResponseStreamEvent>): boolean | undefined => {
        exchange.firstChunkAt ??= performance.now()
        const text = encode(events)
        keepAlive.refresh()
        open()
        if (events.length > 0 && isTerminal(events[events.length - 1]!)) {
          res.end(text)
          return undefined
        }
        return res.write(text)
      }
      const next = (written: boolean | undefined, pull: Effect.Effect<ReadonlyArray<ResponseStreamEvent> | null>) =>
        written === undefined ? Effect.void : written ? relay(pull) : Effect.flatMap(awaitDrain(res), () => relay(pull))
      // Called when the pull runs (after a drain, not before it): the wait is the vendor's.
      const relay = (pull: Effect.Effect<ReadonlyArray<ResponseStreamEvent> | null>): Effect.Effect<void> => {
        const asked = performance.now()
        return Effect.flatMap(pull, (events) => {
          exchange.streamWaitMs = (exchange.streamWaitMs ?? 0) + performance.now() - asked
          if (events !== null) return next(write(events), pull)
          open()
          res.end()
          return Effect.void
        })
      }
      return prepared.open.pipe(
        Effect.matchEffect({
          onFailure: (error) => res.headersSent ? inBand(res, prepared, error, progress) : Effect.fail(error),
          onSuccess: ({ first, pull }) => {
            progress.firstChunkAt = Date.now()
            return next(write(first), pull)
          }
        }),
        Effect.scoped,
        Effect.ensuring(Effect.sync(() => clearTimeout(keepAlive)))
      )
    })

  const inBand = (res: ServerResponse, prepared: PreparedResponse, error: GatewayError, progress: Progress) =>
    Effect.map(prepared.fail(error), (events) => {
      let text = ""
      for (const event of events) {
        if (isTerminal(event)) progress.response = event.response
        text += encodeResponseEvent(event)
      }
      res.end(text)
    })

  const accept = (req: IncomingMessage, res: ServerResponse, exchange: Exchange, json: unknown) => {
    const decoded = decodeRequest(json)
    if (Either.isLeft(decoded)) {
      const model = (json as { model?: unknown } | null)?.model
      if (typeof model === "string") exchange.model = model
      return sendError(res, exchange, new RequestValidationError(fromParseIssue(decoded.left.issue)))
    }
    const request = decoded.right
    exchange.model = request.model
    exchange.stream = request.stream === true
    const context = requestContext(req, exchange)
    const startedAt = Date.now()
    const progress: Progress = {}
    // One ledger row per call, however it ends (answered, failed, abandoned by the client).
    const recorded = (program: Effect.Effect<void, GatewayError>) =>
      limited(limits, res, exchange, () => limits.reserveResponse(request), Effect.ensuring(
        program,
        Effect.suspend(() =>
          ledger.record(responseUsageRecord({
            requestedModel: request.model,
            context,
            stream: request.stream === true,
            startedAt,
            endedAt: Date.now(),
            firstChunkAt: progress.firstChunkAt,
            response: progress.response
          }))
        )
      ))
    if (request.stream !== true) {
      return runExchange(runFork, res, exchange, recorded(respondCreate(res, exchange, request, context, progress)), () => Effect.void)
    }
    let prepared: PreparedResponse | undefined
    const program = Effect.flatMap(responses.prepare(request, context), (ready) => {
      prepared = ready
      return respondStream(res, exchange, ready, progress)
    })
    runExchange(
      runFork,
      res,
      exchange,
      recorded(program),
      (error) => prepared === undefined ? Effect.sync(() => res.end()) : inBand(res, prepared, error, progress)
    )
  }

  /** Handles one request. */
  return (req: IncomingMessage, res: ServerResponse, exchange: Exchange): void => {
    exchange.call = makeCallRecord(exchange.trace)
    readJsonBody(req, res, exchange, limit, (json) => accept(req, res, exchange, json))
  }
})

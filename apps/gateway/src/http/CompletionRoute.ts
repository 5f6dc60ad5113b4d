import {
  ChatCompletionRequest,
  type ChatCompletionChunk,
  type GatewayError,
  InternalError,
  jsonInvalid,
  fromParseIssue,
  RequestTooLarge,
  RequestValidationError,
  Sse,
  UnsupportedMediaType
} from "@switchyard/core"
import { ChatCompletions, type ChunkPull, makeCallRecord, type RequestContext, routeModel } from "@switchyard/service"
import { Cause, Effect, Either, Redacted, Runtime, Schema } from "effect"
import type { IncomingMessage, ServerResponse } from "node:http"
import { Gateway } from "../config/GatewayConfig.js"
import { type Exchange, sendError, sendJson } from "./Respond.js"

const decodeRequest = Schema.decodeUnknownEither(ChatCompletionRequest, { errors: "all" })

const isJsonContentType = (value: string | undefined): boolean =>
  value === undefined || value.length === 0 || /^application\/([\w.+-]+\+)?json\b/i.test(value.trim())

const awaitDrain = (res: ServerResponse) =>
  Effect.async<void>((resume) => {
    const done = () => {
      res.off("drain", done)
      res.off("close", done)
      resume(Effect.void)
    }
    res.on("drain", done)
    res.on("close", done)
    return Effect.sync(() => {
      res.off("drain", done)
      res.off("close", done)
    })
  })

const SSE_HEADERS = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache",
  "x-accel-buffering": "no"
}

/**
 * The fast path of `POST /v5/chat/completions` (and `/v1`), on plain node:http:
 * the listener has authenticated the caller and chosen its account; the body
 * is read and validated without Effect, then one fiber per request calls the
 * service. A client that goes away interrupts that fiber, which aborts the
 * upstream call.
 */
export const makeCompletionRoute = Effect.gen(function*() {
  const completions = yield* ChatCompletions
  const config = yield* Gateway
  const runtime = yield* Effect.runtime<never>()
  const runFork = Runtime.runFork(runtime)
  const limit = config.bodyLimitBytes
  const routes = completions.routing.routes

  const respondCreate = (res: ServerResponse, exchange: Exchange, request: ChatCompletionRequest, context: RequestContext) =>
    Effect.map(completions.create(request, context), (completion) => {
      exchange.usage = completion.usage ?? undefined
      const target = exchange.call?.target
      if (target !== undefined) res.setHeader("x-switchyard-target", target)
      sendJson(res, exchange, 200, completion)
    })

  const respondStream = (res: ServerResponse, exchange: Exchange, request: ChatCompletionRequest, context: RequestContext) =>
    Effect.suspend(() => {
      const open = () => {
        if (res.headersSent) return
        const target = exchange.call?.target
        if (target !== undefined) res.setHeader("x-switchyard-target", target)
        res.writeHead(200, { ...SSE_HEADERS, "x-request-id": exchange.requestId })
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
      const writeBatch = (batch: ReadonlyArray<ChatCompletionChunk>): boolean => {
        let text = ""
        for (const chunk of batch) {
          if (chunk.usage != null) exchange.usage = chunk.usage
          text += Sse.encodeChunk(chunk)
        }
        keepAlive.refresh()
        open()
        return res.write(text)
      }
      const fail = (error: GatewayError) => {
        if (!res.headersSent) return sendError(res, exchange, error)
        exchange.error = error.message
        res.end(Sse.encodeError(error))
      }
      const relay = (pull: ChunkPull): Effect.Effect<void> =>
        Effect.matchEffect(pull, {
          onFailure: (error) => Effect.sync(() => fail(error)),
          onSuccess: (batch) => {
            if (batch === null) {
              open()
              res.end(Sse.DONE)
              return Effect.void
            }
            return writeBatch(batch) ? relay(pull) : Effect.zipRight(awaitDrain(res), relay(pull))
          }
        })
      return completions.open(request, context).pipe(
        Effect.matchEffect({
          onFailure: (error) => Effect.sync(() => fail(error)),
          onSuccess: ({ first, pull }) => writeBatch(first) ? relay(pull) : Effect.zipRight(awaitDrain(res), relay(pull))
        }),
        Effect.scoped,
        Effect.ensuring(Effect.sync(() => clearTimeout(keepAlive)))
      )
    })

  const run = (res: ServerResponse, exchange: Exchange, request: ChatCompletionRequest, context: RequestContext) => {
    const program = (request.stream === true
      ? respondStream(res, exchange, request, context)
      : respondCreate(res, exchange, request, context)).pipe(
        Effect.catchAll((error) => Effect.sync(() => sendError(res, exchange, error))),
        Effect.catchAllDefect((defect) =>
          Effect.zipRight(
            Effect.logError("Unexpected failure", Cause.die(defect)).pipe(
              Effect.annotateLogs("request_id", exchange.requestId)
            ),
            Effect.sync(() => {
              const error = new InternalError({ message: "Internal error: the request could not be completed." })
              if (res.headersSent) {
                exchange.error = error.message
                res.end(Sse.encodeError(error))
              } else sendError(res, exchange, error)
            })
          )
        )
      )
    const fiber = runFork(program)
    res.on("close", () => {
      if (!res.writableFinished) fiber.unsafeInterruptAsFork(fiber.id())
    })
    return fiber
  }

  const accept = (req: IncomingMessage, res: ServerResponse, exchange: Exchange, body: Buffer) => {
    let json: unknown
    const text = body.toString("utf8")
    try {
      json = JSON.parse(text)
    } catch (error) {
      return sendError(res, exchange, new RequestValidationError(jsonInvalid(error, text)))
    }
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
    const providerKey = req.headers["x-openai-api-key"]
    const context: RequestContext = {
      requestId: exchange.requestId,
      record: (exchange.call = makeCallRecord()),
      accountId: exchange.account,
      keyId: exchange.keyId,
      ...(typeof providerKey === "string" && providerKey.length > 0 ? { providerKey: Redacted.make(providerKey) } : {})
    }
    run(res, exchange, request, context)
  }

  /** Handles one request. */
  return (req: IncomingMessage, res: ServerResponse, exchange: Exchange): void => {
    const contentType = req.headers["content-type"]
    if (!isJsonContentType(contentType)) {
      res.setHeader("connection", "close")
      return sendError(res, exchange, new UnsupportedMediaType({ contentType: contentType ?? "" }))
    }
    const declared = Number(req.headers["content-length"])
    if (declared > limit) {
      res.setHeader("connection", "close")
      return sendError(res, exchange, new RequestTooLarge({ limitBytes: limit }))
    }
    const parts: Array<Buffer> = []
    let size = 0
    let tooLarge = false
    req.on("data", (part: Buffer) => {
      if (tooLarge) return
      size += part.length
      if (size > limit) {
        tooLarge = true
        parts.length = 0
        res.setHeader("connection", "close")
        sendError(res, exchange, new RequestTooLarge({ limitBytes: limit }))
        return
      }
      parts.push(part)
    })
    req.on("end", () => {
      if (!tooLarge) accept(req, res, exchange, parts.length === 1 ? parts[0]! : Buffer.concat(parts, size))
    })
  }
})

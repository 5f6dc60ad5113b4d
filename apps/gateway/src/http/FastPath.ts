import {
  type GatewayError,
  InternalError,
  jsonInvalid,
  RequestTooLarge,
  RequestValidationError,
  UnsupportedMediaType
} from "@switchyard/core"
import { Cause, Context, Effect, type Fiber, Redacted, Runtime } from "effect"
import type { IncomingMessage, ServerResponse } from "node:http"
import { type Limits, makeCallRecord, type RequestContext, type UsedTokens } from "@switchyard/service"
import { type Exchange, sendError, serverTiming } from "./Respond.js"

const isJsonContentType = (value: string | undefined): boolean =>
  value === undefined || value.length === 0 || /^application\/([\w.+-]+\+)?json\b/i.test(value.trim())

export const SSE_HEADERS = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache",
  "x-accel-buffering": "no"
}

/**
 * A stream's headers, sent with its first byte: `server-timing` says what is
 * known then (the time to the first chunk, unless a keep-alive committed the
 * answer before it).
 */
export const streamHeaders = (exchange: Exchange, headers: Readonly<Record<string, string>>): Record<string, string> => {
  const all: Record<string, string> = { ...headers, "x-request-id": exchange.requestId }
  const timing = serverTiming(exchange, performance.now())
  if (timing !== undefined) all["server-timing"] = timing
  return all
}

export const awaitDrain = (res: ServerResponse) =>
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

export const readJsonBody = (
  req: IncomingMessage,
  res: ServerResponse,
  exchange: Exchange,
  limit: number,
  then: (json: unknown) => void
): void => {
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
    if (tooLarge) return
    const text = (parts.length === 1 ? parts[0]! : Buffer.concat(parts, size)).toString("utf8")
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch (error) {
      return sendError(res, exchange, new RequestValidationError(jsonInvalid(error, text)))
    }
    then(json)
  })
}

export const requestContext = (req: IncomingMessage, exchange: Exchange): RequestContext => {
  const providerKey = req.headers["x-openai-api-key"]
  return {
    requestId: exchange.requestId,
    record: exchange.call ??= makeCallRecord(exchange.trace),
    accountId: exchange.account,
    keyId: exchange.keyId,
    ...(typeof providerKey === "string" && providerKey.length > 0 ? { providerKey: Redacted.make(providerKey) } : {})
  }
}

/**
 * How a route forks a fiber per request: in the layer's runtime (its fiber refs: logger,
 * tracer, clock, log level) but with an empty context. The handlers resolved their services
 * when they were built (`R = never`), and every scope, `provide` and finalizer in a request
 * copies or diffs the context it runs in: with the whole application's context that cost
 * more than a stream's relaying did.
 */
export const requestFork = Effect.map(
  Effect.runtime<never>(),
  (runtime) =>
    Runtime.runFork(Runtime.make({ context: Context.empty(), fiberRefs: runtime.fiberRefs, runtimeFlags: runtime.runtimeFlags }))
)

export const internalError = () => new InternalError({ message: "Internal error: the request could not be completed." })

/**
 * Runs a request's program in a fiber of its own: typed failures are answered
 * in the envelope, defects are logged and answered as a 500 (or reported
 * in-band once the headers are out), and a client that goes away interrupts it.
 */
export const runExchange = (
  runFork: <A, E>(effect: Effect.Effect<A, E>) => Fiber.RuntimeFiber<A, E>,
  res: ServerResponse,
  exchange: Exchange,
  program: Effect.Effect<void, GatewayError>,
  inBand: (error: GatewayError) => Effect.Effect<void>
) => {
  const fiber = runFork(program.pipe(
    Effect.catchAll((error) => Effect.sync(() => sendError(res, exchange, error))),
    Effect.catchAllDefect((defect) =>
      Effect.zipRight(
        Effect.logError("Unexpected failure", Cause.die(defect)).pipe(Effect.annotateLogs("request_id", exchange.requestId)),
        Effect.suspend(() => {
          const error = internalError()
          if (!res.headersSent) return Effect.sync(() => sendError(res, exchange, error))
          exchange.error = error.message
          return inBand(error)
        })
      )
    )
  ))
  res.on("close", () => {
    if (!res.writableFinished) fiber.unsafeInterruptAsFork(fiber.id())
  })
  return fiber
}

/**
 * What a finished call used, for its limits: the usage it reported; else
 * nothing if it never answered (failed before any output), else unknown (an
 * answer without usage keeps its reservation).
 */
const usedOf = (res: ServerResponse, exchange: Exchange): UsedTokens | "none" | undefined => {
  const usage = exchange.usage
  if (usage !== undefined) {
    return {
      promptTokens: usage.prompt_tokens,
      completionTokens: usage.completion_tokens,
      cachedTokens: usage.prompt_tokens_details?.cached_tokens ?? 0,
      model: exchange.call?.target ?? exchange.model ?? ""
    }
  }
  return exchange.firstChunkAt === undefined && !(res.headersSent && res.statusCode === 200) ? "none" : undefined
}

/**
 * A request's program under the caller's limits: checked before anything is
 * forwarded (429, or 503 while the limits' store is unreachable and
 * `on_store_error: deny`), the `x-ratelimit-*` headers set for the answer, and
 * settled when the program is over, however it ends.
 */
export const limited = (
  limits: Limits["Type"],
  res: ServerResponse,
  exchange: Exchange,
  reserve: () => number,
  program: Effect.Effect<void, GatewayError>
): Effect.Effect<void, GatewayError> => {
  if (!limits.enabled || exchange.principal === undefined) return program
  const caller = { principal: exchange.principal, accountId: exchange.account ?? exchange.principal.defaultAccountId }
  if (!limits.applies(caller)) return program
  const admit = limits.admit(caller, reserve, (headers) => {
    for (const name in headers) res.setHeader(name, headers[name]!)
  })
  return Effect.flatMap(admit, (ticket) =>
    ticket === undefined ? program : Effect.ensuring(program, Effect.suspend(() => ticket.settle(usedOf(res, exchange)))))
}

import { InvalidRequest, RequestTooLarge, RouteNotFound, toErrorEnvelope } from "@switchyard/core"
import {
  type ApiKeys,
  Authenticator,
  ChatCompletions,
  type CompletionRecorder,
  Limits,
  newRequestId,
  type Responses,
  settleAttempts,
  type StoredCompletions,
  type StoreHealth,
  type UsageLedger
} from "@switchyard/service"
import { Context, Effect, Either, Layer, Option } from "effect"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import { Readable } from "node:stream"
import { Gateway, isLoopback } from "../config/GatewayConfig.js"
import * as MetricsExposition from "../telemetry/MetricsExposition.js"
import * as RequestTelemetry from "../telemetry/RequestTelemetry.js"
import { makeApiHandler } from "./ApiHandler.js"
import { makeGate } from "./Authentication.js"
import { makeCompletionRoute } from "./CompletionRoute.js"
import { Draining, Exchanges } from "./ListenerState.js"
import { isOpenPath } from "./OpenPaths.js"
import { RequestLog } from "./RequestLog.js"
import { makeResponsesRoute } from "./ResponsesRoute.js"
import { type Exchange, sendError } from "./Respond.js"

const REQUEST_ID = /^[\w.:-]{1,128}$/

const COMPLETION_PATHS: ReadonlySet<string> = new Set(["/v5/chat/completions", "/v1/chat/completions"])
const RESPONSES_PATHS: ReadonlySet<string> = new Set(["/v5/responses", "/v1/responses"])

/** A request whose body was read already: the same request line and headers, the body played again. */
const replay = (req: Http.IncomingMessage, body: Buffer): Http.IncomingMessage =>
  Object.assign(Readable.from(body.length > 0 ? [body] : []), {
    headers: req.headers,
    url: req.url,
    method: req.method,
    httpVersion: req.httpVersion,
    socket: req.socket
  }) as unknown as Http.IncomingMessage

/** A running gateway: where it listens, and how busy it is. */
export interface RunningServer {
  readonly server: Http.Server
  readonly host: string
  readonly port: number
  readonly url: string
  /** Requests being answered right now. */
  readonly inFlight: () => number
}

/** The running server, as a service. */
export class Server extends Context.Tag("@switchyard/gateway/Server")<Server, RunningServer>() {}

/** A refusal to start, with the reason. */
export class StartupError extends Error {
  override readonly name = "StartupError"
}

/**
 * Starts the one node:http listener. Every request but those for the open
 * paths is authenticated first (401/403 before anything else); then
 * `POST /v5|v1/chat/completions` and `POST /v5|v1/responses` take their fast
 * paths and everything else the HttpApi. Closing the scope drains it: new connections are refused,
 * in-flight requests and streams get the grace period to finish, then the
 * rest are cut.
 */
const serve = Effect.gen(function*() {
  const config = yield* Gateway
  const log = yield* RequestLog
  const authenticator = yield* Authenticator
  const telemetry = yield* RequestTelemetry.RequestTelemetry
  const gate = makeGate(authenticator)
  const isOpen = config.metrics.requireKey ? (path: string) => path !== "/metrics" && isOpenPath(path) : isOpenPath

  if (authenticator.open && !isLoopback(config.host)) {
    return yield* Effect.fail(
      new StartupError(
        `Refusing to listen on ${config.host} without API keys: anyone who can reach it could spend your provider keys. ` +
          "Set SWITCHYARD_API_KEYS (comma-separated), or bind to 127.0.0.1."
      )
    )
  }

  let draining = false
  let inFlight = 0
  let idle: Array<() => void> = []
  const exchanges = new WeakMap<object, Exchange>()
  // Limits are optional: a gateway given none has none.
  const limits = Option.getOrElse(yield* Effect.serviceOption(Limits), () => Limits.none)
  const completion = yield* Effect.provideService(makeCompletionRoute, Limits, limits)
  const responses = yield* Effect.provideService(makeResponsesRoute, Limits, limits)
  const api = yield* makeApiHandler.pipe(
    Effect.provideService(Limits, limits),
    Effect.provideService(Draining, () => draining),
    Effect.provideService(Exchanges, {
      of: (source) => typeof source === "object" && source !== null ? exchanges.get(source) : undefined
    })
  )

  const finished = (req: Http.IncomingMessage, path: string, exchange: Exchange) => {
    inFlight--
    if (exchange.call !== undefined) settleAttempts(exchange.call)
    if (inFlight === 0 && idle.length > 0) {
      const waiting = idle
      idle = []
      for (const wake of waiting) wake()
    }
    const now = performance.now()
    const timings = telemetry.end(req, exchange, path, now)
    log.write({
      requestId: exchange.requestId,
      method: req.method ?? "?",
      path,
      status: exchange.status ?? 0,
      latencyMs: now - exchange.started,
      gatewayMs: timings.gatewayMs,
      upstreamMs: timings.upstreamMs,
      ttfcMs: timings.ttfcMs,
      keyId: exchange.keyId,
      account: exchange.account,
      model: exchange.model,
      target: exchange.call?.target,
      stream: exchange.stream,
      promptTokens: exchange.usage?.prompt_tokens,
      completionTokens: exchange.usage?.completion_tokens,
      error: exchange.error
    })
  }

  const listener = (req: Http.IncomingMessage, res: Http.ServerResponse) => {
    const started = performance.now()
    const url = req.url ?? "/"
    const query = url.indexOf("?")
    const path = query === -1 ? url : url.slice(0, query)
    const incoming = req.headers["x-request-id"]
    const exchange: Exchange = {
      requestId: typeof incoming === "string" && REQUEST_ID.test(incoming) ? incoming : newRequestId(),
      started
    }
    inFlight++
    telemetry.begin(req, exchange, path)
    res.on("close", () => {
      // 499: the client went away before the answer was complete (nginx's convention).
      exchange.status = res.writableFinished ? res.statusCode : 499
      finished(req, path, exchange)
    })
    if (draining) res.setHeader("connection", "close")
    if (!isOpen(path)) {
      const caller = gate(req.headers)
      if (Either.isLeft(caller)) {
        req.resume()
        return sendError(res, exchange, caller.left)
      }
      exchange.keyId = caller.right.principal.keyId
      exchange.account = caller.right.accountId
      exchange.admin = caller.right.principal.admin
      exchange.principal = caller.right.principal
      if (req.method === "POST") {
        if (COMPLETION_PATHS.has(path)) return completion(req, res, exchange)
        if (RESPONSES_PATHS.has(path)) return responses(req, res, exchange)
      }
    }
    res.setHeader("x-request-id", exchange.requestId)
    // An empty path segment is never a route (the router would match it as an empty `:id`).
    if (path.endsWith("/") && path.length > 1 || path.includes("//")) {
      req.resume()
      return sendError(res, exchange, new RouteNotFound({ method: req.method ?? "GET", path }))
    }
    const hasBody = req.headers["transfer-encoding"] !== undefined || Number(req.headers["content-length"]) > 0
    if (!hasBody) {
      exchanges.set(req, exchange)
      return api(req, res)
    }
    readBody(req, res, exchange, (body) => {
      const replayed = replay(req, body)
      exchanges.set(replayed, exchange)
      api(replayed, res)
    })
  }

  // The HttpApi side gets its body read here, within the limit (413 as on the fast path, chunked or
  // not), then replayed: the platform's own limit destroys the socket before a 413 can be sent.
  const readBody = (req: Http.IncomingMessage, res: Http.ServerResponse, exchange: Exchange, then: (body: Buffer) => void) => {
    const limit = config.bodyLimitBytes
    const tooLarge = () => {
      res.setHeader("connection", "close")
      sendError(res, exchange, new RequestTooLarge({ limitBytes: limit }))
    }
    if (Number(req.headers["content-length"]) > limit) {
      req.resume()
      return tooLarge()
    }
    const parts: Array<Buffer> = []
    let size = 0
    req.on("data", (part: Buffer) => {
      if (size > limit) return
      size += part.length
      if (size > limit) return tooLarge()
      parts.push(part)
    })
    req.on("end", () => {
      if (size <= limit) then(Buffer.concat(parts, size))
    })
  }

  const server = Http.createServer({ keepAliveTimeout: 65_000, requestTimeout: 0, headersTimeout: 60_000 }, listener)
  // What node's parser rejects before the listener (a request target without a leading `/`, broken
  // headers) is answered in JSON too, not with node's bare 400.
  server.on("clientError", (error: NodeJS.ErrnoException, socket) => {
    if (error.code === "ECONNRESET" || !socket.writable) return socket.destroy()
    const tooLarge = error.code === "HPE_HEADER_OVERFLOW"
    const text = JSON.stringify(toErrorEnvelope(
      new InvalidRequest({ message: tooLarge ? "Request headers are too large." : "Malformed HTTP request." })
    ))
    socket.end(
      `HTTP/1.1 ${tooLarge ? "431 Request Header Fields Too Large" : "400 Bad Request"}\r\ncontent-type: application/json\r\n` +
        `content-length: ${Buffer.byteLength(text)}\r\nconnection: close\r\n\r\n${text}`
    )
  })

  yield* Effect.async<void, StartupError>((resume) => {
    const onError = (error: Error) => resume(Effect.fail(new StartupError(`Cannot listen on ${config.host}:${config.port}: ${error.message}`)))
    server.once("error", onError)
    server.listen(config.port, config.host, () => {
      server.off("error", onError)
      resume(Effect.void)
    })
  })

  const drained = (graceMs: number) =>
    new Promise<boolean>((resolve) => {
      if (inFlight === 0) return resolve(true)
      const timer = setTimeout(() => resolve(false), graceMs)
      idle.push(() => {
        clearTimeout(timer)
        resolve(true)
      })
    })

  yield* Effect.addFinalizer(() =>
    Effect.promise(async () => {
      draining = true
      server.close()
      server.closeIdleConnections()
      const clean = await drained(config.shutdownGraceMs)
      server.closeAllConnections()
      if (!clean) await drained(1_000)
      log.flush()
    })
  )

  const address = server.address() as AddressInfo
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address
  return {
    server,
    host: address.address,
    port: address.port,
    url: `http://${host}:${address.port}`,
    inFlight: () => inFlight
  } satisfies RunningServer
})

/**
 * The listener with its metrics and spans (a tracer, `OtlpTracing.layer`, goes
 * underneath, with the service: whether to trace is decided when they are built).
 */
export const make = Effect.flatMap(
  Layer.build(Layer.merge(RequestTelemetry.layer, MetricsExposition.layer)),
  (telemetry) => Effect.provide(serve, telemetry)
)

/** What the HTTP side records and reads: stored completions, the usage ledger, keys and the store's health. */
export type StoreServices = CompletionRecorder | StoredCompletions | UsageLedger | ApiKeys | StoreHealth

/** The server as a layer: up while the layer is, drained when it is released. */
export const layer: Layer.Layer<
  Server,
  StartupError,
  Gateway | ChatCompletions | Responses | RequestLog | Authenticator | StoreServices
> = Layer.scoped(Server, make)

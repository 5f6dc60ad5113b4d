import {
  type GatewayError,
  InternalError,
  MethodNotAllowed,
  type ModelList,
  openApiDocument,
  RouteNotFound,
  Unauthenticated
} from "@switchyard/core"
import { ChatCompletions, newRequestId } from "@switchyard/service"
import { Context, Effect, Layer, Runtime } from "effect"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import { makeKeyChecker } from "./Auth.js"
import { type Exchange, makeCompletionRoute, sendError, sendJson } from "./CompletionRoute.js"
import { Gateway, isLoopback } from "./GatewayConfig.js"
import { RequestLog } from "./RequestLog.js"

type Handler = (req: Http.IncomingMessage, res: Http.ServerResponse, exchange: Exchange) => void

interface Route {
  readonly auth: boolean
  readonly methods: Readonly<Record<string, Handler>>
}

const REQUEST_ID = /^[\w.:-]{1,128}$/

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
 * Starts the HTTP server: node:http with the completion route on a fast path
 * and the rest (models, health, OpenAPI, docs) beside it. Closing the scope
 * drains it: new connections are refused, in-flight requests and streams get
 * the grace period to finish, then the rest are cut.
 */
export const make = Effect.gen(function*() {
  const config = yield* Gateway
  const completions = yield* ChatCompletions
  const log = yield* RequestLog
  const keys = makeKeyChecker(config.apiKeys)

  if (keys.open && !isLoopback(config.host)) {
    return yield* Effect.fail(
      new StartupError(
        `Refusing to listen on ${config.host} without API keys: anyone who can reach it could spend your provider keys. ` +
          "Set SWITCHYARD_API_KEYS (comma-separated), or bind to 127.0.0.1."
      )
    )
  }

  const openApiText = JSON.stringify(openApiDocument())
  const completion = yield* makeCompletionRoute
  const runtime = yield* Effect.runtime<never>()
  const runPromise = Runtime.runPromise(runtime)
  // The docs page (Scalar's inlined assets, ~100 MB of heap once loaded) is loaded on first use.
  let docsHandler: Promise<(req: Http.IncomingMessage, res: Http.ServerResponse) => void> | undefined
  const docs = () => docsHandler ??= import("./Docs.js").then((module) => runPromise(module.makeDocsHandler))
  let draining = false
  let inFlight = 0
  let idle: Array<() => void> = []

  const models: Handler = (_req, res, exchange) => {
    runPromise(completions.models).then((list) => {
      const body: ModelList = {
        object: "list",
        data: list.map((model) => ({ id: model.id, object: "model", created: 0, owned_by: model.ownedBy ?? model.vendor }))
      }
      sendJson(res, exchange, 200, body)
    }, () => sendJson(res, exchange, 200, { object: "list", data: [] }))
  }

  const routes: Record<string, Route> = {
    "/v5/chat/completions": { auth: true, methods: { POST: completion } },
    "/v1/chat/completions": { auth: true, methods: { POST: completion } },
    "/v5/models": { auth: true, methods: { GET: models } },
    "/v1/models": { auth: true, methods: { GET: models } },
    "/health": { auth: false, methods: { GET: (_req, res, exchange) => sendJson(res, exchange, 200, { status: "ok" }) } },
    "/ready": {
      auth: false,
      methods: {
        GET: (_req, res, exchange) =>
          draining
            ? sendJson(res, exchange, 503, { status: "draining" })
            : sendJson(res, exchange, 200, { status: "ready", vendors: completions.vendors })
      }
    },
    "/openapi.json": {
      auth: false,
      methods: {
        GET: (_req, res, exchange) => {
          res.writeHead(200, { "content-type": "application/json", "x-request-id": exchange.requestId })
          res.end(openApiText)
        }
      }
    },
    "/docs": {
      auth: false,
      methods: {
        GET: (req, res, exchange) => {
          res.setHeader("x-request-id", exchange.requestId)
          docs().then((handler) => handler(req, res), (error) => {
            log.flush()
            process.stderr.write(`switchyard: the docs page failed to load: ${String(error)}\n`)
            sendError(res, exchange, new InternalError({ message: "The docs page is unavailable." }))
          })
        }
      }
    }
  }

  const finished = (req: Http.IncomingMessage, path: string, exchange: Exchange & { status?: number }, started: number) => () => {
    inFlight--
    if (inFlight === 0 && idle.length > 0) {
      const waiting = idle
      idle = []
      for (const wake of waiting) wake()
    }
    log.write({
      requestId: exchange.requestId,
      method: req.method ?? "?",
      path,
      status: exchange.status ?? 0,
      latencyMs: performance.now() - started,
      model: exchange.model,
      account: exchange.account,
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
    const exchange: Exchange & { status?: number } = {
      requestId: typeof incoming === "string" && REQUEST_ID.test(incoming) ? incoming : newRequestId()
    }
    inFlight++
    const onClose = finished(req, path, exchange, started)
    res.on("close", () => {
      // 499: the client went away before the answer was complete (nginx's convention).
      exchange.status = res.writableFinished ? res.statusCode : 499
      onClose()
    })
    if (draining) res.setHeader("connection", "close")
    const fail = (error: GatewayError) => {
      req.resume()
      sendError(res, exchange, error)
    }
    const route = routes[path]
    if (route === undefined) return fail(new RouteNotFound({ method: req.method ?? "?", path }))
    const method = req.method === "HEAD" && route.methods.GET !== undefined ? "GET" : req.method ?? ""
    const handler = route.methods[method]
    if (handler === undefined) {
      return fail(new MethodNotAllowed({ method: req.method ?? "?", path, allowed: Object.keys(route.methods) }))
    }
    if (route.auth && !keys.check(req.headers)) {
      return fail(
        new Unauthenticated({
          message: keys.open
            ? "Unauthenticated."
            : "Missing or invalid API key: send it as `x-api-key: <key>` or `Authorization: Bearer <key>`."
        })
      )
    }
    handler(req, res, exchange)
  }

  const server = Http.createServer({ keepAliveTimeout: 65_000, requestTimeout: 0, headersTimeout: 60_000 }, listener)

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

/** The server as a layer: up while the layer is, drained when it is released. */
export const layer: Layer.Layer<Server, StartupError, Gateway | ChatCompletions | RequestLog> = Layer.scoped(Server, make)

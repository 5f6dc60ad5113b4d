/**
 * The shared outbound transport: undici on a keep-alive pool, wrapped in one
 * `Effect.async` per exchange, with the transport-enforced timeouts.
 */
import { type GatewayError, UpstreamBadResponse, UpstreamTimeout } from "@switchyard/core"
import { Context, Effect, Exit, Layer, Scope } from "effect"
import { EventEmitter } from "node:events"
import type { Agent, Dispatcher } from "undici"
import type { CallTimeouts } from "../Provider.js"
import { fromTransportError } from "./UpstreamErrors.js"

/** An outbound HTTP request to a vendor. */
export interface UpstreamRequest {
  readonly vendor: string
  readonly url: string
  readonly method?: "GET" | "POST"
  readonly headers: Record<string, string>
  readonly body?: string
  /** Time allowed until the response headers arrive (→ `UpstreamTimeout` "first_byte"). */
  readonly headersTimeoutMs?: number | undefined
  /** Time allowed between two pieces of the body (→ "idle"). */
  readonly bodyTimeoutMs?: number | undefined
  /** Time allowed for the whole exchange, body included (→ "total"). */
  readonly totalTimeoutMs?: number | undefined
}

/** An upstream response whose body is still to be read. */
export interface UpstreamResponse {
  readonly vendor: string
  readonly status: number
  readonly header: (name: string) => string | undefined
  readonly contentType: string
  readonly body: Dispatcher.ResponseData["body"]
  /** Set when the total deadline cut the exchange. */
  readonly timedOut: () => boolean
}

/** A whole non-streaming exchange: status, headers and body text. */
export interface UpstreamExchange {
  readonly vendor: string
  readonly status: number
  readonly header: (name: string) => string | undefined
  readonly contentType: string
  readonly text: string
}

/** Options of the shared connection pool. */
export interface UpstreamHttpOptions {
  /** Idle keep-alive sockets are closed after this long. */
  readonly keepAliveTimeoutMs?: number
  /** Time allowed to open a connection. */
  readonly connectTimeoutMs?: number
  /** Largest response body read into memory (non-streaming). */
  readonly maxBodyBytes?: number
}

/** The undici timeouts for a call: a non-streaming answer comes whole, so its headers get the total time. */
export const transportTimeouts = (
  timeouts: CallTimeouts | undefined,
  streaming: boolean
): Pick<UpstreamRequest, "headersTimeoutMs" | "bodyTimeoutMs" | "totalTimeoutMs"> =>
  timeouts === undefined ? {} : {
    headersTimeoutMs: streaming ? Math.min(timeouts.firstByteMs, timeouts.totalMs) : timeouts.totalMs,
    bodyTimeoutMs: timeouts.idleMs,
    totalTimeoutMs: timeouts.totalMs
  }

const headerReader = (headers: Dispatcher.ResponseData["headers"]) => (name: string): string | undefined => {
  const value = headers[name]
  return Array.isArray(value) ? value[0] : value
}

/** What every answer starts with: its vendor, status and headers. */
const headOf = (vendor: string, data: Dispatcher.ResponseData) => {
  const header = headerReader(data.headers)
  return { vendor, status: data.statusCode, header, contentType: header("content-type") ?? "" }
}

class BodyTooLarge extends Error {}

/** Bytes of a streamed body read ahead before it is paused (until the next read). */
const HIGH_WATER = 256 * 1024

/** A body that closed before its end: what a stream's own iteration reports. */
const prematureClose = () => Object.assign(new Error("Premature close"), { code: "ERR_STREAM_PREMATURE_CLOSE" })

/** How long after the pool is made undici is loaded, if no request has needed it yet. */
const PRELOAD_AFTER_MS = 1_000

/**
 * Builds the service around an undici `Agent`, made on the first request: undici is ~1 MB of
 * code, which a process that never calls a vendor (`switchyard chat` with the echo vendor) need
 * not load. A second after the pool is made, it is loaded anyway, so that a server's first
 * request does not wait for it (the timer does not keep a process alive).
 */
const makeUpstreamHttp = (options: UpstreamHttpOptions = {}) =>
  Effect.gen(function*() {
    const maxBodyBytes = options.maxBodyBytes ?? 64 * 1024 * 1024
    let agent: Agent | undefined
    let loading: Promise<Agent> | undefined
    let closed = false
    const loadAgent = (): Promise<Agent> =>
      loading ??= import("undici").then((undici) => {
        if (closed) throw new Error("the upstream connection pool is closed")
        // A bundler's code-split chunk may hand over CommonJS undici as its `default` export only.
        const Agent = undici.Agent ?? undici.default.Agent
        return agent = new Agent({
          keepAliveTimeout: options.keepAliveTimeoutMs ?? 30_000,
          connect: { timeout: options.connectTimeoutMs ?? 10_000 }
        })
      })
    const preload = setTimeout(() => loadAgent().catch(() => undefined), PRELOAD_AFTER_MS)
    preload.unref()
    yield* Effect.addFinalizer(() =>
      Effect.promise(async () => {
        closed = true
        clearTimeout(preload)
        await loading?.catch(() => undefined)
        await agent?.destroy().catch(() => undefined)
      })
    )
    /** Sends a request on the pool, once undici is loaded (at once, after the first). */
    const dispatch = (request: Dispatcher.RequestOptions, abandoned: () => boolean) =>
      agent !== undefined
        ? agent.request(request)
        : loadAgent().then((agent) => abandoned() ? Promise.reject(new Error("abandoned")) : agent.request(request))

    // undici's `request(url)` parses the URL on every call: each vendor URL is parsed once here.
    const targets = new Map<string, { readonly origin: string; readonly path: string }>()
    const target = (url: string) => {
      let known = targets.get(url)
      if (known === undefined) {
        const parsed = new URL(url)
        if (parsed.protocol !== "http:" && parsed.protocol !== "https:") throw new TypeError(`Invalid URL protocol: ${url}`)
        known = { origin: parsed.origin, path: `${parsed.pathname}${parsed.search}` }
        if (targets.size >= 1024) targets.clear()
        targets.set(url, known)
      }
      return known
    }

    const tooLarge = (vendor: string) =>
      new UpstreamBadResponse({ vendor, message: `Upstream \`${vendor}\` sent a body larger than ${maxBodyBytes} bytes` })
    const totalTimeout = (req: UpstreamRequest) =>
      new UpstreamTimeout({
        vendor: req.vendor,
        phase: "total",
        ...(req.totalTimeoutMs !== undefined ? { timeoutMs: req.totalTimeoutMs } : {})
      })

    /**
     * One request as one `Effect.async`: no fiber, no scope, no
     * AbortController (undici accepts an EventEmitter as its signal, at a
     * fraction of the cost). Interruption, and the total deadline, abort it.
     */
    const start = <A>(
      req: UpstreamRequest,
      onResponse: (data: Dispatcher.ResponseData, signal: EventEmitter) => Promise<A>
    ) =>
      Effect.async<A, GatewayError>((resume) => {
        const signal = new EventEmitter()
        let settled = false
        let timer: NodeJS.Timeout | undefined
        const settle = (effect: Effect.Effect<A, GatewayError>) => {
          if (settled) return
          settled = true
          if (timer !== undefined) clearTimeout(timer)
          resume(effect)
        }
        if (req.totalTimeoutMs !== undefined && req.totalTimeoutMs > 0) {
          timer = setTimeout(() => {
            signal.emit("abort")
            settle(Effect.fail(totalTimeout(req)))
          }, req.totalTimeoutMs)
        }
        let destination: { readonly origin: string; readonly path: string }
        try {
          destination = target(req.url)
        } catch (error) {
          settle(Effect.fail(fromTransportError(req.vendor, error)))
          return
        }
        const { origin, path } = destination
        dispatch({
          origin,
          path,
          method: req.method ?? "POST",
          headers: req.headers,
          body: req.body ?? null,
          signal,
          headersTimeout: req.headersTimeoutMs ?? 0,
          bodyTimeout: req.bodyTimeoutMs ?? 0
        }, () => settled).then((data) => onResponse(data, signal)).then(
          (value) => settle(Effect.succeed(value)),
          (error) =>
            settle(Effect.fail(error instanceof BodyTooLarge ? tooLarge(req.vendor) : fromTransportError(req.vendor, error)))
        )
        return Effect.sync(() => {
          if (settled) return
          settled = true
          if (timer !== undefined) clearTimeout(timer)
          signal.emit("abort")
        })
      })

    const readText = (body: Dispatcher.ResponseData["body"]) =>
      new Promise<string>((resolve, reject) => {
        const parts: Array<Buffer> = []
        let size = 0
        body.on("data", (part: Buffer) => {
          size += part.length
          if (size > maxBodyBytes) {
            body.destroy()
            reject(new BodyTooLarge())
          } else parts.push(part)
        })
        body.on("end", () => resolve(parts.length === 1 ? parts[0]!.toString("utf8") : Buffer.concat(parts, size).toString("utf8")))
        body.on("error", reject)
      })

    const exchange = (req: UpstreamRequest): Effect.Effect<UpstreamExchange, GatewayError> =>
      start(req, async (data) => ({ ...headOf(req.vendor, data), text: await readText(data.body) }))

    const requestIn = (req: UpstreamRequest, scope: Scope.Scope): Effect.Effect<UpstreamResponse, GatewayError> => {
      // The response is noted by `start`'s callback, before the fiber resumes, and the scope's
      // finalizer is registered before the request goes out: whenever the scope closes, a response
      // that arrived is released, without an uninterruptible region around the request.
      let data: Dispatcher.ResponseData | undefined
      let timer: NodeJS.Timeout | undefined
      let timedOut = false
      const release = Scope.addFinalizerExit(scope, (exit) =>
        Effect.sync(() => {
          if (timer !== undefined) clearTimeout(timer)
          const body = data?.body
          if (body === undefined || body.readableEnded || body.destroyed) return
          // A finished exchange leaves its socket for reuse; anything else aborts it.
          if (Exit.isSuccess(exit)) body.dump({ limit: 64 * 1024 }).catch(() => undefined)
          else body.destroy()
        }))
      const sent = start(req, (received) => {
        data = received
        // The total deadline also covers the body, which is read after `start` has returned.
        if (req.totalTimeoutMs !== undefined && req.totalTimeoutMs > 0) {
          timer = setTimeout(() => {
            timedOut = true
            received.body.destroy()
          }, req.totalTimeoutMs)
        }
        return Promise.resolve(received)
      })
      return Effect.zipRight(
        release,
        Effect.map(sent, (received): UpstreamResponse => ({
          ...headOf(req.vendor, received),
          body: received.body,
          timedOut: () => timedOut
        }))
      )
    }

    const requestScoped = (req: UpstreamRequest): Effect.Effect<UpstreamResponse, GatewayError, Scope.Scope> =>
      Effect.flatMap(Effect.scope, (scope) => requestIn(req, scope))

    const failure = (response: UpstreamResponse, error: unknown): GatewayError =>
      response.timedOut()
        ? new UpstreamTimeout({ vendor: response.vendor, phase: "total" })
        : error instanceof BodyTooLarge
        ? tooLarge(response.vendor)
        : fromTransportError(response.vendor, error)

    const text = (response: UpstreamResponse): Effect.Effect<string, GatewayError> =>
      Effect.async<string, GatewayError>((resume) => {
        readText(response.body).then(
          (text) => resume(Effect.succeed(text)),
          (error) => resume(Effect.fail(failure(response, error)))
        )
      })

    const reader = (response: UpstreamResponse): Effect.Effect<Uint8Array | null, GatewayError> => {
      const body = response.body
      // The body flows into `queued` (paused only past `HIGH_WATER` bytes not yet read): a read takes
      // everything that arrived since the last one at once, without waiting when something did.
      let queued: Array<Buffer> = []
      let size = 0
      let paused = false
      let ended = false
      let failed: unknown
      let waiting: ((effect: Effect.Effect<Uint8Array | null, GatewayError>) => void) | undefined
      const take = (): Effect.Effect<Uint8Array | null, GatewayError> | undefined => {
        // What the body holds already comes out now (through the `data` listener), not a tick later.
        if (size === 0 && !ended && failed === undefined && body.readableLength > 0) body.read()
        if (size > 0) {
          const piece = queued.length === 1 ? queued[0]! : Buffer.concat(queued, size)
          queued = []
          size = 0
          if (paused) {
            paused = false
            body.resume()
          }
          return Effect.succeed(piece)
        }
        if (failed !== undefined) return Effect.fail(failure(response, failed))
        if (ended) return Effect.succeed(null)
        return undefined
      }
      const wake = () => {
        if (waiting === undefined) return
        const resume = waiting
        waiting = undefined
        resume(take()!)
      }
      body.on("data", (piece: Buffer) => {
        queued.push(piece)
        size += piece.length
        if (size >= HIGH_WATER && !paused) {
          paused = true
          body.pause()
        }
        wake()
      })
      body.on("end", () => {
        ended = true
        wake()
      })
      body.on("error", (error) => {
        failed ??= error
        wake()
      })
      body.on("close", () => {
        if (!ended) failed ??= prematureClose()
        wake()
      })
      const wait = Effect.async<Uint8Array | null, GatewayError>((resume) => {
        waiting = resume
        return Effect.sync(() => {
          waiting = undefined
        })
      })
      return Effect.suspend(() => take() ?? wait)
    }

    return { request: requestScoped, requestIn, exchange, text, reader }
  })

/**
 * Outbound HTTP for providers: a thin Effect wrapper over undici's `request`
 * on a keep-alive connection pool, with undici's own timers for the first
 * byte and idle time and one timer for the total deadline. It costs well
 * under half the CPU per call of @effect/platform's HttpClient (see the
 * service benchmark). Interrupting a request, or the scope of its response,
 * aborts it and closes its socket.
 */
export class UpstreamHttp extends Context.Tag("@switchyard/service/UpstreamHttp")<UpstreamHttp, {
  /** Sends a request; the response lives as long as the scope (for streams). */
  readonly request: (options: UpstreamRequest) => Effect.Effect<UpstreamResponse, GatewayError, Scope.Scope>
  /** `request`, with the response living as long as `scope` (no scope to provide: cheaper per stream). */
  readonly requestIn: (options: UpstreamRequest, scope: Scope.Scope) => Effect.Effect<UpstreamResponse, GatewayError>
  /** Sends a request and reads its whole body (non-streaming calls: the cheapest path). */
  readonly exchange: (options: UpstreamRequest) => Effect.Effect<UpstreamExchange, GatewayError>
  /** Reads a whole body as text, up to the size limit. */
  readonly text: (response: UpstreamResponse) => Effect.Effect<string, GatewayError>
  /**
   * The body as a source of pieces, `null` at its end: the cheap way to read
   * a streamed answer. The body flows (paused only when a reader falls far
   * behind) and a read takes everything that arrived since the last one,
   * without waiting when something did: no promise and no pause per read. An
   * interrupted read is abandoned, and the response's finalizer ends the body.
   */
  readonly reader: (response: UpstreamResponse) => Effect.Effect<Uint8Array | null, GatewayError>
}>() {
  /** A pool with the given options, closed when the layer's scope ends. */
  static readonly layer = (options: UpstreamHttpOptions = {}): Layer.Layer<UpstreamHttp> =>
    Layer.scoped(UpstreamHttp, makeUpstreamHttp(options))

  /** The pool with default options. */
  static readonly Default: Layer.Layer<UpstreamHttp> = UpstreamHttp.layer()
}

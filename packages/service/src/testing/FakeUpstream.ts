import { Effect, type Scope } from "effect"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"

/** A request the fake upstream received. */
export interface ReceivedRequest {
  readonly method: string
  readonly path: string
  readonly headers: Http.IncomingHttpHeaders
  readonly body: string
  /** The body parsed as JSON (`undefined` if it is not JSON). */
  readonly json: unknown
}

/** What a handler gets: the parsed request, the raw response, and the request's number (0-based). */
export type FakeHandler = (
  request: ReceivedRequest,
  response: Http.ServerResponse,
  index: number
) => void | Promise<void>

/** A real HTTP server on an ephemeral loopback port that plays an upstream vendor in tests. */
export interface FakeUpstream {
  /** `http://127.0.0.1:<port>` */
  readonly origin: string
  /** `http://127.0.0.1:<port>/v1`, an OpenAI-style base URL. */
  readonly baseUrl: string
  readonly port: number
  /** Every request received so far. */
  readonly requests: ReadonlyArray<ReceivedRequest>
  /** How many TCP connections were opened to it so far. */
  readonly connections: () => number
  /** How many responses were closed by the client before they ended. */
  readonly abortedResponses: () => number
  /** Resolves when a response is next closed by the client before it ended. */
  readonly nextAbort: () => Promise<void>
  /** Replaces the handler. */
  readonly setHandler: (handler: FakeHandler) => void
  readonly close: () => Promise<void>
}

/** Starts a fake upstream with a handler. */
export const start = (handler: FakeHandler): Promise<FakeUpstream> =>
  new Promise((resolve, reject) => {
    const requests: Array<ReceivedRequest> = []
    let current = handler
    let aborted = 0
    let connections = 0
    let waiters: Array<() => void> = []
    const server = Http.createServer((req, res) => {
      const parts: Array<Buffer> = []
      req.on("data", (part: Buffer) => parts.push(part))
      req.on("end", () => {
        const body = Buffer.concat(parts).toString("utf8")
        let json: unknown
        try {
          json = body.length > 0 ? JSON.parse(body) : undefined
        } catch {
          json = undefined
        }
        const received: ReceivedRequest = {
          method: req.method ?? "GET",
          path: req.url ?? "/",
          headers: req.headers,
          body,
          json
        }
        const index = requests.length
        requests.push(received)
        res.on("close", () => {
          if (!res.writableFinished) {
            aborted++
            const pending = waiters
            waiters = []
            for (const wake of pending) wake()
          }
        })
        Promise.resolve(current(received, res, index)).catch((error) => {
          if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" })
          res.end(String(error))
        })
      })
    })
    server.keepAliveTimeout = 1_000
    server.on("connection", () => {
      connections++
    })
    server.on("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as AddressInfo).port
      const origin = `http://127.0.0.1:${port}`
      resolve({
        origin,
        baseUrl: `${origin}/v1`,
        port,
        requests,
        connections: () => connections,
        abortedResponses: () => aborted,
        nextAbort: () => new Promise<void>((wake) => waiters.push(wake)),
        setHandler: (next) => {
          current = next
        },
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections()
            server.close(() => done())
          })
      })
    })
  })

/** A fake upstream that lives as long as the scope. */
export const scoped = (handler: FakeHandler): Effect.Effect<FakeUpstream, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.promise(() => start(handler)),
    (upstream) => Effect.promise(() => upstream.close())
  )

/** Answers with JSON. */
export const sendJson = (
  response: Http.ServerResponse,
  status: number,
  body: unknown,
  headers: Http.OutgoingHttpHeaders = {}
): void => {
  const text = typeof body === "string" ? body : JSON.stringify(body)
  response.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), ...headers })
  response.end(text)
}

/** Options of an SSE answer. */
export interface SseOptions {
  /** A pause between events. */
  readonly delayMs?: number
  /** End with `data: [DONE]` (default true). */
  readonly done?: boolean
  /** Destroy the socket after this many events instead of ending properly. */
  readonly resetAfter?: number
  /** Stop sending after this many events, leaving the response open. */
  readonly stallAfter?: number
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** Drops the connection without answering: a reset before the first byte. */
export const reset = (response: Http.ServerResponse): void => {
  response.socket?.destroy()
}

/** Writes, resolving once the data has left for the socket (so a reset after it does not swallow it). */
const write = (response: Http.ServerResponse, text: string): Promise<void> =>
  new Promise((resolve) => {
    response.write(text, () => resolve())
  })

/**
 * Answers with an SSE stream: each event is JSON-encoded unless it is already
 * a string. The headers are sent at once, as SSE servers do.
 */
export const sendSse = async (
  response: Http.ServerResponse,
  events: ReadonlyArray<unknown>,
  options: SseOptions = {}
): Promise<void> => {
  response.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" })
  response.flushHeaders()
  let sent = 0
  for (const event of events) {
    if (options.resetAfter !== undefined && sent >= options.resetAfter) {
      response.socket?.destroy()
      return
    }
    if (options.stallAfter !== undefined && sent >= options.stallAfter) return
    if (options.delayMs !== undefined && options.delayMs > 0 && sent > 0) await sleep(options.delayMs)
    if (response.destroyed) return
    await write(response, `data: ${typeof event === "string" ? event : JSON.stringify(event)}\n\n`)
    sent++
  }
  if (options.resetAfter !== undefined && sent >= options.resetAfter) {
    response.socket?.destroy()
    return
  }
  if (options.stallAfter !== undefined) return
  if (options.done !== false) response.write("data: [DONE]\n\n")
  response.end()
}

import { describe, expect, it } from "@effect/vitest"
import { Responses, ResponsesStore, ServiceConfig } from "@switchyard/service"
import { FakeUpstream } from "@switchyard/service/testing"
import { ConfigProvider, Duration, Effect, Fiber, Layer } from "effect"
import type * as Http from "node:http"
import * as Net from "node:net"
import { Gateway } from "../src/config/GatewayConfig.js"
import * as Server from "../src/http/Listener.js"
import { RequestLog } from "../src/http/RequestLog.js"
import { authenticatorLayer, gatewayConfig, type GatewayOverrides, memoryStore, openStream, request, startGateway, textChunks, waitUntil } from "./support/Harness.js"

const TIMEOUT = 30_000
const streamRequest = { model: "openai/gpt-4o", messages: [{ role: "user", content: "hi" }], stream: true }

/** Whether a fresh connection to the port is refused. */
const refused = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = Net.connect(port, "127.0.0.1")
    socket.once("connect", () => {
      socket.destroy()
      resolve(false)
    })
    socket.once("error", (error: NodeJS.ErrnoException) => resolve(error.code === "ECONNREFUSED"))
  })

/**
 * A connection whose request is only half sent: the server sees it as busy,
 * so a drain keeps it open, and the request can be finished later.
 */
const halfSentRequest = (port: number, path: string) =>
  new Promise<{ finish: () => Promise<string> }>((resolve, reject) => {
    const socket = Net.connect(port, "127.0.0.1")
    let received = ""
    socket.setEncoding("utf8")
    socket.on("data", (text: string) => {
      received += text
    })
    const ended = new Promise<string>((done) => socket.on("close", () => done(received)))
    socket.once("error", reject)
    socket.once("connect", () => {
      socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n`, () =>
        resolve({
          finish: () => {
            socket.write("\r\n")
            return ended
          }
        }))
    })
  })

/** Waits until the server has read `bytes` bytes from one of its connections (so its parser has seen them). */
const serverHasRead = (server: Http.Server, bytes: number) => {
  const sockets: Array<Net.Socket> = []
  server.on("connection", (socket) => sockets.push(socket))
  return () => waitUntil(() => sockets.some((s) => s.bytesRead >= bytes) ? true : undefined, 10_000, () => "the server read nothing")
}

const serviceLayer = ServiceConfig.layer({}).pipe(
  Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map())))
)

const makeServer = (overrides: GatewayOverrides & { port?: number }) =>
  Server.make.pipe(
    Effect.provide(Responses.layer().pipe(Layer.provide(ResponsesStore.layerMemory()), Layer.provideMerge(serviceLayer))),
    Effect.provide(authenticatorLayer(gatewayConfig(overrides))),
    Effect.provide(memoryStore),
    Effect.provide(RequestLog.layer("text", () => undefined)),
    Effect.provide(Layer.succeed(Gateway, { ...gatewayConfig(overrides), port: overrides.port ?? 0 }))
  )

describe("graceful shutdown", () => {
  it.scopedLive("closing the server's scope: /ready says draining, new connections are refused, the in-flight stream completes", () =>
    Effect.gen(function*() {
      // The upstream holds the end of its answer until the test lets it go, so the stream is surely in flight.
      let release: () => void = () => undefined
      const released = new Promise<void>((resolve) => {
        release = resolve
      })
      const chunks = textChunks("a slow answer in six words")
      const gateway = yield* startGateway({
        gateway: { shutdownGraceMs: 20_000 },
        upstream: async (_request, response) => {
          await FakeUpstream.sendSse(response, chunks.slice(0, 2), { stallAfter: 2 })
          await released
          for (const c of chunks.slice(2)) response.write(`data: ${JSON.stringify(c)}\n\n`)
          response.end("data: [DONE]\n\n")
        }
      })
      const stream = yield* Effect.promise(() => openStream(`${gateway.url}/v5/chat/completions`, streamRequest))
      yield* Effect.promise(() => stream.until((text) => text.includes('"content"')))

      const head = `GET /ready HTTP/1.1\r\nHost: 127.0.0.1\r\n`
      const hasRead = serverHasRead(gateway.server, Buffer.byteLength(head))
      const ready = yield* Effect.promise(() => halfSentRequest(gateway.port, "/ready"))
      yield* Effect.promise(hasRead)

      const shutdown = yield* Effect.fork(gateway.shutdown)
      yield* Effect.promise(() => waitUntil(() => gateway.server.listening ? undefined : true, 10_000, () => "still listening"))
      expect(yield* Effect.promise(() => refused(gateway.port))).toBe(true)

      const answer = yield* Effect.promise(() => ready.finish())
      expect(answer).toMatch(/^HTTP\/1\.1 503 /)
      expect(answer.toLowerCase()).toContain("connection: close")
      expect(answer).toContain('{"status":"draining"}')

      yield* Effect.promise(() => waitUntil(() => gateway.inFlight() === 1 ? true : undefined, 10_000, () => "not just the stream in flight"))
      expect(stream.text()).not.toContain("[DONE]")
      release()

      expect(yield* Effect.promise(() => stream.closed)).toEqual({ complete: true })
      expect(stream.text().endsWith("data: [DONE]\n\n")).toBe(true)
      expect(stream.text()).toContain("six")
      expect(gateway.upstream.abortedResponses()).toBe(0)

      yield* Fiber.join(shutdown).pipe(Effect.timeoutFail({ duration: Duration.seconds(10), onTimeout: () => new Error("shutdown hung") }))
      expect(gateway.inFlight()).toBe(0)
      const line = yield* gateway.log.line((line) => line.includes(String(stream.headers["x-request-id"])))
      expect(line).toContain("POST /v5/chat/completions 200")
    }), TIMEOUT)

  it.scopedLive("a stream that outlives the grace period is cut, and its upstream call aborted", () =>
    Effect.gen(function*() {
      const gateway = yield* startGateway({
        gateway: { shutdownGraceMs: 300 },
        upstream: (_request, response) => FakeUpstream.sendSse(response, textChunks("stalls forever after this"), { stallAfter: 2 })
      })
      const stream = yield* Effect.promise(() => openStream(`${gateway.url}/v5/chat/completions`, streamRequest))
      yield* Effect.promise(() => stream.until((text) => text.includes('"content"')))
      const aborted = gateway.upstream.nextAbort()
      const shutdown = yield* Effect.fork(gateway.shutdown)
      expect(yield* Effect.promise(() => stream.closed)).toEqual({ complete: false })
      expect(stream.text()).not.toContain("[DONE]")
      yield* Effect.promise(() => aborted).pipe(
        Effect.timeoutFail({ duration: Duration.seconds(10), onTimeout: () => new Error("the upstream was never aborted") })
      )
      yield* Fiber.join(shutdown).pipe(Effect.timeoutFail({ duration: Duration.seconds(10), onTimeout: () => new Error("shutdown hung") }))
      expect(gateway.inFlight()).toBe(0)
    }), TIMEOUT)

  it.scopedLive("with nothing in flight, shutdown closes idle keep-alive connections and finishes", () =>
    Effect.gen(function*() {
      const gateway = yield* startGateway({ gateway: { shutdownGraceMs: 20_000 } })
      const socket = yield* Effect.promise(() =>
        new Promise<Net.Socket>((resolve) => {
          const s = Net.connect(gateway.port, "127.0.0.1", () => {
            s.write("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
          })
          s.once("data", () => resolve(s))
        })
      )
      const closed = new Promise<void>((resolve) => socket.on("close", () => resolve()))
      yield* gateway.shutdown.pipe(
        Effect.timeoutFail({ duration: Duration.seconds(10), onTimeout: () => new Error("shutdown waited for an idle connection") })
      )
      yield* Effect.promise(() => closed)
      expect(yield* Effect.promise(() => refused(gateway.port))).toBe(true)
    }), TIMEOUT)
})

describe("start-up rules (Server.make)", () => {
  it.scopedLive("refuses to listen on a non-loopback host without keys, naming SWITCHYARD_API_KEYS", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(makeServer({ host: "0.0.0.0" }))
      expect(error).toBeInstanceOf(Server.StartupError)
      expect(error.message).toContain("0.0.0.0")
      expect(error.message).toContain("SWITCHYARD_API_KEYS")
    }), TIMEOUT)

  it.scopedLive("listens on a non-loopback host when keys are configured", () =>
    Effect.gen(function*() {
      const server = yield* makeServer({ host: "0.0.0.0", apiKeys: ["k"] })
      expect(server.port).toBeGreaterThan(0)
      const response = yield* Effect.promise(() => request(`http://127.0.0.1:${server.port}/health`))
      expect(response.status).toBe(200)
    }), TIMEOUT)

  it.scopedLive("a port already in use is a StartupError naming the address", () =>
    Effect.gen(function*() {
      const first = yield* makeServer({})
      const error = yield* Effect.flip(makeServer({ port: first.port }))
      expect(error).toBeInstanceOf(Server.StartupError)
      expect(error.message).toContain(`127.0.0.1:${first.port}`)
    }), TIMEOUT)
})

import { describe, expect, it, layer } from "@effect/vitest"
import { ChatCompletions, ServiceConfig, TestProvider } from "@switchyard/service"
import { FakeUpstream } from "@switchyard/service/testing"
import { ConfigProvider, Context, Effect, Layer, Redacted } from "effect"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { Gateway } from "../src/index.js"
import { answerText, postJson, request } from "./support/Harness.js"

const ask = (url: string, model: string, headers = {}) =>
  Effect.promise(() => postJson(`${url}/v5/chat/completions`, { model, messages: [{ role: "user", content: "Hi" }] }, headers))

const Scripted = ChatCompletions.layer().pipe(
  Layer.provideMerge(TestProvider.layer({ vendors: ["acme"], script: [TestProvider.reply("Hello from the script")] }))
)

layer(Gateway.layer({ port: 0 }).pipe(Layer.provideMerge(Scripted)), { excludeTestServices: true })(
  "Gateway.layer, over your own ChatCompletions",
  (it) => {
    it.effect("serves chat completions from the ChatCompletions it is given", () =>
      Effect.gen(function*() {
        const server = yield* Gateway.Server
        expect(server.host).toBe("127.0.0.1")
        expect(server.port).toBeGreaterThan(0)
        const response = yield* ask(server.url, "acme/model")
        expect(response.status).toBe(200)
        expect(JSON.parse(response.text).choices[0].message.content).toBe("Hello from the script")
        expect(yield* Effect.flatMap(TestProvider, (test) => test.calls)).toHaveLength(1)
      }))

    it.effect("serves the rest of the HTTP API too: /health and /openapi.json", () =>
      Effect.gen(function*() {
        const server = yield* Gateway.Server
        expect((yield* Effect.promise(() => request(`${server.url}/health`))).status).toBe(200)
        const openapi = yield* Effect.promise(() => request(`${server.url}/openapi.json`))
        expect(JSON.parse(openapi.text).paths).toHaveProperty("/v5/chat/completions")
      }))
  }
)

describe("Gateway.layer options", () => {
  it.scopedLive("asks for its keys, and writes its access log to the sink given", () =>
    Effect.gen(function*() {
      const upstream = yield* FakeUpstream.scoped(answerText("Hello over HTTP"))
      let log = ""
      const service = ServiceConfig.layer({ retry: { max_retries: 0 } }).pipe(
        Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map([
          ["OPENAI_BASE_URL", upstream.baseUrl],
          ["OPENAI_API_KEY", "sk-upstream"]
        ]))))
      )
      const built = yield* Layer.build(
        Gateway.layer({ port: 0, apiKeys: ["sk-gateway"], accessLog: { format: "json", sink: (text) => log += text } })
          .pipe(Layer.provide(service))
      )
      const server = Context.get(built, Gateway.Server)
      expect((yield* ask(server.url, "openai/gpt-4o")).status).toBe(401)
      const answered = yield* ask(server.url, "openai/gpt-4o", { authorization: "Bearer sk-gateway" })
      expect(answered.status).toBe(200)
      expect(JSON.parse(answered.text).choices[0].message.content).toBe("Hello over HTTP")
      expect(upstream.requests.at(-1)?.headers.authorization).toBe("Bearer sk-upstream")
      yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 120)))
      expect(log.trim().split("\n").map((line) => JSON.parse(line).status)).toEqual([401, 200])
    }), { timeout: 20_000 })

  it.scopedLive("keeps stored completions in the SQL store it is given (SQLite here)", () =>
    Effect.gen(function*() {
      const directory = yield* Effect.acquireRelease(
        Effect.sync(() => Fs.mkdtempSync(Path.join(Os.tmpdir(), "switchyard-embedded-"))),
        (directory) => Effect.sync(() => Fs.rmSync(directory, { recursive: true, force: true }))
      )
      const filename = Path.join(directory, "switchyard.db")
      const built = yield* Layer.build(
        Gateway.layer({ port: 0, store: { database: { _tag: "sqlite", filename } } }).pipe(Layer.provide(Scripted))
      )
      const server = Context.get(built, Gateway.Server)
      const answer = yield* Effect.promise(() =>
        postJson(`${server.url}/v5/chat/completions`, { model: "acme/model", store: true, messages: [{ role: "user", content: "Hi" }] })
      )
      expect(answer.status).toBe(200)
      const id = JSON.parse(answer.text).id as string
      const stored = yield* Effect.promise(() => request(`${server.url}/v5/chat/completions/${id}`))
      expect(stored.status).toBe(200)
      expect(JSON.parse(stored.text).id).toBe(id)
      expect(Fs.existsSync(filename)).toBe(true)
    }), { timeout: 30_000 })

  it.effect("refuses to serve without keys on a public address", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Layer.build(Gateway.layer({ host: "0.0.0.0", port: 0 }).pipe(Layer.provide(Scripted))))
      expect(String(error)).toContain("0.0.0.0")
    }).pipe(Effect.scoped))

  it("configOf fills the CLI's defaults and keeps keys redacted", () => {
    const config = Gateway.configOf({ apiKeys: ["k"] })
    expect(config).toMatchObject({ host: "127.0.0.1", port: 8080, bodyLimitBytes: 10 * 1024 * 1024, shutdownGraceMs: 30_000 })
    expect(Redacted.value(config.apiKeys[0]!)).toBe("k")
    expect(String(config.apiKeys[0])).toBe("<redacted>")
  })
})

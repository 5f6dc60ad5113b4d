import { describe, expect, it } from "@effect/vitest"
import { FakeUpstream } from "@switchyard/service/testing"
import { Effect } from "effect"
import * as Fs from "node:fs"
import * as Net from "node:net"
import * as Os from "node:os"
import * as Path from "node:path"
import { runCli, startServe } from "./support/Bin.js"
import { openStream, request, textChunks } from "./support/Harness.js"

// Each run starts a node process that loads Effect (~1.5 s here, more on a busy machine).
const TIMEOUT = 90_000

const refused = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = Net.connect(port, "127.0.0.1")
    socket.once("connect", () => {
      socket.destroy()
      resolve(false)
    })
    socket.once("error", (error: NodeJS.ErrnoException) => resolve(error.code === "ECONNREFUSED"))
  })

const portOf = (url: string) => Number(new URL(url).port)

const tempDir = Effect.acquireRelease(
  Effect.sync(() => Fs.mkdtempSync(Path.join(Os.tmpdir(), "switchyard-serve-"))),
  (dir) => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true }))
)

describe("switchyard serve (the built bin, as a subprocess)", () => {
  it.scopedLive("prints its URL for --port 0, serves, and on SIGTERM drains the in-flight stream and exits 0", () =>
    Effect.gen(function*() {
      let release: () => void = () => undefined
      const released = new Promise<void>((resolve) => {
        release = resolve
      })
      const chunks = textChunks("an answer that waits for the test")
      const upstream = yield* FakeUpstream.scoped(async (_request, response) => {
        await FakeUpstream.sendSse(response, chunks.slice(0, 2), { stallAfter: 2 })
        await released
        for (const c of chunks.slice(2)) response.write(`data: ${JSON.stringify(c)}\n\n`)
        response.end("data: [DONE]\n\n")
      })
      const serve = yield* startServe(["--port", "0", "--log-format", "json"], {
        OPENAI_BASE_URL: upstream.baseUrl,
        OPENAI_API_KEY: "sk-serve"
      })
      expect(serve.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
      const port = portOf(serve.url)
      expect(port).toBeGreaterThan(0)
      expect((yield* Effect.promise(() => request(`${serve.url}/health`))).status).toBe(200)

      const stream = yield* Effect.promise(() =>
        openStream(`${serve.url}/v5/chat/completions`, {
          model: "openai/gpt-4o",
          messages: [{ role: "user", content: "hi" }],
          stream: true
        })
      )
      yield* Effect.promise(() => stream.until((text) => text.includes('"content"')))
      serve.child.kill("SIGTERM")
      // New connections are refused while the held stream keeps the process draining.
      const stopped = yield* Effect.promise(async () => {
        for (let i = 0; i < 1_000; i++) {
          if (await refused(port)) return true
          await new Promise((resolve) => setTimeout(resolve, 20))
        }
        return false
      })
      expect(stopped).toBe(true)
      expect(serve.child.exitCode).toBeNull()
      expect(stream.text()).not.toContain("[DONE]")
      release()
      expect(yield* Effect.promise(() => stream.closed)).toEqual({ complete: true })
      expect(stream.text().endsWith("data: [DONE]\n\n")).toBe(true)
      expect(yield* Effect.promise(() => serve.exited)).toEqual({ code: 0, signal: null })
      const lines = serve.stdout().trim().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>)
      expect(lines).toContainEqual(expect.objectContaining({ method: "POST", path: "/v5/chat/completions", status: 200, stream: true }))
    }), TIMEOUT)

  it.scopedLive("refuses to listen on 0.0.0.0 without keys, naming SWITCHYARD_API_KEYS", () =>
    Effect.gen(function*() {
      const result = yield* runCli(["serve", "--host", "0.0.0.0", "--port", "0"])
      expect(result.code).toBe(1)
      expect(result.stderr).toContain("SWITCHYARD_API_KEYS")
      expect(result.stderr).toContain("0.0.0.0")
      expect(result.stderr).not.toMatch(/^\s+at /m)
    }), TIMEOUT)

  it.scopedLive("listens on 0.0.0.0 with SWITCHYARD_API_KEYS, and requires one of those keys", () =>
    Effect.gen(function*() {
      const serve = yield* startServe(["--host", "0.0.0.0", "--port", "0"], { SWITCHYARD_API_KEYS: "key-a, key-b" })
      const local = `http://127.0.0.1:${portOf(serve.url)}`
      expect((yield* Effect.promise(() => request(`${local}/health`))).status).toBe(200)
      expect((yield* Effect.promise(() => request(`${local}/v5/models`))).status).toBe(401)
      expect((yield* Effect.promise(() => request(`${local}/v5/models`, { headers: { "x-api-key": "key-b" } }))).status).toBe(200)
      expect(serve.stderr()).not.toContain("WARNING")
      serve.child.kill("SIGTERM")
      expect(yield* Effect.promise(() => serve.exited)).toEqual({ code: 0, signal: null })
    }), TIMEOUT)

  const configCases: ReadonlyArray<{
    readonly name: string
    readonly args: (dir: string) => ReadonlyArray<string>
    readonly env?: (dir: string) => Record<string, string>
    readonly file?: string
    readonly mentions: (dir: string) => ReadonlyArray<string>
  }> = [
    { name: "a SWITCHYARD_PORT that is not a number", args: () => [], env: () => ({ SWITCHYARD_PORT: "abc" }), mentions: () => ["SWITCHYARD_PORT"] },
    { name: "a SWITCHYARD_PORT out of range", args: () => [], env: () => ({ SWITCHYARD_PORT: "99999" }), mentions: () => ["SWITCHYARD_PORT", "99999"] },
    {
      name: "a config file with a wrong type",
      file: JSON.stringify({ server: { port: "eighty" } }),
      args: (dir) => ["--port", "0", "--config", Path.join(dir, "switchyard.json")],
      mentions: (dir) => [Path.join(dir, "switchyard.json"), "server.port"]
    },
    {
      name: "a config file with an unknown top-level key",
      file: JSON.stringify({ retries: { max_retries: 1 } }),
      args: (dir) => ["--port", "0", "--config", Path.join(dir, "switchyard.json")],
      mentions: () => ["retries"]
    },
    {
      name: "a route whose target names an unknown vendor",
      file: JSON.stringify({ routes: { smart: { targets: [{ model: "openai/gpt-4o" }, { model: "nowhere/model" }] } } }),
      args: (dir) => ["--port", "0", "--config", Path.join(dir, "switchyard.json")],
      mentions: () => ["routes.smart.targets.1.model", "unknown vendor `nowhere`"]
    },
    {
      name: "a route whose target is another route",
      file: JSON.stringify({
        routes: { inner: { targets: [{ model: "openai/gpt-4o" }] }, "team/outer": { targets: [{ model: "openai/gpt-4o" }] }, smart: { targets: [{ model: "team/outer" }] } }
      }),
      args: (dir) => ["--port", "0", "--config", Path.join(dir, "switchyard.json")],
      mentions: () => ["routes.smart.targets.0.model", "`team/outer` is a route"]
    },
    {
      name: "an unknown route field",
      file: JSON.stringify({ routes: { smart: { targets: [{ model: "openai/gpt-4o" }], hedge_ms: 100 } } }),
      args: (dir) => ["--port", "0", "--config", Path.join(dir, "switchyard.json")],
      mentions: () => ["routes.smart.hedge_ms"]
    },
    {
      name: "a missing config file (--config)",
      args: (dir) => ["--port", "0", "--config", Path.join(dir, "missing.json")],
      mentions: (dir) => [Path.join(dir, "missing.json")]
    },
    {
      name: "a missing config file (SWITCHYARD_CONFIG)",
      args: () => ["--port", "0"],
      env: (dir) => ({ SWITCHYARD_CONFIG: Path.join(dir, "missing.json") }),
      mentions: (dir) => ["config file", Path.join(dir, "missing.json")]
    }
  ]

  for (const { args, env, file, mentions, name } of configCases) {
    it.scopedLive(`refuses to start with ${name}: a message naming it, exit code 1`, () =>
      Effect.gen(function*() {
        const dir = yield* tempDir
        if (file !== undefined) Fs.writeFileSync(Path.join(dir, "switchyard.json"), file)
        const result = yield* runCli(["serve", ...args(dir)], { env: env?.(dir) ?? {}, timeoutMs: 60_000 })
        expect(result.code).toBe(1)
        for (const text of mentions(dir)) expect(result.stderr).toContain(text)
        expect(result.stderr).not.toContain("listening")
        expect(result.stderr).not.toMatch(/^\s+at /m)
      }), TIMEOUT)
  }
})

import { describe, expect, it } from "@effect/vitest"
import { FakeUpstream } from "@switchyard/service/testing"
import { Effect } from "effect"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import { isBuilt, plain, runCli } from "./support/Bin.js"
import { answerText, startGateway } from "./support/Harness.js"

// Each run starts a node process that loads Effect (~1.5 s here, more on a busy machine).
const TIMEOUT = 90_000
const KEY = "sy-cli-key"

const version = (JSON.parse(Fs.readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string })
  .version

describe("switchyard CLI (the built bin, as a subprocess)", () => {
  it("is built (`npm test` runs `tsc -b` first)", () => {
    expect(isBuilt).toBe(true)
  })

  it.live("--help for the command and each subcommand, and --version", () =>
    Effect.gen(function*() {
      const root = yield* runCli(["--help"])
      expect(root.code).toBe(0)
      const rootText = plain(root.stdout)
      for (const word of ["USAGE", "serve", "chat", "models", "--version"]) expect(rootText).toContain(word)

      const expected: Record<string, ReadonlyArray<string>> = {
        serve: ["--host", "--port", "--config", "--log-format", "--body-limit", "--shutdown-grace-ms"],
        chat: ["--model", "--system", "--temperature", "--max-tokens", "--json", "--no-stream", "--base-url", "--api-key", "--account", "<prompt>"],
        models: ["--base-url", "--api-key", "--config"]
      }
      for (const [command, options] of Object.entries(expected)) {
        const help = yield* runCli([command, "--help"])
        expect(help.code, command).toBe(0)
        const text = plain(help.stdout)
        expect(text).toContain(`$ ${command}`)
        for (const option of options) expect(text, `${command} --help`).toContain(option)
      }

      const printed = yield* runCli(["--version"])
      expect(printed.code).toBe(0)
      expect(printed.stdout.trim()).toBe(version)
    }), 5 * TIMEOUT)

  it.live("chat prints the echo reply on stdout and exits 0", () =>
    Effect.gen(function*() {
      const result = yield* runCli(["chat", "hello there, switchyard", "-m", "echo/x"])
      expect(result).toMatchObject({ code: 0, stdout: "hello there, switchyard\n", stderr: "" })
    }), TIMEOUT)

  it.live("chat runs from its own bundle through V8's code cache, and a damaged cache is replaced, not trusted", () =>
    Effect.gen(function*() {
      // `npm test` bundles before it tests; bin/switchyard.js starts `chat` from this file.
      const bundle = fileURLToPath(new URL("../dist/bundle/chat.cjs", import.meta.url))
      expect(Fs.existsSync(bundle)).toBe(true)
      const cache = `${bundle}.v8-cache`
      const damaged = Buffer.from("not a code cache")
      const partial = `${cache}.test-${process.pid}`
      Fs.writeFileSync(partial, damaged)
      Fs.renameSync(partial, cache)

      const first = yield* runCli(["chat", "a cold start", "-m", "echo/x"])
      expect(first).toMatchObject({ code: 0, stdout: "a cold start\n", stderr: "" })
      // The run compiled the bundle afresh and left V8's cache of it in place of the damaged one.
      const written = Fs.readFileSync(cache)
      expect(written.length).toBeGreaterThan(100_000)
      expect(written.equals(damaged)).toBe(false)

      const warm = yield* runCli(["chat", "a warm start", "-m", "echo/x", "--json"])
      expect(warm.code).toBe(0)
      expect(JSON.parse(warm.stdout)).toMatchObject({ choices: [{ message: { content: "a warm start" } }] })
    }), 2 * TIMEOUT)

  it.live("chat reads the prompt from piped stdin", () =>
    Effect.gen(function*() {
      const result = yield* runCli(["chat", "-m", "echo/x"], { stdin: "a prompt from a pipe\n" })
      expect(result).toMatchObject({ code: 0, stdout: "a prompt from a pipe\n" })
    }), TIMEOUT)

  it.live("chat --json prints the chat.completion as JSON, streamed or not", () =>
    Effect.gen(function*() {
      for (const extra of [[], ["--no-stream"]]) {
        const result = yield* runCli(["chat", "json please", "-m", "echo/x", "--json", ...extra])
        expect(result.code, extra.join(" ")).toBe(0)
        const completion = JSON.parse(result.stdout) as Record<string, unknown>
        expect(completion).toMatchObject({
          object: "chat.completion",
          model: "x",
          choices: [{ index: 0, finish_reason: "stop", message: { role: "assistant", content: "json please" } }],
          usage: { completion_tokens: expect.any(Number), prompt_tokens: expect.any(Number) }
        })
      }
    }), TIMEOUT)

  it.live("chat --no-stream prints the whole answer", () =>
    Effect.gen(function*() {
      const result = yield* runCli(["chat", "all at once", "-m", "echo/x", "--no-stream"])
      expect(result).toMatchObject({ code: 0, stdout: "all at once\n" })
    }), TIMEOUT)

  it.live("chat --max-tokens 2 truncates the answer", () =>
    Effect.gen(function*() {
      const text = yield* runCli(["chat", "one two three four", "-m", "echo/x", "--max-tokens", "2"])
      expect(text).toMatchObject({ code: 0, stdout: "one two\n" })
      const json = yield* runCli(["chat", "one two three four", "-m", "echo/x", "--max-tokens", "2", "--json"])
      expect(JSON.parse(json.stdout)).toMatchObject({
        choices: [{ finish_reason: "length", message: { content: "one two" } }],
        usage: { completion_tokens: 2 }
      })
    }), TIMEOUT)

  it.scopedLive("chat -m openai/... in-process calls the configured upstream (OPENAI_BASE_URL, OPENAI_API_KEY)", () =>
    Effect.gen(function*() {
      const upstream = yield* FakeUpstream.scoped(answerText("from the fake upstream"))
      const env = { OPENAI_BASE_URL: upstream.baseUrl, OPENAI_API_KEY: "sk-in-process" }
      const streamed = yield* runCli(["chat", "hi", "-m", "openai/gpt-4o"], { env })
      expect(streamed).toMatchObject({ code: 0, stdout: "from the fake upstream\n" })
      const whole = yield* runCli(["chat", "hi", "-m", "openai/gpt-4o", "--no-stream"], { env })
      expect(whole).toMatchObject({ code: 0, stdout: "from the fake upstream\n" })
      expect(upstream.requests).toHaveLength(2)
      expect(upstream.requests.map((r) => r.headers.authorization)).toEqual(["Bearer sk-in-process", "Bearer sk-in-process"])
      expect(upstream.requests.map((r) => (r.json as { model: string }).model)).toEqual(["gpt-4o", "gpt-4o"])
    }), TIMEOUT)

  it.live("chat with an unknown vendor prints one line on stderr and exits non-zero", () =>
    Effect.gen(function*() {
      const result = yield* runCli(["chat", "hello", "-m", "nope/model"])
      expect(result.code).not.toBe(0)
      expect(result.stdout).toBe("")
      const lines = result.stderr.trimEnd().split("\n")
      expect(lines).toHaveLength(1)
      expect(lines[0]).toContain("nope")
    }), TIMEOUT)

  it.live("chat without a prompt (and nothing piped) says so and exits non-zero", () =>
    Effect.gen(function*() {
      const result = yield* runCli(["chat", "-m", "echo/x"])
      expect(result.code).not.toBe(0)
      expect(result.stderr).toContain("no prompt")
    }), TIMEOUT)

  it.scopedLive("chat --base-url talks to a running gateway with --api-key and --account", () =>
    Effect.gen(function*() {
      const gateway = yield* startGateway({ gateway: { apiKeys: [`${KEY}:acct_flag`] } })
      const result = yield* runCli([
        "chat",
        "through the gateway",
        "-m",
        "echo/x",
        "--base-url",
        gateway.url,
        "--api-key",
        KEY,
        "--account",
        "acct_flag"
      ])
      expect(result).toMatchObject({ code: 0, stdout: "through the gateway\n" })
      const line = yield* gateway.log.line((line) => line.includes("account=acct_flag"))
      expect(line).toContain("POST /v5/chat/completions 200")
      expect(line).toContain("model=echo/x")
      expect(line).toContain("stream")
      expect(gateway.log.text()).not.toContain(KEY)
    }), TIMEOUT)

  it.scopedLive("chat takes SWITCHYARD_BASE_URL, SGP_API_KEY and SGP_ACCOUNT_ID from the environment", () =>
    Effect.gen(function*() {
      const gateway = yield* startGateway({ gateway: { apiKeys: [`${KEY}:acct_env`] } })
      const result = yield* runCli(["chat", "env configured", "-m", "echo/x", "--no-stream"], {
        env: { SWITCHYARD_BASE_URL: `${gateway.url}/v1`, SGP_API_KEY: KEY, SGP_ACCOUNT_ID: "acct_env" }
      })
      expect(result).toMatchObject({ code: 0, stdout: "env configured\n" })
      const line = yield* gateway.log.line((line) => line.includes("account=acct_env"))
      expect(line).toContain("POST /v1/chat/completions 200")
    }), TIMEOUT)

  it.scopedLive("chat --base-url with a wrong key fails with the gateway's 401 message", () =>
    Effect.gen(function*() {
      const gateway = yield* startGateway({ gateway: { apiKeys: [KEY] } })
      const result = yield* runCli(["chat", "hi", "-m", "echo/x", "--base-url", gateway.url, "--api-key", "wrong"])
      expect(result.code).not.toBe(0)
      expect(result.stdout).toBe("")
      expect(result.stderr).toMatch(/API key/i)
      yield* gateway.log.line((line) => line.includes("POST /v5/chat/completions 401"))
    }), TIMEOUT)

  it.scopedLive("models --base-url lists a gateway's models, echo included", () =>
    Effect.gen(function*() {
      const gateway = yield* startGateway({ gateway: { apiKeys: [KEY] } })
      const result = yield* runCli(["models", "--base-url", gateway.url, "--api-key", KEY])
      expect(result.code).toBe(0)
      const ids = result.stdout.trim().split("\n")
      expect(ids).toContain("echo/echo")
      expect(ids).toContain("openai/gpt-4o")
    }), TIMEOUT)

  it.scopedLive("models lists the configured vendors in-process: echo offline, openai reachable", () =>
    Effect.gen(function*() {
      const upstream = yield* FakeUpstream.scoped((request, response) =>
        request.path === "/v1/models"
          ? FakeUpstream.sendJson(response, 200, { object: "list", data: [{ id: "fake-model-1", object: "model", owned_by: "fake" }] })
          : FakeUpstream.sendJson(response, 404, { error: { message: "no" } })
      )
      const dir = yield* Effect.acquireRelease(
        Effect.sync(() => Fs.mkdtempSync(Path.join(Os.tmpdir(), "switchyard-cli-"))),
        (dir) => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true }))
      )
      const config = Path.join(dir, "switchyard.json")
      const local = { enabled: false }
      Fs.writeFileSync(config, JSON.stringify({ vendors: { ollama: local, vllm: local, lmstudio: local, llamacpp: local } }))
      const result = yield* runCli(["models", "--config", config], {
        env: { OPENAI_BASE_URL: upstream.baseUrl, OPENAI_API_KEY: "sk-models" }
      })
      expect(result.code).toBe(0)
      const rows = result.stdout.trim().split("\n")
      expect(rows[0]).toMatch(/^VENDOR\s+STATUS\s+MODELS$/)
      expect(rows.find((row) => row.startsWith("echo "))).toMatch(/ready \(offline\)\s+echo\/echo$/)
      expect(rows.find((row) => row.startsWith("openai "))).toMatch(/reachable\s+openai\/fake-model-1$/)
      expect(rows).toHaveLength(3)
      expect(upstream.requests[0]?.headers.authorization).toBe("Bearer sk-models")
    }), TIMEOUT)
})

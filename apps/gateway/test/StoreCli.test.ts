import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import OpenAI from "openai"
import { plain, runCli, startServe } from "./support/Bin.js"

// Each run starts a node process that loads Effect (~1.5 s here, more on a busy machine).
const TIMEOUT = 120_000

const tempDataDir = Effect.acquireRelease(
  Effect.sync(() => Fs.mkdtempSync(Path.join(Os.tmpdir(), "sy-cli-store-"))),
  (dir) => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true }))
)

describe("switchyard keys | completions | migrate (the built bin, on the server's SQLite file)", () => {
  it.scopedLive("keys are created (the secret printed once), used by the server, listed without the secret, and revoked", () =>
    Effect.gen(function*() {
      const dir = yield* tempDataDir
      const env = { SWITCHYARD_DATA_DIR: dir }
      const migrated = yield* runCli(["migrate"], { env })
      expect(migrated.code, migrated.stderr).toBe(0)
      expect(migrated.stderr).toContain("applied migrations 1, 2, 3")
      expect((yield* runCli(["migrate"], { env })).stderr).toContain("up to date")
      expect(Fs.existsSync(Path.join(dir, "switchyard.db"))).toBe(true)

      const created = yield* runCli(["keys", "create", "--account", "acct_a", "--account", "acct_b", "--name", "ci"], { env })
      expect(created.code, created.stderr).toBe(0)
      const secret = created.stdout.trim()
      expect(secret).toMatch(/^sk-sy-[0-9A-Za-z]{40}$/)
      expect(created.stderr).not.toContain(secret)

      const serve = yield* startServe(["--port", "0"], env)
      expect(serve.stderr()).not.toContain("WARNING: no API keys")
      const client = new OpenAI({ baseURL: `${serve.url}/v5`, apiKey: secret, maxRetries: 0 })
      const stored = yield* Effect.promise(() =>
        client.chat.completions.create({ model: "echo/demo", store: true, metadata: { team: "cli" }, messages: [{ role: "user", content: "from the cli test" }] })
      )
      const refused = yield* Effect.promise(() =>
        new OpenAI({ baseURL: `${serve.url}/v5`, apiKey: "sk-sy-wrong", maxRetries: 0 }).models.list().then(() => 200, (e: { status: number }) => e.status)
      )
      expect(refused).toBe(401)
      // Stop the server: its queue drains into the file.
      serve.child.kill("SIGTERM")
      expect((yield* Effect.promise(() => serve.exited)).code).toBe(0)

      const listed = yield* runCli(["keys", "list"], { env })
      expect(listed.code).toBe(0)
      const table = plain(listed.stdout)
      expect(table).toContain("ACCOUNTS")
      expect(table).toContain("acct_a,acct_b")
      expect(table).toContain(`${secret.slice(0, 10)}…${secret.slice(-4)}`)
      expect(table).not.toContain(secret)
      const json = JSON.parse((yield* runCli(["keys", "list", "--json"], { env })).stdout) as Array<{ id: string; last_used_at: number | null }>
      expect(json).toHaveLength(1)
      expect(json[0]!.last_used_at).toEqual(expect.any(Number))

      const completions = yield* runCli(["completions", "list", "--account", "acct_a"], { env })
      expect(completions.code, completions.stderr).toBe(0)
      expect(completions.stdout).toContain(stored.id)
      expect(completions.stdout).toContain("team=cli")
      const filtered = JSON.parse((yield* runCli(["completions", "list", "--account", "acct_a", "--metadata", "team=other", "--json"], { env })).stdout)
      expect(filtered.data).toEqual([])
      const shown = yield* runCli(["completions", "show", stored.id, "--account", "acct_a"], { env })
      expect(JSON.parse(shown.stdout)).toMatchObject({ id: stored.id, status: "completed", request: { messages: [{ content: "from the cli test" }] } })
      const elsewhere = yield* runCli(["completions", "show", stored.id], { env })
      expect(elsewhere.code).not.toBe(0)

      const id = json[0]!.id
      expect((yield* runCli(["keys", "revoke", id], { env })).code).toBe(0)
      const again = yield* runCli(["keys", "revoke", id], { env })
      expect(again.code).not.toBe(0)
      expect(again.stderr).toContain(`no active key ${id}`)
      expect((yield* runCli(["keys", "list"], { env })).stderr).toContain("No keys")

      // The secret is nowhere in the data directory.
      for (const file of Fs.readdirSync(dir)) expect(Fs.readFileSync(Path.join(dir, file)).includes(secret)).toBe(false)
    }), TIMEOUT)

  it.scopedLive("keys create needs an account; a bad database URL is a clear error", () =>
    Effect.gen(function*() {
      const dir = yield* tempDataDir
      const none = yield* runCli(["keys", "create"], { env: { SWITCHYARD_DATA_DIR: dir } })
      expect(none.code).not.toBe(0)
      expect(none.stderr).toContain("--account")
      const bad = yield* runCli(["keys", "list"], { env: { SWITCHYARD_DATABASE_URL: "mysql://db/x" } })
      expect(bad.code).not.toBe(0)
      expect(bad.stderr).toContain("SWITCHYARD_DATABASE_URL")
    }), TIMEOUT)

  it.scopedLive("keys create --rpm --tpm --concurrency --budget-usd gives the key its own limits, which the server enforces", () =>
    Effect.gen(function*() {
      const dir = yield* tempDataDir
      const env = { SWITCHYARD_DATA_DIR: dir }
      const created = yield* runCli(
        ["keys", "create", "--account", "acct_l", "--rpm", "1", "--tpm", "50000", "--concurrency", "4", "--budget-usd", "2.5", "--json"],
        { env }
      )
      expect(created.code, created.stderr).toBe(0)
      const key = JSON.parse(created.stdout) as { secret: string; limits: unknown }
      expect(key.limits).toEqual({
        requests_per_minute: 1,
        tokens_per_minute: 50000,
        concurrent_requests: 4,
        budget: { usd: 2.5, period: "month" }
      })
      const listed = JSON.parse((yield* runCli(["keys", "list", "--json"], { env })).stdout) as Array<{ limits: unknown }>
      expect(listed[0]?.limits).toEqual(key.limits)
      const bad = yield* runCli(["keys", "create", "--account", "acct_l", "--rpm", "0"], { env })
      expect(bad.code).not.toBe(0)

      const serve = yield* startServe(["--port", "0"], env)
      const client = new OpenAI({ baseURL: `${serve.url}/v5`, apiKey: key.secret, maxRetries: 0 })
      const messages = [{ role: "user" as const, content: "limited" }]
      const first = yield* Effect.promise(() => client.chat.completions.create({ model: "echo/echo", messages }).withResponse())
      expect(first.response.headers.get("x-ratelimit-limit-requests")).toBe("1")
      const second = yield* Effect.promise(() => client.chat.completions.create({ model: "echo/echo", messages }).then(() => undefined, (e: unknown) => e))
      expect(second).toBeInstanceOf(OpenAI.RateLimitError)
    }), TIMEOUT)
})

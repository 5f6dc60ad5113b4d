/**
 * The dashboard's list endpoint at scale: fills a SQLite store with N stored
 * completions (default 1,000,000: 4 accounts, metadata `user` with 1,000
 * values and `env` with 3, 1% failed), then times pages of 50, newest first,
 * through the repository (`StoredCompletions.search`) and through HTTP
 * (`GET /v5/dashboard/completions` on the built `switchyard serve`).
 *
 *   npm run bench:dashboard -w @switchyard/gateway -- [N]
 *
 * Build first (`npm run build`): the HTTP part runs the built bin.
 */
import { SqlClient } from "@effect/sql"
import type { ChatCompletion, ChatCompletionRequest } from "@switchyard/core"
import { mintCompletionId, PriceCatalogue, type CompletionSearch, type StoredCompletionRecord, StoredCompletions } from "@switchyard/service"
import { Database, layer, SqlStoredCompletions } from "@switchyard/store"
import { Context, Effect, Layer } from "effect"
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"

const N = Number(process.argv[2] ?? 1_000_000)
const T0 = Date.UTC(2026, 0, 1)
const ROUNDS = 40
const ADMIN = "bench-admin-key"
const MEMBER = "bench-member-key"

// SWITCHYARD_BENCH_DIR keeps the filled database there (and reuses it on the next run); else a temporary one.
const keep = process.env.SWITCHYARD_BENCH_DIR
const dir = keep ?? Fs.mkdtempSync(Path.join(Os.tmpdir(), "sy-dashboard-bench-"))
const filename = Path.join(dir, "switchyard.db")
const reuse = keep !== undefined && Fs.existsSync(filename)
const cleanUp = () => keep === undefined && Fs.rmSync(dir, { recursive: true, force: true })
if (keep !== undefined) Fs.mkdirSync(keep, { recursive: true })
const where = { _tag: "sqlite", filename } as const

const row = (j: number): StoredCompletionRecord => {
  const createdAt = T0 + j * 10
  const id = mintCompletionId(createdAt)
  const model = j % 2 ? "openai/gpt-4o-mini" : "anthropic/claude-haiku-4-5"
  const metadata = { user: `u${j % 1000}`, env: ["prod", "dev", "test"][j % 3]! }
  const completion: ChatCompletion = {
    id,
    object: "chat.completion",
    created: Math.floor(createdAt / 1000),
    model,
    choices: [{ index: 0, finish_reason: "stop", message: { role: "assistant", content: `answer number ${j}` } }],
    usage: { prompt_tokens: 20 + (j % 50), completion_tokens: 5 + (j % 30), total_tokens: 25 + (j % 50) + (j % 30) }
  }
  return {
    id,
    accountId: `acct_${j % 4}`,
    keyId: "key_bench",
    requestId: `req_${j}`,
    createdAt,
    model,
    target: model,
    status: j % 100 === 0 ? "failed" : "completed",
    stream: j % 2 === 0,
    metadata,
    completion,
    latencyMs: 100 + (j % 900),
    firstChunkMs: j % 2 === 0 ? 30 + (j % 200) : null,
    // Written as JSON only: no need to decode (and brand) a million requests.
    request: { model, messages: [{ role: "user", content: `question number ${j}` }], store: true, metadata } as unknown as ChatCompletionRequest
  }
}

const percentiles = (times: Array<number>) => {
  times.sort((a, b) => a - b)
  return `p50 ${times[Math.floor(times.length * 0.5)]!.toFixed(2)} ms, p95 ${times[Math.floor(times.length * 0.95)]!.toFixed(2)} ms`
}

const fill = reuse ? Effect.log(`reusing ${filename}`) : Effect.gen(function*() {
  // Migrate by opening the store once, then insert with the write queue's own statement, 1,000 rows a transaction.
  yield* Effect.scoped(Layer.build(layer({ database: where }).pipe(Layer.provide(PriceCatalogue.layerStatic({})))))
  yield* Effect.scoped(Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const started = performance.now()
    for (let i = 0; i < N; i += 1000) {
      const batch: Array<StoredCompletionRecord> = []
      for (let j = i; j < Math.min(N, i + 1000); j++) batch.push(row(j))
      yield* sql.withTransaction(SqlStoredCompletions.insertCompletions(sql, batch))
      if ((i + 1000) % 200_000 === 0) {
        const s = (performance.now() - started) / 1000
        console.log(`filled ${i + 1000} rows in ${s.toFixed(0)} s`)
      }
    }
    yield* sql`ANALYZE`
  }).pipe(Effect.provide(Database.clientLayer(where))))
})

type Query = Omit<CompletionSearch, "limit">
const QUERIES: ReadonlyArray<readonly [string, (k: number) => Query, string]> = [
  ["one account, no filter", () => ({ accounts: ["acct_1"] }), ""],
  ["one account, metadata user=… (0.1%)", (k) => ({ accounts: ["acct_1"], metadata: { user: `u${1 + 4 * k}` } }), "metadata=user%3Du{1+4k}"],
  ["one account, metadata env=prod AND user=…", (k) => ({ accounts: ["acct_1"], metadata: { env: "prod", user: `u${1 + 12 * k}` } }), "metadata=env%3Dprod&metadata=user%3Du{1+12k}"],
  ["one account, model + metadata user=…", (k) => ({ accounts: ["acct_1"], model: "openai/gpt-4o-mini", metadata: { user: `u${1 + 4 * k}` } }), "model=openai%2Fgpt-4o-mini&metadata=user%3Du{1+4k}"],
  ["two accounts (member), metadata user=…", (k) => ({ accounts: ["acct_1", "acct_2"], metadata: { user: `u${1 + 4 * k}` } }), "metadata=user%3Du{1+4k}"],
  ["all accounts (admin), metadata user=…", (k) => ({ accounts: "all", metadata: { user: `u${k}` } }), "metadata=user%3Du{k}"],
  ["all accounts (admin), metadata env=prod (33%)", () => ({ accounts: "all", metadata: { env: "prod" } }), "metadata=env%3Dprod"],
  ["one account, status=failed (1%, checked per row)", () => ({ accounts: ["acct_0"], status: "failed" }), "status=failed"],
  ["one account, last hour of data, metadata user=…", (k) => ({ accounts: ["acct_1"], since: T0 + (N - 360_000) * 10, metadata: { user: `u${1 + 4 * k}` } }), ""]
]

const repository = Effect.scoped(Effect.gen(function*() {
  const context = yield* Layer.build(layer({ database: where }).pipe(Layer.provide(PriceCatalogue.layerStatic({}))))
  const store = Context.get(context, StoredCompletions)
  for (const [name, query] of QUERIES) {
    const times: Array<number> = []
    let rows = 0
    for (let k = 0; k < ROUNDS; k++) {
      const start = performance.now()
      const page = yield* store.search({ ...query(k), limit: 50 })
      times.push(performance.now() - start)
      rows = page.data.length
    }
    console.log(`repository | ${N} rows | ${name}: ${percentiles(times)} (${rows} rows a page)`)
  }
  // A later page: the cursor of the tenth row of a broad filter.
  const first = yield* store.search({ accounts: ["acct_1"], metadata: { env: "prod" }, limit: 50 })
  const times: Array<number> = []
  for (let k = 0; k < ROUNDS; k++) {
    const start = performance.now()
    yield* store.search({ accounts: ["acct_1"], metadata: { env: "prod" }, after: first.data[49]!.id, limit: 50 })
    times.push(performance.now() - start)
  }
  console.log(`repository | ${N} rows | one account, env=prod, second page by cursor: ${percentiles(times)}`)
}))

/** Times the HTTP endpoint on the built bin, serving the filled database. */
const overHttp = async () => {
  const bin = fileURLToPath(new URL("../bin/switchyard.js", import.meta.url))
  const child = ChildProcess.spawn(process.execPath, [bin, "serve", "--port", "0"], {
    env: { ...process.env, SWITCHYARD_DATA_DIR: dir, SWITCHYARD_API_KEYS: `${MEMBER}:acct_1|acct_2`, SWITCHYARD_ADMIN_KEYS: ADMIN },
    stdio: ["ignore", "ignore", "pipe"]
  })
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let stderr = ""
      child.stderr.setEncoding("utf8").on("data", (text: string) => {
        stderr += text
        const match = /Switchyard listening on (http:\/\/\S+)/.exec(stderr)
        if (match !== null) resolve(match[1]!)
      })
      child.on("exit", () => reject(new Error(`serve exited: ${stderr}`)))
    })
    const cases: ReadonlyArray<readonly [string, string, string, Record<string, string>]> = [
      ["member, one account selected, metadata user=…", MEMBER, "metadata=user%3Du{1+4k}", { "x-selected-account-id": "acct_1" }],
      ["member, both its accounts, metadata user=…", MEMBER, "metadata=user%3Du{1+4k}", {}],
      ["member, one account, env=prod AND user=…", MEMBER, "metadata=env%3Dprod&metadata=user%3Du{1+12k}", { "x-selected-account-id": "acct_1" }],
      ["admin, all accounts, metadata user=…", ADMIN, "metadata=user%3Du{k}", {}],
      ["admin, all accounts, no filter", ADMIN, "", {}]
    ]
    for (const [name, key, template, headers] of cases) {
      const times: Array<number> = []
      let rows = 0
      for (let k = -3; k < ROUNDS; k++) {
        const query = template
          .replace("{1+4k}", String(1 + 4 * Math.max(0, k)))
          .replace("{1+12k}", String(1 + 12 * Math.max(0, k)))
          .replace("{k}", String(Math.max(0, k)))
        const start = performance.now()
        const response = await fetch(`${url}/v5/dashboard/completions?limit=50&${query}`, {
          headers: { authorization: `Bearer ${key}`, ...headers }
        })
        const body = (await response.json()) as { data: Array<unknown> }
        if (k >= 0) times.push(performance.now() - start)
        rows = body.data.length
      }
      console.log(`HTTP | ${N} rows | ${name}: ${percentiles(times)} (${rows} rows a page)`)
    }
  } finally {
    child.kill("SIGTERM")
  }
}

Effect.runPromise(Effect.zipRight(fill, repository))
  .then(overHttp)
  .then(cleanUp)
  .catch((error) => {
    console.error(error)
    cleanUp()
    process.exit(1)
  })

/**
 * List latency at scale: fills a store with N stored completions (default
 * 1,000,000; 4 accounts, metadata `user` (1,000 values) and `env` (3 values))
 * and times pages through the repository, with and without filters.
 *
 *   npm run bench -w @switchyard/store -- [sqlite|postgres] [N]
 *
 * PostgreSQL uses a fresh database on SWITCHYARD_TEST_DATABASE_URL's server.
 */
import { SqlClient } from "@effect/sql"
import { PriceCatalogue, type StoredCompletionQuery, StoredCompletions } from "@switchyard/service"
import { Effect, Layer, Redacted, type Scope } from "effect"
import { Database, type DatabaseLocation, layer, SqlStoredCompletions } from "../src/index.js"
import { freshPostgres, freshSqlite } from "../src/testing/index.js"
import { record } from "../test/support.js"

const backend = process.argv[2] ?? "sqlite"
const N = Number(process.argv[3] ?? 1_000_000)
const T0 = Date.UTC(2026, 0, 1)

/** A fresh database for the run, removed at its end. */
const location: Effect.Effect<DatabaseLocation, never, Scope.Scope> = backend === "sqlite"
  ? Effect.map(freshSqlite, (filename) => ({ _tag: "sqlite", filename }) as const)
  : Effect.map(
    freshPostgres(process.env.SWITCHYARD_TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test"),
    (url) => ({ _tag: "postgres", url: Redacted.make(url) }) as const
  )

const program = Effect.gen(function*() {
  const where = yield* location
  const prices = PriceCatalogue.layerStatic({})
  // Fill through the same insert the write queue uses, 1,000 per transaction.
  yield* Effect.scoped(Effect.gen(function*() {
    yield* Layer.build(layer({ database: where }).pipe(Layer.provide(prices)))
    const sql = yield* SqlClient.SqlClient
    const started = performance.now()
    for (let i = 0; i < N; i += 1000) {
      const batch = []
      for (let j = i; j < Math.min(N, i + 1000); j++) {
        batch.push(record({
          accountId: `acct_${j % 4}`,
          createdAt: T0 + j * 10,
          model: j % 2 ? "openai/gpt-test" : "anthropic/claude-test",
          metadata: { user: `u${j % 1000}`, env: ["prod", "dev", "test"][j % 3]! }
        }))
      }
      yield* sql.withTransaction(SqlStoredCompletions.insertCompletions(sql, batch))
      if ((i + 1000) % 100_000 === 0) {
        const s = (performance.now() - started) / 1000
        console.log(`${backend}: ${i + 1000} rows in ${s.toFixed(0)} s (${((i + 1000) / s).toFixed(0)} rows/s)`)
      }
    }
    yield* sql.onDialectOrElse({ pg: () => sql`ANALYZE`, orElse: () => sql`ANALYZE` })
  }).pipe(Effect.provide(Database.clientLayer(where))))

  yield* Effect.scoped(Effect.gen(function*() {
    const context = yield* Layer.build(layer({ database: where }).pipe(Layer.provide(prices)))
    const store = context.unsafeMap.get(StoredCompletions.key) as StoredCompletions["Type"]
    const time = (name: string, query: (k: number) => StoredCompletionQuery) =>
      Effect.gen(function*() {
        const times: Array<number> = []
        let rows = 0
        for (let k = 0; k < 40; k++) {
          const start = performance.now()
          const page = yield* store.list(query(k))
          times.push(performance.now() - start)
          rows = page.data.length
        }
        times.sort((a, b) => a - b)
        console.log(
          `${backend} ${N} rows | ${name}: p50 ${times[20]!.toFixed(2)} ms, p95 ${times[38]!.toFixed(2)} ms (${rows} rows)`
        )
      })
    yield* time("first page of 20, newest first", () => ({ accountId: "acct_1", limit: 20, order: "desc" }))
    yield* time("page of 100, asc", () => ({ accountId: "acct_1", limit: 100, order: "asc" }))
    yield* time("model filter, desc", () => ({ accountId: "acct_1", model: "openai/gpt-test", limit: 20, order: "desc" }))
    yield* time("metadata user=… (selective), desc", (k) => ({ accountId: "acct_1", metadata: { user: `u${1 + 4 * k}` }, limit: 20, order: "desc" }))
    yield* time("metadata env=prod (broad), desc", () => ({ accountId: "acct_1", metadata: { env: "prod" }, limit: 20, order: "desc" }))
    yield* time("metadata env=prod AND user=… , desc", (k) => ({ accountId: "acct_1", metadata: { env: "prod", user: `u${3 + 12 * k}` }, limit: 20, order: "desc" }))
    const page = yield* store.list({ accountId: "acct_1", metadata: { env: "prod" }, limit: 100, order: "asc" })
    const cursor = page.data[50]!.id
    yield* time("metadata env=prod after a cursor, asc", () => ({ accountId: "acct_1", metadata: { env: "prod" }, after: cursor, limit: 20, order: "asc" }))
  }))
})

Effect.runPromise(Effect.scoped(program)).catch((error) => {
  console.error(error)
  process.exit(1)
})

import { Migrator, SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { ApiKeys, StoredCompletions, StoreHealth, UsageLedger } from "@switchyard/service"
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { Context, Effect, Exit, Layer, Option, Redacted, Scope } from "effect"
import {
  Database,
  layer as storeLayer,
  migrateDatabase,
  Migrations,
  resolveDatabase,
  type StoreOptions
} from "../src/index.js"
import { freshPostgres, freshSqlite, newAccount, record, sqlLocations, testDatabaseUrl, testPrices, tcpProxy, usage } from "./support.js"

const T0 = Date.UTC(2026, 0, 1)

/** Builds the store in a scope of its own, so a test can close it (shut it down) when it wants. */
const openStore = (options: StoreOptions) =>
  Effect.gen(function*() {
    const scope = yield* Scope.make()
    const context = yield* Layer.buildWithScope(storeLayer(options).pipe(Layer.provide(testPrices)), scope)
    return { context, close: Scope.close(scope, Exit.void) }
  })

const tables = (location: StoreOptions["database"]) =>
  Effect.scoped(Effect.flatMap(Layer.build(Database.clientLayer(location)), (context) =>
    Effect.provide(
      Effect.flatMap(SqlClient.SqlClient, (sql) =>
        sql.onDialectOrElse({
          pg: () => sql<{ readonly name: string }>`SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public'`,
          orElse: () => sql<{ readonly name: string }>`SELECT name FROM sqlite_master WHERE type = 'table'`
        })),
      context
    )
  )).pipe(Effect.orDie, Effect.map((rows) => rows.map((r) => r.name).sort()))

/** Inserts a stored completion as the first version of the schema had it (no token columns). */
const insertFirstVersion = (sql: SqlClient.SqlClient, r: ReturnType<typeof record>) =>
  Effect.all([
    sql`INSERT INTO stored_completions ${
      sql.insert({
        id: r.id,
        account_id: r.accountId,
        created_at: r.createdAt,
        model: r.model,
        target: r.target,
        status: r.status,
        stream: 0,
        key_id: r.keyId,
        request_id: r.requestId,
        latency_ms: r.latencyMs,
        first_chunk_ms: r.firstChunkMs,
        metadata: JSON.stringify(r.metadata),
        completion: JSON.stringify(r.completion)
      })
    }`,
    sql`INSERT INTO stored_completion_requests ${sql.insert({ completion_id: r.id, request: JSON.stringify(r.request) })}`
  ], { discard: true })

const countCompletions = (location: StoreOptions["database"], accountId: string) =>
  Effect.scoped(Effect.flatMap(Layer.build(Database.clientLayer(location)), (context) =>
    Effect.provide(
      Effect.flatMap(SqlClient.SqlClient, (sql) =>
        sql<{ readonly n: number | string }>`SELECT COUNT(*) AS n FROM stored_completions WHERE account_id = ${accountId}`),
      context
    )
  )).pipe(Effect.orDie, Effect.map((rows) => Number(rows[0]?.n ?? 0)))

describe("database URLs", () => {
  it.effect("no URL is a SQLite file in the data directory; sqlite: and file: URLs name a file; postgres URLs a server", () =>
    Effect.gen(function*() {
      expect(yield* resolveDatabase(undefined, ".switchyard", "/srv/app")).toStrictEqual({
        _tag: "sqlite",
        filename: "/srv/app/.switchyard/switchyard.db"
      })
      expect(yield* resolveDatabase("", "/data", "/srv/app")).toStrictEqual({ _tag: "sqlite", filename: "/data/switchyard.db" })
      expect(yield* resolveDatabase("sqlite:db/x.db", undefined, "/srv")).toStrictEqual({ _tag: "sqlite", filename: "/srv/db/x.db" })
      expect(yield* resolveDatabase("sqlite:///var/x.db")).toStrictEqual({ _tag: "sqlite", filename: "/var/x.db" })
      expect(yield* resolveDatabase("file:/var/y.db")).toStrictEqual({ _tag: "sqlite", filename: "/var/y.db" })
      const pg = yield* resolveDatabase("postgresql://u:secret@db:5432/sy")
      expect(pg._tag).toBe("postgres")
      expect(pg._tag === "postgres" && Redacted.value(pg.url)).toBe("postgresql://u:secret@db:5432/sy")
      expect(String(pg._tag === "postgres" && pg.url)).not.toContain("secret")
      expect((yield* resolveDatabase("POSTGRES://db/x"))._tag).toBe("postgres")
      const bad = yield* Effect.flip(resolveDatabase("mysql://db/x"))
      expect(bad.message).toContain("mysql")
    }))
})

for (const { location: freshLocation, name } of sqlLocations) {
  describe(`SQL store on ${name}`, () => {
    it.scopedLive("migrations: the first start applies them, a second applies nothing", () =>
      Effect.gen(function*() {
        const location = yield* freshLocation
        expect(yield* migrateDatabase(location)).toStrictEqual([1, 2, 3])
        expect(yield* migrateDatabase(location)).toStrictEqual([])
        expect(yield* tables(location)).toEqual(expect.arrayContaining([
          "api_keys",
          Migrations.migrationsTable,
          "response_items",
          "responses",
          "stored_completion_metadata",
          "stored_completion_requests",
          "stored_completions",
          "usage_ledger"
        ]))
        // A store started on a migrated database works and applies nothing.
        const store = yield* openStore({ database: location })
        yield* store.close
      }))

    it.scopedLive("migrations: several migrators starting at once on a fresh database apply each migration once", () =>
      Effect.gen(function*() {
        const location = yield* freshLocation
        const results = yield* Effect.all(Array.from({ length: 4 }, () => migrateDatabase(location)), {
          concurrency: "unbounded"
        })
        expect(results.flat().sort()).toStrictEqual([1, 2, 3])
        expect(yield* migrateDatabase(location)).toStrictEqual([])
      }))

    it.scopedLive("migrations: a database of the first version gets the responses tables and keeps its rows", () =>
      Effect.gen(function*() {
        const location = yield* freshLocation
        const account = newAccount()
        yield* Effect.scoped(Effect.flatMap(Layer.build(Database.clientLayer(location)), (context) =>
          Effect.provide(
            Effect.gen(function*() {
              const first = Migrator.make({})({
                loader: Migrator.fromRecord({ "1_initial": Migrations.migrations["1_initial"]! }),
                table: Migrations.migrationsTable
              })
              expect((yield* first).map(([id]) => id)).toStrictEqual([1])
              yield* insertFirstVersion(yield* SqlClient.SqlClient, record({ accountId: account, createdAt: T0 }))
            }),
            context
          ))).pipe(Effect.orDie)
        expect(yield* tables(location)).not.toContain("responses")
        expect(yield* migrateDatabase(location)).toStrictEqual([2, 3])
        expect(yield* tables(location)).toEqual(expect.arrayContaining(["response_items", "responses", "stored_completions"]))
        expect(yield* countCompletions(location, account)).toBe(1)
        // 3_completion_log filled the token columns of the old row from its answer's usage.
        const store = yield* openStore({ database: location })
        const page = yield* Context.get(store.context, StoredCompletions).search({ accounts: [account], limit: 10 })
        expect(page.data.map((row) => row.tokens)).toStrictEqual([
          { promptTokens: 10, completionTokens: 5, cachedTokens: 0, reasoningTokens: 0 }
        ])
        yield* store.close
      }))

    it.scopedLive("shutdown drains the queue: every saved row is in the database after the store closes", () =>
      Effect.gen(function*() {
        const location = yield* freshLocation
        const account = newAccount()
        const store = yield* openStore({ database: location, batchSize: 50 })
        const completions = Context.get(store.context, StoredCompletions)
        const ledger = Context.get(store.context, UsageLedger)
        for (let i = 0; i < 500; i++) {
          yield* completions.save(record({ accountId: account, createdAt: T0 + i }))
          yield* ledger.record(usage({ accountId: account, createdAt: T0 + i }))
        }
        expect(Context.get(store.context, StoreHealth).stats().depth).toBeGreaterThan(0)
        yield* store.close
        expect(yield* countCompletions(location, account)).toBe(500)
        const reopened = yield* openStore({ database: location })
        const summary = yield* Context.get(reopened.context, UsageLedger).summarize({
          start: T0,
          end: T0 + 1000,
          groupBy: "account",
          accounts: [account]
        })
        expect(summary.map((b) => b.requests)).toStrictEqual([500])
        yield* reopened.close
      }))

    it.scopedLive("health reports the backend and the queue", () =>
      Effect.gen(function*() {
        const location = yield* freshLocation
        const store = yield* openStore({ database: location })
        const status = yield* Context.get(store.context, StoreHealth).status
        expect(status).toMatchObject({ backend: name, healthy: true, lastError: null })
        expect(status.queue).toMatchObject({ depth: 0, capacity: 10_000, dropped: 0, failed: 0 })
        yield* store.close
      }))
  })
}

describe("SQLite specifics", () => {
  it.scopedLive("the data directory is created; the raw secret of a key is nowhere in the database files", () =>
    Effect.gen(function*() {
      const file = yield* freshSqlite
      const nested = path.join(path.dirname(file), "a", "b", "switchyard.db")
      const store = yield* openStore({ database: { _tag: "sqlite", filename: nested } })
      const keys = Context.get(store.context, ApiKeys)
      const secrets: Array<string> = []
      for (let i = 0; i < 3; i++) secrets.push(Redacted.value((yield* keys.create({ name: `k${i}`, accountIds: ["a"] })).secret))
      const check = () => {
        const files = fs.readdirSync(path.dirname(nested)).map((f) => path.join(path.dirname(nested), f))
        expect(files.some((f) => f.endsWith("switchyard.db"))).toBe(true)
        const bytes = Buffer.concat(files.map((f) => fs.readFileSync(f)))
        for (const secret of secrets) {
          expect(bytes.includes(secret)).toBe(false)
          // Not even the secret's random middle (the prefix and last four are stored to recognise it).
          expect(bytes.includes(secret.slice(10, -4))).toBe(false)
        }
        // What is stored is the hash.
        expect(bytes.includes(createHash("sha256").update(secrets[0]!).digest("hex"))).toBe(true)
      }
      check()
      yield* store.close
      check()
    }))

  it.scopedLive("a CLI writing while the server writes: both succeed (SQLite's lock is waited for)", () =>
    Effect.gen(function*() {
      const filename = yield* freshSqlite
      const server = yield* openStore({ database: { _tag: "sqlite", filename } })
      const cli = yield* openStore({ database: { _tag: "sqlite", filename } })
      const account = newAccount()
      const serverStore = Context.get(server.context, StoredCompletions)
      const cliKeys = Context.get(cli.context, ApiKeys)
      yield* Effect.all([
        Effect.forEach(Array.from({ length: 300 }, (_, i) => i), (i) =>
          serverStore.save(record({ accountId: account, createdAt: T0 + i }))),
        Effect.forEach(Array.from({ length: 20 }, (_, i) => i), (i) =>
          cliKeys.create({ name: `cli-${i}`, accountIds: [account] }))
      ], { concurrency: "unbounded" })
      yield* Context.get(server.context, StoreHealth).flush
      expect(Context.get(server.context, StoreHealth).stats()).toMatchObject({ written: 300, failed: 0, dropped: 0 })
      expect((yield* Context.get(server.context, ApiKeys).list()).length).toBe(20)
      yield* cli.close
      yield* server.close
    }))
})

describe.skipIf(testDatabaseUrl === undefined)("PostgreSQL outage", () => {
  it.live("the database down during writes: nothing is lost, rows arrive once it is back, and health says so", () =>
    Effect.scoped(Effect.gen(function*() {
      const url = new URL(yield* freshPostgres(testDatabaseUrl!))
      const proxy = yield* tcpProxy({ host: url.hostname, port: Number(url.port || 5432) })
      url.host = `127.0.0.1:${proxy.port}`
      const location = { _tag: "postgres", url: Redacted.make(url.toString()) } as const
      const store = yield* openStore({ database: location, batchSize: 20 })
      const completions = Context.get(store.context, StoredCompletions)
      const health = Context.get(store.context, StoreHealth)
      const account = newAccount()

      yield* Effect.promise(() => proxy.stop())
      const saved = Array.from({ length: 100 }, (_, i) => record({ accountId: account, createdAt: T0 + i }))
      for (const r of saved) yield* completions.save(r)
      // Still readable by id while the database is away.
      expect(Option.isSome(yield* completions.get(account, saved[42]!.id))).toBe(true)
      yield* Effect.sleep("1 second")
      const down = yield* health.status
      expect(down.healthy).toBe(false)
      expect(down.lastError).not.toBeNull()
      expect(down.queue.depth).toBe(100)
      expect(down.queue.dropped).toBe(0)

      yield* Effect.promise(() => proxy.start())
      yield* health.flush.pipe(Effect.timeoutFail({ duration: "20 seconds", onTimeout: () => "flush timed out" }))
      const up = yield* health.status
      expect(up).toMatchObject({ healthy: true, lastError: null })
      expect(up.queue).toMatchObject({ depth: 0, written: 100, failed: 0, dropped: 0 })
      const page = yield* completions.list({ accountId: account, limit: 100, order: "asc" })
      expect(page.data.map((c) => c.id)).toStrictEqual(saved.map((r) => r.id))
      yield* store.close
    })), 60_000)

  it.live("a full queue refuses new rows without waiting, counts them, and keeps the ones it holds", () =>
    Effect.scoped(Effect.gen(function*() {
      const url = new URL(yield* freshPostgres(testDatabaseUrl!))
      const proxy = yield* tcpProxy({ host: url.hostname, port: Number(url.port || 5432) })
      url.host = `127.0.0.1:${proxy.port}`
      const store = yield* openStore({
        database: { _tag: "postgres", url: Redacted.make(url.toString()) },
        queueCapacity: 10
      })
      const completions = Context.get(store.context, StoredCompletions)
      const health = Context.get(store.context, StoreHealth)
      const account = newAccount()
      yield* Effect.promise(() => proxy.stop())
      const started = Date.now()
      for (let i = 0; i < 25; i++) yield* completions.save(record({ accountId: account, createdAt: T0 + i }))
      expect(Date.now() - started).toBeLessThan(1000)
      const stats = health.stats()
      expect(stats.depth).toBeLessThanOrEqual(10)
      expect(stats.dropped).toBe(25 - stats.depth)
      yield* Effect.promise(() => proxy.start())
      yield* health.flush.pipe(Effect.timeoutFail({ duration: "20 seconds", onTimeout: () => "flush timed out" }))
      expect(health.stats()).toMatchObject({ written: 25 - stats.dropped, failed: 0 })
      yield* store.close
    })), 60_000)

  it.live("shutdown while the database is down waits for it (up to the drain timeout) and writes what it holds", () =>
    Effect.scoped(Effect.gen(function*() {
      const realUrl = yield* freshPostgres(testDatabaseUrl!)
      const url = new URL(realUrl)
      const proxy = yield* tcpProxy({ host: url.hostname, port: Number(url.port || 5432) })
      url.host = `127.0.0.1:${proxy.port}`
      const store = yield* openStore({
        database: { _tag: "postgres", url: Redacted.make(url.toString()) },
        drainTimeout: "20 seconds"
      })
      const account = newAccount()
      yield* Effect.promise(() => proxy.stop())
      for (let i = 0; i < 10; i++) yield* Context.get(store.context, StoredCompletions).save(record({ accountId: account, createdAt: T0 + i }))
      yield* Effect.promise(() => proxy.start()).pipe(Effect.delay("1500 millis"), Effect.forkScoped)
      yield* store.close
      expect(yield* countCompletions({ _tag: "postgres", url: Redacted.make(realUrl) }, account)).toBe(10)
    })), 60_000)
})

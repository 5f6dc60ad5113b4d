import { SqlClient } from "@effect/sql"
import { PgClient } from "@effect/sql-pg"
import { type ChatCompletion, ChatCompletionRequest, type StoreUnavailable } from "@switchyard/core"
import {
  layerMemoryStore,
  mintCompletionId,
  mintId,
  PriceCatalogue,
  type StoredCompletionRecord,
  type UsageRecord
} from "@switchyard/service"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { Effect, Layer, Redacted, Schema } from "effect"
import { type DatabaseLocation, layer as storeLayer, Retention, type StoreOptions, type StoreServices } from "../src/index.js"

/** Prices for the tests: $2/$8 per million for openai/gpt-test, cached input at $1. */
export const testPrices = PriceCatalogue.layerStatic({
  "openai/gpt-test": { input_per_mtok: 2, output_per_mtok: 8, cached_input_per_mtok: 1 },
  "anthropic/claude-test": { input_per_mtok: 3, output_per_mtok: 15 }
})

/** The PostgreSQL server the tests may use, from `SWITCHYARD_TEST_DATABASE_URL`. */
export const testDatabaseUrl = process.env.SWITCHYARD_TEST_DATABASE_URL?.trim() || undefined

if (testDatabaseUrl === undefined) {
  console.warn(
    "SWITCHYARD_TEST_DATABASE_URL is not set: the PostgreSQL store tests are skipped " +
      "(e.g. SWITCHYARD_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test)"
  )
}

const unique = () => `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`

/** A URL for another database on the same server. */
export const withDatabase = (url: string, database: string): string => {
  const parsed = new URL(url)
  parsed.pathname = `/${database}`
  return parsed.toString()
}

const adminSql = (url: string) => PgClient.layer({ url: Redacted.make(url) })

/** A fresh PostgreSQL database for the scope, dropped afterwards. */
export const freshPostgres = (baseUrl: string): Effect.Effect<string, never, import("effect").Scope.Scope> => {
  const name = `sy_store_${unique()}`
  return Effect.acquireRelease(
    Effect.flatMap(SqlClient.SqlClient, (sql) => sql.unsafe(`CREATE DATABASE ${name}`)).pipe(
      Effect.provide(adminSql(baseUrl)),
      Effect.orDie,
      Effect.as(withDatabase(baseUrl, name))
    ),
    () =>
      Effect.flatMap(SqlClient.SqlClient, (sql) => sql.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).pipe(
        Effect.provide(adminSql(baseUrl)),
        Effect.ignoreLogged
      )
  )
}

/** A fresh SQLite file in a temporary directory for the scope. */
export const freshSqlite: Effect.Effect<string, never, import("effect").Scope.Scope> = Effect.acquireRelease(
  Effect.sync(() => path.join(fs.mkdtempSync(path.join(os.tmpdir(), "sy-store-")), "switchyard.db")),
  (file) => Effect.sync(() => fs.rmSync(path.dirname(file), { recursive: true, force: true }))
)

/** A backend the shared repository suite runs against. */
export interface Backend {
  readonly name: string
  /** A fresh store (its own database or file) for a test suite. */
  readonly layer: (options?: Partial<StoreOptions>) => Layer.Layer<StoreServices | Retention, StoreUnavailable>
}

const retentionNone = Layer.succeed(Retention, { purge: Effect.succeed(0) })

/** The in-memory store of `@switchyard/service`. */
export const memory: Backend = {
  name: "memory",
  layer: () => Layer.mergeAll(layerMemoryStore, retentionNone).pipe(Layer.provide(testPrices))
}

/** The SQL store on a fresh SQLite file. */
export const sqlite: Backend = {
  name: "sqlite",
  layer: (options = {}) =>
    Layer.unwrapScoped(Effect.map(freshSqlite, (filename) =>
      storeLayer({ database: { _tag: "sqlite", filename }, ...options }).pipe(Layer.provide(testPrices))
    ))
}

/** The SQL store on a fresh PostgreSQL database (when the server is configured). */
export const postgres: Backend | undefined = testDatabaseUrl === undefined ? undefined : {
  name: "postgres",
  layer: (options = {}) =>
    Layer.unwrapScoped(Effect.map(freshPostgres(testDatabaseUrl), (url) =>
      storeLayer({ database: { _tag: "postgres", url: Redacted.make(url) }, ...options }).pipe(
        Layer.provide(testPrices)
      )
    ))
}

/** Every backend available here. */
export const backends: ReadonlyArray<Backend> = [memory, sqlite, ...(postgres ? [postgres] : [])]

/** SQL backends only, each with the location of a fresh database. */
export const sqlLocations: ReadonlyArray<{
  readonly name: string
  readonly location: Effect.Effect<DatabaseLocation, never, import("effect").Scope.Scope>
}> = [
  { name: "sqlite", location: Effect.map(freshSqlite, (filename) => ({ _tag: "sqlite", filename }) as const) },
  ...(testDatabaseUrl === undefined ? [] : [{
    name: "postgres",
    location: Effect.map(freshPostgres(testDatabaseUrl), (url) => ({ _tag: "postgres", url: Redacted.make(url) }) as const)
  }])
]

/** A fresh account id, so that tests sharing a store do not see each other's rows. */
export const newAccount = (): string => `acct_${unique()}`

const decodeRequest = Schema.decodeUnknownSync(ChatCompletionRequest)

/** A stored completion record with sensible defaults. */
export const record = (
  options: {
    readonly accountId: string
    readonly createdAt: number
    readonly model?: string
    readonly metadata?: Record<string, string>
    readonly content?: string
    readonly messages?: ReadonlyArray<unknown>
    readonly id?: string
  }
): StoredCompletionRecord => {
  const id = options.id ?? mintCompletionId(options.createdAt)
  const model = options.model ?? "openai/gpt-test"
  const completion: ChatCompletion = {
    id,
    object: "chat.completion",
    created: Math.floor(options.createdAt / 1000),
    model,
    choices: [{
      index: 0,
      finish_reason: "stop",
      message: { role: "assistant", content: options.content ?? `answer ${id}` }
    }],
    usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 }
  }
  return {
    id,
    accountId: options.accountId,
    keyId: "key_test",
    requestId: `req_${id}`,
    createdAt: options.createdAt,
    model,
    target: model,
    status: "completed",
    stream: false,
    metadata: options.metadata ?? {},
    completion,
    latencyMs: 120,
    firstChunkMs: null,
    request: decodeRequest({
      model,
      messages: options.messages ?? [
        { role: "system", content: "Be brief." },
        { role: "user", content: `question for ${id}` }
      ],
      store: true,
      metadata: options.metadata ?? {}
    })
  }
}

/** A usage ledger row with sensible defaults. */
export const usage = (options: Partial<UsageRecord> & { readonly accountId: string; readonly createdAt: number }): UsageRecord => ({
  id: mintId("usage_", options.createdAt),
  keyId: "key_test",
  model: "openai/gpt-test",
  target: "openai/gpt-test",
  vendor: "openai",
  stream: false,
  status: "completed",
  promptTokens: 100,
  completionTokens: 50,
  cachedTokens: 0,
  reasoningTokens: 0,
  latencyMs: 200,
  firstChunkMs: null,
  ...options
})

/**
 * A TCP proxy to a server that the test can stop (refusing and cutting
 * connections: the database "goes down") and start again on the same port.
 */
export const tcpProxy = (target: { readonly host: string; readonly port: number }) =>
  Effect.acquireRelease(
    Effect.async<{
      readonly port: number
      readonly stop: () => Promise<void>
      readonly start: () => Promise<void>
    }>((resume) => {
      const sockets = new Set<net.Socket>()
      let server: net.Server
      let port = 0
      const listen = () =>
        new Promise<void>((resolve) => {
          server = net.createServer((client) => {
            const upstream = net.connect(target.port, target.host)
            sockets.add(client)
            sockets.add(upstream)
            client.pipe(upstream).pipe(client)
            const close = () => {
              client.destroy()
              upstream.destroy()
              sockets.delete(client)
              sockets.delete(upstream)
            }
            client.on("error", close).on("close", close)
            upstream.on("error", close).on("close", close)
          })
          server.listen(port, "127.0.0.1", () => {
            port = (server.address() as net.AddressInfo).port
            resolve()
          })
        })
      const stop = () =>
        new Promise<void>((resolve) => {
          for (const socket of sockets) socket.destroy()
          sockets.clear()
          server.close(() => resolve())
        })
      void listen().then(() => resume(Effect.succeed({ port, stop, start: listen })))
    }),
    (proxy) => Effect.promise(() => proxy.stop())
  )

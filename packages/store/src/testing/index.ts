import { SqlClient } from "@effect/sql"
import { PgClient } from "@effect/sql-pg"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { Effect, Redacted, type Scope } from "effect"
import type { DatabaseLocation } from "../StoreConfig.js"

/** The Redis of the tests that need one (`SWITCHYARD_TEST_REDIS_URL`, which `.ci/run` sets); unset: they skip. */
export const testRedisUrl: string | undefined = process.env.SWITCHYARD_TEST_REDIS_URL?.trim() || undefined

/** The PostgreSQL server tests may use, from `SWITCHYARD_TEST_DATABASE_URL` (unset: skip those tests). */
export const testDatabaseUrl: string | undefined = process.env.SWITCHYARD_TEST_DATABASE_URL?.trim() || undefined

/** Says once, on stderr, that PostgreSQL tests are skipped. */
export const warnIfNoPostgres = (): void => {
  if (testDatabaseUrl === undefined && !warned) {
    warned = true
    console.warn(
      "SWITCHYARD_TEST_DATABASE_URL is not set: the PostgreSQL tests are skipped " +
        "(e.g. SWITCHYARD_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test)"
    )
  }
}
let warned = false

const unique = () => `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`

/** A URL for another database on the same server. */
export const withDatabase = (url: string, database: string): string => {
  const parsed = new URL(url)
  parsed.pathname = `/${database}`
  return parsed.toString()
}

const admin = (url: string) => PgClient.layer({ url: Redacted.make(url) })

/** A fresh PostgreSQL database on the server of `baseUrl` for the scope (dropped afterwards); its URL. */
export const freshPostgres = (baseUrl: string): Effect.Effect<string, never, Scope.Scope> => {
  const name = `sy_test_${unique()}`
  return Effect.acquireRelease(
    Effect.flatMap(SqlClient.SqlClient, (sql) => sql.unsafe(`CREATE DATABASE ${name}`)).pipe(
      Effect.provide(admin(baseUrl)),
      Effect.orDie,
      Effect.as(withDatabase(baseUrl, name))
    ),
    () =>
      Effect.flatMap(SqlClient.SqlClient, (sql) => sql.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).pipe(
        Effect.provide(admin(baseUrl)),
        Effect.ignoreLogged
      )
  )
}

/** A SQLite file path in a fresh temporary directory for the scope (removed afterwards). */
export const freshSqlite: Effect.Effect<string, never, Scope.Scope> = Effect.acquireRelease(
  Effect.sync(() => path.join(fs.mkdtempSync(path.join(os.tmpdir(), "sy-store-")), "switchyard.db")),
  (file) => Effect.sync(() => fs.rmSync(path.dirname(file), { recursive: true, force: true }))
)

/** The SQL databases available here, each as a fresh location for the scope: SQLite, and PostgreSQL if configured. */
export const freshLocations: ReadonlyArray<{
  readonly name: "sqlite" | "postgres"
  readonly location: Effect.Effect<DatabaseLocation, never, Scope.Scope>
}> = [
  { name: "sqlite", location: Effect.map(freshSqlite, (filename) => ({ _tag: "sqlite", filename }) as const) },
  ...(testDatabaseUrl === undefined ? [] : [{
    name: "postgres" as const,
    location: Effect.map(freshPostgres(testDatabaseUrl), (url) => ({ _tag: "postgres", url: Redacted.make(url) }) as const)
  }])
]

/** A TCP proxy the test can stop (refusing and cutting connections) and start again on the same port. */
export interface TcpProxy {
  readonly port: number
  readonly stop: () => Promise<void>
  readonly start: () => Promise<void>
}

/** A TCP proxy to `target` for the scope: a database that can "go down" and come back. */
export const tcpProxy = (target: { readonly host: string; readonly port: number }): Effect.Effect<TcpProxy, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.async<TcpProxy>((resume) => {
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

/** A PostgreSQL location reached through a proxy the test controls (the proxy's port instead of the server's). */
export const throughProxy = (url: string): Effect.Effect<{ readonly location: DatabaseLocation; readonly proxy: TcpProxy }, never, Scope.Scope> =>
  Effect.gen(function*() {
    const parsed = new URL(url)
    const proxy = yield* tcpProxy({ host: parsed.hostname, port: Number(parsed.port || 5432) })
    parsed.host = `127.0.0.1:${proxy.port}`
    return { proxy, location: { _tag: "postgres", url: Redacted.make(parsed.toString()) } }
  })

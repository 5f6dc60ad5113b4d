import { LibsqlClient } from "@effect/sql-libsql"
import { PgClient } from "@effect/sql-pg"
import { SqlClient, SqlError } from "@effect/sql"
import { StoreUnavailable } from "@switchyard/core"
import * as Libsql from "@libsql/client"
import * as fs from "node:fs"
import * as path from "node:path"
import { Duration, Effect, Layer, Option, Schedule, Schema } from "effect"
import { type DatabaseLocation, describeLocation } from "./StoreConfig.js"

/** A database error as the ports report it (no SQL, no credentials). */
export const unavailable = (error: SqlError.SqlError): StoreUnavailable => {
  const cause = error.cause instanceof Error ? error.cause.message : undefined
  return new StoreUnavailable({
    message: `The database is unavailable: ${error.message}${cause && cause !== error.message ? ` (${cause})` : ""}`
  })
}

/** SQLite's "database is locked": another process holds the write lock. */
export const isBusy = (error: unknown): boolean => {
  if (!(error instanceof SqlError.SqlError)) return false
  const cause = error.cause as { readonly code?: unknown; readonly message?: unknown } | undefined
  return typeof cause?.code === "string"
    ? cause.code.startsWith("SQLITE_BUSY") || cause.code.startsWith("SQLITE_LOCKED")
    : typeof cause?.message === "string" && cause.message.includes("database is locked")
}

/**
 * Retries a statement while SQLite is locked by another process (a CLI
 * command while the server writes): libsql opens its transactions on fresh
 * connections, where no busy timeout applies.
 */
export const retryBusy = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.retry(effect, {
    while: isBusy,
    schedule: Schedule.exponential(Duration.millis(5), 2).pipe(
      Schedule.union(Schedule.spaced(Duration.millis(250))),
      Schedule.upTo(Duration.seconds(10))
    )
  })

/**
 * A transaction's rollback on a connection that just died fails as a defect
 * (`@effect/sql` runs it with `orDie`): an outage all the same.
 */
export const catchSqlDefects = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E | SqlError.SqlError, R> =>
  Effect.catchSomeDefect(effect, (defect) =>
    defect instanceof SqlError.SqlError ? Option.some(Effect.fail(defect)) : Option.none())

/** A database statement as a port reports it: SQLite locks retried, errors as `StoreUnavailable`. */
export const query = <A, R>(effect: Effect.Effect<A, SqlError.SqlError, R>): Effect.Effect<A, StoreUnavailable, R> =>
  Effect.mapError(retryBusy(catchSqlDefects(effect)), unavailable)

/** An integer column: a number from SQLite and PostgreSQL `integer`, a string from PostgreSQL `bigint` and sums. */
export const DbInt = Schema.Union(Schema.Number, Schema.NumberFromString)

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

const isBusyError = (error: unknown): boolean =>
  typeof (error as { readonly code?: unknown } | undefined)?.code === "string" &&
  /^SQLITE_(BUSY|LOCKED)/.test((error as { readonly code: string }).code)

/**
 * A libsql client over one SQLite connection that survives lock contention.
 *
 * `@libsql/client` 0.12 hands each transaction its current connection and
 * opens a new one for what follows: connections (two file descriptors and
 * ~175 KB each) pile up until a garbage collection, and per-connection
 * settings are lost. Here transactions run on the one connection:
 * `@effect/sql-libsql` serialises every use of the client (a transaction
 * holds its semaphore until it ends), so nothing interleaves.
 *
 * When another process holds the write lock, SQLite answers `SQLITE_BUSY`,
 * and libsql leaves the failed statement open, after which the connection
 * can no longer commit ("SQL statements in progress"). So a busy connection
 * is replaced by a fresh one, and `BEGIN` waits for the lock by retrying
 * asynchronously (never blocking the event loop, as a busy timeout would).
 * If it still fails, the error is reported by the transaction's first
 * statement: failing in `BEGIN` would leak the client's semaphore permit in
 * `@effect/sql-libsql` 0.42.
 */
const sqliteConnection = (filename: string): Libsql.Client => {
  const open = (): Libsql.Client => {
    const client = Libsql.createClient({ url: `file:${filename}` })
    // NORMAL syncs the WAL at checkpoints rather than at every commit: WAL keeps the file consistent regardless.
    void client.execute("PRAGMA synchronous = NORMAL").catch(() => undefined)
    return client
  }
  let current = open()
  const execute = async (stmt: Libsql.InStatement): Promise<Libsql.ResultSet> => {
    try {
      return await current.execute(stmt)
    } catch (error) {
      if (isBusyError(error)) {
        const broken = current
        current = open()
        broken.close()
      }
      throw error
    }
  }

  const transaction = async (mode: Libsql.TransactionMode = "write"): Promise<Libsql.Transaction> => {
    const begin = mode === "write" ? "BEGIN IMMEDIATE" : mode === "read" ? "BEGIN TRANSACTION READONLY" : "BEGIN DEFERRED"
    let beginError: unknown
    for (let delay = 5, waited = 0;; delay = Math.min(delay * 2, 250)) {
      try {
        await execute(begin)
        break
      } catch (error) {
        if (!isBusyError(error) || waited >= 10_000) {
          beginError = error
          break
        }
        await sleep(delay)
        waited += delay
      }
    }
    let open = beginError === undefined
    const guard = () => {
      if (beginError !== undefined) throw beginError
    }
    return {
      execute: async (stmt) => {
        guard()
        return execute(stmt)
      },
      batch: async (stmts) => {
        guard()
        const results: Array<Libsql.ResultSet> = []
        for (const stmt of stmts) results.push(await execute(stmt))
        return results
      },
      executeMultiple: async (sql) => {
        guard()
        return current.executeMultiple(sql)
      },
      commit: async () => {
        guard()
        open = false
        await execute("COMMIT")
      },
      rollback: async () => {
        if (!open) return
        open = false
        await execute("ROLLBACK")
      },
      close: () => {
        if (open) {
          open = false
          void execute("ROLLBACK").catch(() => undefined)
        }
      },
      get closed() {
        return !open
      }
    }
  }

  return new Proxy(current, {
    get(_target, property) {
      if (property === "execute") return execute
      if (property === "transaction") return transaction
      const value: unknown = Reflect.get(current, property, current)
      return typeof value === "function" ? value.bind(current) : value
    }
  })
}

const sqliteClient = (filename: string): Layer.Layer<SqlClient.SqlClient, StoreUnavailable> => {
  const open = Effect.acquireRelease(
    Effect.try({
      try: () => {
        fs.mkdirSync(path.dirname(filename), { recursive: true })
        return sqliteConnection(filename)
      },
      catch: (error) => new StoreUnavailable({ message: `Cannot open ${filename}: ${(error as Error).message}` })
    }),
    (client) => Effect.sync(() => client.close())
  )
  // WAL lets readers run while the writer writes; it is a property of the file.
  const setup = Layer.effectDiscard(
    Effect.flatMap(SqlClient.SqlClient, (sql) => query(sql`PRAGMA journal_mode = WAL`))
  )
  return Layer.unwrapScoped(Effect.map(open, (client) =>
    Layer.provideMerge(setup, LibsqlClient.layer({ liveClient: client }))))
}

const postgresClient = (location: Extract<DatabaseLocation, { _tag: "postgres" }>) =>
  PgClient.layer({
    url: location.url,
    applicationName: "switchyard",
    maxConnections: 10,
    connectTimeout: Duration.seconds(5)
  }).pipe(
    Layer.mapError((error) =>
      new StoreUnavailable({ message: `Cannot connect to ${describeLocation(location)}: ${unavailable(error).message}` })
    )
  )

/** The SQL client of a location: libsql over a SQLite file (created with its directory), or a PostgreSQL pool. */
export const clientLayer = (location: DatabaseLocation): Layer.Layer<SqlClient.SqlClient, StoreUnavailable> =>
  location._tag === "sqlite" ? sqliteClient(location.filename) : postgresClient(location)

import { LibsqlClient } from "@effect/sql-libsql"
import { PgClient } from "@effect/sql-pg"
import { SqlClient, SqlError } from "@effect/sql"
import { StoreUnavailable } from "@switchyard/core"
import * as fs from "node:fs"
import * as path from "node:path"
import { Cause, Duration, Effect, Layer, Schedule, Schema } from "effect"
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

/** A database statement as a port reports it: SQLite locks retried, errors as `StoreUnavailable`. */
export const query = <A, R>(effect: Effect.Effect<A, SqlError.SqlError, R>): Effect.Effect<A, StoreUnavailable, R> =>
  Effect.mapError(retryBusy(effect), unavailable)

/** An integer column: a number from SQLite and PostgreSQL `integer`, a string from PostgreSQL `bigint` and sums. */
export const DbInt = Schema.Union(Schema.Number, Schema.NumberFromString)

const sqliteClient = (filename: string): Layer.Layer<SqlClient.SqlClient, StoreUnavailable> => {
  const mkdir = Effect.try({
    try: () => void fs.mkdirSync(path.dirname(filename), { recursive: true }),
    catch: (error) =>
      new StoreUnavailable({ message: `Cannot create the data directory of ${filename}: ${(error as Error).message}` })
  })
  // WAL lets readers run while the writer writes; it is a property of the file, kept across connections.
  const wal = Layer.effectDiscard(Effect.flatMap(SqlClient.SqlClient, (sql) => query(sql`PRAGMA journal_mode = WAL`)))
  const client = LibsqlClient.layer({ url: `file:${filename}` }).pipe(
    Layer.catchAllCause((cause) =>
      Layer.fail(new StoreUnavailable({ message: `Cannot open ${filename}: ${Cause.pretty(cause).split("\n")[0]}` }))
    )
  )
  return Layer.unwrapEffect(Effect.as(mkdir, Layer.provideMerge(wal, client)))
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

import * as path from "node:path"
import { Config, Duration, Effect, Option, Redacted, Schema } from "effect"

/** Where the data lives: a SQLite file, or a PostgreSQL server. */
export type DatabaseLocation =
  | { readonly _tag: "sqlite"; readonly filename: string }
  | { readonly _tag: "postgres"; readonly url: Redacted.Redacted<string> }

/** The `store:` section of a configuration file. */
export const StoreSection = Schema.Struct({
  /** `postgres://…`, `sqlite:path` or `file:path`; default a SQLite file in the data directory. */
  database_url: Schema.optional(Schema.String),
  /** Where the default SQLite file lives (default `.switchyard/` in the working directory). */
  data_dir: Schema.optional(Schema.String),
  /** Stored completions and responses older than this are deleted (default 30; 0 keeps them forever). */
  retention_days: Schema.optional(Schema.Number.pipe(Schema.nonNegative())),
  /** Rows that may wait for the database before new ones are refused (default 10,000). */
  queue_capacity: Schema.optional(Schema.Int.pipe(Schema.between(1, 1_000_000))),
  /** Rows written per transaction at most (default 200). */
  batch_size: Schema.optional(Schema.Int.pipe(Schema.between(1, 5_000)))
}).annotations({ identifier: "StoreSection" })
export interface StoreSection extends Schema.Schema.Type<typeof StoreSection> {}

/** Options of the SQL store. */
export interface StoreOptions {
  readonly database: DatabaseLocation
  /** Default 30 days; 0 keeps stored completions and responses forever. */
  readonly retentionDays?: number | undefined
  /** How often the retention job runs (default hourly). */
  readonly retentionInterval?: Duration.DurationInput | undefined
  readonly queueCapacity?: number | undefined
  readonly batchSize?: number | undefined
  /** How long shutdown waits for the queue to drain (default 10 s). */
  readonly drainTimeout?: Duration.DurationInput | undefined
  /** How long rows gather before a batch smaller than `batchSize` is written (default 50 ms). */
  readonly writeLinger?: Duration.DurationInput | undefined
  /** How long saving a response waits for its row to be committed (default 2 s; see `SqlResponses.make`). */
  readonly responseWriteWait?: Duration.DurationInput | undefined
  /** How often keys' `last_used_at` is written (default 30 s). */
  readonly lastUsedFlushInterval?: Duration.DurationInput | undefined
}

/** The default data directory, relative to the working directory. */
export const defaultDataDir = ".switchyard"

/** The name of the SQLite file in the data directory. */
export const sqliteFileName = "switchyard.db"

/** A database URL that names neither PostgreSQL nor a SQLite file. */
export class InvalidDatabaseUrl extends Schema.TaggedError<InvalidDatabaseUrl>()("InvalidDatabaseUrl", {
  scheme: Schema.String
}) {
  override get message(): string {
    return `Unsupported database URL scheme \`${this.scheme}\`: use postgres://, postgresql://, sqlite: or file:.`
  }
}

const sqlitePath = (rest: string, cwd: string): string => {
  // sqlite:///abs/file.db, file:///abs, sqlite:relative.db, file:/abs
  const withoutAuthority = rest.startsWith("//") ? rest.slice(2) : rest
  const withoutQuery = withoutAuthority.split("?")[0] ?? withoutAuthority
  return path.resolve(cwd, decodeURIComponent(withoutQuery))
}

/**
 * Where the data lives, from a database URL and a data directory: PostgreSQL
 * for `postgres://` / `postgresql://`, a SQLite file for `sqlite:` / `file:`,
 * and `<dataDir>/switchyard.db` when there is no URL.
 */
export const resolveDatabase = (
  url: string | undefined,
  dataDir: string = defaultDataDir,
  cwd: string = process.cwd()
): Effect.Effect<DatabaseLocation, InvalidDatabaseUrl> => {
  if (url === undefined || url.trim() === "") {
    return Effect.succeed({ _tag: "sqlite", filename: path.resolve(cwd, dataDir, sqliteFileName) })
  }
  const trimmed = url.trim()
  const colon = trimmed.indexOf(":")
  const scheme = colon > 0 ? trimmed.slice(0, colon).toLowerCase() : ""
  switch (scheme) {
    case "postgres":
    case "postgresql":
      return Effect.succeed({ _tag: "postgres", url: Redacted.make(trimmed) })
    case "sqlite":
    case "file":
      return Effect.succeed({ _tag: "sqlite", filename: sqlitePath(trimmed.slice(colon + 1), cwd) })
    default:
      return Effect.fail(new InvalidDatabaseUrl({ scheme: scheme || trimmed.slice(0, 12) }))
  }
}

/** A description of a location for logs: the file, or the server without credentials. */
export const describeLocation = (location: DatabaseLocation): string => {
  if (location._tag === "sqlite") return `SQLite ${location.filename}`
  try {
    const url = new URL(Redacted.value(location.url))
    return `PostgreSQL ${url.hostname}${url.port ? `:${url.port}` : ""}${url.pathname}`
  } catch {
    return "PostgreSQL"
  }
}

/**
 * Store options from a configuration section and the environment:
 * `SWITCHYARD_DATABASE_URL` and `SWITCHYARD_DATA_DIR` win over the section.
 */
export const fromSection = (section: StoreSection = {}) =>
  Effect.gen(function*() {
    const envUrl = yield* Config.option(Config.nonEmptyString("SWITCHYARD_DATABASE_URL"))
    const envDir = yield* Config.option(Config.nonEmptyString("SWITCHYARD_DATA_DIR"))
    const database = yield* resolveDatabase(
      Option.getOrUndefined(envUrl) ?? section.database_url,
      Option.getOrUndefined(envDir) ?? section.data_dir ?? defaultDataDir
    )
    const options: StoreOptions = {
      database,
      retentionDays: section.retention_days,
      queueCapacity: section.queue_capacity,
      batchSize: section.batch_size
    }
    return options
  })

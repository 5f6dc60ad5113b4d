import { Migrator, SqlClient, type SqlError } from "@effect/sql"
import { StoreUnavailable } from "@switchyard/core"
import { Effect } from "effect"
import { catchSqlDefects, retryBusy, unavailable } from "./Database.js"

/** The table in which applied migrations are recorded. */
export const migrationsTable = "switchyard_migrations"

/** An arbitrary constant: the PostgreSQL advisory lock that serialises replicas' migrations. */
const MIGRATION_LOCK = 0x5357_5944 // "SWYD"

const initial = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  // Ids compare byte-wise on PostgreSQL too, so pages follow the same order on every backend.
  const id = sql.onDialectOrElse({ pg: () => sql.literal(`TEXT COLLATE "C"`), orElse: () => sql.literal("TEXT") })
  const withoutRowid = sql.onDialectOrElse({ sqlite: () => sql.literal("WITHOUT ROWID"), orElse: () => sql.literal("") })

  yield* sql`CREATE TABLE stored_completions (
    id ${id} PRIMARY KEY,
    account_id ${id} NOT NULL,
    created_at BIGINT NOT NULL,
    model TEXT NOT NULL,
    target TEXT,
    status TEXT NOT NULL,
    stream INTEGER NOT NULL,
    key_id TEXT,
    request_id TEXT NOT NULL,
    latency_ms INTEGER,
    first_chunk_ms INTEGER,
    metadata TEXT NOT NULL,
    completion TEXT NOT NULL
  )`
  yield* sql`CREATE INDEX stored_completions_by_account ON stored_completions (account_id, created_at, id)`
  yield* sql`CREATE INDEX stored_completions_by_model ON stored_completions (account_id, model, created_at, id)`
  yield* sql`CREATE INDEX stored_completions_by_time ON stored_completions (created_at)`

  // The request (with its messages) apart, so that lists never read it.
  yield* sql`CREATE TABLE stored_completion_requests (
    completion_id ${id} PRIMARY KEY,
    request TEXT NOT NULL
  )`

  // One row per metadata pair: filters walk an index in creation order instead of scanning JSON.
  yield* sql`CREATE TABLE stored_completion_metadata (
    account_id ${id} NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    completion_id ${id} NOT NULL,
    PRIMARY KEY (account_id, key, value, created_at, completion_id)
  ) ${withoutRowid}`
  yield* sql`CREATE INDEX stored_completion_metadata_by_completion ON stored_completion_metadata (completion_id, key, value)`

  yield* sql`CREATE TABLE usage_ledger (
    id ${id} PRIMARY KEY,
    created_at BIGINT NOT NULL,
    account_id ${id} NOT NULL,
    key_id TEXT,
    model TEXT NOT NULL,
    target TEXT,
    vendor TEXT,
    stream INTEGER NOT NULL,
    status TEXT NOT NULL,
    prompt_tokens INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL,
    cached_tokens INTEGER NOT NULL,
    reasoning_tokens INTEGER NOT NULL,
    latency_ms INTEGER,
    first_chunk_ms INTEGER
  )`
  yield* sql`CREATE INDEX usage_ledger_by_time ON usage_ledger (created_at)`
  yield* sql`CREATE INDEX usage_ledger_by_account ON usage_ledger (account_id, created_at)`

  // Only the SHA-256 of a secret is kept.
  yield* sql`CREATE TABLE api_keys (
    id ${id} PRIMARY KEY,
    name TEXT,
    secret_hash TEXT NOT NULL UNIQUE,
    prefix TEXT NOT NULL,
    last4 TEXT NOT NULL,
    account_ids TEXT NOT NULL,
    default_account_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at BIGINT
  )`
})

/**
 * The Responses API's state: a response (without its output) per row, and
 * each of its input and output items in a row of its own, addressable by id
 * for `item_reference` and paged in order for `input_items`. An item id held
 * by several responses (a reference, an output sent back as input) has a row
 * per response, so deleting one response never takes another's items.
 */
const responses = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const id = sql.onDialectOrElse({ pg: () => sql.literal(`TEXT COLLATE "C"`), orElse: () => sql.literal("TEXT") })

  yield* sql`CREATE TABLE responses (
    id ${id} PRIMARY KEY,
    account_id ${id} NOT NULL,
    created_at BIGINT NOT NULL,
    previous_response_id ${id},
    model TEXT NOT NULL,
    status TEXT NOT NULL,
    response TEXT NOT NULL
  )`
  yield* sql`CREATE INDEX responses_by_account ON responses (account_id, created_at, id)`
  yield* sql`CREATE INDEX responses_by_time ON responses (created_at)`

  // kind: 'input' or 'output'; seq: the item's place in its list. The key pages a response's input in order.
  yield* sql`CREATE TABLE response_items (
    response_id ${id} NOT NULL,
    kind TEXT NOT NULL,
    seq INTEGER NOT NULL,
    item_id ${id} NOT NULL,
    account_id ${id} NOT NULL,
    created_at BIGINT NOT NULL,
    item TEXT NOT NULL,
    PRIMARY KEY (response_id, kind, seq)
  )`
  yield* sql`CREATE INDEX response_items_by_item ON response_items (account_id, item_id, created_at)`
})

/**
 * The dashboard's completion log: token counts as columns (so a page of rows
 * never reads an answer), and indexes in creation order for searches across
 * accounts (admin keys): by time, by model, and by a metadata pair.
 */
const completionLog = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  for (const column of ["prompt_tokens", "completion_tokens", "cached_tokens", "reasoning_tokens"]) {
    yield* sql`ALTER TABLE stored_completions ADD COLUMN ${sql.literal(column)} INTEGER`
  }
  const path = (...keys: ReadonlyArray<string>) =>
    sql.onDialectOrElse({
      pg: () => sql.literal(`((completion::jsonb #>> '{${keys.join(",")}}')::numeric)::integer`),
      orElse: () => sql.literal(`json_extract(completion, '$.${keys.join(".")}')`)
    })
  yield* sql`UPDATE stored_completions SET
    prompt_tokens = ${path("usage", "prompt_tokens")},
    completion_tokens = ${path("usage", "completion_tokens")},
    cached_tokens = ${path("usage", "prompt_tokens_details", "cached_tokens")},
    reasoning_tokens = ${path("usage", "completion_tokens_details", "reasoning_tokens")}`
  yield* sql`DROP INDEX stored_completions_by_time`
  yield* sql`CREATE INDEX stored_completions_by_time ON stored_completions (created_at, id)`
  yield* sql`CREATE INDEX stored_completions_by_model_any_account ON stored_completions (model, created_at, id)`
  yield* sql`CREATE INDEX stored_completion_metadata_by_pair ON stored_completion_metadata (key, value, created_at, completion_id)`
})

const describeDefect = (defect: unknown): string => {
  const cause = (defect as { readonly cause?: unknown }).cause
  const message = defect instanceof Error ? defect.message : String(defect)
  return cause instanceof Error ? `${message}: ${cause.message}` : message
}

/** Every migration, by `<id>_<name>`; append new ones, never edit applied ones. */
export const migrations: Record<string, Effect.Effect<void, SqlError.SqlError, SqlClient.SqlClient>> = {
  "1_initial": initial,
  "2_responses": responses,
  "3_completion_log": completionLog
}

const run = Migrator.make({})({ loader: Migrator.fromRecord(migrations), table: migrationsTable })

/**
 * Applies the migrations the database lacks; the ids applied (none on a
 * second run). Replicas starting at once take turns: on PostgreSQL under an
 * advisory lock held by the migration's transaction, on SQLite under the
 * file's write lock (`BEGIN IMMEDIATE`, retried while another process holds it).
 */
export const migrate: Effect.Effect<ReadonlyArray<number>, StoreUnavailable, SqlClient.SqlClient> = Effect.gen(
  function*() {
    const sql = yield* SqlClient.SqlClient
    const applied = yield* sql.withTransaction(
      Effect.gen(function*() {
        yield* sql.onDialectOrElse({
          pg: () => sql`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`,
          orElse: () => Effect.void
        })
        // Created here, under the lock, so that the migrator's own check-then-create cannot race.
        yield* sql`CREATE TABLE IF NOT EXISTS ${sql(migrationsTable)} (
          migration_id INTEGER PRIMARY KEY NOT NULL,
          created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
          name VARCHAR(255) NOT NULL
        )`
        return yield* run
      })
    ).pipe(
      catchSqlDefects,
      retryBusy,
      Effect.mapError((error) =>
        error._tag === "SqlError"
          ? unavailable(error)
          : new StoreUnavailable({ message: `A database migration failed: ${error.message}` })
      ),
      Effect.catchAllDefect((defect) =>
        Effect.fail(new StoreUnavailable({ message: `A database migration failed: ${describeDefect(defect)}` }))
      )
    )
    if (applied.length > 0) {
      yield* Effect.logInfo(`Applied database migrations: ${applied.map(([id, name]) => `${id}_${name}`).join(", ")}`)
    }
    return applied.map(([id]) => id)
  }
)

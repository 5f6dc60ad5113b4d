import type { SqlClient } from "@effect/sql"
import { LimitSet, StoreUnavailable } from "@switchyard/core"
import { type ActiveKey, type ApiKey, type ApiKeys, newKey, publicKey } from "@switchyard/service"
import { Clock, Duration, Effect, Schema, type Scope } from "effect"
import { DbInt, query } from "./Database.js"

const AccountIds = Schema.parseJson(Schema.NonEmptyArray(Schema.String))
const Limits = Schema.NullOr(Schema.parseJson(LimitSet))
const limitsOf = (limits: LimitSet | null) => (limits !== null ? { limits } : {})

const KeyRow = Schema.Struct({
  id: Schema.String,
  name: Schema.NullOr(Schema.String),
  prefix: Schema.String,
  last4: Schema.String,
  account_ids: AccountIds,
  default_account_id: Schema.String,
  created_at: DbInt,
  last_used_at: Schema.NullOr(DbInt),
  revoked_at: Schema.NullOr(DbInt),
  limits: Limits
})
const decodeKeys = Schema.decodeUnknown(Schema.Array(KeyRow))

const ActiveRow = Schema.Struct({
  id: Schema.String,
  name: Schema.NullOr(Schema.String),
  secret_hash: Schema.String,
  account_ids: AccountIds,
  default_account_id: Schema.String,
  limits: Limits
})
const decodeActive = Schema.decodeUnknown(Schema.Array(ActiveRow))

const unreadable = (error: { readonly message: string }) =>
  new StoreUnavailable({ message: `Stored keys could not be read: ${error.message}` })

/** Options of the SQL key store. */
export interface SqlApiKeysOptions {
  /** How often uses are written to `last_used_at` (default 30 s; also on shutdown). */
  readonly flushInterval?: Duration.DurationInput | undefined
}

/**
 * API keys on SQL. Only the SHA-256 of a secret is stored. Uses are noted
 * in memory and written to `last_used_at` in one transaction every
 * `flushInterval` and when the scope closes, never per request.
 */
export const make = (
  sql: SqlClient.SqlClient,
  options: SqlApiKeysOptions = {}
): Effect.Effect<ApiKeys["Type"], never, Scope.Scope> =>
  Effect.gen(function*() {
    let used = new Map<string, number>()

    const flush = Effect.suspend(() => {
      if (used.size === 0) return Effect.void
      const batch = used
      used = new Map()
      return query(sql.withTransaction(Effect.forEach(batch, ([id, at]) =>
        sql`UPDATE api_keys SET last_used_at = ${at} WHERE id = ${id} AND (last_used_at IS NULL OR last_used_at < ${at})`, {
        discard: true
      }))).pipe(
        Effect.catchAll((error) =>
          Effect.zipRight(
            Effect.sync(() => {
              for (const [id, at] of batch) used.set(id, Math.max(at, used.get(id) ?? 0))
            }),
            Effect.logWarning("Could not write when API keys were last used; will retry", error.message)
          )
        )
      )
    })

    yield* Effect.sleep(options.flushInterval ?? Duration.seconds(30)).pipe(
      Effect.zipRight(flush),
      Effect.forever,
      Effect.forkScoped
    )
    yield* Effect.addFinalizer(() => flush)

    const list = Effect.fn("ApiKeys.list")(function*(listOptions?: { readonly includeRevoked?: boolean }) {
      const rows = yield* query(
        listOptions?.includeRevoked === true
          ? sql`SELECT id, name, prefix, last4, account_ids, default_account_id, created_at, last_used_at, revoked_at, limits FROM api_keys ORDER BY created_at DESC, id DESC`
          : sql`SELECT id, name, prefix, last4, account_ids, default_account_id, created_at, last_used_at, revoked_at, limits FROM api_keys WHERE revoked_at IS NULL ORDER BY created_at DESC, id DESC`
      ).pipe(Effect.flatMap((rows) => Effect.mapError(decodeKeys(rows), unreadable)))
      return rows.map((row): ApiKey => {
        const pendingUse = used.get(row.id)
        const lastUsedAt = pendingUse !== undefined && (row.last_used_at === null || pendingUse > row.last_used_at)
          ? pendingUse
          : row.last_used_at
        return {
          id: row.id,
          name: row.name,
          accountIds: row.account_ids,
          defaultAccountId: row.default_account_id,
          prefix: row.prefix,
          last4: row.last4,
          createdAt: row.created_at,
          lastUsedAt,
          revokedAt: row.revoked_at,
          ...limitsOf(row.limits)
        }
      })
    })

    const create = Effect.fn("ApiKeys.create")(function*(input: Parameters<ApiKeys["Type"]["create"]>[0]) {
      const { secret, stored } = yield* newKey(input)
      yield* query(sql`INSERT INTO api_keys ${
        sql.insert({
          id: stored.id,
          name: stored.name,
          secret_hash: stored.hash,
          prefix: stored.prefix,
          last4: stored.last4,
          account_ids: JSON.stringify(stored.accountIds),
          default_account_id: stored.defaultAccountId,
          created_at: stored.createdAt,
          last_used_at: null,
          revoked_at: null,
          limits: stored.limits !== undefined ? JSON.stringify(Schema.encodeSync(LimitSet)(stored.limits)) : null
        })
      }`)
      return { key: publicKey(stored), secret }
    })

    const revoke = Effect.fn("ApiKeys.revoke")(function*(id: string) {
      const now = yield* Clock.currentTimeMillis
      const rows = yield* query(
        sql`UPDATE api_keys SET revoked_at = ${now} WHERE id = ${id} AND revoked_at IS NULL RETURNING id`
      )
      return rows.length > 0
    })

    const active = query(
      sql`SELECT id, name, secret_hash, account_ids, default_account_id, limits FROM api_keys WHERE revoked_at IS NULL`
    ).pipe(
      Effect.flatMap((rows) => Effect.mapError(decodeActive(rows), unreadable)),
      Effect.map((rows) =>
        rows.map((row): ActiveKey => ({
          id: row.id,
          name: row.name,
          hash: row.secret_hash,
          accountIds: row.account_ids,
          defaultAccountId: row.default_account_id,
          ...limitsOf(row.limits)
        }))
      )
    )

    return {
      create,
      list,
      revoke,
      active,
      markUsed: (id, atMs) => {
        if ((used.get(id) ?? 0) < atMs) used.set(id, atMs)
      }
    }
  })

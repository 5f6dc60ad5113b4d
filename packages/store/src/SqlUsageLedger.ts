import type { SqlClient, SqlError } from "@effect/sql"
import type { Fragment } from "@effect/sql/Statement"
import { StoreUnavailable } from "@switchyard/core"
import {
  intervalMs,
  type LatencyPartial,
  latencyStats,
  type PriceCatalogue,
  pricedBuckets,
  type UsageGroupBy,
  UsageLedger,
  type UsagePartial,
  type UsageQuery,
  type UsageRecord
} from "@switchyard/service"
import { Effect, Schema } from "effect"
import { DbInt, query } from "./Database.js"
import type { WriteItem } from "./WriteItem.js"
import type { WriteQueue } from "./WriteQueue.js"

const roundOrNull = (n: number | null): number | null => (n === null ? null : Math.round(n))

/** Inserts ledger rows (idempotently, by id). */
export const insertUsage = (
  sql: SqlClient.SqlClient,
  rows: ReadonlyArray<UsageRecord>
): Effect.Effect<void, SqlError.SqlError> => {
  if (rows.length === 0) return Effect.void
  const values = rows.map((r) => ({
    id: r.id,
    created_at: Math.round(r.createdAt),
    account_id: r.accountId,
    key_id: r.keyId,
    model: r.model,
    target: r.target,
    vendor: r.vendor,
    stream: r.stream ? 1 : 0,
    status: r.status,
    prompt_tokens: r.promptTokens,
    completion_tokens: r.completionTokens,
    cached_tokens: r.cachedTokens,
    reasoning_tokens: r.reasoningTokens,
    latency_ms: roundOrNull(r.latencyMs),
    first_chunk_ms: roundOrNull(r.firstChunkMs)
  }))
  const statements: Array<Effect.Effect<unknown, SqlError.SqlError>> = []
  for (let i = 0; i < values.length; i += 200) {
    statements.push(sql`INSERT INTO usage_ledger ${sql.insert(values.slice(i, i + 200))} ON CONFLICT DO NOTHING`)
  }
  return Effect.all(statements, { discard: true })
}

const groupColumn: Readonly<Record<UsageGroupBy, string>> = {
  model: "model",
  account: "account_id",
  key: "key_id",
  target: "target"
}

const PartialRow = Schema.Struct({
  bucket: Schema.optional(DbInt),
  grp: Schema.NullOr(Schema.String),
  priced_model: Schema.String,
  requests: DbInt,
  errors: DbInt,
  prompt_tokens: DbInt,
  completion_tokens: DbInt,
  cached_tokens: DbInt,
  reasoning_tokens: DbInt
})
const decodePartials = Schema.decodeUnknown(Schema.Array(PartialRow))

const decodeHistogram = Schema.decodeUnknown(Schema.Array(Schema.Struct({
  bucket: Schema.optional(DbInt),
  grp: Schema.NullOr(Schema.String),
  ms: DbInt,
  n: DbInt
})))

/**
 * The usage ledger on SQL: rows are appended through the store's queue;
 * summaries sum by bucket, group and priced model in the database and are
 * priced with the catalogue.
 */
export const make = (
  sql: SqlClient.SqlClient,
  queue: WriteQueue<WriteItem>,
  prices: PriceCatalogue["Type"]
): UsageLedger["Type"] => {
  /** The grouping, bucket expression and filter of a query. */
  const shape = (q: UsageQuery) => {
    const group = sql.literal(groupColumn[q.groupBy])
    const size = q.interval === undefined ? undefined : sql.literal(String(intervalMs[q.interval]))
    const bucket = size === undefined ? undefined : sql`(created_at / ${size}) * ${size}`
    const where: Array<Fragment> = [sql`created_at >= ${Math.floor(q.start)}`, sql`created_at < ${Math.ceil(q.end)}`]
    if (q.accounts !== "all") where.push(sql`account_id IN ${sql.in(q.accounts)}`)
    return { group, bucket, where }
  }

  const summarize = Effect.fn("UsageLedger.summarize")(function*(q: UsageQuery) {
    if (q.accounts !== "all" && q.accounts.length === 0) return []
    const { bucket, group, where } = shape(q)
    const rows = yield* query(sql`SELECT ${bucket === undefined ? sql.literal("") : sql`${bucket} AS bucket,`}
        ${group} AS grp,
        COALESCE(target, model) AS priced_model,
        COUNT(*) AS requests,
        SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END) AS errors,
        SUM(prompt_tokens) AS prompt_tokens,
        SUM(completion_tokens) AS completion_tokens,
        SUM(cached_tokens) AS cached_tokens,
        SUM(reasoning_tokens) AS reasoning_tokens
      FROM usage_ledger
      WHERE ${sql.and(where)}
      GROUP BY ${bucket === undefined ? sql.literal("") : sql`${bucket},`} ${group}, COALESCE(target, model)`)
    const decoded = yield* Effect.mapError(
      decodePartials(rows),
      (error) => new StoreUnavailable({ message: `Usage could not be read: ${error.message}` })
    )
    const partials: Array<UsagePartial> = decoded.map((row) => ({
      bucket: row.bucket ?? q.start,
      group: row.grp,
      pricedModel: row.priced_model,
      requests: row.requests,
      errors: row.errors,
      promptTokens: row.prompt_tokens,
      completionTokens: row.completion_tokens,
      cachedTokens: row.cached_tokens,
      reasoningTokens: row.reasoning_tokens
    }))
    return pricedBuckets(q, partials, prices)
  })

  /** Histograms (one row per distinct whole ms) of a measure, summed in the database. */
  const histogram = (q: UsageQuery, measure: LatencyPartial["measure"]) =>
    Effect.gen(function*() {
      const { bucket, group, where } = shape(q)
      const column = sql.literal(measure === "latency" ? "latency_ms" : "first_chunk_ms")
      const rows = yield* query(sql`SELECT ${bucket === undefined ? sql.literal("") : sql`${bucket} AS bucket,`}
          ${group} AS grp, ${column} AS ms, COUNT(*) AS n
        FROM usage_ledger
        WHERE ${sql.and([...where, sql`${column} IS NOT NULL`])}
        GROUP BY ${bucket === undefined ? sql.literal("") : sql`${bucket},`} ${group}, ${column}`)
      const decoded = yield* Effect.mapError(
        decodeHistogram(rows),
        (error) => new StoreUnavailable({ message: `Usage could not be read: ${error.message}` })
      )
      return decoded.map((row): LatencyPartial => ({
        bucket: row.bucket ?? q.start,
        group: row.grp,
        measure,
        ms: row.ms,
        count: row.n
      }))
    })

  const latencies = Effect.fn("UsageLedger.latencies")(function*(q: UsageQuery) {
    if (q.accounts !== "all" && q.accounts.length === 0) return []
    const [latency, firstChunk] = yield* Effect.all([histogram(q, "latency"), histogram(q, "first_chunk")])
    return latencyStats([...latency, ...firstChunk])
  })

  return {
    latencies,
    record: (row) =>
      Effect.suspend(() => (queue.unsafeOffer({ _tag: "usage", row }) === undefined ? queue.reportDropped : Effect.void)),
    summarize
  }
}

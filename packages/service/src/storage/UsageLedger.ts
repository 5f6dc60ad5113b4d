import type { StoreUnavailable } from "@switchyard/core"
import { Context, Effect, Layer, Schema } from "effect"
import { PriceCatalogue } from "../pricing/PriceCatalogue.js"
import { StoredCompletionStatus } from "./StoredCompletions.js"

const Tokens = Schema.Int.pipe(Schema.nonNegative())

/** One completion in the usage ledger: who, what, how it ended, and the tokens it used; never content. */
export const UsageRecord = Schema.Struct({
  /** A unique id, so a retried write cannot count a call twice. */
  id: Schema.String,
  /** When the call started, in ms since the epoch. */
  createdAt: Schema.Number,
  accountId: Schema.String,
  keyId: Schema.NullOr(Schema.String),
  /** The model the client asked for. */
  model: Schema.String,
  /** The `vendor/model` that answered (or was tried last). */
  target: Schema.NullOr(Schema.String),
  vendor: Schema.NullOr(Schema.String),
  stream: Schema.Boolean,
  status: StoredCompletionStatus,
  promptTokens: Tokens,
  completionTokens: Tokens,
  cachedTokens: Tokens,
  reasoningTokens: Tokens,
  latencyMs: Schema.NullOr(Schema.Number),
  firstChunkMs: Schema.NullOr(Schema.Number)
}).annotations({ identifier: "UsageRecord" })
export interface UsageRecord extends Schema.Schema.Type<typeof UsageRecord> {}

/** What usage is grouped by. */
export const UsageGroupBy = Schema.Literal("model", "account", "key", "target")
export type UsageGroupBy = typeof UsageGroupBy.Type

/** The width of the time buckets of a summary (UTC hours or days). */
export const UsageInterval = Schema.Literal("hour", "day")
export type UsageInterval = typeof UsageInterval.Type

/** The bucket width of an interval, in ms. */
export const intervalMs: Readonly<Record<UsageInterval, number>> = { hour: 3_600_000, day: 86_400_000 }

/** A usage summary query: `[start, end)` in ms, grouped, optionally bucketed, over some accounts or all. */
export interface UsageQuery {
  readonly start: number
  readonly end: number
  readonly groupBy: UsageGroupBy
  /** No interval: one bucket spanning `[start, end)`. */
  readonly interval?: UsageInterval | undefined
  /** The accounts to count, or `"all"` (admin keys). */
  readonly accounts: ReadonlyArray<string> | "all"
}

/** One row of a usage summary: a time bucket and a group, with its totals and cost. */
export interface UsageBucket {
  readonly start: number
  readonly end: number
  /** The group's value (a model, account id, key id or target); `null` when the rows had none. */
  readonly group: string | null
  readonly requests: number
  readonly errors: number
  readonly promptTokens: number
  readonly completionTokens: number
  readonly cachedTokens: number
  readonly reasoningTokens: number
  readonly costUsd: number
}

/**
 * Partial sums of usage by bucket, group and the `vendor/model` whose price
 * applies, as a database returns them; `pricedBuckets` turns them into a
 * summary.
 */
export interface UsagePartial {
  /** The bucket's start (ms), or the query's start without an interval. */
  readonly bucket: number
  readonly group: string | null
  readonly pricedModel: string
  readonly requests: number
  readonly errors: number
  readonly promptTokens: number
  readonly completionTokens: number
  readonly cachedTokens: number
  readonly reasoningTokens: number
}

/**
 * The usage ledger: one row per completion, stored or not, for usage
 * summaries, per-account budgets and the dashboard's charts. `record`
 * enqueues without waiting and never fails.
 */
export class UsageLedger extends Context.Tag("@switchyard/service/UsageLedger")<UsageLedger, {
  /** Appends a row, in the background. */
  readonly record: (row: UsageRecord) => Effect.Effect<void>
  /** Totals and cost per time bucket and group, ordered by bucket then group. */
  readonly summarize: (query: UsageQuery) => Effect.Effect<ReadonlyArray<UsageBucket>, StoreUnavailable>
}>() {
  /** A ledger in memory, for tests and library users without a database. */
  static readonly layerMemory: Layer.Layer<UsageLedger, never, PriceCatalogue> = Layer.effect(
    UsageLedger,
    Effect.map(PriceCatalogue, (prices) => makeMemory(prices))
  )
}

/** The bucket a time falls in: its start (ms). */
export const bucketOf = (query: UsageQuery, at: number): number =>
  query.interval === undefined ? query.start : Math.floor(at / intervalMs[query.interval]) * intervalMs[query.interval]

/** The value of a ledger row for a grouping. */
export const groupOf = (row: UsageRecord, groupBy: UsageGroupBy): string | null =>
  groupBy === "model" ? row.model : groupBy === "account" ? row.accountId : groupBy === "key" ? row.keyId : row.target

/** The `vendor/model` whose price applies to a row: the target that answered, else the requested model. */
export const pricedModelOf = (row: Pick<UsageRecord, "target" | "model">): string => row.target ?? row.model

/** Merges partial sums into the buckets of a summary, pricing each model's tokens. */
export const pricedBuckets = (
  query: UsageQuery,
  partials: Iterable<UsagePartial>,
  prices: PriceCatalogue["Type"]
): ReadonlyArray<UsageBucket> => {
  const buckets = new Map<string, {
    -readonly [K in keyof UsageBucket]: UsageBucket[K]
  }>()
  for (const p of partials) {
    const key = `${p.bucket}\u0000${p.group ?? "\u0001"}`
    let b = buckets.get(key)
    if (b === undefined) {
      const end = query.interval === undefined ? query.end : p.bucket + intervalMs[query.interval]
      b = {
        start: p.bucket,
        end,
        group: p.group,
        requests: 0,
        errors: 0,
        promptTokens: 0,
        completionTokens: 0,
        cachedTokens: 0,
        reasoningTokens: 0,
        costUsd: 0
      }
      buckets.set(key, b)
    }
    b.requests += p.requests
    b.errors += p.errors
    b.promptTokens += p.promptTokens
    b.completionTokens += p.completionTokens
    b.cachedTokens += p.cachedTokens
    b.reasoningTokens += p.reasoningTokens
    b.costUsd += prices.cost(p.pricedModel, p)
  }
  return [...buckets.values()].sort((a, b) =>
    a.start - b.start || (a.group ?? "").localeCompare(b.group ?? "")
  )
}

const makeMemory = (prices: PriceCatalogue["Type"]): UsageLedger["Type"] => {
  const rows = new Map<string, UsageRecord>()
  return {
    record: (row) => Effect.sync(() => void rows.set(row.id, row)),
    summarize: (query) =>
      Effect.sync(() => {
        const accounts = query.accounts === "all" ? undefined : new Set(query.accounts)
        const partials: Array<UsagePartial> = []
        for (const row of rows.values()) {
          if (row.createdAt < query.start || row.createdAt >= query.end) continue
          if (accounts !== undefined && !accounts.has(row.accountId)) continue
          partials.push({
            bucket: bucketOf(query, row.createdAt),
            group: groupOf(row, query.groupBy),
            pricedModel: pricedModelOf(row),
            requests: 1,
            errors: row.status === "failed" ? 1 : 0,
            promptTokens: row.promptTokens,
            completionTokens: row.completionTokens,
            cachedTokens: row.cachedTokens,
            reasoningTokens: row.reasoningTokens
          })
        }
        return pricedBuckets(query, partials, prices)
      })
  }
}

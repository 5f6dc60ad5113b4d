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

/** How often one latency (whole ms) was seen: a histogram entry. */
export interface LatencyCount {
  readonly ms: number
  readonly count: number
}

/** Latency percentiles of a bucket and group, in ms; `null` where no row had the measure. */
export interface LatencyStats {
  readonly bucket: number
  readonly group: string | null
  readonly latencyP50: number | null
  readonly latencyP95: number | null
  readonly firstChunkP50: number | null
  readonly firstChunkP95: number | null
}

/** The nearest-rank percentile `p` (0..1) of a histogram; `null` when it is empty. */
export const percentileOf = (histogram: ReadonlyArray<LatencyCount>, p: number): number | null => {
  let total = 0
  for (const entry of histogram) total += entry.count
  if (total === 0) return null
  const rank = Math.max(1, Math.ceil(p * total))
  const sorted = [...histogram].sort((a, b) => a.ms - b.ms)
  let seen = 0
  for (const entry of sorted) {
    seen += entry.count
    if (seen >= rank) return entry.ms
  }
  return sorted[sorted.length - 1]!.ms
}

/** One histogram entry of a measure, by bucket and group, as a database returns them. */
export interface LatencyPartial {
  readonly bucket: number
  readonly group: string | null
  readonly measure: "latency" | "first_chunk"
  readonly ms: number
  readonly count: number
}

/** Percentiles per bucket and group from histogram entries, ordered by bucket then group. */
export const latencyStats = (partials: Iterable<LatencyPartial>): ReadonlyArray<LatencyStats> => {
  const groups = new Map<string, { bucket: number; group: string | null; latency: Array<LatencyCount>; firstChunk: Array<LatencyCount> }>()
  for (const p of partials) {
    const key = `${p.bucket}\u0000${p.group ?? "\u0001"}`
    let g = groups.get(key)
    if (g === undefined) {
      g = { bucket: p.bucket, group: p.group, latency: [], firstChunk: [] }
      groups.set(key, g)
    }
    ;(p.measure === "latency" ? g.latency : g.firstChunk).push({ ms: p.ms, count: p.count })
  }
  return [...groups.values()]
    .map((g): LatencyStats => ({
      bucket: g.bucket,
      group: g.group,
      latencyP50: percentileOf(g.latency, 0.5),
      latencyP95: percentileOf(g.latency, 0.95),
      firstChunkP50: percentileOf(g.firstChunk, 0.5),
      firstChunkP95: percentileOf(g.firstChunk, 0.95)
    }))
    .sort((a, b) => a.bucket - b.bucket || (a.group ?? "").localeCompare(b.group ?? ""))
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
  /** p50/p95 latency and time to first chunk per time bucket and group (the same buckets as `summarize`). */
  readonly latencies: (query: UsageQuery) => Effect.Effect<ReadonlyArray<LatencyStats>, StoreUnavailable>
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
        const partials: Array<UsagePartial> = []
        for (const row of inRange(rows.values(), query)) {
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
      }),
    latencies: (query) =>
      Effect.sync(() => {
        const counts = new Map<string, LatencyPartial>()
        const add = (row: UsageRecord, measure: LatencyPartial["measure"], value: number | null) => {
          if (value === null) return
          const bucket = bucketOf(query, row.createdAt)
          const group = groupOf(row, query.groupBy)
          const ms = Math.round(value)
          const key = `${bucket}\u0000${group}\u0000${measure}\u0000${ms}`
          const seen = counts.get(key)
          counts.set(key, { bucket, group, measure, ms, count: (seen?.count ?? 0) + 1 })
        }
        for (const row of inRange(rows.values(), query)) {
          add(row, "latency", row.latencyMs)
          add(row, "first_chunk", row.firstChunkMs)
        }
        return latencyStats(counts.values())
      })
  }
}

/** The rows of a query's range and accounts. */
function* inRange(rows: Iterable<UsageRecord>, query: UsageQuery): Generator<UsageRecord> {
  const accounts = query.accounts === "all" ? undefined : new Set(query.accounts)
  for (const row of rows) {
    if (row.createdAt < query.start || row.createdAt >= query.end) continue
    if (accounts !== undefined && !accounts.has(row.accountId)) continue
    yield row
  }
}

import { Schema } from "effect"
import { ListLimitParam } from "./StoredCompletion.js"

const UnixSeconds = Schema.NumberFromString.pipe(Schema.int(), Schema.nonNegative())

/** `GET /v5/me`: who the presented key is, and what it may see. */
export const WhoAmI = Schema.Struct({
  object: Schema.Literal("principal"),
  key_id: Schema.String,
  name: Schema.NullOr(Schema.String),
  /** An admin key may act for any account and sees every account's rows. */
  admin: Schema.Boolean,
  account_ids: Schema.Array(Schema.String),
  default_account_id: Schema.String,
  /** The account this request acts for (`x-selected-account-id`, else the default). */
  selected_account_id: Schema.String
}).annotations({ identifier: "WhoAmI" })
export interface WhoAmI extends Schema.Schema.Type<typeof WhoAmI> {}

/** How a stored completion ended. */
export const CompletionStatusParam = Schema.Literal("completed", "incomplete", "failed")

/**
 * Filters of the dashboard's completion list and its export. Without
 * `x-selected-account-id`, a member key sees all its accounts and an admin key
 * every account; with it, that account only.
 */
export const DashboardFilterParams = Schema.Struct({
  model: Schema.optional(Schema.String),
  status: Schema.optional(CompletionStatusParam),
  account: Schema.optional(Schema.String.annotations({ description: "Only this account (one the key may see)" })),
  start: Schema.optional(UnixSeconds.annotations({ description: "Created at or after (Unix seconds)" })),
  end: Schema.optional(UnixSeconds.annotations({ description: "Created before (Unix seconds)" })),
  q: Schema.optional(Schema.String.annotations({ description: "Text in the messages or the answer (any case)" })),
  metadata: Schema.optional(
    Schema.Union(Schema.String, Schema.Array(Schema.String)).annotations({
      description: "`key=value`; repeat for several pairs (AND)"
    })
  )
})
export type DashboardFilterParams = typeof DashboardFilterParams.Type

/** `GET /v5/dashboard/completions`: the filters, a cursor and a page size. */
export const DashboardListParams = Schema.Struct({
  ...DashboardFilterParams.fields,
  after: Schema.optional(Schema.String.annotations({ description: "The id of the last row of the previous page" })),
  limit: Schema.optional(ListLimitParam.annotations({ description: "How many rows to return: 1 to 100 (default 50)" }))
})

/** `GET /v5/dashboard/export`: the filters and a format. */
export const DashboardExportParams = Schema.Struct({
  ...DashboardFilterParams.fields,
  format: Schema.Literal("jsonl", "csv")
})

/** A row of the completion list: what is known about a call, without its messages or answer. */
export const DashboardCompletionRow = Schema.Struct({
  id: Schema.String,
  account_id: Schema.String,
  key_id: Schema.NullOr(Schema.String),
  request_id: Schema.String,
  /** ms since the epoch. */
  created_at_ms: Schema.Number,
  model: Schema.String,
  target: Schema.NullOr(Schema.String),
  status: CompletionStatusParam,
  stream: Schema.Boolean,
  prompt_tokens: Schema.NullOr(Schema.Int),
  completion_tokens: Schema.NullOr(Schema.Int),
  /** From the price catalogue (0 for a model without a known price); `null` without usage. */
  cost_usd: Schema.NullOr(Schema.Number),
  latency_ms: Schema.NullOr(Schema.Number),
  first_chunk_ms: Schema.NullOr(Schema.Number),
  metadata: Schema.Record({ key: Schema.String, value: Schema.String })
}).annotations({ identifier: "DashboardCompletionRow" })
export interface DashboardCompletionRow extends Schema.Schema.Type<typeof DashboardCompletionRow> {}

/** A page of the completion list, newest first. */
export const DashboardCompletionPage = Schema.Struct({
  object: Schema.Literal("list"),
  data: Schema.Array(DashboardCompletionRow),
  has_more: Schema.Boolean,
  /** The `after` of the next page. */
  next_cursor: Schema.NullOr(Schema.String)
}).annotations({ identifier: "DashboardCompletionPage" })
export interface DashboardCompletionPage extends Schema.Schema.Type<typeof DashboardCompletionPage> {}

/** One stored completion with its request and answer, as stored (raw JSON). */
export const DashboardCompletionDetail = Schema.Struct({
  ...DashboardCompletionRow.fields,
  object: Schema.Literal("dashboard.completion"),
  /** The chat completion request: messages and parameters. */
  request: Schema.Unknown,
  /** The answer: the chat completion (for a stream, its chunks aggregated). */
  completion: Schema.Unknown
}).annotations({ identifier: "DashboardCompletionDetail" })
export interface DashboardCompletionDetail extends Schema.Schema.Type<typeof DashboardCompletionDetail> {}

/** `PATCH /v5/dashboard/completions/{id}`: the new metadata (replaces the old). */
export const DashboardMetadataUpdate = Schema.Struct({
  metadata: Schema.Record({ key: Schema.String, value: Schema.String })
}).annotations({ identifier: "DashboardMetadataUpdate" })

/** The answer of `DELETE /v5/dashboard/completions/{id}`. */
export const DashboardCompletionDeleted = Schema.Struct({
  id: Schema.String,
  object: Schema.Literal("chat.completion.deleted"),
  deleted: Schema.Literal(true)
}).annotations({ identifier: "DashboardCompletionDeleted" })

/** `GET /v5/dashboard/usage`: a range (default the last 24 hours), a grouping and an optional interval. */
export const DashboardUsageParams = Schema.Struct({
  start: Schema.optional(UnixSeconds.annotations({ description: "Unix seconds (default: 24 hours before `end`)" })),
  end: Schema.optional(UnixSeconds.annotations({ description: "Unix seconds, exclusive (default: now)" })),
  group_by: Schema.optional(Schema.Literal("model", "account", "key", "target")),
  interval: Schema.optional(Schema.Literal("hour", "day"))
})

const UsageFigures = {
  requests: Schema.Int,
  errors: Schema.Int,
  /** errors / requests (0 without requests). */
  error_rate: Schema.Number,
  prompt_tokens: Schema.Int,
  completion_tokens: Schema.Int,
  total_tokens: Schema.Int,
  cost_usd: Schema.Number
}

/** Usage of one time bucket and group, with latency percentiles. */
export const DashboardUsageRow = Schema.Struct({
  /** Unix seconds. */
  start: Schema.Int,
  end: Schema.Int,
  group: Schema.NullOr(Schema.String),
  ...UsageFigures,
  latency_p50_ms: Schema.NullOr(Schema.Number),
  latency_p95_ms: Schema.NullOr(Schema.Number),
  first_chunk_p50_ms: Schema.NullOr(Schema.Number),
  first_chunk_p95_ms: Schema.NullOr(Schema.Number)
}).annotations({ identifier: "DashboardUsageRow" })
export interface DashboardUsageRow extends Schema.Schema.Type<typeof DashboardUsageRow> {}

/** Usage over a range from the usage ledger (stored or not), by bucket and group, with totals. */
export const DashboardUsage = Schema.Struct({
  object: Schema.Literal("dashboard.usage"),
  start: Schema.Int,
  end: Schema.Int,
  group_by: Schema.Literal("model", "account", "key", "target"),
  interval: Schema.NullOr(Schema.Literal("hour", "day")),
  data: Schema.Array(DashboardUsageRow),
  totals: Schema.Struct(UsageFigures)
}).annotations({ identifier: "DashboardUsage" })
export interface DashboardUsage extends Schema.Schema.Type<typeof DashboardUsage> {}

import { Schema } from "effect"

const Positive = Schema.Int.pipe(Schema.positive())

/** The UTC period a budget counts over. */
export const BudgetPeriod = Schema.Literal("day", "week", "month")
export type BudgetPeriod = typeof BudgetPeriod.Type

/** A budget: spend in USD (priced from the usage ledger) or tokens, per UTC day, week (from Monday) or month. */
export const Budget = Schema.Struct({
  usd: Schema.optional(Schema.Number.pipe(Schema.positive())),
  tokens: Schema.optional(Positive),
  period: Schema.optionalWith(BudgetPeriod, { default: () => "month" as const })
}).pipe(
  Schema.filter((budget) => (budget.usd === undefined) !== (budget.tokens === undefined) || "a budget has either `usd` or `tokens`"),
  Schema.annotations({ identifier: "Budget" })
)
export interface Budget extends Schema.Schema.Type<typeof Budget> {}

/**
 * The limits of a key or an account (`limits:` in the configuration, and a
 * database key's own): requests and tokens per minute, requests at once, a budget.
 */
export const LimitSet = Schema.Struct({
  requests_per_minute: Schema.optional(Positive),
  tokens_per_minute: Schema.optional(Positive),
  concurrent_requests: Schema.optional(Positive),
  budget: Schema.optional(Budget)
}).annotations({ identifier: "LimitSet", parseOptions: { onExcessProperty: "error" } })
export interface LimitSet extends Schema.Schema.Type<typeof LimitSet> {}

/** Whether a limit set limits anything. */
export const limitsAnything = (set: LimitSet | undefined): set is LimitSet =>
  set !== undefined &&
  (set.requests_per_minute !== undefined || set.tokens_per_minute !== undefined ||
    set.concurrent_requests !== undefined || set.budget !== undefined)

/** What a limit counts: requests or tokens per minute, requests at once, or a budget's spend. */
export const LimitKind = Schema.Literal("requests", "tokens", "concurrency", "budget_usd", "budget_tokens")
export type LimitKind = typeof LimitKind.Type

/** Whom a limit applies to: a key, or an account whichever key acts for it. */
export const LimitScope = Schema.Literal("key", "account")
export type LimitScope = typeof LimitScope.Type

/** One limit and how much of it is used now. */
export const LimitStatusObject = Schema.Struct({
  scope: LimitScope,
  /** The key id (or name, for a configured entry) or the account id. */
  subject: Schema.String,
  type: LimitKind,
  limit: Schema.Number,
  used: Schema.Number,
  remaining: Schema.Number,
  /** Seconds until the window, the period or (concurrency) nothing resets; 0 when unused. */
  reset_seconds: Schema.Number,
  /** The budget's period. */
  period: Schema.optional(BudgetPeriod)
}).annotations({ identifier: "LimitStatus" })
export interface LimitStatusObject extends Schema.Schema.Type<typeof LimitStatusObject> {}

/** `GET /v5/limits` (the caller's key and account) and `GET /v5/admin/limits?account=…`. */
export const LimitsStatus = Schema.Struct({
  object: Schema.Literal("limits"),
  key_id: Schema.NullOr(Schema.String),
  account_id: Schema.String,
  data: Schema.Array(LimitStatusObject)
}).annotations({ identifier: "LimitsStatus" })
export interface LimitsStatus extends Schema.Schema.Type<typeof LimitsStatus> {}

/** The query of `GET /v5/admin/limits`. */
export const AdminLimitsParams = Schema.Struct({
  account: Schema.String.pipe(Schema.minLength(1)),
  key: Schema.optional(Schema.String)
})

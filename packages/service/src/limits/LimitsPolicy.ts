/**
 * The `limits:` section of the configuration and what it means for one
 * request: which limits apply to a key and to the account it acts for, the
 * UTC periods of budgets, and OpenAI's way of writing a reset.
 */
import { type BudgetPeriod, LimitSet, limitsAnything, type Principal } from "@switchyard/core"
import { Schema } from "effect"

/** The `limits:` section. */
export const LimitsSection = Schema.Struct({
  /** Applies to each key that has no entry of its own (in `keys`, or its own limits). */
  default: Schema.optional(LimitSet),
  /** By account id: applies to the account as a whole, whichever key acts for it. */
  accounts: Schema.optional(Schema.Record({ key: Schema.String, value: LimitSet })),
  /** By key id (database or configured keys) or by a database key's name. */
  keys: Schema.optional(Schema.Record({ key: Schema.String, value: LimitSet })),
  /** While the shared store (Redis) is unreachable: `allow` (default) lets requests through, `deny` answers 503. */
  on_store_error: Schema.optional(Schema.Literal("allow", "deny")),
  /** The completion tokens reserved for a request that sets no `max_completion_tokens`/`max_tokens` (default 1024). */
  default_completion_tokens: Schema.optional(Schema.Int.pipe(Schema.positive())),
  /** The Redis that every replica shares (`SWITCHYARD_REDIS_URL`); in memory without it. */
  redis_url: Schema.optional(Schema.String)
}).annotations({ identifier: "LimitsSection", parseOptions: { onExcessProperty: "error" } })
export interface LimitsSection extends Schema.Schema.Type<typeof LimitsSection> {}

/** The limits that apply to one request: its key's (if any) and its account's (if any). */
export interface AppliedLimits {
  readonly key: { readonly subject: string; readonly limits: LimitSet } | undefined
  readonly account: { readonly subject: string; readonly limits: LimitSet } | undefined
}

/**
 * Which limits apply: for the key, its entry in `keys` (by id, then by name),
 * else its own limits (a database key's), else `default`; for the account,
 * its entry in `accounts`.
 */
export const appliedLimits = (section: LimitsSection, principal: Principal, accountId: string): AppliedLimits => {
  const configured = section.keys?.[principal.keyId] ?? (principal.name !== undefined ? section.keys?.[principal.name] : undefined)
  const own = configured ?? (limitsAnything(principal.limits) ? principal.limits : undefined) ?? section.default
  const account = section.accounts?.[accountId]
  return {
    key: limitsAnything(own) ? { subject: principal.name ?? principal.keyId, limits: own } : undefined,
    account: limitsAnything(account) ? { subject: accountId, limits: account } : undefined
  }
}

/** Whether a section limits anything at all (else the gateway skips the limits entirely). */
export const limitsConfigured = (section: LimitsSection): boolean =>
  limitsAnything(section.default) ||
  Object.values(section.accounts ?? {}).some(limitsAnything) ||
  Object.values(section.keys ?? {}).some(limitsAnything)

const DAY = 86_400_000

/** The UTC period containing `now`: its start and end, in ms. Weeks start on Monday. */
export const periodOf = (period: BudgetPeriod, now: number): { readonly start: number; readonly end: number } => {
  if (period === "day") {
    const start = Math.floor(now / DAY) * DAY
    return { start, end: start + DAY }
  }
  if (period === "week") {
    const day = Math.floor(now / DAY)
    // 1970-01-01 was a Thursday: day 0 is 3 days after a Monday.
    const start = (day - ((day + 3) % 7)) * DAY
    return { start, end: start + 7 * DAY }
  }
  const date = new Date(now)
  const start = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1)
  return { start, end: Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1) }
}

/** A duration as OpenAI writes its resets (Go's notation): `17ms`, `1s`, `1.5s`, `6m0s`, `1h2m3s`. */
export const formatReset = (ms: number): string => {
  const total = Math.max(0, Math.ceil(ms))
  if (total < 1000) return `${total}ms`
  const hours = Math.floor(total / 3_600_000)
  const minutes = Math.floor((total % 3_600_000) / 60_000)
  const seconds = (total % 60_000) / 1000
  const s = `${Number.isInteger(seconds) ? seconds : seconds.toFixed(3).replace(/0+$/, "")}s`
  if (hours > 0) return `${hours}h${minutes}m${s}`
  if (minutes > 0) return `${minutes}m${s}`
  return s
}

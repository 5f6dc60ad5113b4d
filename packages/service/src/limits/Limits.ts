/**
 * Rate limits, concurrency limits and budgets per key and per account,
 * checked before a request is forwarded and settled when it is over.
 */
import {
  type Budget,
  type ChatCompletionRequest,
  contentText,
  type CreateResponseRequest,
  type LimitScope,
  type LimitStatusObject,
  type LimitsStatus,
  type Principal,
  QuotaExceeded,
  RateLimitExceeded,
  StoreUnavailable
} from "@switchyard/core"
import { Context, Effect, Layer, Runtime } from "effect"
import { PriceCatalogue } from "../pricing/PriceCatalogue.js"
import { UsageLedger } from "../storage/UsageLedger.js"
import { counter } from "../telemetry/LabelledMetric.js"
import { loadTokenizer, type Tokenizer } from "../Tokenizer.js"
import { appliedLimits, formatReset, type LimitsSection, periodOf } from "./LimitsPolicy.js"
import { LimitStore, type LimitStoreError, type WindowCheck, type WindowState } from "./LimitStore.js"

/** The limits' metrics. */
export const LimitMetrics = {
  refused: counter(
    "switchyard_rate_limited_total",
    "Requests refused by the gateway's own limits, by limit (requests, tokens, concurrency, budget) and scope (key, account)",
    ["limit", "scope"]
  ),
  storeErrors: counter(
    "switchyard_limit_store_errors_total",
    "Limit checks that could not reach the limits' store, by store and what was done (allowed, denied)",
    ["store", "action"]
  )
} as const

/** Who a request is from: its key's principal and the account it acts for. */
export interface LimitedCaller {
  readonly principal: Principal
  readonly accountId: string
}

/** What a call used, for settling its reservation and its budgets. */
export interface UsedTokens {
  readonly promptTokens: number
  readonly completionTokens: number
  readonly cachedTokens: number
  /** The `vendor/model` whose price applies. */
  readonly model: string
}

/** A request let through: settle it once, when it is over. */
export interface Ticket {
  /**
   * Settles the request: token reservations to what it used (`"none"`: it
   * failed before any output; `undefined`: unknown, the reservation stands),
   * concurrency slots released, budgets charged. Never fails.
   */
  readonly settle: (used: UsedTokens | "none" | undefined) => Effect.Effect<void>
}

type Refusal = RateLimitExceeded | QuotaExceeded | StoreUnavailable

interface PlannedWindow extends WindowCheck {
  readonly kind: "requests" | "tokens"
  readonly scope: LimitScope
  readonly subject: string
}

interface PlannedSlot {
  readonly id: string
  readonly limit: number
  readonly scope: LimitScope
  readonly subject: string
}

interface PlannedBudget {
  readonly scope: LimitScope
  readonly subject: string
  /** The cache's key. */
  readonly id: string
  readonly budget: Budget
  readonly keyId: string
  readonly accounts: ReadonlyArray<string> | "all"
}

/** The limits of one key acting for one account, resolved once and reused. */
interface Plan {
  readonly windows: ReadonlyArray<PlannedWindow>
  readonly slots: ReadonlyArray<PlannedSlot>
  readonly budgets: ReadonlyArray<PlannedBudget>
  readonly tokens: boolean
}

const MINUTE = 60_000
const NO_LIMITS: Plan = { windows: [], slots: [], budgets: [], tokens: false }
/** How long a budget's spend read from the ledger is trusted before it is read again (local charges add up meanwhile). */
const BUDGET_FRESH_MS = 5_000
const WARN_EVERY_MS = 60_000

const planOf = (section: LimitsSection, caller: LimitedCaller): Plan => {
  const { account, key } = appliedLimits(section, caller.principal, caller.accountId)
  if (key === undefined && account === undefined) return NO_LIMITS
  const windows: Array<PlannedWindow> = []
  const slots: Array<PlannedSlot> = []
  const budgets: Array<PlannedBudget> = []
  const keyId = caller.principal.keyId
  const add = (scope: LimitScope, id: string, subject: string, set: NonNullable<typeof key>["limits"]) => {
    if (set.requests_per_minute !== undefined) {
      windows.push({ id: `${id}:rpm`, limit: set.requests_per_minute, windowMs: MINUTE, cost: 1, kind: "requests", scope, subject })
    }
    if (set.tokens_per_minute !== undefined) {
      windows.push({ id: `${id}:tpm`, limit: set.tokens_per_minute, windowMs: MINUTE, cost: 0, kind: "tokens", scope, subject })
    }
    if (set.concurrent_requests !== undefined) slots.push({ id: `${id}:conc`, limit: set.concurrent_requests, scope, subject })
    if (set.budget !== undefined) {
      budgets.push({
        scope,
        subject,
        id: `${id}:budget:${set.budget.period}`,
        budget: set.budget,
        keyId,
        accounts: scope === "account" ? [caller.accountId] : caller.principal.admin ? "all" : caller.principal.accountIds
      })
    }
  }
  if (key !== undefined) add("key", `k:${keyId}`, key.subject, key.limits)
  if (account !== undefined) add("account", `a:${caller.accountId}`, account.subject, account.limits)
  return { windows, slots, budgets, tokens: windows.some((w) => w.kind === "tokens") }
}

/** The `x-ratelimit-*` headers of one kind (requests or tokens): the window with the least left. */
const setKindHeaders = (
  headers: Record<string, string>,
  kind: "requests" | "tokens",
  windows: ReadonlyArray<PlannedWindow>,
  states: ReadonlyArray<WindowState | undefined>,
  now: number
) => {
  let best: { limit: number; remaining: number; resetMs: number } | undefined
  for (let i = 0; i < windows.length; i++) {
    const window = windows[i]!
    if (window.kind !== kind) continue
    const state = states[i]
    const remaining = Math.max(0, window.limit - (state?.count ?? 0))
    const resetMs = state === undefined ? 0 : state.start + window.windowMs - now
    if (best === undefined || remaining < best.remaining) best = { limit: window.limit, remaining, resetMs }
  }
  if (best === undefined) return
  headers[`x-ratelimit-limit-${kind}`] = String(best.limit)
  headers[`x-ratelimit-remaining-${kind}`] = String(best.remaining)
  headers[`x-ratelimit-reset-${kind}`] = formatReset(best.resetMs)
}

const budgetText = (budget: Budget): string => (budget.usd !== undefined ? `${budget.usd} USD` : `${budget.tokens} tokens`)

// A concurrency slot's lease id: unique across replicas (a random prefix per process) and requests.
const PROCESS = Math.random().toString(36).slice(2, 10)
let leases = 0

/**
 * The gateway's own limits. `admit` checks every limit that applies to a
 * caller (its key's and its account's) before anything is forwarded: budgets
 * first (from the usage ledger, cached briefly and charged locally), then
 * requests and tokens per minute and concurrency in one `LimitStore.acquire`
 * (all or nothing). Tokens are reserved from an estimate (prompt + maximum
 * completion) and settled with the real usage afterwards.
 */
export class Limits extends Context.Tag("@switchyard/service/Limits")<Limits, {
  /** Whether any caller may be limited (otherwise `admit` need not be called). */
  readonly enabled: boolean
  /** Whether a caller has any limit (a map lookup): if not, `admit` need not be called. */
  readonly applies: (caller: LimitedCaller) => boolean
  /**
   * Checks a request; `reserve` gives its token reservation (called only when
   * a token limit applies), `headers` receives the `x-ratelimit-*` headers of
   * a limited caller (refused or not). `undefined`: nothing to settle.
   */
  readonly admit: (
    caller: LimitedCaller,
    reserve: () => number,
    headers: (headers: Record<string, string>) => void
  ) => Effect.Effect<Ticket | undefined, Refusal>
  /** The reservation of a chat request: its prompt's tokens plus its maximum completion (× `n`). */
  readonly reserveChat: (request: ChatCompletionRequest) => number
  /** The reservation of a Responses request. */
  readonly reserveResponse: (request: CreateResponseRequest) => number
  /** The limits of a caller (or of an account alone), their use now and their resets. */
  readonly status: (caller: LimitedCaller, keyScoped: boolean) => Effect.Effect<LimitsStatus, StoreUnavailable>
}>() {
  /** Limits from the `limits:` section over a store (memory or Redis), the usage ledger and the prices. */
  static readonly layer = (section: LimitsSection = {}): Layer.Layer<Limits, never, LimitStore | UsageLedger | PriceCatalogue> =>
    Layer.effect(Limits, make(section))

  /** No limits at all (what a gateway runs with when it is given no `Limits`). */
  static readonly none: Limits["Type"] = {
    enabled: false,
    applies: () => false,
    admit: () => Effect.succeed(undefined),
    reserveChat: () => 0,
    reserveResponse: () => 0,
    status: (caller) =>
      Effect.succeed({ object: "limits", key_id: caller.principal.keyId, account_id: caller.accountId, data: [] })
  }
}

const make = (section: LimitsSection) =>
  Effect.gen(function*() {
    const store = yield* LimitStore
    // Read synchronously on the hot path; a test's clock when given one.
    const clock = yield* Effect.clock
    const currentMs = () => clock.unsafeCurrentTimeMillis()
    const ledger = yield* UsageLedger
    const prices = yield* PriceCatalogue
    // A database key may carry limits of its own whatever the configuration says: callers are always looked at.
    const enabled = true
    const denyOnStoreError = section.on_store_error === "deny"
    const defaultCompletion = section.default_completion_tokens ?? 1024
    const plans = new Map<string, Plan>()
    const planFor = (caller: LimitedCaller): Plan => {
      const id = `${caller.principal.keyId}\u0000${caller.accountId}`
      let plan = plans.get(id)
      if (plan === undefined) {
        if (plans.size > 10_000) plans.clear()
        plans.set(id, plan = planOf(section, caller))
        if (plan.tokens && !tokenizerStarted) {
          tokenizerStarted = true
          startTokenizer()
        }
      }
      return plan
    }

    // The tokenizer loads in the background when a token limit exists; until then prompts are estimated at 4 characters a token.
    let tokenizer: Tokenizer | undefined
    const loadingTokenizer = Effect.runtime<never>().pipe(
      Effect.map((runtime) => () => {
        Runtime.runFork(runtime)(loadTokenizer().pipe(
          Effect.tap((loaded) => Effect.sync(() => (tokenizer = loaded))),
          Effect.catchAll((error) => Effect.logWarning("Prompts are estimated at 4 characters a token", error.message))
        ))
      })
    )
    const startTokenizer = yield* loadingTokenizer
    let tokenizerStarted = false
    // With a token limit in the configuration, the tokenizer is there before the first request (~0.5 s at start).
    const configuredTokens = [section.default, ...Object.values(section.accounts ?? {}), ...Object.values(section.keys ?? {})]
      .some((set) => set?.tokens_per_minute !== undefined)
    if (configuredTokens) {
      tokenizerStarted = true
      tokenizer = yield* loadTokenizer().pipe(
        Effect.catchAll((error) => Effect.as(Effect.logWarning("Prompts are estimated at 4 characters a token", error.message), undefined))
      )
    }
    const countText = (text: string): number => tokenizer === undefined ? Math.ceil(text.length / 4) : tokenizer.count(text)

    let lastWarning = 0
    const storeFailed = (error: LimitStoreError): Effect.Effect<undefined, StoreUnavailable> => {
      LimitMetrics.storeErrors.inc([store.kind, denyOnStoreError ? "denied" : "allowed"])
      const now = currentMs()
      const warn = now - lastWarning >= WARN_EVERY_MS
      if (warn) lastWarning = now
      const log = warn
        ? Effect.logWarning(
          `The limits' store (${store.kind}) is unreachable: requests are ${denyOnStoreError ? "refused (503)" : "let through unlimited"} ` +
            "(limits.on_store_error); this is logged at most once a minute",
          error.message
        )
        : Effect.void
      return denyOnStoreError
        ? Effect.zipRight(log, Effect.fail(new StoreUnavailable({ message: "The gateway's rate-limit store is unreachable; try again shortly." })))
        : Effect.as(log, undefined)
    }

    // Budgets: what each budget has spent this period, read from the ledger and charged locally between reads.
    interface Spend {
      periodStart: number
      value: number
      readAt: number
      reading: boolean
    }
    const spends = new Map<string, Spend>()
    const readSpend = (budget: PlannedBudget, start: number, now: number) =>
      Effect.map(
        ledger.summarize({
          start,
          end: now + 1,
          groupBy: budget.scope === "account" ? "account" : "key",
          accounts: budget.accounts
        }),
        (buckets) => {
          let value = 0
          for (const bucket of buckets) {
            if (budget.scope === "key" && bucket.group !== budget.keyId) continue
            value += budget.budget.usd !== undefined ? bucket.costUsd : bucket.promptTokens + bucket.completionTokens
          }
          return value
        }
      )
    const spent = (budget: PlannedBudget, now: number): Effect.Effect<number, StoreUnavailable> => {
      const { start } = periodOf(budget.budget.period, now)
      const known = spends.get(budget.id)
      if (known !== undefined && known.periodStart === start) {
        if (now - known.readAt > BUDGET_FRESH_MS && !known.reading) {
          known.reading = true
          return Effect.as(
            Effect.forkDaemon(readSpend(budget, start, now).pipe(
              Effect.tap((value) => Effect.sync(() => Object.assign(known, { value, readAt: currentMs() }))),
              Effect.catchAll(() => Effect.void),
              Effect.ensuring(Effect.sync(() => (known.reading = false)))
            )),
            known.value
          )
        }
        return Effect.succeed(known.value)
      }
      return Effect.tap(readSpend(budget, start, now), (value) =>
        Effect.sync(() => spends.set(budget.id, { periodStart: start, value, readAt: now, reading: false })))
    }
    const charge = (plan: Plan, used: UsedTokens, now: number) => {
      let cost: number | undefined
      for (const budget of plan.budgets) {
        const known = spends.get(budget.id)
        if (known === undefined || known.periodStart !== periodOf(budget.budget.period, now).start) continue
        if (budget.budget.usd !== undefined) {
          cost ??= prices.cost(used.model, used)
          known.value += cost
        } else {
          known.value += used.promptTokens + used.completionTokens
        }
      }
    }

    const checkBudgets = (plan: Plan, now: number): Effect.Effect<void, QuotaExceeded | StoreUnavailable> =>
      Effect.forEach(plan.budgets, (budget) =>
        Effect.flatMap(
          // The ledger unreadable on a cold read: as for the counters' store (limits.on_store_error).
          Effect.catchAll(spent(budget, now), (error) =>
            denyOnStoreError ? Effect.fail(error) : Effect.as(Effect.logWarning("A budget's spend could not be read", error.message), 0)),
          (value) => {
          const max = budget.budget.usd ?? budget.budget.tokens!
          if (value < max) return Effect.void
          LimitMetrics.refused.inc(["budget", budget.scope])
          return Effect.fail(
            new QuotaExceeded({
              scope: budget.scope,
              subject: budget.subject,
              budget: budgetText(budget.budget),
              period: budget.budget.period,
              resetsAt: Math.floor(periodOf(budget.budget.period, now).end / 1000)
            })
          )
        }
        ), { discard: true })

    const admitWindows = (
      plan: Plan,
      reserve: () => number,
      setHeaders: (headers: Record<string, string>) => void,
      now: number
    ): Effect.Effect<Ticket | undefined, Refusal> => {
      const reserved = plan.tokens ? reserve() : 0
      const checks: ReadonlyArray<PlannedWindow> = plan.tokens
        ? plan.windows.map((w) => (w.kind === "tokens" ? { ...w, cost: reserved } : w))
        : plan.windows
      const lease = `${PROCESS}.${(leases++).toString(36)}`
      return Effect.matchEffect(store.acquire(checks, plan.slots, lease, now), {
        onFailure: storeFailed,
        onSuccess: (result) => {
          if (result._tag === "Refused") {
            const states = checks.map((w, i) =>
              i === result.index ? { start: now + result.retryAfterMs - w.windowMs, count: w.limit } : undefined
            )
            const headers: Record<string, string> = {}
            setKindHeaders(headers, "requests", checks, states, now)
            setKindHeaders(headers, "tokens", checks, states, now)
            setHeaders(headers)
            const window = checks[result.index]
            const slot = plan.slots[result.index - checks.length]
            const refused = window !== undefined
              ? { limit: window.kind, scope: window.scope, subject: window.subject, max: window.limit, requested: window.cost }
              : { limit: "concurrency" as const, scope: slot!.scope, subject: slot!.subject, max: slot!.limit, requested: 1 }
            LimitMetrics.refused.inc([refused.limit, refused.scope])
            return Effect.fail(new RateLimitExceeded({ ...refused, retryAfterMs: Math.max(1, result.retryAfterMs) }))
          }
          if (checks.length > 0) {
            const headers: Record<string, string> = {}
            setKindHeaders(headers, "requests", checks, result.windows, now)
            setKindHeaders(headers, "tokens", checks, result.windows, now)
            setHeaders(headers)
          }
          return Effect.succeed(ticketOf(plan, checks, result.windows, reserved, lease))
        }
      })
    }

    const ticketOf = (
      plan: Plan,
      checks: ReadonlyArray<PlannedWindow>,
      states: ReadonlyArray<WindowState>,
      reserved: number,
      lease: string
    ): Ticket => {
      let settled = false
      return {
        settle: (used) =>
          Effect.suspend(() => {
            if (settled) return Effect.void
            settled = true
            const now = currentMs()
            if (used !== undefined && used !== "none") charge(plan, used, now)
            const actual = used === undefined ? reserved : used === "none" ? 0 : used.promptTokens + used.completionTokens
            const windows: Array<{ id: string; start: number; delta: number }> = []
            if (actual !== reserved) {
              for (let i = 0; i < checks.length; i++) {
                if (checks[i]!.kind === "tokens") windows.push({ id: checks[i]!.id, start: states[i]!.start, delta: actual - reserved })
              }
            }
            if (windows.length === 0 && plan.slots.length === 0) return Effect.void
            const settle = store.settle({ windows, slots: plan.slots.map((slot) => slot.id), lease }).pipe(
              Effect.catchAll((error) => Effect.logWarning("Could not settle a request's limits", error.message))
            )
            // The memory store settles at once; a remote one in the background (the answer is out already).
            return store.kind === "memory" ? settle : Effect.asVoid(Effect.forkDaemon(settle))
          })
      }
    }

    const admit = (caller: LimitedCaller, reserve: () => number, setHeaders: (headers: Record<string, string>) => void) => {
      const plan = planFor(caller)
      if (plan === NO_LIMITS) return Effect.succeed(undefined)
      const now = currentMs()
      if (plan.budgets.length === 0) return admitWindows(plan, reserve, setHeaders, now)
      return Effect.zipRight(checkBudgets(plan, now), admitWindows(plan, reserve, setHeaders, now))
    }

    const reserveChat = (request: ChatCompletionRequest): number => {
      let prompt = 3
      for (const message of request.messages) {
        prompt += 3 + countText(contentText(message.content as Parameters<typeof contentText>[0]))
      }
      if (request.tools != null && request.tools.length > 0) prompt += countText(JSON.stringify(request.tools))
      const completion = request.max_completion_tokens ?? request.max_tokens ?? defaultCompletion
      return prompt + completion * (request.n ?? 1)
    }

    const reserveResponse = (request: CreateResponseRequest): number => {
      const input = request.input === undefined ? "" : typeof request.input === "string" ? request.input : JSON.stringify(request.input)
      const prompt = 3 + countText(input) + (request.instructions != null ? countText(request.instructions) : 0)
      return prompt + (request.max_output_tokens ?? defaultCompletion)
    }

    const status = (caller: LimitedCaller, keyScoped: boolean): Effect.Effect<LimitsStatus, StoreUnavailable> =>
      Effect.gen(function*() {
        const full = planOf(section, caller)
        const plan: Plan = keyScoped ? full : {
          windows: full.windows.filter((w) => w.scope === "account"),
          slots: full.slots.filter((s) => s.scope === "account"),
          budgets: full.budgets.filter((b) => b.scope === "account"),
          tokens: false
        }
        const now = currentMs()
        const peeked = yield* store.peek(plan.windows, plan.slots.map((slot) => slot.id), now).pipe(
          Effect.mapError(() => new StoreUnavailable({ message: "The gateway's rate-limit store is unreachable; try again shortly." }))
        )
        const data: Array<LimitStatusObject> = []
        plan.windows.forEach((window, i) => {
          const state = peeked.windows[i]
          const used = state?.count ?? 0
          data.push({
            scope: window.scope,
            subject: window.subject,
            type: window.kind,
            limit: window.limit,
            used,
            remaining: Math.max(0, window.limit - used),
            reset_seconds: state === undefined ? 0 : Math.max(0, (state.start + window.windowMs - now) / 1000)
          })
        })
        plan.slots.forEach((slot, i) => {
          const used = peeked.slots[i] ?? 0
          data.push({
            scope: slot.scope,
            subject: slot.subject,
            type: "concurrency",
            limit: slot.limit,
            used,
            remaining: Math.max(0, slot.limit - used),
            reset_seconds: 0
          })
        })
        for (const budget of plan.budgets) {
          const used = yield* spent(budget, now)
          const max = budget.budget.usd ?? budget.budget.tokens!
          data.push({
            scope: budget.scope,
            subject: budget.subject,
            type: budget.budget.usd !== undefined ? "budget_usd" : "budget_tokens",
            limit: max,
            used: budget.budget.usd !== undefined ? Math.round(used * 1e9) / 1e9 : used,
            remaining: Math.max(0, max - used),
            reset_seconds: (periodOf(budget.budget.period, now).end - now) / 1000,
            period: budget.budget.period
          })
        }
        return {
          object: "limits" as const,
          key_id: keyScoped ? caller.principal.keyId : null,
          account_id: caller.accountId,
          data
        }
      })

    return {
      enabled,
      applies: (caller) => planFor(caller) !== NO_LIMITS,
      admit,
      reserveChat,
      reserveResponse,
      status
    } satisfies Limits["Type"]
  })

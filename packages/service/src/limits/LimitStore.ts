/**
 * Where the limits' counters live: a port with an in-memory implementation
 * (one gateway) here, and a Redis one in `@switchyard/store` (replicas sharing
 * one set of counters). One `acquire` checks every limit of a request and
 * takes them all or none, atomically: a request refused by its account's
 * limit does not count against its key's.
 */
import { Context, Effect, Layer, Schema } from "effect"

/** A windowed counter: requests or tokens per window, the window starting with its first use. */
export interface WindowCheck {
  readonly id: string
  readonly limit: number
  readonly windowMs: number
  /** What this request takes: 1 request, or its token reservation. */
  readonly cost: number
}

/** A concurrency counter: requests at once. */
export interface SlotCheck {
  readonly id: string
  readonly limit: number
}

/** A window's state: when it started (ms) and what it holds. */
export interface WindowState {
  readonly start: number
  readonly count: number
}

/** Every limit took the request: each window's state after it (in the order given). */
export interface Admitted {
  readonly _tag: "Admitted"
  readonly windows: ReadonlyArray<WindowState>
}

/** A limit refused the request (nothing was taken): which (windows first, then slots) and when to retry. */
export interface Refused {
  readonly _tag: "Refused"
  readonly index: number
  readonly retryAfterMs: number
  /** What that counter holds now. */
  readonly used: number
}

/** Gives back what a request took: token reservations adjusted to the real use, its concurrency slots. */
export interface Settlement {
  /** Added to a window's count (negative to give back), only if the window started at `start` (else it is gone). */
  readonly windows: ReadonlyArray<{ readonly id: string; readonly start: number; readonly delta: number }>
  readonly slots: ReadonlyArray<string>
  /** The lease the slots were taken under. */
  readonly lease: string
}

/** The store could not be reached or failed. */
export class LimitStoreError extends Schema.TaggedError<LimitStoreError>()("LimitStoreError", {
  message: Schema.String,
  cause: Schema.optional(Schema.Unknown)
}) {}

/** How long a concurrency slot lasts if its release never comes (a replica that died): one hour. */
export const SLOT_LEASE_MS = 3_600_000

/** The counters of the limits. */
export class LimitStore extends Context.Tag("@switchyard/service/LimitStore")<LimitStore, {
  /** `memory` or `redis`. */
  readonly kind: string
  /** Checks every limit; takes them all (windows by their cost, one slot each under `lease`) or none. */
  readonly acquire: (
    windows: ReadonlyArray<WindowCheck>,
    slots: ReadonlyArray<SlotCheck>,
    lease: string,
    now: number
  ) => Effect.Effect<Admitted | Refused, LimitStoreError>
  /** Settles a request: its token windows to what it used, its slots released. */
  readonly settle: (settlement: Settlement) => Effect.Effect<void, LimitStoreError>
  /** The current state of windows (an unused or expired one is `undefined`) and slots (held now). */
  readonly peek: (
    windows: ReadonlyArray<{ readonly id: string; readonly windowMs: number }>,
    slots: ReadonlyArray<string>,
    now: number
  ) => Effect.Effect<{ readonly windows: ReadonlyArray<WindowState | undefined>; readonly slots: ReadonlyArray<number> }, LimitStoreError>
}>() {
  /** Counters in this process's memory: exact for one gateway; each replica would count on its own. */
  static readonly layerMemory: Layer.Layer<LimitStore> = Layer.sync(LimitStore, () => makeMemoryLimitStore())
}

/** The in-memory store (synchronous underneath: no I/O, no fiber). */
export const makeMemoryLimitStore = (): LimitStore["Type"] => {
  const windows = new Map<string, { start: number; count: number; windowMs: number }>()
  const slots = new Map<string, number>()
  const live = (id: string, now: number) => {
    const window = windows.get(id)
    return window !== undefined && now < window.start + window.windowMs ? window : undefined
  }
  // Expired windows are dropped now and then, so keys that stop calling do not stay in memory.
  let sweepAt = 0
  const sweep = (now: number) => {
    if (now < sweepAt) return
    sweepAt = now + 60_000
    for (const [id, window] of windows) if (now >= window.start + window.windowMs) windows.delete(id)
  }
  return {
    kind: "memory",
    acquire: (checks, slotChecks, _lease, now) =>
      Effect.sync((): Admitted | Refused => {
        sweep(now)
        for (let i = 0; i < checks.length; i++) {
          const check = checks[i]!
          const window = live(check.id, now)
          const count = window?.count ?? 0
          if (count + check.cost > check.limit) {
            return { _tag: "Refused", index: i, retryAfterMs: window === undefined ? check.windowMs : window.start + window.windowMs - now, used: count }
          }
        }
        for (let j = 0; j < slotChecks.length; j++) {
          const held = slots.get(slotChecks[j]!.id) ?? 0
          if (held + 1 > slotChecks[j]!.limit) return { _tag: "Refused", index: checks.length + j, retryAfterMs: 1000, used: held }
        }
        const states: Array<WindowState> = []
        for (const check of checks) {
          let window = live(check.id, now)
          if (window === undefined) windows.set(check.id, window = { start: now, count: 0, windowMs: check.windowMs })
          window.count += check.cost
          states.push({ start: window.start, count: window.count })
        }
        for (const slot of slotChecks) slots.set(slot.id, (slots.get(slot.id) ?? 0) + 1)
        return { _tag: "Admitted", windows: states }
      }),
    settle: (settlement) =>
      Effect.sync(() => {
        for (const { delta, id, start } of settlement.windows) {
          const window = windows.get(id)
          if (window !== undefined && window.start === start) window.count = Math.max(0, window.count + delta)
        }
        for (const id of settlement.slots) {
          const held = (slots.get(id) ?? 0) - 1
          if (held > 0) slots.set(id, held)
          else slots.delete(id)
        }
      }),
    peek: (checks, slotIds, now) =>
      Effect.sync(() => ({
        windows: checks.map((check) => {
          const window = live(check.id, now)
          return window === undefined ? undefined : { start: window.start, count: window.count }
        }),
        slots: slotIds.map((id) => slots.get(id) ?? 0)
      }))
  }
}

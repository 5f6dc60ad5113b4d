/**
 * Circuit breakers, one per target (`vendor/model`), shared by every route
 * and direct call. A breaker opens after `failureThreshold` consecutive
 * failures (of the kinds routes fall back on); while open, requests skip its
 * target without connecting; after `cooldownMs` it is half-open and lets one
 * probe request through: success closes it, failure opens it for another
 * cooldown. Plain synchronous state on the hot path: a target that has never
 * failed costs one size check.
 */
import type { BreakerSettings } from "./RoutingPolicy.js"

/** Where a breaker is. */
export type CircuitStatus = "closed" | "open" | "half_open"

/** One target's breaker, as metrics and logs see it. */
export interface CircuitState {
  /** The target, `vendor/model`. */
  readonly target: string
  readonly status: CircuitStatus
  /** Failures in a row so far. */
  readonly consecutiveFailures: number
  /** Time until it lets a probe through: 0 unless open. */
  readonly halfOpenInMs: number
}

/** `admit`: the attempt may go. */
export const ADMITTED = 0
/** `admit`: the attempt may go, and it is the half-open breaker's probe (report its end: success, failure or `release`). */
export const PROBE = -1
/** What a half-open breaker whose probe is still running says to wait. */
const PROBE_PENDING_MS = 1_000

interface Breaker {
  failures: number
  /** 0 while closed; else when the open state ends (half-open from then on). */
  openUntil: number
  /** A probe is running. */
  probing: boolean
}

/**
 * The breakers of every target, by vendor then model (no key to build per
 * request). Entries exist only for targets that have failed since their last
 * success.
 */
export class CircuitBreakers {
  private readonly byVendor = new Map<string, Map<string, Breaker>>()
  private entries = 0

  constructor(readonly settings: BreakerSettings) {}

  private get(vendor: string, model: string): Breaker | undefined {
    return this.entries === 0 ? undefined : this.byVendor.get(vendor)?.get(model)
  }

  /**
   * Whether an attempt on a target may go now: `ADMITTED`, `PROBE` (it may,
   * as the half-open breaker's one probe), or the milliseconds until the
   * breaker lets a probe through (it may not).
   */
  admit(vendor: string, model: string, nowMs: number): number {
    const breaker = this.get(vendor, model)
    if (breaker === undefined || breaker.openUntil === 0) return ADMITTED
    if (nowMs < breaker.openUntil) return breaker.openUntil - nowMs
    if (breaker.probing) return PROBE_PENDING_MS
    breaker.probing = true
    return PROBE
  }

  /** Like `admit`, without taking the probe: 0 when an attempt would go now, else the milliseconds to wait. */
  blockedFor(vendor: string, model: string, nowMs: number): number {
    const breaker = this.get(vendor, model)
    if (breaker === undefined || breaker.openUntil === 0) return 0
    if (nowMs < breaker.openUntil) return breaker.openUntil - nowMs
    return breaker.probing ? PROBE_PENDING_MS : 0
  }

  /** An attempt succeeded: the breaker closes. */
  success(vendor: string, model: string): void {
    if (this.entries === 0) return
    const models = this.byVendor.get(vendor)
    if (models?.delete(model) === true) {
      this.entries--
      if (models.size === 0) this.byVendor.delete(vendor)
    }
  }

  /**
   * A stream's first chunks arrived: the target answers, so the breaker closes
   * (a probe's verdict), but its count of failures stands until the stream
   * ends well (`success`): streams cut after their first chunk, one after the
   * other, still open it.
   */
  started(vendor: string, model: string): void {
    const breaker = this.get(vendor, model)
    if (breaker !== undefined) {
      breaker.openUntil = 0
      breaker.probing = false
    }
  }

  /** An attempt failed in a way that counts: the breaker opens at the threshold, or again after a failed probe. */
  failure(vendor: string, model: string, nowMs: number): void {
    if (!this.settings.enabled) return
    let models = this.byVendor.get(vendor)
    if (models === undefined) this.byVendor.set(vendor, models = new Map())
    let breaker = models.get(model)
    if (breaker === undefined) {
      models.set(model, breaker = { failures: 0, openUntil: 0, probing: false })
      this.entries++
    }
    breaker.failures++
    breaker.probing = false
    if (breaker.openUntil === 0 ? breaker.failures >= this.settings.failureThreshold : nowMs >= breaker.openUntil) {
      breaker.openUntil = nowMs + this.settings.cooldownMs
    }
  }

  /** A probe ended without a verdict (cancelled, or a client error): the next request probes instead. */
  release(vendor: string, model: string): void {
    const breaker = this.get(vendor, model)
    if (breaker !== undefined) breaker.probing = false
  }

  /** Every breaker that has state (the others are closed), at `nowMs`. */
  states(nowMs: number): ReadonlyArray<CircuitState> {
    const states: Array<CircuitState> = []
    for (const [vendor, models] of this.byVendor) {
      for (const [model, breaker] of models) {
        const open = breaker.openUntil > nowMs
        states.push({
          target: `${vendor}/${model}`,
          status: breaker.openUntil === 0 ? "closed" : open ? "open" : "half_open",
          consecutiveFailures: breaker.failures,
          halfOpenInMs: open ? breaker.openUntil - nowMs : 0
        })
      }
    }
    return states
  }
}

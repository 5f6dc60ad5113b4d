/**
 * What happened during one call, for whoever serves it: the target that
 * answered and every upstream attempt (retries, fallbacks, hedges) with its
 * outcome and duration. A caller that wants it puts an empty record on the
 * `RequestContext` (`makeCallRecord()`); `ChatCompletions` fills it in with
 * plain pushes and assignments (no Effect step), so the gateway can set
 * `x-switchyard-target`, write the usage ledger and the access log, and count
 * metrics without the service knowing about any of them.
 */
import type { GatewayError } from "@switchyard/core"

/** How one upstream attempt ended. */
export type AttemptOutcome =
  | "ok"
  | "rate_limited"
  | "overloaded"
  | "timeout"
  | "unavailable"
  | "bad_response"
  | "rejected"
  | "cancelled"

/** Why an attempt was made. */
export type AttemptKind = "first" | "retry" | "fallback" | "hedge"

/** One upstream attempt. */
export interface AttemptRecord {
  /** The target, as `vendor/model`. */
  readonly target: string
  readonly vendor: string
  readonly kind: AttemptKind
  /** When it started (`performance.now()` milliseconds). */
  readonly startedAt: number
  /** Until the answer (non-streaming) or the first chunk (streams); `undefined` while running. */
  durationMs: number | undefined
  outcome: AttemptOutcome | undefined
  /** The failure's message, when it failed. */
  error: string | undefined
}

/** What happened during one call. Mutable: filled in by the service as the call goes. */
export interface CallRecord {
  /** The target that answered (`vendor/model`), once known. */
  target: string | undefined
  /** Its vendor. */
  vendor: string | undefined
  /** The route the request named, when it named one. */
  route: string | undefined
  /** Every attempt, in the order they started. */
  readonly attempts: Array<AttemptRecord>
}

/** An empty record, to put on a `RequestContext`. */
export const makeCallRecord = (): CallRecord => ({ target: undefined, vendor: undefined, route: undefined, attempts: [] })

/** The outcome an error stands for. */
export const outcomeOf = (error: GatewayError): AttemptOutcome => {
  switch (error._tag) {
    case "UpstreamRateLimited":
      return "rate_limited"
    case "UpstreamOverloaded":
      return "overloaded"
    case "UpstreamTimeout":
      return "timeout"
    case "UpstreamUnavailable":
      return "unavailable"
    case "UpstreamBadResponse":
      return "bad_response"
    default:
      return "rejected"
  }
}

/** Starts an attempt on a record (returns it, to finish later). */
export const startAttempt = (record: CallRecord, target: string, vendor: string, kind: AttemptKind): AttemptRecord => {
  const attempt: AttemptRecord = {
    target,
    vendor,
    kind,
    startedAt: performance.now(),
    durationMs: undefined,
    outcome: undefined,
    error: undefined
  }
  record.attempts.push(attempt)
  return attempt
}

/** Finishes an attempt: its outcome, duration and, on success, the record's answering target. */
export const finishAttempt = (
  record: CallRecord,
  attempt: AttemptRecord,
  outcome: AttemptOutcome,
  error?: string
): void => {
  if (attempt.outcome !== undefined) return
  attempt.durationMs = performance.now() - attempt.startedAt
  attempt.outcome = outcome
  attempt.error = error
  if (outcome === "ok") {
    record.target = attempt.target
    record.vendor = attempt.vendor
  }
}

/** Upstream time: the sum of the attempts' durations (overlapping hedges counted once each). */
export const upstreamMs = (record: CallRecord): number => {
  let total = 0
  for (const attempt of record.attempts) total += attempt.durationMs ?? 0
  return total
}

/** Marks the attempts still running as cancelled (the caller went away, or a hedge lost); call it once the call is over. */
export const settleAttempts = (record: CallRecord): void => {
  for (const attempt of record.attempts) {
    if (attempt.outcome === undefined) {
      attempt.durationMs = performance.now() - attempt.startedAt
      attempt.outcome = "cancelled"
    }
  }
}

/**
 * Marks the attempts still running on other targets than `winner` as
 * cancelled: what a hedged call does once one target has answered (and
 * interrupted the others), so they are not counted as answers.
 */
export const cancelAttempts = (record: CallRecord, winner: string | undefined): void => {
  for (const attempt of record.attempts) {
    if (attempt.outcome === undefined && attempt.target !== winner) {
      attempt.durationMs = performance.now() - attempt.startedAt
      attempt.outcome = "cancelled"
    }
  }
}

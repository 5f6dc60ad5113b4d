/**
 * What happened during one call, for whoever serves it: the target that
 * answered and every upstream attempt (retries, fallbacks, hedges) with its
 * outcome and duration. A caller that wants it puts an empty record on the
 * `RequestContext` (`makeCallRecord()`); `ChatCompletions` fills it in with
 * plain pushes and assignments (no Effect step), so the gateway can set
 * `x-switchyard-target`, write the usage ledger and the access log, count
 * metrics and record spans without the service knowing about any of them.
 * A record with a `trace` gives each attempt a span id, which HTTP providers
 * send to the vendor as `traceparent`.
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

/**
 * The trace a call belongs to, when its caller records the spans itself from
 * the record: attempts get span ids under `parentSpanId`.
 */
export interface TraceContext {
  readonly traceId: string
  /** The caller's span (a server's request span): the parent of the attempts' spans. */
  readonly parentSpanId: string
  readonly sampled: boolean
}

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
  /** Its span's id, when the record has a `trace`. */
  readonly spanId: string | undefined
  /** Where it was sent (HTTP providers note it when the record has a `trace`). */
  url: string | undefined
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
  /** The trace of the call, when its caller records spans from the record. */
  trace: TraceContext | undefined
}

/** An empty record, to put on a `RequestContext`. */
export const makeCallRecord = (trace?: TraceContext): CallRecord => ({
  target: undefined,
  vendor: undefined,
  route: undefined,
  attempts: [],
  trace
})

const ids = Buffer.allocUnsafe(16)

/** A random span id (16 hex digits), or with `16` bytes a trace id (32). */
export const randomId = (bytes: 8 | 16 = 8): string => {
  for (let i = 0; i < bytes; i += 4) ids.writeUInt32BE((Math.random() * 0x100000000) >>> 0, i)
  return ids.toString("hex", 0, bytes)
}

/** The W3C `traceparent` of an attempt of a traced record (what the vendor gets). */
export const attemptTraceparent = (trace: TraceContext, attempt: AttemptRecord): string =>
  `00-${trace.traceId}-${attempt.spanId}-${trace.sampled ? "01" : "00"}`

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
    error: undefined,
    spanId: record.trace === undefined ? undefined : randomId(),
    url: undefined
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
 * The time spent waiting on vendors: from the first attempt's start to the
 * last one's end (attempts still running count until `now`), so backoffs
 * between retries count and overlapping hedges count once. What a server
 * subtracts from a request's duration to get its own share.
 */
export const upstreamWindowMs = (record: CallRecord, now: number = performance.now()): number => {
  const attempts = record.attempts
  if (attempts.length === 0) return 0
  let start = Infinity
  let end = 0
  for (const attempt of attempts) {
    if (attempt.startedAt < start) start = attempt.startedAt
    const finished = attempt.durationMs === undefined ? now : attempt.startedAt + attempt.durationMs
    if (finished > end) end = finished
  }
  return end > start ? end - start : 0
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

import type { GatewayError } from "@switchyard/core"
import { isRetryable } from "@switchyard/core"
import { Duration, Schedule, Schema } from "effect"

/**
 * How a deployment retries and times out upstream calls. A value: build one
 * with `ResiliencePolicy.make({...})`, compare it, log it, test it.
 */
export const ResiliencePolicy = Schema.Struct({
  /** Retries after the first attempt (the official SDKs default to 2). */
  maxRetries: Schema.Int.pipe(Schema.between(0, 10)),
  /** The first backoff delay; it doubles on each retry. */
  initialDelayMs: Schema.Number.pipe(Schema.nonNegative()),
  /** The backoff cap. */
  maxDelayMs: Schema.Number.pipe(Schema.nonNegative()),
  /** A `retry-after` up to this long is waited for; a longer one fails at once and is passed on. */
  maxRetryAfterMs: Schema.Number.pipe(Schema.nonNegative()),
  /** Streams: how long to wait for the first chunk (each attempt). */
  firstChunkTimeoutMs: Schema.Number.pipe(Schema.positive()),
  /** Streams: the longest silence between two chunks. */
  idleTimeoutMs: Schema.Number.pipe(Schema.positive()),
  /** The longest a whole call (stream or not) may take, per attempt. */
  totalTimeoutMs: Schema.Number.pipe(Schema.positive())
}).annotations({ identifier: "ResiliencePolicy" })
export interface ResiliencePolicy extends Schema.Schema.Type<typeof ResiliencePolicy> {}

/** The defaults: 2 retries, 0.5 s doubling to 8 s with jitter, retry-after up to 60 s, 10 min per call. */
export const defaultPolicy: ResiliencePolicy = {
  maxRetries: 2,
  initialDelayMs: 500,
  maxDelayMs: 8_000,
  maxRetryAfterMs: 60_000,
  firstChunkTimeoutMs: 120_000,
  idleTimeoutMs: 120_000,
  totalTimeoutMs: 600_000
}

/** A policy from the defaults and some overrides. */
export const makePolicy = (overrides: Partial<ResiliencePolicy> = {}): ResiliencePolicy => ({
  ...defaultPolicy,
  ...overrides
})

/** The retry-after an error carries, in milliseconds. */
export const retryAfterOf = (error: GatewayError): number | undefined =>
  error._tag === "UpstreamRateLimited" || error._tag === "UpstreamOverloaded" ? error.retryAfterMs : undefined

/** Whether the policy retries this error: retryable, and any retry-after within the limit. */
export const shouldRetry = (policy: ResiliencePolicy, error: GatewayError): boolean => {
  if (!isRetryable(error)) return false
  const retryAfter = retryAfterOf(error)
  return retryAfter === undefined || retryAfter <= policy.maxRetryAfterMs
}

/**
 * The retry schedule of a policy, fed with the errors: exponential backoff
 * from `initialDelayMs`, doubling, capped at `maxDelayMs`, with jitter that
 * shortens each delay by up to 25% (as the official SDKs do); a retry-after on
 * the error replaces the backoff; at most `maxRetries` retries, and only of
 * errors `shouldRetry` accepts.
 */
export const retrySchedule = (policy: ResiliencePolicy): Schedule.Schedule<unknown, GatewayError> =>
  Schedule.exponential(Duration.millis(policy.initialDelayMs), 2).pipe(
    Schedule.union(Schedule.spaced(Duration.millis(policy.maxDelayMs))),
    Schedule.jitteredWith({ min: 0.75, max: 1 }),
    Schedule.intersect(Schedule.recurs(policy.maxRetries)),
    Schedule.intersect(Schedule.identity<GatewayError>()),
    Schedule.whileInput((error: GatewayError) => shouldRetry(policy, error)),
    Schedule.modifyDelay(([, error], delay) => {
      const retryAfter = retryAfterOf(error)
      return retryAfter === undefined ? delay : Duration.millis(retryAfter)
    })
  )

/**
 * Reads an upstream's `retry-after-ms` (milliseconds) or `retry-after`
 * (seconds, or an HTTP date) header, in milliseconds.
 */
export const parseRetryAfter = (
  header: (name: string) => string | undefined,
  nowMs: number
): number | undefined => {
  const ms = header("retry-after-ms")
  if (ms !== undefined) {
    const value = Number.parseFloat(ms)
    if (Number.isFinite(value) && value >= 0) return value
  }
  const raw = header("retry-after")
  if (raw === undefined || raw.trim() === "") return undefined
  const seconds = Number(raw)
  if (Number.isFinite(seconds)) return seconds >= 0 ? seconds * 1000 : undefined
  const date = Date.parse(raw)
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs)
}

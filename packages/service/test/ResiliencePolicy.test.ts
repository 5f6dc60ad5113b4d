import {
  type GatewayError,
  UpstreamOverloaded,
  UpstreamRateLimited,
  UpstreamRejected,
  UpstreamUnavailable
} from "@switchyard/core"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Random, ScheduleDecision, ScheduleIntervals, TestClock } from "effect"
import {
  defaultPolicy,
  makePolicy,
  parseRetryAfter,
  type ResiliencePolicy,
  retrySchedule,
  shouldRetry,
  UpstreamErrors
} from "../src/index.js"
import { pendingDelays, waitUntil } from "./support.js"

const unavailable = new UpstreamUnavailable({ vendor: "openai", message: "503", upstreamStatus: 503 })

/**
 * The delays the retry schedule of `policy` takes, in ms, fed with these
 * errors one step at a time; it stops where the schedule gives up.
 */
const delaysFor = (policy: ResiliencePolicy, errors: ReadonlyArray<GatewayError>, seed = 1) =>
  Effect.gen(function*() {
    const schedule = retrySchedule(policy)
    let state = schedule.initial
    let now = 0
    const delays: Array<number> = []
    for (const error of errors) {
      const [next, , decision] = yield* schedule.step(now, error, state)
      if (ScheduleDecision.isDone(decision)) break
      const start = ScheduleIntervals.start(decision.intervals)
      delays.push(start - now)
      now = start
      state = next
    }
    return delays
  }).pipe(Effect.withRandom(Random.make(seed)))

/** The backoff before retry `k` (0-based) without jitter: 0.5 s·2^k, capped at 8 s. */
const nominal = (k: number) => Math.min(500 * 2 ** k, 8_000)

describe("retrySchedule", () => {
  it.effect("each delay is within [0.75×, 1×] of 0.5 s·2^k capped at 8 s, and the jitter spreads over that range", () =>
    Effect.gen(function*() {
      const policy = makePolicy({ maxRetries: 8 })
      const ratios: Array<number> = []
      for (let seed = 0; seed < 100; seed++) {
        const delays = yield* delaysFor(policy, Array.from({ length: 9 }, () => unavailable), seed)
        expect(delays).toHaveLength(8)
        delays.forEach((delay, k) => {
          expect(delay).toBeGreaterThanOrEqual(0.75 * nominal(k))
          expect(delay).toBeLessThanOrEqual(nominal(k))
          ratios.push(delay / nominal(k))
        })
      }
      expect(Math.min(...ratios)).toBeLessThan(0.78)
      expect(Math.max(...ratios)).toBeGreaterThan(0.97)
    }))

  it.effect("under TestClock, a failing call is retried maxRetries times after those delays, then fails", () =>
    Effect.gen(function*() {
      const policy = makePolicy({ maxRetries: 5 })
      const attempts: Array<number> = []
      const call = Effect.flatMap(TestClock.currentTimeMillis, (now) => {
        attempts.push(now)
        return Effect.fail(unavailable)
      })
      const fiber = yield* Effect.fork(Effect.either(Effect.retry(call, retrySchedule(policy))))

      for (let k = 0; k < 5; k++) {
        yield* waitUntil(`backoff ${k}`, Effect.map(pendingDelays, (delays) => delays.length === 1))
        const [delay] = yield* pendingDelays
        expect(delay).toBeGreaterThanOrEqual(0.75 * nominal(k))
        expect(delay).toBeLessThanOrEqual(nominal(k))
        yield* TestClock.adjust(delay!)
      }
      const result = yield* Fiber.join(fiber)

      expect(result).toMatchObject({ _tag: "Left", left: unavailable })
      expect(attempts).toHaveLength(6)
      const gaps = attempts.slice(1).map((at, i) => at - attempts[i]!)
      gaps.forEach((gap, k) => expect(gap).toBeGreaterThanOrEqual(0.75 * nominal(k)))
    }))

  it.effect("a retry-after on the error replaces the backoff", () =>
    Effect.gen(function*() {
      const delays = yield* delaysFor(defaultPolicy, [
        new UpstreamRateLimited({ vendor: "openai", message: "429", retryAfterMs: 3_000 }),
        new UpstreamOverloaded({ vendor: "anthropic", message: "529", retryAfterMs: 100 })
      ])
      expect(delays).toEqual([3_000, 100])
    }))

  it.effect("a retry-after above maxRetryAfterMs stops the retries at once", () =>
    Effect.gen(function*() {
      const tooLong = new UpstreamRateLimited({ vendor: "openai", message: "429", retryAfterMs: 120_000 })
      expect(yield* delaysFor(defaultPolicy, [tooLong])).toEqual([])
      expect(yield* delaysFor(makePolicy({ maxRetryAfterMs: 120_000 }), [tooLong])).toEqual([120_000])
    }))

  it.effect("an error that is not retryable stops the retries at once", () =>
    Effect.gen(function*() {
      const rejected = new UpstreamRejected({ vendor: "openai", upstreamStatus: 400, message: "bad" })
      expect(yield* delaysFor(defaultPolicy, [rejected])).toEqual([])
      expect(yield* delaysFor(defaultPolicy, [unavailable, rejected])).toHaveLength(1)
    }))

  it.effect("maxRetries bounds the retries (2 by default, 0 for none)", () =>
    Effect.gen(function*() {
      const errors = Array.from({ length: 10 }, () => unavailable)
      expect(yield* delaysFor(defaultPolicy, errors)).toHaveLength(2)
      expect(yield* delaysFor(makePolicy({ maxRetries: 0 }), errors)).toEqual([])
    }))
})

describe("shouldRetry for each upstream status", () => {
  const errorFor = (status: number, headers: Record<string, string> = {}) =>
    UpstreamErrors.fromUpstreamStatus({
      vendor: "openai",
      status,
      header: (name) => headers[name],
      body: JSON.stringify({ error: { message: `status ${status}` } }),
      nowMs: 0
    })

  it.each([408, 409, 429, 500, 502, 503, 504, 529])("%i is retried", (status) => {
    expect(shouldRetry(defaultPolicy, errorFor(status))).toBe(true)
  })

  it.each([400, 401, 403, 404, 422])("%i is not retried", (status) => {
    expect(shouldRetry(defaultPolicy, errorFor(status))).toBe(false)
  })

  it("a 429 or 529 whose retry-after exceeds maxRetryAfterMs is not retried", () => {
    expect(shouldRetry(defaultPolicy, errorFor(429, { "retry-after": "60" }))).toBe(true)
    expect(shouldRetry(defaultPolicy, errorFor(429, { "retry-after": "61" }))).toBe(false)
    expect(shouldRetry(defaultPolicy, errorFor(529, { "retry-after-ms": "60001" }))).toBe(false)
  })

  it("statuses map to the typed errors", () => {
    expect(errorFor(429, { "retry-after": "2" })).toMatchObject({ _tag: "UpstreamRateLimited", retryAfterMs: 2_000 })
    expect(errorFor(529)._tag).toBe("UpstreamOverloaded")
    expect(errorFor(503)).toMatchObject({ _tag: "UpstreamUnavailable", upstreamStatus: 503 })
    expect(errorFor(504)).toMatchObject({ _tag: "UpstreamTimeout", phase: "upstream" })
    expect(errorFor(408)).toMatchObject({ _tag: "UpstreamRejected", upstreamStatus: 408 })
    expect(errorFor(422)).toMatchObject({ _tag: "UpstreamRejected", upstreamStatus: 422, message: "status 422" })
  })
})

describe("parseRetryAfter", () => {
  const now = Date.UTC(2025, 0, 15, 12, 0, 0)
  const headers = (values: Record<string, string>) => (name: string) => values[name]

  it("reads seconds", () => {
    expect(parseRetryAfter(headers({ "retry-after": "2" }), now)).toBe(2_000)
    expect(parseRetryAfter(headers({ "retry-after": "0.5" }), now)).toBe(500)
    expect(parseRetryAfter(headers({ "retry-after": "0" }), now)).toBe(0)
  })

  it("reads an HTTP date, relative to now, and a past date as 0", () => {
    expect(parseRetryAfter(headers({ "retry-after": new Date(now + 30_000).toUTCString() }), now)).toBe(30_000)
    expect(parseRetryAfter(headers({ "retry-after": "Wed, 15 Jan 2025 12:01:00 GMT" }), now)).toBe(60_000)
    expect(parseRetryAfter(headers({ "retry-after": new Date(now - 5_000).toUTCString() }), now)).toBe(0)
  })

  it("reads retry-after-ms, which wins over retry-after", () => {
    expect(parseRetryAfter(headers({ "retry-after-ms": "250" }), now)).toBe(250)
    expect(parseRetryAfter(headers({ "retry-after-ms": "1500", "retry-after": "2" }), now)).toBe(1_500)
  })

  it("ignores absent, empty, negative and garbled values", () => {
    expect(parseRetryAfter(headers({}), now)).toBeUndefined()
    expect(parseRetryAfter(headers({ "retry-after": "" }), now)).toBeUndefined()
    expect(parseRetryAfter(headers({ "retry-after": "-3" }), now)).toBeUndefined()
    expect(parseRetryAfter(headers({ "retry-after": "soon" }), now)).toBeUndefined()
    expect(parseRetryAfter(headers({ "retry-after-ms": "soon", "retry-after": "3" }), now)).toBe(3_000)
  })
})

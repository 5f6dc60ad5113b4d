import type { ChatCompletionChunk } from "@switchyard/core"
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Deferred, Effect, Fiber, Option, Stream, TestClock } from "effect"
import { makeContext, TestProvider } from "../src/index.js"
import { FakeUpstream } from "../src/testing/index.js"
import {
  awaitBackoff,
  completion,
  failureOf,
  realSleep,
  request,
  waitUntil,
  withUpstream
} from "./support.js"

const unavailable = (res: Parameters<FakeUpstream.FakeHandler>[1]) =>
  FakeUpstream.sendJson(res, 503, { error: { message: "The server is overloaded", type: "server_error" } })

const rateLimited = (res: Parameters<FakeUpstream.FakeHandler>[1], headers: Record<string, string>) =>
  FakeUpstream.sendJson(res, 429, { error: { message: "Rate limit reached", type: "rate_limit_error" } }, headers)

const streamed = TestProvider.textChunks("The quick brown fox jumps over the lazy dog", { model: "gpt-4o-mini", chunkSize: 5 })

describe("ChatCompletions over a real upstream: retries", () => {
  it.scoped("503, 503, 200 succeeds after exactly 3 upstream requests, waiting out the backoff", () =>
    Effect.gen(function*() {
      const { fake, service } = yield* withUpstream((_, res, index) =>
        index < 2 ? unavailable(res) : FakeUpstream.sendJson(res, 200, completion("Finally"))
      )
      const fiber = yield* Effect.fork(service.create(request(), makeContext()))

      const first = yield* awaitBackoff(8_000)
      expect(first).toBeGreaterThanOrEqual(375)
      expect(first).toBeLessThanOrEqual(500)
      expect(fake.requests).toHaveLength(1)
      yield* TestClock.adjust(first)

      const second = yield* awaitBackoff(8_000)
      expect(second).toBeGreaterThanOrEqual(750)
      expect(second).toBeLessThanOrEqual(1_000)
      expect(fake.requests).toHaveLength(2)
      yield* TestClock.adjust(second)

      const result = yield* Fiber.join(fiber)
      expect(result.choices[0]!.message.content).toBe("Finally")
      expect(fake.requests).toHaveLength(3)
    }))

  it.scoped("429 with retry-after: 2 waits 2 s of TestClock, not less, before the second attempt", () =>
    Effect.gen(function*() {
      const { fake, service } = yield* withUpstream((_, res, index) =>
        index === 0 ? rateLimited(res, { "retry-after": "2" }) : FakeUpstream.sendJson(res, 200, completion("ok"))
      )
      const fiber = yield* Effect.fork(service.create(request(), makeContext()))

      const delay = yield* awaitBackoff(60_000)
      expect(delay).toBe(2_000)
      yield* TestClock.adjust(1_999)
      yield* realSleep(50)
      expect(fake.requests).toHaveLength(1)
      expect(Option.isNone(yield* Fiber.poll(fiber))).toBe(true)

      yield* TestClock.adjust(1)
      yield* waitUntil("the second attempt", () => fake.requests.length === 2)
      const result = yield* Fiber.join(fiber)
      expect(result.choices[0]!.message.content).toBe("ok")
      expect(fake.requests).toHaveLength(2)
    }))

  it.scoped("429 with retry-after-ms: 1500 waits 1.5 s of TestClock before the second attempt", () =>
    Effect.gen(function*() {
      const { fake, service } = yield* withUpstream((_, res, index) =>
        index === 0 ? rateLimited(res, { "retry-after-ms": "1500" }) : FakeUpstream.sendJson(res, 200, completion("ok"))
      )
      const fiber = yield* Effect.fork(service.create(request(), makeContext()))

      expect(yield* awaitBackoff(60_000)).toBe(1_500)
      yield* TestClock.adjust(1_499)
      yield* realSleep(50)
      expect(fake.requests).toHaveLength(1)

      yield* TestClock.adjust(1)
      yield* Fiber.join(fiber)
      expect(fake.requests).toHaveLength(2)
    }))

  it.scoped("a retry-after above maxRetryAfterMs fails at once with UpstreamRateLimited carrying it, after 1 request", () =>
    Effect.gen(function*() {
      const { fake, service } = yield* withUpstream((_, res) => rateLimited(res, { "retry-after": "120" }))
      // No TestClock adjustment: the call must end without waiting for any backoff.
      const error = failureOf(yield* Effect.exit(service.create(request(), makeContext())))

      expect(error).toMatchObject({ _tag: "UpstreamRateLimited", vendor: "openai", retryAfterMs: 120_000 })
      expect(fake.requests).toHaveLength(1)
    }))

  it.scoped("a stream whose upstream answers 503 before its first chunk is retried transparently", () =>
    Effect.gen(function*() {
      const { fake, service } = yield* withUpstream((_, res, index) =>
        index === 0 ? unavailable(res) : FakeUpstream.sendSse(res, streamed)
      )
      const fiber = yield* Effect.fork(Stream.runCollect(service.stream(request({ stream: true }), makeContext())))

      yield* TestClock.adjust(yield* awaitBackoff(8_000))
      const received = yield* Fiber.join(fiber)
      expect(Chunk.toReadonlyArray(received)).toEqual(streamed)
      expect(fake.requests).toHaveLength(2)
    }))
})

describe("ChatCompletions over a real upstream: broken connections", () => {
  it.scoped("a reset before the first byte (create) is retried and succeeds", () =>
    Effect.gen(function*() {
      const { fake, service } = yield* withUpstream((_, res, index) =>
        index === 0 ? FakeUpstream.reset(res) : FakeUpstream.sendJson(res, 200, completion("after reset"))
      )
      const fiber = yield* Effect.fork(service.create(request(), makeContext()))

      yield* TestClock.adjust(yield* awaitBackoff(8_000))
      const result = yield* Fiber.join(fiber)
      expect(result.choices[0]!.message.content).toBe("after reset")
      expect(fake.requests).toHaveLength(2)
    }))

  it.scoped("a reset before the first byte (stream) is retried and succeeds", () =>
    Effect.gen(function*() {
      const { fake, service } = yield* withUpstream((_, res, index) =>
        index === 0 ? FakeUpstream.reset(res) : FakeUpstream.sendSse(res, streamed)
      )
      const fiber = yield* Effect.fork(Stream.runCollect(service.stream(request({ stream: true }), makeContext())))

      yield* TestClock.adjust(yield* awaitBackoff(8_000))
      const received = yield* Fiber.join(fiber)
      expect(Chunk.toReadonlyArray(received)).toEqual(streamed)
      expect(fake.requests).toHaveLength(2)
    }))

  it.scoped("a reset mid-stream delivers the partial chunks, then UpstreamUnavailable, after exactly 1 request", () =>
    Effect.gen(function*() {
      const { fake, service } = yield* withUpstream((_, res) => FakeUpstream.sendSse(res, streamed, { resetAfter: 4 }))
      const received: Array<ChatCompletionChunk> = []
      const exit = yield* Effect.exit(
        Stream.runForEach(service.stream(request({ stream: true }), makeContext()), (c) => Effect.sync(() => received.push(c)))
      )

      expect(received).toEqual(streamed.slice(0, 4))
      expect(failureOf(exit)).toMatchObject({ _tag: "UpstreamUnavailable", vendor: "openai" })
      expect(fake.requests).toHaveLength(1)
    }))
})

// HTTP providers enforce timeouts in their transport (undici's timers, one deadline timer), so these run on
// real time with short timeouts; they assert which typed error arrives, never how long it took. The same
// policy on Effect's clock, for providers without a transport, is tested with TestClock in TestProvider.test.ts.
describe("ChatCompletions over a real upstream: timeouts", () => {
  it.live("a stall after the first chunks ends the stream with UpstreamTimeout(idle), after the partial chunks", () =>
    Effect.scoped(Effect.gen(function*() {
      const { fake, service } = yield* withUpstream(
        (_, res) => FakeUpstream.sendSse(res, streamed, { stallAfter: 3 }),
        { idleTimeoutMs: 300 }
      )
      const received: Array<ChatCompletionChunk> = []
      const exit = yield* Effect.exit(
        Stream.runForEach(service.stream(request({ stream: true }), makeContext()), (c) => Effect.sync(() => received.push(c)))
      )
      expect(received).toEqual(streamed.slice(0, 3))
      expect(failureOf(exit)).toMatchObject({ _tag: "UpstreamTimeout", phase: "idle" })
      expect(fake.requests).toHaveLength(1)
      yield* waitUntil("the upstream to see the connection closed", () => fake.abortedResponses() === 1)
    })))

  it.live("an upstream that never answers is UpstreamTimeout(first_byte), after the retries", () =>
    Effect.scoped(Effect.gen(function*() {
      const { fake, service } = yield* withUpstream(
        () => {
          // Never answers.
        },
        { firstChunkTimeoutMs: 200, initialDelayMs: 10, maxDelayMs: 20 }
      )
      const exit = yield* Effect.exit(Stream.runCollect(service.stream(request({ stream: true }), makeContext())))
      expect(failureOf(exit)).toMatchObject({ _tag: "UpstreamTimeout", phase: "first_byte" })
      expect(fake.requests).toHaveLength(3)
      yield* waitUntil("the upstream to see 3 connections closed", () => fake.abortedResponses() === 3)
    })))

  it.live("a stream that keeps going past totalTimeoutMs is UpstreamTimeout(total)", () =>
    Effect.scoped(Effect.gen(function*() {
      const endless = Array.from({ length: 1_000 }, (_, i) => streamed[1 + (i % 3)]!)
      const { fake, service } = yield* withUpstream(
        (_, res) => FakeUpstream.sendSse(res, [streamed[0]!, ...endless], { delayMs: 20 }),
        { totalTimeoutMs: 400, idleTimeoutMs: 5_000 }
      )
      const exit = yield* Effect.exit(Stream.runDrain(service.stream(request({ stream: true }), makeContext())))
      expect(failureOf(exit)).toMatchObject({ _tag: "UpstreamTimeout", phase: "total" })
      expect(fake.requests).toHaveLength(1)
    })))

  it.live("a non-streaming call slower than totalTimeoutMs is UpstreamTimeout(total), retried", () =>
    Effect.scoped(Effect.gen(function*() {
      const { fake, service } = yield* withUpstream(
        () => {
          // Never answers.
        },
        { totalTimeoutMs: 200, maxRetries: 1, initialDelayMs: 10 }
      )
      const exit = yield* Effect.exit(service.create(request(), makeContext()))
      expect(failureOf(exit)).toMatchObject({ _tag: "UpstreamTimeout", phase: "total" })
      expect(fake.requests).toHaveLength(2)
    })))
})

describe("ChatCompletions over a real upstream: client interruption", () => {
  it.scoped("interrupting the fiber consuming a stream closes the upstream connection", () =>
    Effect.gen(function*() {
      const { fake, service } = yield* withUpstream((_, res) => FakeUpstream.sendSse(res, streamed, { stallAfter: 2 }))
      const started = yield* Deferred.make<void>()
      const fiber = yield* Effect.fork(
        Stream.runForEach(service.stream(request({ stream: true }), makeContext()), () => Deferred.succeed(started, undefined))
      )
      yield* Deferred.await(started)

      const closed = fake.nextAbort()
      yield* Fiber.interrupt(fiber)
      yield* Effect.promise(() => closed)
      expect(fake.abortedResponses()).toBe(1)
      expect(fake.requests).toHaveLength(1)
    }))

  it.scoped("interrupting create while the upstream thinks closes the upstream connection", () =>
    Effect.gen(function*() {
      const { fake, service } = yield* withUpstream(() => {
        // Never answers.
      })
      const fiber = yield* Effect.fork(service.create(request(), makeContext()))
      yield* waitUntil("the request to arrive", () => fake.requests.length === 1)

      const closed = fake.nextAbort()
      yield* Fiber.interrupt(fiber)
      yield* Effect.promise(() => closed)
      expect(fake.abortedResponses()).toBe(1)
    }))
})

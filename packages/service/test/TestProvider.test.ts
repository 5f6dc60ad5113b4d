/**
 * Testing code that uses `ChatCompletions`, the way a user of the library
 * would: no network, no mocks of modules. `TestProvider.layer` is a scripted
 * vendor (and a registry routing to it); `ChatCompletions.layer()` over it is
 * the real service with its real retries and timeouts, and `TestClock` drives
 * the time.
 */
import { type ChatCompletionChunk, collectCompletion, UpstreamUnavailable } from "@switchyard/core"
import { describe, expect, it, layer } from "@effect/vitest"
import { Chunk, Effect, Fiber, Layer, Option, Stream, TestClock } from "effect"
import { ChatCompletions, makeContext, type ResiliencePolicy, TestProvider, type TestStep } from "../src/index.js"
import { decodeRequest, failureOf } from "./support.js"

/** The real service over a scripted vendor `test`: one step per upstream attempt. */
const scripted = (script: ReadonlyArray<TestStep>, policy: Partial<ResiliencePolicy> = {}) =>
  ChatCompletions.layer({ policy }).pipe(Layer.provideMerge(TestProvider.layer({ script })))

const ask = (content: string, extra: Record<string, unknown> = {}) =>
  decodeRequest({ model: "test/my-model", messages: [{ role: "user", content }], ...extra })

layer(scripted([TestProvider.reply("Hello from the script", { usage: true })]))("TestProvider in a shared layer", (it) => {
  it.effect("create returns the scripted reply and the provider records the call", () =>
    Effect.gen(function*() {
      const service = yield* ChatCompletions
      const result = yield* service.create(ask("Hi"), makeContext({ requestId: "req_1" }))

      expect(result.choices[0]!.message.content).toBe("Hello from the script")
      const calls = yield* (yield* TestProvider).calls
      expect(calls).toHaveLength(1)
      expect(calls[0]).toMatchObject({ vendor: "test", model: "my-model", context: { requestId: "req_1" } })
      expect(calls[0]!.request.messages).toEqual([{ role: "user", content: "Hi" }])
    }))
})

describe("TestProvider with a script per test", () => {
  it.effect("scripted 429 (retry-after 1 s) and 503 are retried under TestClock, then the reply arrives", () =>
    Effect.gen(function*() {
      const service = yield* ChatCompletions
      const provider = yield* TestProvider
      const fiber = yield* Effect.fork(service.create(ask("Hi"), makeContext()))

      yield* TestClock.adjust(999)
      expect(yield* provider.calls).toHaveLength(1)
      yield* TestClock.adjust(1) // the retry-after is over: the second attempt gets a 503
      expect(yield* provider.calls).toHaveLength(2)
      // The second backoff is 0.5 s doubled, shortened by a jitter of up to 25%: between 0.75 s and 1 s.
      yield* TestClock.adjust(749)
      expect(yield* provider.calls).toHaveLength(2)
      yield* TestClock.adjust(251)
      const result = yield* Fiber.join(fiber)

      expect(result.choices[0]!.message.content).toBe("finally")
      expect(yield* provider.calls).toHaveLength(3)
    }).pipe(
      Effect.provide(scripted([TestProvider.rateLimited(1_000), TestProvider.unavailable(503), TestProvider.reply("finally")]))
    ))

  it.effect("retries give up after maxRetries with the last error", () =>
    Effect.gen(function*() {
      const service = yield* ChatCompletions
      const fiber = yield* Effect.fork(Effect.exit(service.create(ask("Hi"), makeContext())))
      yield* TestClock.adjust(500)
      yield* TestClock.adjust(1_000)
      const error = failureOf(yield* Fiber.join(fiber))

      expect(error).toMatchObject({ _tag: "UpstreamUnavailable", upstreamStatus: 502 })
      expect(yield* (yield* TestProvider).calls).toHaveLength(3)
    }).pipe(Effect.provide(scripted([TestProvider.unavailable(502)]))))

  it.effect("a cut stream delivers its chunks, then the typed error, and is not retried", () =>
    Effect.gen(function*() {
      const service = yield* ChatCompletions
      const received: Array<ChatCompletionChunk> = []
      const exit = yield* Effect.exit(
        Stream.runForEach(service.stream(ask("Hi", { stream: true }), makeContext()), (c) => Effect.sync(() => received.push(c)))
      )

      expect(received).toEqual(TestProvider.textChunks("Hello world, this gets cut").slice(0, 3))
      expect(failureOf(exit)).toBeInstanceOf(UpstreamUnavailable)
      expect(yield* (yield* TestProvider).calls).toHaveLength(1)
    }).pipe(Effect.provide(scripted([TestProvider.cut("Hello world, this gets cut", 3), TestProvider.reply("unused")]))))

  it.effect("a stream failing before its first chunk is retried transparently", () =>
    Effect.gen(function*() {
      const service = yield* ChatCompletions
      const fiber = yield* Effect.fork(collectCompletion(service.stream(ask("Hi", { stream: true }), makeContext())))
      yield* TestClock.adjust(500)
      const result = yield* Fiber.join(fiber)

      expect(result.choices[0]!.message.content).toBe("second try")
      expect(yield* (yield* TestProvider).calls).toHaveLength(2)
    }).pipe(Effect.provide(scripted([TestProvider.unavailable(), TestProvider.reply("second try")]))))

  it.effect("a paced reply then a stall: the chunks arrive on TestClock, then the idle timeout ends the stream", () =>
    Effect.gen(function*() {
      const service = yield* ChatCompletions
      const received: Array<ChatCompletionChunk> = []
      const fiber = yield* Effect.fork(Effect.exit(
        Stream.runForEach(service.stream(ask("Hi", { stream: true }), makeContext()), (c) => Effect.sync(() => received.push(c)))
      ))
      yield* TestClock.adjust(100) // the first chunk, after its latency
      expect(received).toHaveLength(1)
      yield* TestClock.adjust(100) // the second one
      expect(received).toHaveLength(2)
      yield* TestClock.adjust(1_999)
      expect(Option.isNone(yield* Fiber.poll(fiber))).toBe(true)
      yield* TestClock.adjust(1) // two seconds of silence: the idle timeout
      const error = failureOf(yield* Fiber.join(fiber))

      expect(error).toMatchObject({ _tag: "UpstreamTimeout", phase: "idle", timeoutMs: 2_000 })
      expect(received).toEqual(TestProvider.textChunks("Hello there").slice(0, 2))
    }).pipe(
      Effect.provide(scripted(
        [TestProvider.stall(TestProvider.textChunks("Hello there").slice(0, 2), { latencyMs: 100, delayMs: 100 })],
        { idleTimeoutMs: 2_000 }
      ))
    ))

  it.effect("a scripted tool call aggregates to the call", () =>
    Effect.gen(function*() {
      const service = yield* ChatCompletions
      const result = yield* service.create(ask("Weather in Paris?"), makeContext())

      expect(result.choices[0]!.message.tool_calls).toEqual([
        { id: "call_test", type: "function", function: { name: "get_weather", arguments: "{\"city\":\"Paris\"}" } }
      ])
      expect(result.choices[0]!.finish_reason).toBe("tool_calls")
    }).pipe(Effect.provide(scripted([TestProvider.toolCall("get_weather", "{\"city\":\"Paris\"}")]))))

  it.effect("the stream's chunks are the scripted ones", () =>
    Effect.gen(function*() {
      const service = yield* ChatCompletions
      const chunks = yield* Stream.runCollect(service.stream(ask("Hi", { stream: true }), makeContext()))
      expect(Chunk.toReadonlyArray(chunks)).toEqual(TestProvider.textChunks("abcdefgh", { chunkSize: 2, usage: true }))
    }).pipe(Effect.provide(scripted([TestProvider.reply("abcdefgh", { chunkSize: 2, usage: true })]))))
})

it("TestProvider.textChunks splits the text into a role chunk, pieces and a finish chunk", () => {
  const chunks = TestProvider.textChunks("abcde", { chunkSize: 2, usage: true })
  expect(chunks.map((c) => c.choices[0]?.delta.content ?? null)).toEqual(["", "ab", "cd", "e", null, null])
  expect(chunks[4]!.choices[0]!.finish_reason).toBe("stop")
  expect(chunks[5]!.usage).toEqual({ prompt_tokens: 10, completion_tokens: 3, total_tokens: 13 })
})

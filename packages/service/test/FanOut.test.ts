import type { ChatCompletionChunk, CompletionUsage } from "@switchyard/core"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Layer, Option, Stream, TestClock } from "effect"
import { ChatCompletions, makeContext, type ProviderCall, TestProvider } from "../src/index.js"
import { decodeRequest } from "./support.js"

const texts = ["alpha beta", "gamma delta epsilon", "zeta eta"]
const usages: Array<CompletionUsage> = [
  { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 },
  { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 },
  { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 }
]

/** A vendor that cannot produce n > 1 itself; each call plays the next reply (paced by 100 ms per chunk). */
const NoN = ChatCompletions.layer().pipe(
  Layer.provideMerge(
    TestProvider.layer({
      supportsN: false,
      script: texts.map((text, i) => TestProvider.reply(text, { chunkSize: 4, usage: usages[i]!, delayMs: 100, id: `chatcmpl-${i}` }))
    })
  )
)

const ask = (extra: Record<string, unknown> = {}) =>
  decodeRequest({ model: "test/model", messages: [{ role: "user", content: "Hi" }], n: 3, ...extra })

/** The choice index each call served, from its request id (`req_fan`, `req_fan-1`, `req_fan-2`). */
const indexOf = (call: ProviderCall) => {
  const match = /-(\d+)$/.exec(call.context.requestId)
  return match === null ? 0 : Number(match[1])
}

/** The text each choice index should get: the scripted reply of the call that served it. */
const expectedTexts = (calls: ReadonlyArray<ProviderCall>) => {
  const byIndex: Array<string> = []
  calls.forEach((call, k) => {
    byIndex[indexOf(call)] = texts[k]!
  })
  return byIndex
}

describe("n > 1 over a vendor without n support", () => {
  it.effect("create makes n single-choice calls and merges them: choices 0..n-1, usage summed", () =>
    Effect.gen(function*() {
      const service = yield* ChatCompletions
      const fiber = yield* Effect.fork(service.create(ask(), makeContext({ requestId: "req_fan" })))
      yield* TestClock.adjust(1_000)
      const result = yield* Fiber.join(fiber)
      const calls = yield* (yield* TestProvider).calls

      expect(calls).toHaveLength(3)
      expect(calls.map((call) => call.request.n)).toEqual([1, 1, 1])
      expect(calls.map(indexOf).sort()).toEqual([0, 1, 2])
      expect(result.choices.map((choice) => choice.index)).toEqual([0, 1, 2])
      expect(result.choices.map((choice) => choice.message.content)).toEqual(expectedTexts(calls))
      expect(result.usage).toEqual({ prompt_tokens: 15, completion_tokens: 7, total_tokens: 22 })
    }).pipe(Effect.provide(NoN)))

  it.effect("stream interleaves the n streams as they arrive, each renumbered to its index, usage summed last", () =>
    Effect.gen(function*() {
      const service = yield* ChatCompletions
      const received: Array<ChatCompletionChunk> = []
      const fiber = yield* Effect.fork(
        Stream.runForEach(
          service.stream(ask({ stream: true, stream_options: { include_usage: true } }), makeContext({ requestId: "req_fan" })),
          (chunk) => Effect.sync(() => received.push(chunk))
        )
      )
      while (Option.isNone(yield* Fiber.poll(fiber))) yield* TestClock.adjust(100)
      yield* Fiber.join(fiber)
      const calls = yield* (yield* TestProvider).calls

      expect(calls).toHaveLength(3)
      expect(calls.map((call) => call.request.n)).toEqual([1, 1, 1])
      // Interleaved: every stream's first chunk comes before any stream's second one (they are 100 ms apart).
      expect(received.slice(0, 3).map((chunk) => chunk.choices[0]!.index).sort()).toEqual([0, 1, 2])
      // One id for the whole answer.
      expect(new Set(received.map((chunk) => chunk.id)).size).toBe(1)
      const choiceChunks = received.slice(0, -1)
      expect(choiceChunks.every((chunk) => chunk.choices.length === 1 && chunk.usage == null)).toBe(true)
      const content = [0, 1, 2].map((index) =>
        choiceChunks
          .filter((chunk) => chunk.choices[0]!.index === index)
          .map((chunk) => chunk.choices[0]!.delta.content ?? "")
          .join("")
      )
      expect(content).toEqual(expectedTexts(calls))
      const finishes = choiceChunks.filter((chunk) => chunk.choices[0]!.finish_reason === "stop")
      expect(finishes.map((chunk) => chunk.choices[0]!.index).sort()).toEqual([0, 1, 2])
      const last = received.at(-1)!
      expect(last.choices).toEqual([])
      expect(last.usage).toEqual({ prompt_tokens: 15, completion_tokens: 7, total_tokens: 22 })
    }).pipe(Effect.provide(NoN)))

  it.effect("n = 1 makes a single call", () =>
    Effect.gen(function*() {
      const service = yield* ChatCompletions
      const result = yield* service.create(ask({ n: 1 }), makeContext())
      expect(result.choices).toHaveLength(1)
      expect(yield* (yield* TestProvider).calls).toHaveLength(1)
    }).pipe(Effect.provide(NoN)))
})

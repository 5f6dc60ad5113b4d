// Your own service over ChatCompletions, tested with a Layer-injected fake: no network, no real
// sleeps. TestProvider plays a script (a 429 with retry-after, then a reply) and records the calls;
// TestClock drives the backoff.
import { describe, expect, it } from "@effect/vitest"
import { ChatCompletionRequest } from "@switchyard/core"
import { ChatCompletions, makeContext, TestProvider } from "@switchyard/service"
import { Context, Effect, Fiber, Layer, Schema, TestClock } from "effect"

/** The application's service: one line out of any text. */
class Summarizer extends Context.Tag("app/Summarizer")<Summarizer, {
  readonly summarize: (text: string) => Effect.Effect<string, unknown>
}>() {
  static readonly layer = Layer.effect(
    Summarizer,
    Effect.gen(function*() {
      const completions = yield* ChatCompletions
      return {
        summarize: (text) =>
          Schema.decodeUnknown(ChatCompletionRequest)({
            model: "openai/gpt-4o-mini",
            messages: [{ role: "system", content: "Summarize in one line." }, { role: "user", content: text }]
          }).pipe(
            Effect.flatMap((request) => completions.create(request, makeContext())),
            Effect.map((completion) => completion.choices[0]?.message.content ?? "")
          )
      }
    })
  )
}

const Fake = Summarizer.layer.pipe(
  Layer.provideMerge(ChatCompletions.layer()),
  Layer.provideMerge(TestProvider.layer({
    vendors: ["openai"],
    script: [TestProvider.rateLimited(5_000), TestProvider.reply("A short summary.")]
  }))
)

describe("Summarizer", () => {
  it.effect("waits out a 429's retry-after, then answers", () =>
    Effect.gen(function*() {
      const summarizer = yield* Summarizer
      const fiber = yield* Effect.fork(summarizer.summarize("A long text."))
      yield* TestClock.adjust("5 seconds")
      expect(yield* Fiber.join(fiber)).toBe("A short summary.")
      const calls = yield* Effect.flatMap(TestProvider, (test) => test.calls)
      expect(calls).toHaveLength(2)
      expect(calls[0]?.request.messages[1]).toMatchObject({ role: "user", content: "A long text." })
    }).pipe(Effect.provide(Fake)))
})

import { type ChatCompletionChunk, ChatCompletionRequest } from "@switchyard/core"
import { expect } from "@effect/vitest"
import { Cause, Chunk, Context, Effect, Exit, Layer, Option, Redacted, Schema, TestClock } from "effect"
import {
  ChatCompletions,
  OpenAiCompatibleProvider,
  ProviderRegistry,
  type ResiliencePolicy,
  type RoutingPolicyError,
  UpstreamHttp
} from "../src/index.js"
import { FakeUpstream } from "../src/testing/index.js"

/** Decodes a request body as the gateway does. */
export const decodeRequest = Schema.decodeUnknownSync(ChatCompletionRequest)

/** A request for `openai/gpt-4o-mini` saying "Hello", with `body` merged in. */
export const request = (body: Record<string, unknown> = {}): ChatCompletionRequest =>
  decodeRequest({ model: "openai/gpt-4o-mini", messages: [{ role: "user", content: "Hello" }], ...body })

/** A pause in real time, whatever clock the test runs with (for I/O to happen). */
export const realSleep = (ms: number): Effect.Effect<void> =>
  Effect.promise(() => new Promise<void>((resolve) => setTimeout(resolve, ms)))

/** Polls (in real time) until `condition` holds; dies naming `what` after `timeoutMs`. */
export const waitUntil = (
  what: string,
  condition: Effect.Effect<boolean> | (() => boolean),
  timeoutMs = 10_000
): Effect.Effect<void> =>
  Effect.suspend(() => {
    const start = Date.now()
    const check = Effect.isEffect(condition) ? condition : Effect.sync(condition)
    const loop: Effect.Effect<void> = Effect.flatMap(check, (ok) =>
      ok
        ? Effect.void
        : Date.now() - start > timeoutMs
        ? Effect.dieMessage(`timed out waiting for ${what}`)
        : Effect.zipRight(realSleep(5), loop))
    return loop
  })

/** The delays (from now) of the sleeps pending on the TestClock. */
export const pendingDelays: Effect.Effect<ReadonlyArray<number>> = Effect.gen(function*() {
  const now = yield* TestClock.currentTimeMillis
  return Chunk.toReadonlyArray(yield* TestClock.sleeps()).map((end) => end - now)
})

/**
 * Waits until the TestClock holds a sleep due in `(0, maxMs]` (a backoff, as
 * opposed to the long timeout timers) and returns its delay.
 */
export const awaitBackoff = (maxMs: number): Effect.Effect<number> =>
  Effect.gen(function*() {
    let found: number | undefined
    yield* waitUntil(
      `a backoff of at most ${maxMs} ms`,
      Effect.map(pendingDelays, (delays) => {
        const short = delays.filter((delay) => delay > 0 && delay <= maxMs)
        found = short.length > 0 ? Math.min(...short) : undefined
        return found !== undefined
      })
    )
    return found!
  })

/** The OpenAI-compatible vendor `openai`, served by a fake upstream. */
export const fakeVendor = (
  fake: FakeUpstream.FakeUpstream,
  overrides: Partial<OpenAiCompatibleProvider.OpenAiCompatibleVendor> = {}
): OpenAiCompatibleProvider.OpenAiCompatibleVendor => ({
  name: "openai",
  baseUrl: fake.baseUrl,
  apiKey: Redacted.make("sk-test"),
  ...overrides
})

/** `ChatCompletions` over one OpenAI-compatible vendor, with its own connection pool. */
export const vendorLayer = (
  vendor: OpenAiCompatibleProvider.OpenAiCompatibleVendor,
  policy: Partial<ResiliencePolicy> = {}
): Layer.Layer<ChatCompletions | ProviderRegistry, RoutingPolicyError> =>
  ChatCompletions.layer({ policy }).pipe(
    Layer.provideMerge(
      Layer.effect(
        ProviderRegistry,
        Effect.map(OpenAiCompatibleProvider.make(vendor), (provider) => ProviderRegistry.make({ [vendor.name]: provider }))
      )
    ),
    Layer.provide(UpstreamHttp.layer())
  )

/**
 * A fake upstream playing `handler` and the `ChatCompletions` service in
 * front of it, both living as long as the test's scope.
 */
export const withUpstream = (
  handler: FakeUpstream.FakeHandler,
  policy: Partial<ResiliencePolicy> = {}
) =>
  Effect.gen(function*() {
    const fake = yield* FakeUpstream.scoped(handler)
    const context = yield* Layer.build(vendorLayer(fakeVendor(fake), policy))
    return { fake, service: Context.get(context, ChatCompletions) }
  })

/** A chunk of `gpt-4o-mini` with the given choices. */
export const chunk = (
  choices: ChatCompletionChunk["choices"],
  extra: Partial<ChatCompletionChunk> = {}
): ChatCompletionChunk => ({
  id: "chatcmpl-abc",
  object: "chat.completion.chunk",
  created: 1_700_000_000,
  model: "gpt-4o-mini",
  choices,
  ...extra
})

/** A content delta of choice 0. */
export const contentChunk = (content: string): ChatCompletionChunk =>
  chunk([{ index: 0, delta: { content }, logprobs: null, finish_reason: null }])

/** A non-streaming completion answering `text`. */
export const completion = (text: string) => ({
  id: "chatcmpl-abc",
  object: "chat.completion",
  created: 1_700_000_000,
  model: "gpt-4o-mini",
  choices: [{
    index: 0,
    message: { role: "assistant", content: text, refusal: null },
    logprobs: null,
    finish_reason: "stop"
  }],
  usage: { prompt_tokens: 8, completion_tokens: 2, total_tokens: 10 }
})

/** The typed failure of an exit; fails the test if it succeeded or died. */
export const failureOf = <A, E>(exit: Exit.Exit<A, E>): E => {
  if (Exit.isSuccess(exit)) expect.fail(`expected a failure, got a success: ${JSON.stringify(exit.value)}`)
  const cause = (exit as Exit.Failure<A, E>).cause
  expect(Cause.isDie(cause), `expected a typed failure, got ${Cause.pretty(cause)}`).toBe(false)
  const failure = Cause.failureOption(cause)
  if (Option.isNone(failure)) return expect.fail(`expected a typed failure, got ${Cause.pretty(cause)}`)
  return failure.value
}

// A small @effect/vitest test as a user writes it: TestProvider under TestClock,
// FakeUpstream over real HTTP, and the embedded gateway.
import { describe, expect, it } from "@effect/vitest"
import { ChatCompletionRequest } from "@switchyard/core"
import { Gateway } from "@switchyard/gateway"
import { ChatCompletions, makeContext, ServiceConfig, TestProvider } from "@switchyard/service"
import { FakeUpstream } from "@switchyard/service/testing"
import { ConfigProvider, Context, Effect, Fiber, Layer, Schema, TestClock } from "effect"

const request = (model: string) =>
  Schema.decodeUnknownSync(ChatCompletionRequest)({ model, messages: [{ role: "user", content: "Hi" }] })

describe("the published packages", () => {
  it.effect("TestProvider: a 429 is retried after its retry-after, on the TestClock", () =>
    Effect.gen(function*() {
      const completions = yield* ChatCompletions
      const fiber = yield* Effect.fork(completions.create(request("openai/gpt-4o"), makeContext()))
      yield* TestClock.adjust("2 seconds")
      const completion = yield* Fiber.join(fiber)
      expect(completion.choices[0]?.message.content).toBe("Hello!")
      expect(yield* Effect.flatMap(TestProvider, (test) => test.calls)).toHaveLength(2)
    }).pipe(Effect.provide(ChatCompletions.layer().pipe(Layer.provideMerge(TestProvider.layer({
      vendors: ["openai"],
      script: [TestProvider.rateLimited(2_000), TestProvider.reply("Hello!")]
    }))))))

  it.scopedLive("FakeUpstream behind the embedded gateway, over real HTTP", () =>
    Effect.gen(function*() {
      const upstream = yield* FakeUpstream.scoped((_request, response) =>
        FakeUpstream.sendJson(response, 200, {
          id: "chatcmpl-1",
          object: "chat.completion",
          created: 1_700_000_000,
          model: "gpt-4o",
          choices: [{ index: 0, message: { role: "assistant", content: "from the fake" }, finish_reason: "stop", logprobs: null }],
          usage: { prompt_tokens: 1, completion_tokens: 3, total_tokens: 4 }
        }))
      const service = ServiceConfig.layer().pipe(Layer.provide(Layer.setConfigProvider(
        ConfigProvider.fromMap(new Map([["OPENAI_BASE_URL", upstream.baseUrl], ["OPENAI_API_KEY", "sk-fake"]]))
      )))
      const context = yield* Layer.build(Gateway.layer({ port: 0, apiKeys: ["sk-mine"] }).pipe(Layer.provide(service)))
      const server = Context.get(context, Gateway.Server)
      const response = yield* Effect.promise(() =>
        fetch(`${server.url}/v5/chat/completions`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: "Bearer sk-mine" },
          body: JSON.stringify({ model: "openai/gpt-4o", messages: [{ role: "user", content: "Hi" }] })
        }))
      expect(response.status).toBe(200)
      const body = (yield* Effect.promise(() => response.json())) as { choices: Array<{ message: { content: string } }> }
      expect(body.choices[0]?.message.content).toBe("from the fake")
      expect(upstream.requests[0]?.headers.authorization).toBe("Bearer sk-fake")
    }))
})

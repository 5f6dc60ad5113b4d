import { ModelNotFound } from "@switchyard/core"
import { describe, expect, it, layer } from "@effect/vitest"
import { Context, Effect, Layer } from "effect"
import { ChatCompletions, makeContext, ProviderRegistry, TestProvider } from "../src/index.js"
import { FakeUpstream } from "../src/testing/index.js"
import { completion, decodeRequest, failureOf, fakeVendor, vendorLayer } from "./support.js"

const Registry = ChatCompletions.layer().pipe(
  Layer.provideMerge(
    TestProvider.layer({
      vendors: ["openai", "openrouter", "echo"],
      script: [TestProvider.reply("ok")],
      registry: { aliases: { fast: "openrouter/meta-llama/llama-3.1-8b", "team/default": "openai/gpt-4o" } }
    })
  )
)

layer(Registry)("ProviderRegistry", (it) => {
  it.effect("an unknown vendor is ModelNotFound naming the configured vendors", () =>
    Effect.gen(function*() {
      const registry = yield* ProviderRegistry
      const error = failureOf(yield* Effect.exit(registry.resolve("mistral/mistral-large-latest")))

      expect(error).toBeInstanceOf(ModelNotFound)
      expect(error).toMatchObject({
        model: "mistral/mistral-large-latest",
        vendor: "mistral",
        configuredVendors: ["echo", "openai", "openrouter"]
      })
      expect(error.message).toContain("Configured vendors: echo, openai, openrouter.")
    }))

  it.effect("ChatCompletions fails with ModelNotFound before calling any provider", () =>
    Effect.gen(function*() {
      const service = yield* ChatCompletions
      const provider = yield* TestProvider
      const before = (yield* provider.calls).length
      const request = decodeRequest({ model: "mistral/mistral-large-latest", messages: [{ role: "user", content: "Hi" }] })
      const error = failureOf(yield* Effect.exit(service.create(request, makeContext())))

      expect(error._tag).toBe("ModelNotFound")
      expect(yield* provider.calls).toHaveLength(before)
    }))

  it.effect("aliases resolve to their target", () =>
    Effect.gen(function*() {
      const registry = yield* ProviderRegistry
      const fast = yield* registry.resolve("fast")
      expect({ vendor: fast.vendor, model: fast.model }).toEqual({ vendor: "openrouter", model: "meta-llama/llama-3.1-8b" })

      const service = yield* ChatCompletions
      const request = decodeRequest({ model: "team/default", messages: [{ role: "user", content: "Hi" }] })
      yield* service.create(request, makeContext())
      const calls = yield* (yield* TestProvider).calls
      expect(calls.at(-1)).toMatchObject({ vendor: "openai", model: "gpt-4o" })
    }))

  it.effect("a model with nested slashes keeps them", () =>
    Effect.gen(function*() {
      const registry = yield* ProviderRegistry
      const route = yield* registry.resolve("openrouter/meta-llama/llama-3.1-8b")
      expect({ vendor: route.vendor, model: route.model }).toEqual({ vendor: "openrouter", model: "meta-llama/llama-3.1-8b" })
    }))

  it.effect("a model without a vendor is an InvalidRequest on `model`", () =>
    Effect.gen(function*() {
      const registry = yield* ProviderRegistry
      const error = failureOf(yield* Effect.exit(registry.resolve("gpt-4o")))
      expect(error).toMatchObject({ _tag: "InvalidRequest", param: "model", code: "invalid_model" })
    }))

  it.effect("models lists each vendor's models as vendor/model, and the aliases", () =>
    Effect.gen(function*() {
      const registry = yield* ProviderRegistry
      const ids = (yield* registry.models).map((m) => m.id)
      expect(ids).toEqual(["echo/test-model", "openai/test-model", "openrouter/test-model", "fast", "team/default"])
      expect(registry.vendors).toEqual(["echo", "openai", "openrouter"])
    }))
})

describe("ProviderRegistry over HTTP", () => {
  it.scoped("the upstream of `openrouter/meta-llama/llama-3.1-8b` receives `meta-llama/llama-3.1-8b`", () =>
    Effect.gen(function*() {
      const fake = yield* FakeUpstream.scoped((_, res) => FakeUpstream.sendJson(res, 200, completion("ok")))
      const context = yield* Layer.build(vendorLayer(fakeVendor(fake, { name: "openrouter" })))
      const service = Context.get(context, ChatCompletions)
      const request = decodeRequest({
        model: "openrouter/meta-llama/llama-3.1-8b",
        messages: [{ role: "user", content: "Hi" }]
      })
      yield* service.create(request, makeContext())

      expect(fake.requests[0]!.json).toMatchObject({ model: "meta-llama/llama-3.1-8b" })
    }))
})

import { ModelNotFound } from "@switchyard/core"
import { describe, expect, it, layer } from "@effect/vitest"
import { ConfigProvider, Context, Effect, Exit, Layer, Scope } from "effect"
import {
  AnthropicProvider,
  ChatCompletions,
  EchoProvider,
  GeminiProvider,
  makeContext,
  OpenAiCompatibleProvider,
  ProviderRegistry,
  TestProvider,
  UpstreamHttp
} from "../src/index.js"
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

describe("ProviderRegistry registrations", () => {
  it.effect("a provider registers while its layer lives, replacing a provider of the same name until then", () =>
    Effect.gen(function*() {
      const first = yield* TestProvider.make({ script: [TestProvider.reply("first")] })
      const second = yield* TestProvider.make({ script: [TestProvider.reply("second")] })
      const registry = ProviderRegistry.make({ acme: first.provider })
      const service = yield* ChatCompletions.make().pipe(Effect.provideService(ProviderRegistry, registry))
      const ask = decodeRequest({ model: "acme/m", messages: [{ role: "user", content: "Hi" }] })
      const answer = Effect.suspend(() => service.create(ask, makeContext())).pipe(Effect.map((c) => c.choices[0]!.message.content))

      expect(yield* answer).toBe("first")
      const scope = yield* Scope.make()
      yield* Layer.buildWithScope(
        ProviderRegistry.registration(["acme", "acme-eu"], Effect.succeed(second.provider)),
        scope
      ).pipe(Effect.provideService(ProviderRegistry, registry))
      expect(registry.vendors).toEqual(["acme", "acme-eu"])
      expect(service.vendors).toEqual(["acme", "acme-eu"])
      expect(yield* answer).toBe("second")

      yield* Scope.close(scope, Exit.void)
      expect(registry.vendors).toEqual(["acme"])
      expect(yield* answer).toBe("first")
    }))

  it.scoped("each provider module's layerConfig registers its vendor only when configured", () =>
    Effect.gen(function*() {
      const vendorsWith = (env: Record<string, string>) =>
        Effect.gen(function*() {
          const context = yield* Layer.build(
            Layer.mergeAll(
              AnthropicProvider.layerConfig(),
              GeminiProvider.layerConfig(),
              EchoProvider.layerConfig({ enabled: env.ECHO !== "off" }),
              OpenAiCompatibleProvider.layerConfig({ acme: { base_url: "http://127.0.0.1:9/v1" } })
            ).pipe(
              Layer.provideMerge(ProviderRegistry.layer()),
              Layer.provide(UpstreamHttp.layer()),
              Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)))))
            )
          )
          return Context.get(context, ProviderRegistry).vendors
        })
      const always = ["acme", "echo", "llamacpp", "lmstudio", "ollama", "openai", "vllm"]
      expect(yield* vendorsWith({})).toEqual(always)
      expect(yield* vendorsWith({ ECHO: "off", GEMINI_API_KEY: "gm-1" })).toEqual([...always.filter((v) => v !== "echo"), "gemini"].sort())
      expect(yield* vendorsWith({ ANTHROPIC_BASE_URL: "http://127.0.0.1:9/v1", GROQ_API_KEY: "gsk" })).toEqual(
        [...always, "anthropic", "groq"].sort()
      )
    }))
})

import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Context, Effect, Layer } from "effect"
import { ChatCompletions, makeContext, ServiceConfig, UpstreamHttp } from "../src/index.js"
import { FakeUpstream, FakeVendors } from "../src/testing/index.js"
import { isDropped } from "../src/providers/VendorTranslation.js"
import { failureOf } from "./support.js"
import { anthropicRequest, geminiRequest } from "./vendorSupport.js"

const providersWith = (env: Record<string, string>, config: ServiceConfig.ServiceConfig = {}) =>
  ServiceConfig.makeProviders({ echo: { enabled: false }, ...config }).pipe(
    Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)))),
    Effect.provide(UpstreamHttp.layer())
  )

const serviceWith = (env: Record<string, string>, config: ServiceConfig.ServiceConfig = {}) =>
  Effect.gen(function*() {
    const context = yield* Layer.build(
      ServiceConfig.layer({ echo: { enabled: false }, ...config }).pipe(
        Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)))))
      )
    )
    return Context.get(context, ChatCompletions)
  })

describe("ServiceConfig: the native vendors", () => {
  it.scoped("are registered only when their key or base URL is set, and can be disabled", () =>
    Effect.gen(function*() {
      const none = yield* providersWith({})
      expect(none.anthropic).toBeUndefined()
      expect(none.gemini).toBeUndefined()

      const keyed = yield* providersWith({ ANTHROPIC_API_KEY: "sk-ant", GOOGLE_API_KEY: "g-key" })
      expect(keyed.anthropic?.family).toBe("anthropic")
      expect(keyed.anthropic?.supportsN).toBe(false)
      expect(keyed.gemini?.family).toBe("gemini")
      expect(keyed.gemini?.supportsN).toBe(true)

      const disabled = yield* providersWith(
        { ANTHROPIC_API_KEY: "sk-ant", GEMINI_API_KEY: "g-key" },
        { anthropic: { enabled: false }, gemini: { enabled: false } }
      )
      expect(disabled.anthropic).toBeUndefined()
      expect(disabled.gemini).toBeUndefined()
    }))

  it.scoped("read their keys and base URLs from the environment (GOOGLE_API_KEY when GEMINI_API_KEY is unset)", () =>
    Effect.gen(function*() {
      const anthropic = yield* FakeUpstream.scoped(FakeVendors.anthropic)
      const gemini = yield* FakeUpstream.scoped(FakeVendors.gemini)
      const service = yield* serviceWith({
        ANTHROPIC_BASE_URL: anthropic.baseUrl,
        ANTHROPIC_API_KEY: "sk-ant-env",
        GEMINI_BASE_URL: `${gemini.origin}/v1beta`,
        GOOGLE_API_KEY: "google-env"
      }, { anthropic: { version: "2024-01-01", default_max_tokens: 512 } })
      yield* service.create(anthropicRequest(), makeContext())
      yield* service.create(geminiRequest(), makeContext())
      expect(anthropic.requests[0]!.headers["x-api-key"]).toBe("sk-ant-env")
      expect(anthropic.requests[0]!.headers["anthropic-version"]).toBe("2024-01-01")
      expect((anthropic.requests[0]!.json as { max_tokens: number }).max_tokens).toBe(512)
      expect(gemini.requests[0]!.headers["x-goog-api-key"]).toBe("google-env")
      expect(gemini.requests[0]!.path).not.toContain("key=")
    }))

  it.scoped("drop_unsupported_params of the configuration reaches both translations", () =>
    Effect.gen(function*() {
      const anthropic = yield* FakeUpstream.scoped(FakeVendors.anthropic)
      const gemini = yield* FakeUpstream.scoped(FakeVendors.gemini)
      const env = { ANTHROPIC_BASE_URL: anthropic.baseUrl, GEMINI_BASE_URL: `${gemini.origin}/v1beta` }
      const strict = yield* serviceWith(env)
      const lenient = yield* serviceWith(env, { drop_unsupported_params: ["logit_bias"] })
      const body = { logit_bias: { "1": 2 } }
      expect(failureOf(yield* Effect.exit(strict.create(anthropicRequest(body), makeContext())))).toMatchObject({
        _tag: "UnsupportedParameter",
        param: "logit_bias"
      })
      yield* lenient.create(anthropicRequest(body), makeContext())
      yield* lenient.create(geminiRequest(body), makeContext())
      expect(anthropic.requests).toHaveLength(1)
      expect(gemini.requests).toHaveLength(1)
      expect(anthropic.requests[0]!.json).not.toHaveProperty("logit_bias")
    }))
})

describe("drop_unsupported_params names", () => {
  it("match the parameter, its path without indexes, or a parent path", () => {
    expect(isDropped(["logit_bias"], "logit_bias")).toBe(true)
    expect(isDropped(["messages.name"], "messages[3].name")).toBe(true)
    expect(isDropped(["metadata"], "metadata.team")).toBe(true)
    expect(isDropped(["messages.content"], "messages[0].content[1].input_audio")).toBe(true)
    expect(isDropped(["messages.content.input_audio"], "messages[0].content[1].image_url.detail")).toBe(false)
    expect(isDropped(["meta"], "metadata.team")).toBe(false)
    expect(isDropped(false, "seed")).toBe(false)
    expect(isDropped(true, "seed")).toBe(true)
  })
})

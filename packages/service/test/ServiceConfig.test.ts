import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Context, Effect, Layer, Redacted } from "effect"
import { ChatCompletions, makeContext, ProviderRegistry, ServiceConfig } from "../src/index.js"
import { FakeUpstream } from "../src/testing/index.js"
import { completion, decodeRequest, failureOf } from "./support.js"

/** The ready service of a configuration, with `env` as the whole environment. */
const build = (env: Record<string, string>, config: ServiceConfig.ServiceConfig = {}) =>
  Layer.build(
    ServiceConfig.layer(config).pipe(
      Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)))))
    )
  )

const vendorsOf = (env: Record<string, string>, config: ServiceConfig.ServiceConfig = {}) =>
  Effect.map(build(env, config), (context) => Context.get(context, ProviderRegistry).vendors)

const always = ["echo", "llamacpp", "lmstudio", "ollama", "openai", "vllm"]

describe("ServiceConfig.layer", () => {
  it.scoped("with no environment: openai, the local servers and echo, no keyed preset", () =>
    Effect.gen(function*() {
      expect(yield* vendorsOf({})).toEqual(always)
    }))

  it.scoped("a preset appears when its key is set (groq with GROQ_API_KEY)", () =>
    Effect.gen(function*() {
      expect(yield* vendorsOf({ GROQ_API_KEY: "gsk-test" })).toEqual([...always, "groq"].sort())
    }))

  it.scoped("a preset appears when its base URL is set, and can be disabled", () =>
    Effect.gen(function*() {
      expect(yield* vendorsOf({ MISTRAL_BASE_URL: "http://127.0.0.1:9/v1" })).toContain("mistral")
      expect(yield* vendorsOf({ GROQ_API_KEY: "gsk-test" }, { vendors: { groq: { enabled: false } } })).toEqual(always)
      expect(yield* vendorsOf({}, { echo: { enabled: false } })).not.toContain("echo")
    }))

  it.scoped("a custom vendor from the config reaches its upstream with its headers and its key", () =>
    Effect.gen(function*() {
      const fake = yield* FakeUpstream.scoped((_, res) => FakeUpstream.sendJson(res, 200, completion("from acme")))
      const context = yield* build(
        { ACME_API_KEY: "sk-acme" },
        { vendors: { acme: { base_url: fake.baseUrl, headers: { "x-acme-tenant": "t-42" }, models: ["acme-1"] } } }
      )
      const service = Context.get(context, ChatCompletions)
      expect(service.vendors).toContain("acme")

      const result = yield* service.create(
        decodeRequest({ model: "acme/acme-1", messages: [{ role: "user", content: "Hi" }] }),
        makeContext()
      )
      expect(result.choices[0]!.message.content).toBe("from acme")
      expect(fake.requests).toHaveLength(1)
      expect(fake.requests[0]!.headers["x-acme-tenant"]).toBe("t-42")
      expect(fake.requests[0]!.headers.authorization).toBe("Bearer sk-acme")
      expect(fake.requests[0]!.json).toMatchObject({ model: "acme-1" })
      const models = yield* Context.get(context, ProviderRegistry).models
      expect(models.map((m) => m.id)).toContain("acme/acme-1")
    }))

  it.scoped("openai takes OPENAI_BASE_URL and OPENAI_API_KEY, and a caller's own key replaces the configured one", () =>
    Effect.gen(function*() {
      const fake = yield* FakeUpstream.scoped((_, res) => FakeUpstream.sendJson(res, 200, completion("ok")))
      const context = yield* build({ OPENAI_BASE_URL: fake.baseUrl, OPENAI_API_KEY: "sk-configured" })
      const service = Context.get(context, ChatCompletions)
      const request = decodeRequest({ model: "openai/gpt-4o-mini", messages: [{ role: "user", content: "Hi" }] })

      yield* service.create(request, makeContext())
      yield* service.create(request, makeContext({ providerKey: Redacted.make("sk-caller") }))
      expect(fake.requests.map((r) => r.headers.authorization)).toEqual(["Bearer sk-configured", "Bearer sk-caller"])
    }))

  it.scoped("a custom vendor without a base URL is a ServiceConfigError naming the setting", () =>
    Effect.gen(function*() {
      const error = failureOf(yield* Effect.exit(build({}, { vendors: { acme: { headers: { "x-a": "b" } } } })))
      expect(error).toMatchObject({ _tag: "ServiceConfigError" })
      expect(error.message).toContain("vendors.acme.base_url")
    }))

  it.scoped("retry and timeout settings become the service's policy", () =>
    Effect.gen(function*() {
      const context = yield* build({}, {
        retry: { max_retries: 5, initial_delay_ms: 200, max_delay_ms: 4_000, max_retry_after_ms: 30_000 },
        timeouts: { first_chunk_ms: 15_000, idle_ms: 20_000, total_ms: 300_000 }
      })
      expect(Context.get(context, ChatCompletions).policy).toEqual({
        maxRetries: 5,
        initialDelayMs: 200,
        maxDelayMs: 4_000,
        maxRetryAfterMs: 30_000,
        firstChunkTimeoutMs: 15_000,
        idleTimeoutMs: 20_000,
        totalTimeoutMs: 300_000
      })
    }))
})

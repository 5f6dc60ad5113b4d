import { type ChatCompletionRequest } from "@switchyard/core"
import { Context, Effect, Layer, Redacted } from "effect"
import {
  AnthropicProvider,
  ChatCompletions,
  GeminiProvider,
  type Provider,
  ProviderRegistry,
  type ResiliencePolicy,
  UpstreamHttp
} from "../src/index.js"
import { FakeUpstream } from "../src/testing/index.js"
import { decodeRequest } from "./support.js"

/** A request for `anthropic/claude-sonnet-4-5` saying "Hello", with `body` merged in. */
export const anthropicRequest = (body: Record<string, unknown> = {}): ChatCompletionRequest =>
  decodeRequest({ model: "anthropic/claude-sonnet-4-5", messages: [{ role: "user", content: "Hello" }], ...body })

/** A request for `gemini/gemini-2.5-flash` saying "Hello", with `body` merged in. */
export const geminiRequest = (body: Record<string, unknown> = {}): ChatCompletionRequest =>
  decodeRequest({ model: "gemini/gemini-2.5-flash", messages: [{ role: "user", content: "Hello" }], ...body })

const serviceOver = (
  vendor: string,
  provider: Effect.Effect<Provider, never, UpstreamHttp>,
  policy: Partial<ResiliencePolicy>
) =>
  ChatCompletions.layer({ policy }).pipe(
    Layer.provideMerge(Layer.effect(ProviderRegistry, Effect.map(provider, (p) => ProviderRegistry.make({ [vendor]: p })))),
    Layer.provide(UpstreamHttp.layer())
  )

/** A fake Anthropic API playing `handler` and `ChatCompletions` over the native provider, for the test's scope. */
export const withAnthropic = (
  handler: FakeUpstream.FakeHandler,
  options: { readonly policy?: Partial<ResiliencePolicy>; readonly provider?: Partial<AnthropicProvider.AnthropicOptions> } = {}
) =>
  Effect.gen(function*() {
    const fake = yield* FakeUpstream.scoped(handler)
    const provider = AnthropicProvider.make({ baseUrl: fake.baseUrl, apiKey: Redacted.make("sk-ant-test"), ...options.provider })
    const context = yield* Layer.build(serviceOver("anthropic", provider, options.policy ?? {}))
    return { fake, service: Context.get(context, ChatCompletions) }
  })

/** A fake Gemini API playing `handler` and `ChatCompletions` over the native provider, for the test's scope. */
export const withGemini = (
  handler: FakeUpstream.FakeHandler,
  options: { readonly policy?: Partial<ResiliencePolicy>; readonly provider?: Partial<GeminiProvider.GeminiOptions> } = {}
) =>
  Effect.gen(function*() {
    const fake = yield* FakeUpstream.scoped(handler)
    const provider = GeminiProvider.make({ baseUrl: `${fake.origin}/v1beta`, apiKey: Redacted.make("gm-test"), ...options.provider })
    const context = yield* Layer.build(serviceOver("gemini", provider, options.policy ?? {}))
    return { fake, service: Context.get(context, ChatCompletions) }
  })

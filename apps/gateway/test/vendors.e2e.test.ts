import { describe, expect, layer } from "@effect/vitest"
import { Authenticator, Responses, ResponsesStore, ServiceConfig } from "@switchyard/service"
import { FakeUpstream, FakeVendors } from "@switchyard/service/testing"
import { ConfigProvider, Context, Effect, Layer } from "effect"
import OpenAI from "openai"
import type { ChatCompletionChunk, ChatCompletionMessageParam } from "openai/resources/chat/completions"
import { Gateway } from "../src/config/GatewayConfig.js"
import { TRACING_OFF } from "../src/config/TelemetryConfig.js"
import * as Server from "../src/http/Listener.js"
import { RequestLog } from "../src/http/RequestLog.js"
import { gatewayConfig, memoryStore } from "./support/Harness.js"

/**
 * One suite, three vendors: the official openai SDK talks to the real
 * gateway, which talks to fake OpenAI, Anthropic and Gemini servers over real
 * HTTP, each speaking its own wire format (see `FakeVendors`). The same client
 * code runs against `openai/*`, `anthropic/*` and `gemini/*`, and every answer
 * must have the shape `openai/*` gives.
 */

const VENDORS = [
  { vendor: "openai", model: "openai/gpt-4.1" },
  { vendor: "anthropic", model: "anthropic/claude-sonnet-4-5" },
  { vendor: "gemini", model: "gemini/gemini-2.5-flash" }
] as const
type Vendor = (typeof VENDORS)[number]["vendor"]
const modelOf = (vendor: Vendor) => VENDORS.find((v) => v.vendor === vendor)!.model

class Fakes extends Context.Tag("vendors.e2e/Fakes")<Fakes, Record<Vendor, FakeUpstream.FakeUpstream>>() {}

const FakesLive = Layer.scoped(
  Fakes,
  Effect.all({
    openai: FakeUpstream.scoped(FakeVendors.openAi),
    anthropic: FakeUpstream.scoped(FakeVendors.anthropic),
    gemini: FakeUpstream.scoped(FakeVendors.gemini)
  })
)

/** The real gateway, its vendors pointed at the fakes through the environment, without retries (the SDK sees each error). */
const GatewayLive = Layer.unwrapEffect(Effect.map(Fakes, (fakes) => {
  const env = ConfigProvider.fromMap(
    new Map([
      ["OPENAI_BASE_URL", fakes.openai.baseUrl],
      ["OPENAI_API_KEY", "sk-openai-test"],
      ["ANTHROPIC_BASE_URL", fakes.anthropic.baseUrl],
      ["ANTHROPIC_API_KEY", "sk-ant-test"],
      ["GEMINI_BASE_URL", `${fakes.gemini.origin}/v1beta`],
      ["GEMINI_API_KEY", "gm-test"]
    ])
  )
  const service: ServiceConfig.ServiceConfig = { retry: { max_retries: 0 }, echo: { enabled: false } }
  return Server.layer.pipe(
    Layer.provide(Responses.layer().pipe(Layer.provide(ResponsesStore.layerMemory()))),
    Layer.provide(ServiceConfig.layer(service).pipe(Layer.provide(Layer.setConfigProvider(env)))),
    Layer.provide(RequestLog.layer("text", () => undefined)),
    Layer.provide(Authenticator.layer({})),
    Layer.provide(memoryStore),
    Layer.provide(Layer.succeed(Gateway, {
      host: "127.0.0.1",
      port: 0,
      apiKeys: [],
      adminKeys: [],
      bodyLimitBytes: 1024 * 1024,
      shutdownGraceMs: 1_000,
      keepAliveMs: 15_000,
      logFormat: "text",
      store: gatewayConfig().store,
        limits: gatewayConfig().limits,
      metrics: { enabled: true, requireKey: false },
      tracing: TRACING_OFF,
      service
    }))
  )
}))

const TestLayer = GatewayLive.pipe(Layer.provideMerge(FakesLive))

const clientFor = Effect.map(Server.Server, (server) => new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "unused", maxRetries: 0 }))

const call = <A>(f: () => Promise<A>) => Effect.promise(f)

/** Runs a call that must fail, and returns what it threw. */
const rejection = (f: () => Promise<unknown>) =>
  Effect.promise(() =>
    f().then(
      (value) => {
        throw new Error(`expected a failure, got ${JSON.stringify(value)}`)
      },
      (error: unknown) => error
    )
  )

/**
 * Keys only OpenAI sends (deployment metadata no other vendor has, zeroed
 * audio and prediction counters); `null` counts as absent, as in OpenAI's
 * own schema. Everything else must match, key for key and type for type.
 */
const OPENAI_ONLY = new Set(["service_tier", "system_fingerprint", "annotations", "completion_tokens_details", "audio_tokens", "obfuscation"])

/** The shape of a value: its keys and the types of their values, recursively. */
const shape = (value: unknown): unknown => {
  if (value === null || value === undefined) return undefined
  if (Array.isArray(value)) return value.map(shape)
  if (typeof value === "object") {
    const out: Record<string, unknown> = {}
    for (const key of Object.keys(value).sort()) {
      if (OPENAI_ONLY.has(key)) continue
      const inner = shape((value as Record<string, unknown>)[key])
      if (inner !== undefined) out[key] = inner
    }
    return out
  }
  return typeof value
}

const distinctShapes = (chunks: ReadonlyArray<ChatCompletionChunk>) => [...new Set(chunks.map((chunk) => JSON.stringify(shape(chunk))))]

const greeting = FakeVendors.Conversation.greeting.join("")
const afterTool = FakeVendors.Conversation.afterTool.join("")
const weatherArgs = JSON.stringify(FakeVendors.Conversation.toolCall.args)
const tools: Array<OpenAI.Chat.Completions.ChatCompletionTool> = [{
  type: "function",
  function: {
    name: "get_weather",
    description: "The current weather in a city",
    parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] }
  }
}]
const usage = { prompt_tokens: 25, completion_tokens: 12, total_tokens: 37 }
const TIMEOUT = 30_000

layer(TestLayer, { excludeTestServices: true })("the same client code against openai/*, anthropic/* and gemini/*", (it) => {
  /** The same steps for a vendor and for `openai/*`, whose answer is the reference shape. */
  const both = <A>(vendor: Vendor, steps: (client: OpenAI, model: string) => Promise<A>) =>
    Effect.gen(function*() {
      const client = yield* clientFor
      const reference = yield* call(() => steps(client, modelOf("openai")))
      const actual = yield* call(() => steps(client, modelOf(vendor)))
      return { reference, actual }
    })

  for (const { model, vendor } of VENDORS) {
    describe(vendor, () => {
      it.effect("a completion", () =>
        Effect.gen(function*() {
          const { actual, reference } = yield* both(vendor, (client, model) =>
            client.chat.completions.create({ model, messages: [{ role: "user", content: "Say hello" }] }))
          expect(actual.object).toBe("chat.completion")
          expect(actual.choices).toHaveLength(1)
          expect(actual.choices[0]!.message.role).toBe("assistant")
          expect(actual.choices[0]!.message.content).toBe(greeting)
          expect(actual.choices[0]!.finish_reason).toBe("stop")
          expect(actual.usage).toMatchObject(usage)
          expect(actual.usage?.prompt_tokens_details?.cached_tokens).toBe(0)
          expect(shape(actual)).toEqual(shape(reference))
        }), TIMEOUT)

      it.effect("a stream with include_usage: the role first, the text, the finish reason, the usage last", () =>
        Effect.gen(function*() {
          const { actual, reference } = yield* both(vendor, async (client, model) => {
            const stream = await client.chat.completions.create({
              model,
              messages: [{ role: "user", content: "Say hello" }],
              stream: true,
              stream_options: { include_usage: true }
            })
            const chunks: Array<ChatCompletionChunk> = []
            for await (const chunk of stream) chunks.push(chunk)
            return chunks
          })
          expect(actual[0]!.choices[0]!.delta.role).toBe("assistant")
          expect(actual.map((c) => c.choices[0]?.delta.content ?? "").join("")).toBe(greeting)
          expect(actual.filter((c) => c.choices[0]?.finish_reason != null).map((c) => c.choices[0]!.finish_reason)).toEqual(["stop"])
          const last = actual[actual.length - 1]!
          expect(last.choices).toEqual([])
          expect(last.usage).toMatchObject(usage)
          expect(new Set(actual.map((c) => c.id)).size).toBe(1)
          for (const chunk of actual) expect(chunk.object).toBe("chat.completion.chunk")
          // Every kind of chunk the vendor sends is a kind OpenAI sends.
          for (const kind of distinctShapes(actual)) expect(distinctShapes(reference)).toContain(kind)
        }), TIMEOUT)

      it.effect("tools: a call, then its result sent back, then the answer (not streamed)", () =>
        Effect.gen(function*() {
          const { actual, reference } = yield* both(vendor, async (client, model) => {
            const messages: Array<ChatCompletionMessageParam> = [{ role: "user", content: "What's the weather in Paris?" }]
            const first = await client.chat.completions.create({ model, messages, tools })
            const message = first.choices[0]!.message
            messages.push(message)
            for (const toolCall of message.tool_calls ?? []) {
              messages.push({ role: "tool", tool_call_id: toolCall.id, content: JSON.stringify({ sky: "clear", celsius: 24 }) })
            }
            const second = await client.chat.completions.create({ model, messages, tools })
            return { first, second }
          })
          const choice = actual.first.choices[0]!
          expect(choice.finish_reason).toBe("tool_calls")
          expect(choice.message.content).toBeNull()
          expect(choice.message.tool_calls).toHaveLength(1)
          const toolCall = choice.message.tool_calls![0]!
          expect(toolCall.type).toBe("function")
          expect(toolCall.id.length).toBeGreaterThan(0)
          expect(toolCall.type === "function" && toolCall.function).toEqual({ name: "get_weather", arguments: weatherArgs })
          expect(actual.second.choices[0]!.message.content).toBe(afterTool)
          expect(shape(actual.first)).toEqual(shape(reference.first))
          expect(shape(actual.second)).toEqual(shape(reference.second))
        }), TIMEOUT)

      it.effect("tools, streamed: the SDK's stream helper assembles the same call", () =>
        Effect.gen(function*() {
          const { actual, reference } = yield* both(vendor, async (client, model) => {
            const messages: Array<ChatCompletionMessageParam> = [{ role: "user", content: "What's the weather in Paris?" }]
            const stream = client.chat.completions.stream({ model, messages, tools, stream_options: { include_usage: true } })
            const chunks: Array<ChatCompletionChunk> = []
            for await (const chunk of stream) chunks.push(chunk)
            const first = await stream.finalChatCompletion()
            messages.push(first.choices[0]!.message)
            for (const toolCall of first.choices[0]!.message.tool_calls ?? []) {
              messages.push({ role: "tool", tool_call_id: toolCall.id, content: "sunny" })
            }
            const second = await client.chat.completions.stream({ model, messages, tools }).finalChatCompletion()
            return { chunks, first, second }
          })
          const toolCall = actual.first.choices[0]!.message.tool_calls![0]!
          expect(actual.first.choices[0]!.finish_reason).toBe("tool_calls")
          expect(toolCall.type === "function" && toolCall.function).toEqual({ name: "get_weather", arguments: weatherArgs })
          expect(actual.second.choices[0]!.message.content).toBe(afterTool)
          for (const kind of distinctShapes(actual.chunks)) expect(distinctShapes(reference.chunks)).toContain(kind)
          expect(shape(actual.first)).toEqual(shape(reference.first))
        }), TIMEOUT)

      it.effect("n = 2: two choices, indexed 0 and 1, streamed and not", () =>
        Effect.gen(function*() {
          const fakes = yield* Fakes
          const client = yield* clientFor
          const before = fakes[vendor].requests.length
          const completion = yield* call(() =>
            client.chat.completions.create({ model, n: 2, messages: [{ role: "user", content: "Say hello" }] }))
          // Anthropic has no `n`: the gateway makes one request per choice.
          expect(fakes[vendor].requests.length - before).toBe(vendor === "anthropic" ? 2 : 1)
          expect(completion.choices.map((c) => [c.index, c.message.content])).toEqual([[0, greeting], [1, greeting]])

          const chunks = yield* call(async () => {
            const stream = await client.chat.completions.create({
              model,
              n: 2,
              messages: [{ role: "user", content: "Say hello" }],
              stream: true,
              stream_options: { include_usage: true }
            })
            const all: Array<ChatCompletionChunk> = []
            for await (const chunk of stream) all.push(chunk)
            return all
          })
          for (const index of [0, 1]) {
            const mine = chunks.filter((c) => c.choices[0]?.index === index)
            expect(mine.map((c) => c.choices[0]!.delta.content ?? "").join("")).toBe(greeting)
            expect(mine.filter((c) => c.choices[0]!.finish_reason === "stop")).toHaveLength(1)
          }
          expect(chunks.filter((c) => c.usage != null)).toHaveLength(1)
          expect(chunks[chunks.length - 1]!.usage?.completion_tokens).toBe(24)
        }), TIMEOUT)

      it.effect("a 429 is a RateLimitError with retry-after; a 400 is a BadRequestError with the vendor's message", () =>
        Effect.gen(function*() {
          const client = yield* clientFor
          for (const stream of [false, true]) {
            const limited = yield* rejection(() =>
              client.chat.completions.create({ model, stream, messages: [{ role: "user", content: "Hit the rate limit" }] }))
            expect(limited).toBeInstanceOf(OpenAI.RateLimitError)
            const rateLimit = limited as InstanceType<typeof OpenAI.RateLimitError>
            expect(rateLimit.status).toBe(429)
            expect(rateLimit.headers.get("retry-after")).toBe(String(FakeVendors.Conversation.retryAfterSeconds))
            expect(rateLimit.type).toBe("rate_limit_error")

            const bad = yield* rejection(() =>
              client.chat.completions.create({ model, stream, messages: [{ role: "user", content: "Send a bad request" }] }))
            expect(bad).toBeInstanceOf(OpenAI.BadRequestError)
            const badRequest = bad as InstanceType<typeof OpenAI.BadRequestError>
            expect(badRequest.status).toBe(400)
            expect(badRequest.message).toContain(FakeVendors.Conversation.badRequest[vendor])
            expect(badRequest.type).toBe("invalid_request_error")
          }
        }), TIMEOUT)

      it.effect("logit_bias: passed through to OpenAI; a 400 naming it from vendors that cannot honour it", () =>
        Effect.gen(function*() {
          const fakes = yield* Fakes
          const client = yield* clientFor
          const before = fakes[vendor].requests.length
          const request = { model, messages: [{ role: "user" as const, content: "Say hello" }], logit_bias: { "50256": -100 } }
          if (vendor === "openai") {
            const completion = yield* call(() => client.chat.completions.create(request))
            expect(completion.choices[0]!.message.content).toBe(greeting)
            expect(fakes.openai.requests[before]!.json).toMatchObject({ logit_bias: { "50256": -100 } })
            return
          }
          const error = yield* rejection(() => client.chat.completions.create(request))
          expect(error).toBeInstanceOf(OpenAI.BadRequestError)
          const badRequest = error as InstanceType<typeof OpenAI.BadRequestError>
          expect(badRequest.param).toBe("logit_bias")
          expect(badRequest.code).toBe("unsupported_parameter")
          expect(badRequest.message).toContain("`logit_bias`")
          expect(fakes[vendor].requests.length).toBe(before)
        }), TIMEOUT)
    })
  }
})

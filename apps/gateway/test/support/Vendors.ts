import { Authenticator, Responses, ResponsesStore, ServiceConfig } from "@switchyard/service"
import { FakeUpstream, FakeVendors } from "@switchyard/service/testing"
import { ConfigProvider, Context, Effect, Layer, Redacted } from "effect"
import { Gateway } from "../../src/config/GatewayConfig.js"
import { TRACING_OFF } from "../../src/config/TelemetryConfig.js"
import * as Server from "../../src/http/Listener.js"
import { RequestLog } from "../../src/http/RequestLog.js"
import { gatewayConfig, memoryStore } from "./Harness.js"

/** The three vendors behind the gateway in the end-to-end suites, and a model of each. */
export const VENDORS = [
  { vendor: "openai", model: "openai/gpt-4.1" },
  { vendor: "anthropic", model: "anthropic/claude-sonnet-4-5" },
  { vendor: "gemini", model: "gemini/gemini-2.5-flash" }
] as const
export type Vendor = (typeof VENDORS)[number]["vendor"]

/** Two callers of different accounts. */
export const ALICE = "sy-alice-key"
export const BOB = "sy-bob-key"

/** The fake vendors, each speaking its own wire format (see `FakeVendors`). */
export class Fakes extends Context.Tag("test/Fakes")<Fakes, Record<Vendor, FakeUpstream.FakeUpstream>>() {}

const FakesLive = Layer.scoped(
  Fakes,
  Effect.all({
    openai: FakeUpstream.scoped(FakeVendors.openAi),
    anthropic: FakeUpstream.scoped(FakeVendors.anthropic),
    gemini: FakeUpstream.scoped(FakeVendors.gemini)
  })
)

/** Options of the gateway in front of the fakes. */
export interface VendorGatewayOptions {
  readonly keepAliveMs?: number
}

/**
 * The real gateway (HTTP listener, Responses facade over the configured
 * vendors, in-memory response store) in front of the three fakes, which it
 * reaches over real HTTP through the environment; no retries. Keys: `ALICE`
 * acts for `acct_alice`, `BOB` for `acct_bob`.
 */
export const vendorGateway = (options: VendorGatewayOptions = {}) => {
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
    const apiKeys = [`${ALICE}:acct_alice`, `${BOB}:acct_bob`].map((key) => Redacted.make(key))
    return Server.layer.pipe(
      Layer.provide(Responses.layer().pipe(Layer.provide(ResponsesStore.layerMemory()))),
      Layer.provide(ServiceConfig.layer(service).pipe(Layer.provide(Layer.setConfigProvider(env)))),
      Layer.provide(RequestLog.layer("text", () => undefined)),
      Layer.provide(Authenticator.layer({ apiKeys })),
      Layer.provide(memoryStore),
      Layer.provide(Layer.succeed(Gateway, {
        host: "127.0.0.1",
        port: 0,
        apiKeys,
        adminKeys: [],
        bodyLimitBytes: 1024 * 1024,
        shutdownGraceMs: 1_000,
        keepAliveMs: options.keepAliveMs ?? 15_000,
        logFormat: "text",
        store: gatewayConfig().store,
        limits: gatewayConfig().limits,
        metrics: { enabled: true, requireKey: false },
        tracing: TRACING_OFF,
        service
      }))
    )
  }))
  return GatewayLive.pipe(Layer.provideMerge(FakesLive))
}

/** The gateway's base URL. */
export const gatewayUrl = Effect.map(Server.Server, (server) => server.url)

/** What the fake vendors answer. */
export const Conversation = FakeVendors.Conversation
export const greeting = Conversation.greeting.join("")
export const afterTool = Conversation.afterTool.join("")
export const weatherArgs = JSON.stringify(Conversation.toolCall.args)

/** The weather tool's parameters, as JSON Schema. */
export const weatherParameters = {
  type: "object",
  properties: { city: { type: "string" } },
  required: ["city"],
  additionalProperties: false
} as const

/** The structured answer's schema, as JSON Schema. */
export const structuredSchema = {
  type: "object",
  properties: {
    city: { type: "string" },
    temperature_c: { type: "number" },
    conditions: { type: "string" }
  },
  required: ["city", "temperature_c", "conditions"],
  additionalProperties: false
} as const

/** Runs a promise that must reject, and gives what it threw. */
export const rejection = (f: () => Promise<unknown>) =>
  Effect.promise(() =>
    f().then(
      (value) => {
        throw new Error(`expected a failure, got ${JSON.stringify(value)}`)
      },
      (error: unknown) => error
    )
  )

/** The messages (or contents) a fake vendor received in its latest request, whatever its format. */
export const lastTurns = (fake: FakeUpstream.FakeUpstream): ReadonlyArray<Record<string, unknown>> => {
  const body = fake.requests[fake.requests.length - 1]?.json as Record<string, unknown> | undefined
  return ((body?.messages ?? body?.contents) as ReadonlyArray<Record<string, unknown>> | undefined) ?? []
}

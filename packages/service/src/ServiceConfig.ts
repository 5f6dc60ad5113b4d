/**
 * The one-call way to the ready service: a configuration object (the
 * service part of `switchyard.yaml`) and the environment → every provider,
 * the registry, the policy, `ChatCompletions`.
 */
import { type ConfigError, Effect, Layer, Option, Schema } from "effect"
import { ChatCompletions } from "./ChatCompletions.js"
import type { Provider } from "./Provider.js"
import { ProviderRegistry } from "./ProviderRegistry.js"
import * as AnthropicProvider from "./providers/anthropic/AnthropicProvider.js"
import * as EchoProvider from "./providers/echo/EchoProvider.js"
import * as GeminiProvider from "./providers/gemini/GeminiProvider.js"
import * as OpenAiCompatibleProvider from "./providers/openai/OpenAiCompatibleProvider.js"
import type { ResiliencePolicy } from "./ResiliencePolicy.js"
import { PriceOverrides } from "./pricing/PriceCatalogue.js"
import { Routing } from "./routing/Routing.js"
import { RoutingPolicy } from "./routing/RoutingPolicy.js"
import { UpstreamHttp } from "./transport/UpstreamHttp.js"

const Millis = Schema.Number.pipe(Schema.nonNegative())

/** A vendor in the configuration: a custom OpenAI-compatible service, or overrides of a preset. */
export const VendorConfig = OpenAiCompatibleProvider.VendorConfig
export type VendorConfig = OpenAiCompatibleProvider.VendorConfig

/** The service part of a configuration file (`switchyard.json` / `.yaml`). */
export const ServiceConfig = Schema.Struct({
  vendors: Schema.optional(Schema.Record({ key: Schema.String, value: VendorConfig })),
  aliases: Schema.optional(Schema.Record({
    key: Schema.String,
    value: Schema.String.pipe(Schema.pattern(/^[^/\s]+\/\S/, { message: () => "an alias must point to a `vendor/model`" }))
  })),
  retry: Schema.optional(Schema.Struct({
    max_retries: Schema.optional(Schema.Int.pipe(Schema.between(0, 10))),
    initial_delay_ms: Schema.optional(Millis),
    max_delay_ms: Schema.optional(Millis),
    max_retry_after_ms: Schema.optional(Millis)
  })),
  timeouts: Schema.optional(Schema.Struct({
    first_chunk_ms: Schema.optional(Millis.pipe(Schema.positive())),
    idle_ms: Schema.optional(Millis.pipe(Schema.positive())),
    total_ms: Schema.optional(Millis.pipe(Schema.positive()))
  })),
  echo: Schema.optional(EchoProvider.EchoSection),
  drop_unsupported_params: Schema.optional(Schema.Union(Schema.Boolean, Schema.Array(Schema.String))),
  anthropic: Schema.optional(AnthropicProvider.AnthropicSection),
  gemini: Schema.optional(GeminiProvider.GeminiSection),
  /** Prices per million tokens by `vendor/model`, over the built-in catalogue. */
  prices: Schema.optional(PriceOverrides),
  /** `routes:` and `circuit_breaker:` (see `RoutingPolicy`). */
  ...RoutingPolicy.fields
}).annotations({ identifier: "ServiceConfig" })

export interface ServiceConfig extends Schema.Schema.Type<typeof ServiceConfig> {}

/** Whether a vendor is configured to receive `store` and `metadata` (`forward_store: true`). */
export const forwardsStore = (config: ServiceConfig, vendor: string): boolean =>
  config.vendors?.[vendor]?.forward_store === true

/** The routing policy of a configuration: its `routes` and `circuit_breaker` sections. */
export const routingOf = (config: ServiceConfig): RoutingPolicy => ({
  ...(config.routes !== undefined ? { routes: config.routes } : {}),
  ...(config.circuit_breaker !== undefined ? { circuit_breaker: config.circuit_breaker } : {})
})

/** The resilience policy overrides a configuration asks for. */
export const policyOf = (config: ServiceConfig): Partial<ResiliencePolicy> => {
  const policy: { -readonly [K in keyof ResiliencePolicy]?: ResiliencePolicy[K] } = {}
  if (config.retry?.max_retries !== undefined) policy.maxRetries = config.retry.max_retries
  if (config.retry?.initial_delay_ms !== undefined) policy.initialDelayMs = config.retry.initial_delay_ms
  if (config.retry?.max_delay_ms !== undefined) policy.maxDelayMs = config.retry.max_delay_ms
  if (config.retry?.max_retry_after_ms !== undefined) policy.maxRetryAfterMs = config.retry.max_retry_after_ms
  if (config.timeouts?.first_chunk_ms !== undefined) policy.firstChunkTimeoutMs = config.timeouts.first_chunk_ms
  if (config.timeouts?.idle_ms !== undefined) policy.idleTimeoutMs = config.timeouts.idle_ms
  if (config.timeouts?.total_ms !== undefined) policy.totalTimeoutMs = config.timeouts.total_ms
  return policy
}

/**
 * The OpenAI-compatible vendors a configuration and the environment define:
 * `openai` always (callers may bring their own key), local servers always,
 * other presets when their `<VENDOR>_API_KEY` or `<VENDOR>_BASE_URL` is set,
 * and every custom vendor of the file.
 */
export const openAiCompatibleVendors = (config: ServiceConfig) => OpenAiCompatibleProvider.readVendors(config.vendors)

/**
 * Builds every provider a configuration and the environment ask for, each
 * read by its own module (`readOptions`); a native vendor (Anthropic,
 * Gemini) gives way to a custom OpenAI-compatible vendor of the same name.
 */
export const makeProviders = (config: ServiceConfig) =>
  Effect.gen(function*() {
    const providers: Record<string, Provider> = {}
    for (const vendor of yield* openAiCompatibleVendors(config)) {
      providers[vendor.name] = yield* OpenAiCompatibleProvider.make(vendor)
    }
    const drop = config.drop_unsupported_params
    if (providers.anthropic === undefined) {
      const options = yield* AnthropicProvider.readOptions(config.anthropic, drop)
      if (Option.isSome(options)) providers.anthropic = yield* AnthropicProvider.make(options.value)
    }
    if (providers.gemini === undefined) {
      const options = yield* GeminiProvider.readOptions(config.gemini, drop)
      if (Option.isSome(options)) providers.gemini = yield* GeminiProvider.make(options.value)
    }
    const echo = yield* EchoProvider.readOptions(config.echo)
    if (Option.isSome(echo)) providers.echo = yield* EchoProvider.make(echo.value)
    return providers
  })

/** A configuration problem, naming the setting. */
export class ServiceConfigError extends Schema.TaggedError<ServiceConfigError>()("ServiceConfigError", {
  message: Schema.String
}) {}

const configError = (error: string | ConfigError.ConfigError) =>
  new ServiceConfigError({ message: typeof error === "string" ? error : String(error) })

/**
 * The registry a configuration describes, with keys and base URLs from the
 * environment (`<VENDOR>_API_KEY`, `<VENDOR>_BASE_URL`).
 */
export const registryLayer = (
  config: ServiceConfig = {}
): Layer.Layer<ProviderRegistry, ServiceConfigError, UpstreamHttp> =>
  Layer.effect(
    ProviderRegistry,
    makeProviders(config).pipe(
      Effect.map((providers) => ProviderRegistry.make(providers, { aliases: config.aliases })),
      Effect.mapError(configError)
    )
  )

/**
 * The ready service: every vendor the configuration and the environment
 * define, the configured policy, routes and circuit breakers (a route naming
 * an unknown vendor fails here, naming it), and a shared connection pool. The
 * registry, the routing and the pool are outputs too, so layers of providers
 * of your own can be added over it
 * (`MyProvider.layer(...).pipe(Layer.provideMerge(ServiceConfig.layer(config)))`).
 */
export const layer = (
  config: ServiceConfig = {}
): Layer.Layer<ChatCompletions | ProviderRegistry | Routing | UpstreamHttp, ServiceConfigError> =>
  ChatCompletions.layer({ policy: policyOf(config) }).pipe(
    Layer.provideMerge(Routing.layer(routingOf(config))),
    Layer.mapError((error) => configError(error.message)),
    Layer.provideMerge(registryLayer(config)),
    Layer.provideMerge(UpstreamHttp.Default)
  )

/** The ready service from the environment alone. */
export const layerConfig: Layer.Layer<ChatCompletions | ProviderRegistry | Routing | UpstreamHttp, ServiceConfigError> =
  layer()

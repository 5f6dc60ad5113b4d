import { Config, type ConfigError, Effect, Layer, Option, Schema } from "effect"
import * as AnthropicProvider from "./AnthropicProvider.js"
import { ChatCompletions } from "./ChatCompletions.js"
import * as EchoProvider from "./EchoProvider.js"
import * as GeminiProvider from "./GeminiProvider.js"
import * as OpenAiCompatibleProvider from "./OpenAiCompatibleProvider.js"
import type { Provider } from "./Provider.js"
import { ProviderRegistry } from "./ProviderRegistry.js"
import type { ResiliencePolicy } from "./ResiliencePolicy.js"
import { UpstreamHttp } from "./UpstreamHttp.js"
import { PriceOverrides } from "./pricing/PriceCatalogue.js"
import { envPrefix, vendorPresets } from "./VendorPresets.js"

const Millis = Schema.Number.pipe(Schema.nonNegative())

/** A vendor in the configuration: a custom OpenAI-compatible service, or overrides of a preset. */
export const VendorConfig = Schema.Struct({
  base_url: Schema.optional(Schema.String),
  /** The environment variable holding the key (default `<VENDOR>_API_KEY`). */
  api_key_env: Schema.optional(Schema.String),
  headers: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.String })),
  models: Schema.optional(Schema.Array(Schema.String)),
  /** Set `false` to disable a preset. */
  enabled: Schema.optional(Schema.Boolean),
  /**
   * Forward `store` and `metadata` to the vendor (for OpenAI's own storage too).
   * By default they are the gateway's and the vendor never sees them.
   */
  forward_store: Schema.optional(Schema.Boolean)
}).annotations({ identifier: "VendorConfig" })
export interface VendorConfig extends Schema.Schema.Type<typeof VendorConfig> {}

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
  echo: Schema.optional(Schema.Struct({
    enabled: Schema.optional(Schema.Boolean),
    chunk_delay_ms: Schema.optional(Millis),
    tokens_per_chunk: Schema.optional(Schema.Int.pipe(Schema.positive()))
  })),
  drop_unsupported_params: Schema.optional(Schema.Union(Schema.Boolean, Schema.Array(Schema.String))),
  anthropic: Schema.optional(AnthropicProvider.AnthropicSection),
  gemini: Schema.optional(GeminiProvider.GeminiSection),
  /** Prices per million tokens by `vendor/model`, over the built-in catalogue. */
  prices: Schema.optional(PriceOverrides)
}).annotations({ identifier: "ServiceConfig" })

/** Whether a vendor is configured to receive `store` and `metadata` (`forward_store: true`). */
export const forwardsStore = (config: ServiceConfig, vendor: string): boolean =>
  config.vendors?.[vendor]?.forward_store === true
export interface ServiceConfig extends Schema.Schema.Type<typeof ServiceConfig> {}

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

const optionalString = (name: string) => Config.option(Config.nonEmptyString(name))
const optionalSecret = (name: string) => Config.option(Config.redacted(Config.nonEmptyString(name)))

/**
 * The OpenAI-compatible vendors a configuration and the environment define:
 * `openai` always (callers may bring their own key), local servers always,
 * other presets when their `<VENDOR>_API_KEY` or `<VENDOR>_BASE_URL` is set,
 * and every custom vendor of the file.
 */
export const openAiCompatibleVendors = (config: ServiceConfig) =>
  Effect.gen(function*() {
    const vendors: Array<OpenAiCompatibleProvider.OpenAiCompatibleVendor> = []
    const custom = config.vendors ?? {}
    const names = new Set([...vendorPresets.map((preset) => preset.name), ...Object.keys(custom)])
    for (const name of names) {
      const preset = vendorPresets.find((p) => p.name === name)
      const options = custom[name]
      if (options?.enabled === false) continue
      const prefix = envPrefix(name)
      const apiKey = yield* optionalSecret(options?.api_key_env ?? `${prefix}_API_KEY`)
      const envBaseUrl = yield* optionalString(`${prefix}_BASE_URL`)
      const baseUrl = Option.getOrUndefined(envBaseUrl) ?? options?.base_url ?? preset?.baseUrl
      if (baseUrl === undefined) {
        return yield* Effect.fail(`vendors.${name}.base_url is required for a custom vendor`)
      }
      const configured = options !== undefined || Option.isSome(apiKey) || Option.isSome(envBaseUrl)
      if (preset !== undefined && !preset.local && name !== "openai" && !configured) continue
      vendors.push({
        name,
        baseUrl,
        apiKey: Option.getOrUndefined(apiKey),
        headers: options?.headers,
        acceptsCallerKey: name === "openai",
        requiresKey: preset !== undefined && !preset.local && options?.base_url === undefined && Option.isNone(envBaseUrl),
        models: options?.models ?? preset?.models ?? []
      })
    }
    return vendors
  })

/** Builds every provider a configuration asks for. */
export const makeProviders = (config: ServiceConfig) =>
  Effect.gen(function*() {
    const providers: Record<string, Provider> = {}
    for (const vendor of yield* openAiCompatibleVendors(config)) {
      providers[vendor.name] = yield* OpenAiCompatibleProvider.make(vendor)
    }
    // Native vendors, unless a custom OpenAI-compatible vendor of the same name was configured.
    if (config.anthropic?.enabled !== false && providers.anthropic === undefined) {
      const apiKey = Option.getOrUndefined(yield* optionalSecret("ANTHROPIC_API_KEY"))
      const baseUrl = Option.getOrUndefined(yield* optionalString("ANTHROPIC_BASE_URL"))
      if (apiKey !== undefined || baseUrl !== undefined || config.anthropic?.base_url !== undefined) {
        providers.anthropic = yield* AnthropicProvider.make({
          ...AnthropicProvider.optionsFromSection(config.anthropic, config.drop_unsupported_params),
          ...(baseUrl !== undefined ? { baseUrl } : {}),
          ...(apiKey !== undefined ? { apiKey } : {})
        })
      }
    }
    if (config.gemini?.enabled !== false && providers.gemini === undefined) {
      const apiKey = Option.getOrUndefined(yield* optionalSecret("GEMINI_API_KEY")) ??
        Option.getOrUndefined(yield* optionalSecret("GOOGLE_API_KEY"))
      const baseUrl = Option.getOrUndefined(yield* optionalString("GEMINI_BASE_URL"))
      if (apiKey !== undefined || baseUrl !== undefined || config.gemini?.base_url !== undefined) {
        providers.gemini = yield* GeminiProvider.make({
          ...GeminiProvider.optionsFromSection(config.gemini, config.drop_unsupported_params),
          ...(baseUrl !== undefined ? { baseUrl } : {}),
          ...(apiKey !== undefined ? { apiKey } : {})
        })
      }
    }
    if (config.echo?.enabled !== false) {
      const delay = Option.getOrUndefined(yield* Config.option(Config.number("SWITCHYARD_ECHO_DELAY_MS")))
      providers.echo = yield* EchoProvider.make({
        ...(config.echo?.chunk_delay_ms !== undefined || delay !== undefined
          ? { chunkDelayMs: config.echo?.chunk_delay_ms ?? delay! }
          : {}),
        ...(config.echo?.tokens_per_chunk !== undefined ? { tokensPerChunk: config.echo.tokens_per_chunk } : {})
      })
    }
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
 * define, the configured policy, and a shared connection pool.
 */
export const layer = (
  config: ServiceConfig = {}
): Layer.Layer<ChatCompletions | ProviderRegistry, ServiceConfigError> =>
  ChatCompletions.layer({ policy: policyOf(config) }).pipe(
    Layer.provideMerge(registryLayer(config)),
    Layer.provide(UpstreamHttp.Default)
  )

/** The ready service from the environment alone. */
export const layerConfig: Layer.Layer<ChatCompletions | ProviderRegistry, ServiceConfigError> = layer()

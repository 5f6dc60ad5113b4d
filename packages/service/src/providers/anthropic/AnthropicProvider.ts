/**
 * The provider for `anthropic/*`: Anthropic's Messages API on the HTTP
 * skeleton, translated both ways by `AnthropicTranslation`.
 */
import { Unauthenticated } from "@switchyard/core"
import { type ConfigError, Effect, Either, Layer, Option, Redacted, Schema } from "effect"
import type { Provider } from "../../Provider.js"
import { ProviderRegistry } from "../../ProviderRegistry.js"
import type { UpstreamHttp } from "../../transport/UpstreamHttp.js"
import * as HttpProvider from "../HttpProvider.js"
import { layerIfConfigured, readKeyedOptions } from "../ProviderConfig.js"
import { type DropUnsupportedParams, trimSlash } from "../VendorTranslation.js"
import { defaultTranslationOptions, Message, TranslationOptions } from "./AnthropicSchemas.js"
import { toAnthropicRequest } from "./AnthropicRequest.js"
import { fromAnthropicMessage } from "./AnthropicResponse.js"
import { AnthropicStreamParser } from "./AnthropicStream.js"

/** Anthropic's API, unless configured otherwise. */
export const DEFAULT_BASE_URL = "https://api.anthropic.com/v1"

/** The `anthropic-version` header sent by default. */
export const DEFAULT_VERSION = "2023-06-01"

/** Models listed by `/v1/models` unless configured. */
export const DEFAULT_MODELS: ReadonlyArray<string> = ["claude-opus-4-1", "claude-sonnet-4-5", "claude-haiku-4-5"]

/**
 * The Anthropic provider's options: where the API is, its key and version,
 * and how requests are translated. A value: build one with `make({...})`,
 * missing fields take the defaults.
 */
export const AnthropicOptions = Schema.Struct({
  /** The API's base URL, up to `/v1` (`ANTHROPIC_BASE_URL`). */
  baseUrl: Schema.String,
  /** The key sent as `x-api-key` (`ANTHROPIC_API_KEY`). */
  apiKey: Schema.optional(Schema.Redacted(Schema.String)),
  /** The `anthropic-version` header. */
  version: Schema.String,
  /** Extra headers (`anthropic-beta`, a proxy's own). */
  headers: Schema.Record({ key: Schema.String, value: Schema.String }),
  /** Models to list. */
  models: Schema.Array(Schema.String),
  ...TranslationOptions.fields
}).annotations({ identifier: "AnthropicOptions" })
export interface AnthropicOptions extends Schema.Schema.Type<typeof AnthropicOptions> {}

/** The defaults: Anthropic's API, version 2023-06-01, no key, and the default translation. */
export const defaultOptions: AnthropicOptions = {
  baseUrl: DEFAULT_BASE_URL,
  version: DEFAULT_VERSION,
  headers: {},
  models: DEFAULT_MODELS,
  ...defaultTranslationOptions
}

/** The `anthropic` section of a configuration file. */
export const AnthropicSection = Schema.Struct({
  /** Set `false` to leave the vendor out even when its key is set. */
  enabled: Schema.optional(Schema.Boolean),
  base_url: Schema.optional(Schema.String),
  version: Schema.optional(Schema.String),
  headers: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.String })),
  models: Schema.optional(Schema.Array(Schema.String)),
  default_max_tokens: Schema.optional(Schema.Int.pipe(Schema.positive())),
  clamp_temperature: Schema.optional(Schema.Boolean),
  thinking_budgets: Schema.optional(
    Schema.Record({ key: Schema.String, value: Schema.Int.pipe(Schema.greaterThanOrEqualTo(1024)) })
  )
}).annotations({ identifier: "AnthropicSection" })
export interface AnthropicSection extends Schema.Schema.Type<typeof AnthropicSection> {}

/** The options a configuration section (and the deployment's `drop_unsupported_params`) asks for. */
export const optionsFromSection = (
  section: AnthropicSection | undefined,
  drop: DropUnsupportedParams | undefined
): Partial<AnthropicOptions> => ({
  ...(section?.base_url !== undefined ? { baseUrl: section.base_url } : {}),
  ...(section?.version !== undefined ? { version: section.version } : {}),
  ...(section?.headers !== undefined ? { headers: section.headers } : {}),
  ...(section?.models !== undefined ? { models: section.models } : {}),
  ...(section?.default_max_tokens !== undefined ? { defaultMaxTokens: section.default_max_tokens } : {}),
  ...(section?.clamp_temperature !== undefined ? { clampTemperature: section.clamp_temperature } : {}),
  ...(section?.thinking_budgets !== undefined ? { thinkingBudgets: section.thinking_budgets } : {}),
  ...(drop !== undefined ? { dropUnsupportedParams: drop } : {})
})

const checkMessage = HttpProvider.schemaCheck(Message)

/**
 * Anthropic's translation on the HTTP skeleton: the URL and headers
 * (`x-api-key`, `anthropic-version`), the request, the answer and the
 * stream. The request's `meta` is the tool that carries a `response_format`.
 */
export const vendor = (options: AnthropicOptions): HttpProvider.HttpVendor<string | undefined> => {
  const url = `${trimSlash(options.baseUrl)}/messages`
  const translation: TranslationOptions = {
    defaultMaxTokens: options.defaultMaxTokens,
    clampTemperature: options.clampTemperature,
    thinkingBudgets: options.thinkingBudgets,
    dropUnsupportedParams: options.dropUnsupportedParams
  }
  const headers = HttpProvider.acceptHeaders({
    "content-type": "application/json",
    "anthropic-version": options.version,
    ...options.headers,
    ...(options.apiKey !== undefined ? { "x-api-key": Redacted.value(options.apiKey) } : {})
  })
  const missingKey = options.apiKey === undefined && trimSlash(options.baseUrl) === DEFAULT_BASE_URL
    ? Either.left(new Unauthenticated({ message: "No API key for `anthropic`: set ANTHROPIC_API_KEY on the gateway." }))
    : undefined

  return {
    family: "anthropic",
    supportsN: false,
    request: (call, stream) =>
      missingKey ?? Either.map(toAnthropicRequest(call.request, call.model, translation, call.vendor), ({ body, jsonTool }) => ({
        url,
        headers: headers(stream),
        body: JSON.stringify(stream ? { ...body, stream: true } : body),
        meta: jsonTool
      })),
    decode: (answer, request) =>
      Effect.flatMap(HttpProvider.nowSeconds, (created) =>
        Either.map(
          HttpProvider.decodeJson(answer, "an Anthropic message", checkMessage),
          (message) => fromAnthropicMessage(message, { created, jsonTool: request.meta })
        )),
    parser: (request, call) =>
      Effect.map(HttpProvider.nowSeconds, (created) =>
        new AnthropicStreamParser({
          vendor: call.vendor,
          model: call.model,
          created,
          jsonTool: request.meta,
          includeUsage: HttpProvider.includeUsage(call)
        })),
    models: options.models.map((id) => ({ id, vendor: "anthropic", ownedBy: "anthropic" }))
  }
}

/**
 * The provider for `anthropic/*`: each call one request to Anthropic's
 * Messages API. It answers one choice per call (`supportsN: false`), so the
 * service fans out `n > 1`; retries, timeouts and the stream's commit point
 * are the service's, as for every provider. Missing options take the defaults.
 */
export const make = (overrides: Partial<AnthropicOptions> = {}): Effect.Effect<Provider, never, UpstreamHttp> =>
  HttpProvider.make(vendor({ ...defaultOptions, ...overrides }))

/** Registers the provider as `anthropic` in the `ProviderRegistry`. */
export const layer = (overrides: Partial<AnthropicOptions> = {}): Layer.Layer<never, never, ProviderRegistry | UpstreamHttp> =>
  ProviderRegistry.registration("anthropic", make(overrides))

/**
 * The options of a configuration section and of the environment
 * (`ANTHROPIC_API_KEY`, `ANTHROPIC_BASE_URL`, which win), or `None` when the
 * vendor is disabled or not configured (no key, no base URL).
 */
export const readOptions = (
  section: AnthropicSection = {},
  drop?: DropUnsupportedParams
): Effect.Effect<Option.Option<Partial<AnthropicOptions>>, ConfigError.ConfigError> =>
  readKeyedOptions({ section, options: optionsFromSection(section, drop), keys: ["ANTHROPIC_API_KEY"], baseUrl: "ANTHROPIC_BASE_URL" })

/** Registers the provider as configured by a section and the environment, if it is (see `readOptions`). */
export const layerConfig = (
  section: AnthropicSection = {},
  drop?: DropUnsupportedParams
): Layer.Layer<never, ConfigError.ConfigError, ProviderRegistry | UpstreamHttp> =>
  layerIfConfigured(readOptions(section, drop), layer)

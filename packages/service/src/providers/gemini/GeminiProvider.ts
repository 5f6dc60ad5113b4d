/**
 * The provider for `gemini/*`: the Gemini API on the HTTP skeleton,
 * translated both ways by `GeminiTranslation`.
 */
import { Unauthenticated } from "@switchyard/core"
import { type ConfigError, Effect, Either, Layer, Option, Redacted, Schema } from "effect"
import type { Provider } from "../../Provider.js"
import { ProviderRegistry } from "../../ProviderRegistry.js"
import { fromGeminiStatus } from "../../transport/UpstreamErrors.js"
import type { UpstreamHttp } from "../../transport/UpstreamHttp.js"
import * as HttpProvider from "../HttpProvider.js"
import { layerIfConfigured, readKeyedOptions } from "../ProviderConfig.js"
import { type DropUnsupportedParams, trimSlash } from "../VendorTranslation.js"
import { toGeminiRequest } from "./GeminiRequest.js"
import { fromGeminiResponse } from "./GeminiResponse.js"
import { defaultTranslationOptions, GenerateContentResponse, TranslationOptions } from "./GeminiSchemas.js"
import { GeminiStreamParser } from "./GeminiStream.js"

/** The Gemini API, unless configured otherwise. */
export const DEFAULT_BASE_URL = "https://generativelanguage.googleapis.com/v1beta"

/** Models listed by `/v1/models` unless configured. */
export const DEFAULT_MODELS: ReadonlyArray<string> = ["gemini-2.5-pro", "gemini-2.5-flash", "gemini-2.5-flash-lite"]

/**
 * The Gemini provider's options: where the API is, its key, and how requests
 * are translated. A value: build one with `make({...})`, missing fields take
 * the defaults.
 */
export const GeminiOptions = Schema.Struct({
  /** The API's base URL, up to the version (`GEMINI_BASE_URL`). */
  baseUrl: Schema.String,
  /** The key, sent as `x-goog-api-key` (never in the URL, so it stays out of logs) (`GEMINI_API_KEY` or `GOOGLE_API_KEY`). */
  apiKey: Schema.optional(Schema.Redacted(Schema.String)),
  /** Extra headers. */
  headers: Schema.Record({ key: Schema.String, value: Schema.String }),
  /** Models to list. */
  models: Schema.Array(Schema.String),
  ...TranslationOptions.fields
}).annotations({ identifier: "GeminiOptions" })
export interface GeminiOptions extends Schema.Schema.Type<typeof GeminiOptions> {}

/** The defaults: Google's `v1beta` API, no key, and the default translation. */
export const defaultOptions: GeminiOptions = {
  baseUrl: DEFAULT_BASE_URL,
  headers: {},
  models: DEFAULT_MODELS,
  ...defaultTranslationOptions
}

/** The `gemini` section of a configuration file. */
export const GeminiSection = Schema.Struct({
  /** Set `false` to leave the vendor out even when its key is set. */
  enabled: Schema.optional(Schema.Boolean),
  base_url: Schema.optional(Schema.String),
  headers: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.String })),
  models: Schema.optional(Schema.Array(Schema.String)),
  thinking_budgets: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.Int.pipe(Schema.nonNegative()) }))
}).annotations({ identifier: "GeminiSection" })
export interface GeminiSection extends Schema.Schema.Type<typeof GeminiSection> {}

/** The options a configuration section (and the deployment's `drop_unsupported_params`) asks for. */
export const optionsFromSection = (
  section: GeminiSection | undefined,
  drop: DropUnsupportedParams | undefined
): Partial<GeminiOptions> => ({
  ...(section?.base_url !== undefined ? { baseUrl: section.base_url } : {}),
  ...(section?.headers !== undefined ? { headers: section.headers } : {}),
  ...(section?.models !== undefined ? { models: section.models } : {}),
  ...(section?.thinking_budgets !== undefined ? { thinkingBudgets: section.thinking_budgets } : {}),
  ...(drop !== undefined ? { dropUnsupportedParams: drop } : {})
})

const checkResponse = HttpProvider.schemaCheck(GenerateContentResponse)

/** `models/gemini-2.5-flash`, each segment escaped; names already qualified (`tunedModels/…`) are kept. */
const modelPath = (model: string): string => {
  const qualified = model.startsWith("models/") || model.startsWith("tunedModels/") ? model : `models/${model}`
  return qualified.split("/").map(encodeURIComponent).join("/")
}

/**
 * Gemini's translation on the HTTP skeleton: the URL (`generateContent`, or
 * `streamGenerateContent?alt=sse`) and headers (`x-goog-api-key`, never the
 * URL, so the key stays out of logs), the request, the answer, the stream,
 * and Google's error details (`RetryInfo`, status names).
 */
export const vendor = (options: GeminiOptions): HttpProvider.HttpVendor => {
  const base = trimSlash(options.baseUrl)
  const translation: TranslationOptions = {
    thinkingBudgets: options.thinkingBudgets,
    dropUnsupportedParams: options.dropUnsupportedParams
  }
  const headers = HttpProvider.acceptHeaders({
    "content-type": "application/json",
    ...options.headers,
    ...(options.apiKey !== undefined ? { "x-goog-api-key": Redacted.value(options.apiKey) } : {})
  })
  const missingKey = options.apiKey === undefined && base === DEFAULT_BASE_URL
    ? Either.left(new Unauthenticated({ message: "No API key for `gemini`: set GEMINI_API_KEY (or GOOGLE_API_KEY) on the gateway." }))
    : undefined

  return {
    family: "gemini",
    supportsN: true,
    request: (call, stream) =>
      missingKey ?? Either.map(toGeminiRequest(call.request, translation, call.vendor), (body) => ({
        url: `${base}/${modelPath(call.model)}:${stream ? "streamGenerateContent?alt=sse" : "generateContent"}`,
        headers: headers(stream),
        body: JSON.stringify(body),
        meta: undefined
      })),
    decode: (answer, _request, call) =>
      Effect.flatMap(HttpProvider.nowSeconds, (created) =>
        Either.flatMap(
          HttpProvider.decodeJson(answer, "a Gemini GenerateContentResponse", checkResponse),
          (response) => fromGeminiResponse(response, { vendor: call.vendor, model: call.model, created })
        )),
    parser: (_request, call) =>
      Effect.map(HttpProvider.nowSeconds, (created) =>
        new GeminiStreamParser({
          vendor: call.vendor,
          model: call.model,
          created,
          includeUsage: HttpProvider.includeUsage(call)
        })),
    failure: fromGeminiStatus,
    models: options.models.map((id) => ({ id, vendor: "gemini", ownedBy: "google" }))
  }
}

/**
 * The provider for `gemini/*`: each call one request to the Gemini API.
 * Gemini answers `n` itself (`candidateCount`); retries, timeouts and the
 * stream's commit point are the service's. Missing options take the defaults.
 */
export const make = (overrides: Partial<GeminiOptions> = {}): Effect.Effect<Provider, never, UpstreamHttp> =>
  HttpProvider.make(vendor({ ...defaultOptions, ...overrides }))

/** Registers the provider as `gemini` in the `ProviderRegistry`. */
export const layer = (overrides: Partial<GeminiOptions> = {}): Layer.Layer<never, never, ProviderRegistry | UpstreamHttp> =>
  ProviderRegistry.registration("gemini", make(overrides))

/**
 * The options of a configuration section and of the environment
 * (`GEMINI_API_KEY` or `GOOGLE_API_KEY`, `GEMINI_BASE_URL`, which win), or
 * `None` when the vendor is disabled or not configured (no key, no base URL).
 */
export const readOptions = (
  section: GeminiSection = {},
  drop?: DropUnsupportedParams
): Effect.Effect<Option.Option<Partial<GeminiOptions>>, ConfigError.ConfigError> =>
  readKeyedOptions({ section, options: optionsFromSection(section, drop), keys: ["GEMINI_API_KEY", "GOOGLE_API_KEY"], baseUrl: "GEMINI_BASE_URL" })

/** Registers the provider as configured by a section and the environment, if it is (see `readOptions`). */
export const layerConfig = (
  section: GeminiSection = {},
  drop?: DropUnsupportedParams
): Layer.Layer<never, ConfigError.ConfigError, ProviderRegistry | UpstreamHttp> =>
  layerIfConfigured(readOptions(section, drop), layer)

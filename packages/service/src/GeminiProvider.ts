import {
  type ChatCompletion,
  type ChatCompletionChunk,
  type GatewayError,
  Unauthenticated,
  UpstreamBadResponse
} from "@switchyard/core"
import { Clock, Effect, Either, Redacted, Schema, type Scope, type Stream } from "effect"
import { pullWith, toStream } from "./ChunkStream.js"
import {
  defaultTranslationOptions,
  fromGeminiResponse,
  GeminiStreamParser,
  GenerateContentResponse,
  toGeminiRequest,
  TranslationOptions
} from "./GeminiTranslation.js"
import type { ChunkPull, ModelInfo, Provider, ProviderCall } from "./Provider.js"
import { fromGeminiStatus } from "./UpstreamErrors.js"
import { describeBody, transportTimeouts, type UpstreamExchange, UpstreamHttp, type UpstreamResponse } from "./UpstreamHttp.js"
import { isOk } from "./OpenAiCompatibleProvider.js"
import { type DropUnsupportedParams, parseVendorJson, trimSlash } from "./VendorTranslation.js"

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

const decodeResponse = Schema.decodeUnknownEither(GenerateContentResponse)

/** `models/gemini-2.5-flash`, each segment escaped; names already qualified (`tunedModels/…`) are kept. */
const modelPath = (model: string): string => {
  const qualified = model.startsWith("models/") || model.startsWith("tunedModels/") ? model : `models/${model}`
  return qualified.split("/").map(encodeURIComponent).join("/")
}

/**
 * The provider for `gemini/*`: each call one request to `generateContent`
 * (or `streamGenerateContent?alt=sse`), translated both ways (see
 * `GeminiTranslation`). Gemini answers `n` itself (`candidateCount`);
 * retries, timeouts and the stream's commit point are the service's.
 */
export const make = (overrides: Partial<GeminiOptions> = {}) =>
  Effect.gen(function*() {
    const http = yield* UpstreamHttp
    const options: GeminiOptions = { ...defaultOptions, ...overrides }
    const base = trimSlash(options.baseUrl)
    const translation: TranslationOptions = {
      thinkingBudgets: options.thinkingBudgets,
      dropUnsupportedParams: options.dropUnsupportedParams
    }
    const baseHeaders: Record<string, string> = {
      "content-type": "application/json",
      ...options.headers,
      ...(options.apiKey !== undefined ? { "x-goog-api-key": Redacted.value(options.apiKey) } : {})
    }
    const streamHeaders = { ...baseHeaders, accept: "text/event-stream" }
    const jsonHeaders = { ...baseHeaders, accept: "application/json" }
    const missingKey = options.apiKey === undefined && base === DEFAULT_BASE_URL
      ? new Unauthenticated({ message: "No API key for `gemini`: set GEMINI_API_KEY (or GOOGLE_API_KEY) on the gateway." })
      : undefined

    const translate = (call: ProviderCall) =>
      missingKey !== undefined ? Either.left(missingKey) : toGeminiRequest(call.request, translation, call.vendor)

    const now = Effect.map(Clock.currentTimeMillis, (ms) => Math.floor(ms / 1000))

    const failFromExchange = (exchange: Omit<UpstreamExchange, "contentType">) =>
      Effect.flatMap(Clock.currentTimeMillis, (nowMs) =>
        Effect.fail(
          fromGeminiStatus({ vendor: exchange.vendor, status: exchange.status, header: exchange.header, body: exchange.text, nowMs })
        ))
    const failFromStatus = (response: UpstreamResponse) =>
      Effect.flatMap(http.text(response), (text) => failFromExchange({ ...response, text }))

    const create = (call: ProviderCall): Effect.Effect<ChatCompletion, GatewayError> =>
      Effect.gen(function*() {
        const body = yield* translate(call)
        const created = yield* now
        const exchange = yield* http.exchange({
          vendor: call.vendor,
          url: `${base}/${modelPath(call.model)}:generateContent`,
          headers: jsonHeaders,
          body: JSON.stringify(body),
          ...transportTimeouts(call.timeouts, false)
        })
        if (!isOk(exchange.status)) return yield* failFromExchange(exchange)
        const decoded = yield* parseVendorJson(exchange, exchange.text, decodeResponse, "a Gemini GenerateContentResponse")
        return yield* fromGeminiResponse(decoded, { vendor: call.vendor, model: call.model, created })
      })

    const open = (call: ProviderCall): Effect.Effect<ChunkPull, GatewayError, Scope.Scope> =>
        Effect.gen(function*() {
          const body = yield* translate(call)
          const created = yield* now
          const response = yield* http.request({
            vendor: call.vendor,
            url: `${base}/${modelPath(call.model)}:streamGenerateContent?alt=sse`,
            headers: streamHeaders,
            body: JSON.stringify(body),
            ...transportTimeouts(call.timeouts, true)
          })
          if (!isOk(response.status)) return yield* failFromStatus(response)
          if (!response.contentType.includes("text/event-stream")) {
            const text = yield* http.text(response)
            return yield* new UpstreamBadResponse({
              vendor: call.vendor,
              message: `Upstream \`${call.vendor}\` answered a streaming request with ${describeBody(response.contentType, text)}`,
              upstreamStatus: response.status
            })
          }
          const context = {
            vendor: call.vendor,
            model: call.model,
            created,
            includeUsage: call.request.stream_options?.include_usage === true
          }
          return pullWith(new GeminiStreamParser(context), http.reader(response))
        })

    const stream = (call: ProviderCall): Stream.Stream<ChatCompletionChunk, GatewayError> => toStream(open(call))

    const models: Effect.Effect<ReadonlyArray<ModelInfo>, GatewayError> = Effect.succeed(
      options.models.map((id) => ({ id, vendor: "gemini", ownedBy: "google" }))
    )

    return { family: "gemini", supportsN: true, nativeTimeouts: true, create, stream, open, models } satisfies Provider
  })

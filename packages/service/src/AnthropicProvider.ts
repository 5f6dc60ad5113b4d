import {
  type ChatCompletion,
  type ChatCompletionChunk,
  type GatewayError,
  Unauthenticated,
  UpstreamBadResponse
} from "@switchyard/core"
import { Clock, Effect, Either, Redacted, Schema, type Scope, type Stream } from "effect"
import {
  type AnthropicCall,
  AnthropicStreamParser,
  defaultTranslationOptions,
  fromAnthropicMessage,
  Message,
  toAnthropicRequest,
  TranslationOptions
} from "./AnthropicTranslation.js"
import { pullWith, toStream } from "./ChunkStream.js"
import { failFromExchange, failFromStatus, isOk } from "./OpenAiCompatibleProvider.js"
import type { ChunkPull, ModelInfo, Provider, ProviderCall } from "./Provider.js"
import { describeBody, transportTimeouts, UpstreamHttp } from "./UpstreamHttp.js"
import { type DropUnsupportedParams, parseVendorJson, trimSlash } from "./VendorTranslation.js"

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

const decodeMessage = Schema.decodeUnknownEither(Message)

/**
 * The provider for `anthropic/*`: each call one request to Anthropic's
 * Messages API, translated both ways (see `AnthropicTranslation`). It
 * answers one choice per call (`supportsN: false`), so the service fans out
 * `n > 1`; retries, timeouts and the stream's commit point are the
 * service's, as for every provider.
 */
export const make = (overrides: Partial<AnthropicOptions> = {}) =>
  Effect.gen(function*() {
    const http = yield* UpstreamHttp
    const options: AnthropicOptions = { ...defaultOptions, ...overrides }
    const url = `${trimSlash(options.baseUrl)}/messages`
    const translation: TranslationOptions = {
      defaultMaxTokens: options.defaultMaxTokens,
      clampTemperature: options.clampTemperature,
      thinkingBudgets: options.thinkingBudgets,
      dropUnsupportedParams: options.dropUnsupportedParams
    }
    const baseHeaders: Record<string, string> = {
      "content-type": "application/json",
      "anthropic-version": options.version,
      ...options.headers,
      ...(options.apiKey !== undefined ? { "x-api-key": Redacted.value(options.apiKey) } : {})
    }
    const streamHeaders = { ...baseHeaders, accept: "text/event-stream" }
    const jsonHeaders = { ...baseHeaders, accept: "application/json" }
    const missingKey = options.apiKey === undefined && trimSlash(options.baseUrl) === DEFAULT_BASE_URL
      ? new Unauthenticated({ message: "No API key for `anthropic`: set ANTHROPIC_API_KEY on the gateway." })
      : undefined

    const translate = (call: ProviderCall): Either.Either<AnthropicCall, GatewayError> =>
      missingKey !== undefined ? Either.left(missingKey) : toAnthropicRequest(call.request, call.model, translation, call.vendor)

    const now = Effect.map(Clock.currentTimeMillis, (ms) => Math.floor(ms / 1000))

    const create = (call: ProviderCall): Effect.Effect<ChatCompletion, GatewayError> =>
      Effect.gen(function*() {
        const translated = yield* translate(call)
        const created = yield* now
        const exchange = yield* http.exchange({
          vendor: call.vendor,
          url,
          headers: jsonHeaders,
          body: JSON.stringify(translated.body),
          ...transportTimeouts(call.timeouts, false)
        })
        if (!isOk(exchange.status)) return yield* failFromExchange(exchange)
        const message = yield* parseVendorJson(exchange, exchange.text, decodeMessage, "an Anthropic message")
        return fromAnthropicMessage(message, { created, jsonTool: translated.jsonTool })
      })

    const open = (call: ProviderCall): Effect.Effect<ChunkPull, GatewayError, Scope.Scope> =>
        Effect.gen(function*() {
          const translated = yield* translate(call)
          const created = yield* now
          const response = yield* http.request({
            vendor: call.vendor,
            url,
            headers: streamHeaders,
            body: JSON.stringify({ ...translated.body, stream: true }),
            ...transportTimeouts(call.timeouts, true)
          })
          if (!isOk(response.status)) return yield* failFromStatus(http, response)
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
            jsonTool: translated.jsonTool,
            includeUsage: call.request.stream_options?.include_usage === true
          }
          return pullWith(new AnthropicStreamParser(context), http.reader(response))
        })

    const stream = (call: ProviderCall): Stream.Stream<ChatCompletionChunk, GatewayError> => toStream(open(call))

    const models: Effect.Effect<ReadonlyArray<ModelInfo>, GatewayError> = Effect.succeed(
      options.models.map((id) => ({ id, vendor: "anthropic", ownedBy: "anthropic" }))
    )

    return { family: "anthropic", supportsN: false, nativeTimeouts: true, create, stream, open, models } satisfies Provider
  })

/**
 * The provider of every OpenAI-compatible vendor (OpenAI itself, the presets
 * of `VendorPresets`, local servers, custom vendors of a configuration file)
 * on the HTTP skeleton: the request goes out as the caller sent it, and the
 * answer comes back as it is.
 */
import {
  type ChatCompletion,
  type GatewayError,
  InvalidRequest,
  looksLikeCompletion,
  Unauthenticated,
  UpstreamBadResponse
} from "@switchyard/core"
import { type ConfigError, Effect, Either, Layer, Redacted, Schema } from "effect"
import type { ModelInfo, Provider, ProviderCall } from "../../Provider.js"
import { ProviderRegistry } from "../../ProviderRegistry.js"
import { ChunkStreamParser } from "../../transport/ChunkStream.js"
import { UpstreamHttp } from "../../transport/UpstreamHttp.js"
import * as HttpProvider from "../HttpProvider.js"
import { optionalSecret, optionalString } from "../ProviderConfig.js"
import { trimSlash } from "../VendorTranslation.js"
import { envPrefix, vendorPresets } from "./VendorPresets.js"

export {
  /** The typed error of a whole non-2xx exchange (an alias of `HttpProvider.failFromExchange`). */
  failFromExchange,
  /** Reads a non-2xx answer and turns it into the typed error (an alias of `HttpProvider.failFromStatus`). */
  failFromStatus,
  /** Whether a status is a success (an alias of `HttpProvider.isOk`). */
  isOk
} from "../HttpProvider.js"

/** One OpenAI-compatible vendor: where it is, its key, extra headers. */
export interface OpenAiCompatibleVendor {
  readonly name: string
  readonly baseUrl: string
  readonly apiKey?: Redacted.Redacted<string> | undefined
  readonly headers?: Readonly<Record<string, string>> | undefined
  /** Whether a caller's own key (`x-openai-api-key`) replaces the configured one. */
  readonly acceptsCallerKey?: boolean | undefined
  /** Whether calls without a key fail at once (cloud services) rather than going out unauthenticated. */
  readonly requiresKey?: boolean | undefined
  /** Models to list when the upstream's `/models` is not asked. */
  readonly models?: ReadonlyArray<string> | undefined
}

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

/**
 * The body sent upstream: the caller's request unchanged (unknown fields
 * included) except the model, without its vendor prefix, and `stream`. Top
 * level `null`s, which mean "absent", are left out.
 */
export const upstreamBody = (call: ProviderCall, stream: boolean): Either.Either<string, GatewayError> => {
  const body: Record<string, unknown> = {}
  const request = call.request as unknown as Record<string, unknown>
  for (const key in request) {
    const value = request[key]
    if (value !== null && value !== undefined) body[key] = value
  }
  body.model = call.model
  if (stream) {
    body.stream = true
  } else {
    delete body.stream
    delete body.stream_options
  }
  try {
    return Either.right(JSON.stringify(body))
  } catch {
    // Only a value nested deeper than the JSON encoder's stack allows gets here (JSON.parse accepted it).
    return Either.left(new InvalidRequest({ message: "The request body is nested too deeply to forward.", code: "nesting_too_deep" }))
  }
}

const checkCompletion = (json: unknown): Either.Either<ChatCompletion, undefined> =>
  looksLikeCompletion(json) ? Either.right(json) : Either.left(undefined)

/**
 * Parses a JSON completion body, checked structurally (`looksLikeCompletion`:
 * nanoseconds, where a Schema takes microseconds); anything else is a bad
 * response with an excerpt.
 */
export const parseCompletion = (
  vendor: string,
  response: { readonly contentType: string; readonly status: number },
  text: string
): Either.Either<ChatCompletion, UpstreamBadResponse> =>
  HttpProvider.decodeJson({ vendor, status: response.status, contentType: response.contentType, text }, "a chat.completion", checkCompletion)

const bearer = (key: Redacted.Redacted<string> | undefined) =>
  key !== undefined ? { authorization: `Bearer ${Redacted.value(key)}` } : {}

/**
 * An OpenAI-compatible vendor's translation on the HTTP skeleton: the
 * `/chat/completions` URL, its headers (the configured key, or the caller's
 * own where the vendor accepts it), the body as the caller sent it, and the
 * answer and stream as they come.
 */
export const vendor = (options: OpenAiCompatibleVendor): HttpProvider.HttpVendor => {
  const url = `${trimSlash(options.baseUrl)}/chat/completions`
  const base = { "content-type": "application/json", ...options.headers }
  // Built once: only a caller's own key makes per-request headers.
  const configured = HttpProvider.acceptHeaders({ ...base, ...bearer(options.apiKey) })
  const missingKey = options.apiKey === undefined && options.requiresKey
    ? Either.left(
      new Unauthenticated({
        message: `No API key for \`${options.name}\`: set ${envPrefix(options.name)}_API_KEY on the gateway` +
          (options.acceptsCallerKey ? " or send your own in the x-openai-api-key header." : ".")
      })
    )
    : undefined

  return {
    family: "openai-compatible",
    supportsN: true,
    request: (call, stream) => {
      const callerKey = options.acceptsCallerKey ? call.context.providerKey : undefined
      if (callerKey === undefined && missingKey !== undefined) return missingKey
      const headers = callerKey !== undefined ? HttpProvider.withAccept({ ...base, ...bearer(callerKey) }, stream) : configured(stream)
      const body = upstreamBody(call, stream)
      return Either.isLeft(body) ? Either.left(body.left) : Either.right({ url, headers, body: body.right, meta: undefined })
    },
    decode: (answer) => HttpProvider.decodeJson(answer, "a chat.completion", checkCompletion),
    parser: (_request, call) => Effect.sync(() => new ChunkStreamParser(call.vendor)),
    models: (options.models ?? []).map((id) => ({ id, vendor: options.name }))
  }
}

/** A provider for one OpenAI-compatible vendor. */
export const make = (options: OpenAiCompatibleVendor): Effect.Effect<Provider, never, UpstreamHttp> =>
  HttpProvider.make(vendor(options))

/** Registers the provider of an OpenAI-compatible vendor in the `ProviderRegistry`, under the vendor's name. */
export const layer = (options: OpenAiCompatibleVendor): Layer.Layer<never, never, ProviderRegistry | UpstreamHttp> =>
  ProviderRegistry.registration(options.name, make(options))

/**
 * The OpenAI-compatible vendors a configuration's `vendors` section and the
 * environment define: `openai` always (callers may bring their own key),
 * local servers always, other presets when their `<VENDOR>_API_KEY` or
 * `<VENDOR>_BASE_URL` is set, and every custom vendor of the section. Fails
 * with a message naming the setting when a custom vendor has no base URL.
 */
export const readVendors = (
  custom: Readonly<Record<string, VendorConfig>> = {}
): Effect.Effect<Array<OpenAiCompatibleVendor>, string | ConfigError.ConfigError> =>
  Effect.gen(function*() {
    const vendors: Array<OpenAiCompatibleVendor> = []
    const names = new Set([...vendorPresets.map((preset) => preset.name), ...Object.keys(custom)])
    for (const name of names) {
      const preset = vendorPresets.find((p) => p.name === name)
      const options = custom[name]
      if (options?.enabled === false) continue
      const prefix = envPrefix(name)
      const apiKey = yield* optionalSecret(options?.api_key_env ?? `${prefix}_API_KEY`)
      const envBaseUrl = yield* optionalString(`${prefix}_BASE_URL`)
      const baseUrl = envBaseUrl ?? options?.base_url ?? preset?.baseUrl
      if (baseUrl === undefined) {
        return yield* Effect.fail(`vendors.${name}.base_url is required for a custom vendor`)
      }
      const configured = options !== undefined || apiKey !== undefined || envBaseUrl !== undefined
      if (preset !== undefined && !preset.local && name !== "openai" && !configured) continue
      vendors.push({
        name,
        baseUrl,
        apiKey,
        headers: options?.headers,
        acceptsCallerKey: name === "openai",
        requiresKey: preset !== undefined && !preset.local && options?.base_url === undefined && envBaseUrl === undefined,
        models: options?.models ?? preset?.models ?? []
      })
    }
    return vendors
  })

/** Registers every OpenAI-compatible vendor a `vendors` section and the environment define (see `readVendors`). */
export const layerConfig = (
  custom: Readonly<Record<string, VendorConfig>> = {}
): Layer.Layer<never, string | ConfigError.ConfigError, ProviderRegistry | UpstreamHttp> =>
  Layer.unwrapEffect(Effect.map(readVendors(custom), (vendors) => Layer.mergeAll(Layer.empty, ...vendors.map(layer))))

/** Asks a vendor's `/models` endpoint which models it serves (for `switchyard models`). */
export const listUpstreamModels = (vendor: OpenAiCompatibleVendor, callerKey?: Redacted.Redacted<string>) =>
  Effect.flatMap(UpstreamHttp, (http) =>
    Effect.flatMap(
      http.exchange({
        vendor: vendor.name,
        url: `${trimSlash(vendor.baseUrl)}/models`,
        method: "GET",
        headers: { accept: "application/json", ...vendor.headers, ...bearer(callerKey ?? vendor.apiKey) },
        headersTimeoutMs: 5_000,
        bodyTimeoutMs: 5_000
      }),
      (answer): Effect.Effect<ReadonlyArray<ModelInfo>, GatewayError> =>
        HttpProvider.isOk(answer.status)
          ? Either.map(HttpProvider.decodeJson(answer, "a model list", checkModelList), (list) =>
            list.data.flatMap((m): Array<ModelInfo> =>
              typeof m.id === "string"
                ? [{ id: m.id, vendor: vendor.name, ownedBy: typeof m.owned_by === "string" ? m.owned_by : undefined }]
                : []
            ))
          : HttpProvider.failFromExchange(answer)
    ))

const checkModelList = (json: unknown): Either.Either<{ readonly data: ReadonlyArray<{ id?: unknown; owned_by?: unknown }> }, undefined> => {
  const data = typeof json === "object" && json !== null ? (json as { data?: unknown }).data : undefined
  return Either.right({ data: Array.isArray(data) ? data.filter((m) => typeof m === "object" && m !== null) : [] })
}

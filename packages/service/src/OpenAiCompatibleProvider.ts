import {
  type ChatCompletion,
  type ChatCompletionChunk,
  completionToChunks,
  type GatewayError,
  InvalidRequest,
  looksLikeCompletion,
  Unauthenticated,
  UpstreamBadResponse
} from "@switchyard/core"
import { Clock, Effect, Either, Redacted, type Scope, type Stream } from "effect"
import { ChunkStreamParser, pullOf, pullWith, toStream } from "./ChunkStream.js"
import type { ChunkPull, ModelInfo, Provider, ProviderCall } from "./Provider.js"
import { excerpt, fromUpstreamStatus } from "./UpstreamErrors.js"
import { describeBody, transportTimeouts, type UpstreamExchange, UpstreamHttp, type UpstreamResponse } from "./UpstreamHttp.js"
import { envPrefix } from "./VendorPresets.js"

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

const trimSlash = (url: string) => url.endsWith("/") ? url.slice(0, -1) : url

/** Reads a non-2xx answer and turns it into the typed error. */
export const failFromStatus = (http: UpstreamHttp["Type"], response: UpstreamResponse) =>
  Effect.flatMap(http.text(response), (text) => failFromExchange({ ...response, text }))

/** The typed error of a whole non-2xx exchange. */
export const failFromExchange = (exchange: Omit<UpstreamExchange, "contentType">) =>
  Effect.flatMap(Clock.currentTimeMillis, (nowMs) =>
    Effect.fail(fromUpstreamStatus({
      vendor: exchange.vendor,
      status: exchange.status,
      header: exchange.header,
      body: exchange.text,
      nowMs
    })))

/** Whether a status is a success. */
export const isOk = (status: number): boolean => status >= 200 && status < 300

/** Parses a JSON completion body; anything else is a bad response with an excerpt. */
export const parseCompletion = (
  vendor: string,
  response: { readonly contentType: string; readonly status: number },
  text: string
): Either.Either<ChatCompletion, UpstreamBadResponse> => {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    return Either.left(
      new UpstreamBadResponse({
        vendor,
        message: `Upstream \`${vendor}\` sent a body that is not JSON (${describeBody(response.contentType, text)})`,
        excerpt: excerpt(text),
        upstreamStatus: response.status
      })
    )
  }
  if (looksLikeCompletion(json)) return Either.right(json)
  return Either.left(
    new UpstreamBadResponse({
      vendor,
      message: `Upstream \`${vendor}\` sent JSON that is not a chat.completion (${describeBody(response.contentType, text)})`,
      excerpt: excerpt(text),
      upstreamStatus: response.status
    })
  )
}

/** A provider for one OpenAI-compatible vendor. */
export const make = (vendor: OpenAiCompatibleVendor) =>
  Effect.gen(function*() {
    const http = yield* UpstreamHttp
    const url = `${trimSlash(vendor.baseUrl)}/chat/completions`
    const baseHeaders: Record<string, string> = { "content-type": "application/json", ...vendor.headers }

    const keyEnv = `${envPrefix(vendor.name)}_API_KEY`
    const missingKey = new Unauthenticated({
      message: `No API key for \`${vendor.name}\`: set ${keyEnv} on the gateway` +
        (vendor.acceptsCallerKey ? " or send your own in the x-openai-api-key header." : ".")
    })

    const headersWith = (accept: string, key: Redacted.Redacted<string> | undefined): Record<string, string> => ({
      ...baseHeaders,
      accept,
      ...(key !== undefined ? { authorization: `Bearer ${Redacted.value(key)}` } : {})
    })
    // Built once: only a caller's own key makes per-request headers.
    const accepts = { json: "application/json", sse: "text/event-stream" } as const
    const configured = {
      json: Either.right(headersWith(accepts.json, vendor.apiKey)),
      sse: Either.right(headersWith(accepts.sse, vendor.apiKey))
    }

    const headersFor = (call: ProviderCall, accept: "json" | "sse"): Either.Either<Record<string, string>, GatewayError> => {
      const callerKey = vendor.acceptsCallerKey ? call.context.providerKey : undefined
      if (callerKey !== undefined) return Either.right(headersWith(accepts[accept], callerKey))
      if (vendor.apiKey === undefined && vendor.requiresKey) return Either.left(missingKey)
      return configured[accept]
    }

    // The hot path: one `Effect.async` for the whole exchange, no scope, no generator.
    const create = (call: ProviderCall): Effect.Effect<ChatCompletion, GatewayError> => {
      const headers = headersFor(call, "json")
      if (Either.isLeft(headers)) return Effect.fail(headers.left)
      const body = upstreamBody(call, false)
      if (Either.isLeft(body)) return Effect.fail(body.left)
      return Effect.flatMap(
        http.exchange({
          vendor: call.vendor,
          url,
          headers: headers.right,
          body: body.right,
          ...transportTimeouts(call.timeouts, false)
        }),
        (exchange) => isOk(exchange.status) ? parseCompletion(call.vendor, exchange, exchange.text) : failFromExchange(exchange)
      )
    }

    const open = (call: ProviderCall): Effect.Effect<ChunkPull, GatewayError, Scope.Scope> =>
      Effect.gen(function*() {
        const response = yield* http.request({
          vendor: call.vendor,
          url,
          headers: yield* headersFor(call, "sse"),
          body: yield* upstreamBody(call, true),
          ...transportTimeouts(call.timeouts, true)
        })
        if (!isOk(response.status)) return yield* failFromStatus(http, response)
        if (response.contentType.includes("text/event-stream")) {
          return pullWith(new ChunkStreamParser(call.vendor), http.reader(response))
        }
        // Some servers ignore `stream: true` and answer with one JSON completion.
        const text = yield* http.text(response)
        const completion = yield* parseCompletion(call.vendor, response, text)
        return pullOf(completionToChunks(completion, { includeUsage: call.request.stream_options?.include_usage === true }))
      })

    const stream = (call: ProviderCall): Stream.Stream<ChatCompletionChunk, GatewayError> => toStream(open(call))

    const models: Effect.Effect<ReadonlyArray<ModelInfo>, GatewayError> = Effect.succeed(
      (vendor.models ?? []).map((id) => ({ id, vendor: vendor.name }))
    )

    return { family: "openai-compatible", supportsN: true, nativeTimeouts: true, create, stream, open, models } satisfies Provider
  })

/** Asks a vendor's `/models` endpoint which models it serves (for `switchyard models`). */
export const listUpstreamModels = (vendor: OpenAiCompatibleVendor, callerKey?: Redacted.Redacted<string>) =>
  Effect.gen(function*() {
    const http = yield* UpstreamHttp
    return yield* Effect.scoped(
      Effect.gen(function*() {
        const key = callerKey ?? vendor.apiKey
        const response = yield* http.request({
          vendor: vendor.name,
          url: `${trimSlash(vendor.baseUrl)}/models`,
          method: "GET",
          headers: {
            accept: "application/json",
            ...vendor.headers,
            ...(key !== undefined ? { authorization: `Bearer ${Redacted.value(key)}` } : {})
          },
          headersTimeoutMs: 5_000,
          bodyTimeoutMs: 5_000
        })
        if (!isOk(response.status)) return yield* failFromStatus(http, response)
        const text = yield* http.text(response)
        const json = yield* Effect.try({
          try: () => JSON.parse(text) as { data?: Array<{ id?: unknown; owned_by?: unknown }> },
          catch: () =>
            new UpstreamBadResponse({
              vendor: vendor.name,
              message: `Upstream \`${vendor.name}\` sent a model list that is not JSON`
            })
        })
        return (json.data ?? []).flatMap((m): Array<ModelInfo> =>
          typeof m.id === "string"
            ? [{ id: m.id, vendor: vendor.name, ownedBy: typeof m.owned_by === "string" ? m.owned_by : undefined }]
            : []
        )
      })
    )
  })

/**
 * The skeleton of every HTTP provider: build the upstream request (the
 * vendor's), send it with the shared transport, classify a failed answer,
 * decode the JSON body or the SSE stream (the vendor's decoder and event
 * translator). A vendor family fills in an `HttpVendor`; the rest is here.
 */
import {
  type ChatCompletion,
  completionToChunks,
  type GatewayError,
  UpstreamBadResponse
} from "@switchyard/core"
import { Clock, Effect, Either, ParseResult, Schema, type Scope, type Tracer } from "effect"
import { type ChunkPull, makeProvider, type ModelInfo, type Provider, type ProviderCall } from "../Provider.js"
import { attemptTraceparent } from "../CallRecord.js"
import { serverOf } from "../telemetry/GenAiSpans.js"
import { traceparent, tracingEnabled, withCurrentSpan } from "../Tracing.js"
import { pullOf, pullWith, type StreamParser } from "../transport/ChunkStream.js"
import { describeBody, excerpt, fromUpstreamStatus } from "../transport/UpstreamErrors.js"
import { transportTimeouts, type UpstreamExchange, UpstreamHttp, type UpstreamResponse } from "../transport/UpstreamHttp.js"

/** The upstream request of one call, as the vendor builds it. */
export interface VendorRequest<Meta = undefined> {
  readonly url: string
  readonly headers: Readonly<Record<string, string>>
  readonly body: string
  /** What reading the answer needs to know of the request (Anthropic's structured-output tool, say). */
  readonly meta: Meta
}

/** A non-2xx answer, for the vendor's error classification. */
export interface FailedAnswer {
  readonly vendor: string
  readonly status: number
  readonly header: (name: string) => string | undefined
  readonly body: string
  readonly nowMs: number
}

/**
 * What a vendor family fills in: its translation, and nothing else. Every
 * hook is synchronous or a single Effect, so the skeleton adds no step per
 * request and none per chunk.
 */
export interface HttpVendor<Meta = undefined> {
  /** The family, for logs and spans. */
  readonly family: string
  /** Whether the vendor answers `n > 1` itself. */
  readonly supportsN: boolean
  /** URL, headers and body of a call (`stream`: the streaming variant); a request the vendor cannot take fails here. */
  readonly request: (call: ProviderCall, stream: boolean) => Either.Either<VendorRequest<Meta>, GatewayError>
  /** Reads a 2xx JSON answer (`decodeJson` does the parsing). */
  readonly decode: (
    answer: UpstreamExchange,
    request: VendorRequest<Meta>,
    call: ProviderCall
  ) => Effect.Effect<ChatCompletion, GatewayError>
  /** The parser of a streamed (SSE) answer, one per stream. */
  readonly parser: (request: VendorRequest<Meta>, call: ProviderCall) => Effect.Effect<StreamParser>
  /** The typed error of a non-2xx answer (default: `fromUpstreamStatus`). */
  readonly failure?: ((answer: FailedAnswer) => GatewayError) | undefined
  /** The models to list. */
  readonly models: ReadonlyArray<ModelInfo>
}

/** Whether a status is a success. */
export const isOk = (status: number): boolean => status >= 200 && status < 300

/** Whether a streamed call asked for a usage chunk at the end (`stream_options.include_usage`). */
export const includeUsage = (call: ProviderCall): boolean => call.request.stream_options?.include_usage === true

/** The current time in seconds, for the `created` of answers whose vendor does not say. */
export const nowSeconds: Effect.Effect<number> = Effect.map(Clock.currentTimeMillis, (ms) => Math.floor(ms / 1000))

/** The typed error of a whole non-2xx exchange. */
export const failFromExchange = (
  exchange: Omit<UpstreamExchange, "contentType">,
  classify: (answer: FailedAnswer) => GatewayError = fromUpstreamStatus
): Effect.Effect<never, GatewayError> =>
  Effect.flatMap(Clock.currentTimeMillis, (nowMs) =>
    Effect.fail(classify({
      vendor: exchange.vendor,
      status: exchange.status,
      header: exchange.header,
      body: exchange.text,
      nowMs
    })))

/** Reads a non-2xx response and turns it into the typed error. */
export const failFromStatus = (
  http: UpstreamHttp["Type"],
  response: UpstreamResponse,
  classify?: (answer: FailedAnswer) => GatewayError
): Effect.Effect<never, GatewayError> =>
  Effect.flatMap(http.text(response), (text) => failFromExchange({ ...response, text }, classify))

type JsonAnswer = Pick<UpstreamExchange, "vendor" | "status" | "contentType" | "text">

const badAnswer = (answer: JsonAnswer, why: string) =>
  new UpstreamBadResponse({
    vendor: answer.vendor,
    message: `Upstream \`${answer.vendor}\` sent ${why} (${describeBody(answer.contentType, answer.text)})`,
    excerpt: excerpt(answer.text),
    upstreamStatus: answer.status
  })

/**
 * Parses a JSON answer and checks it with `check` (`Left` with an optional
 * reason when it is not `what`): anything else is a bad response with an
 * excerpt, naming what was expected. No closure per call: it is on the hot path.
 */
export const decodeJson = <A>(
  answer: JsonAnswer,
  what: string,
  check: (json: unknown) => Either.Either<A, string | undefined>
): Either.Either<A, UpstreamBadResponse> => {
  let json: unknown
  try {
    json = JSON.parse(answer.text)
  } catch {
    return Either.left(badAnswer(answer, "a body that is not JSON"))
  }
  const checked = check(json)
  if (Either.isRight(checked)) return Either.right(checked.right)
  const reason = checked.left
  return Either.left(badAnswer(answer, `JSON that is not ${what}${reason !== undefined ? `: ${reason}` : ""}`))
}

/** A `decodeJson` check by a Schema; the reason is the first lines of the parse error. */
export const schemaCheck = <A, I>(schema: Schema.Schema<A, I>) => {
  const decode = Schema.decodeUnknownEither(schema)
  return (json: unknown): Either.Either<A, string> =>
    Either.mapLeft(decode(json), (error) => ParseResult.TreeFormatter.formatErrorSync(error).split("\n").slice(0, 3).join(" "))
}

/** A vendor's headers, accepting a JSON answer or (`stream`) an SSE one. */
export const withAccept = (headers: Readonly<Record<string, string>>, stream: boolean): Readonly<Record<string, string>> => ({
  ...headers,
  accept: stream ? "text/event-stream" : "application/json"
})

/** A vendor's fixed headers for both kinds of call, built once: `(stream) => headers`. */
export const acceptHeaders = (headers: Readonly<Record<string, string>>) => {
  const json = withAccept(headers, false)
  const sse = withAccept(headers, true)
  return (stream: boolean): Readonly<Record<string, string>> => stream ? sse : json
}

/**
 * The headers of an attempt made inside `span` (tracing only): the vendor gets
 * the span's context as `traceparent`, and the span the vendor's address.
 */
const traceHeaders = (span: Tracer.AnySpan | undefined, url: string, headers: Readonly<Record<string, string>>) => {
  if (span === undefined) return headers
  if (span._tag === "Span") {
    const server = serverOf(url)
    if (server !== null) {
      span.attribute("server.address", server.address)
      span.attribute("server.port", server.port)
    }
  }
  return { ...headers, traceparent: traceparent(span) }
}

/**
 * The headers of an attempt whose record is traced (`CallRecord.trace`): the
 * vendor gets the attempt's `traceparent`, and the attempt its URL. Plain code.
 */
const recordedTrace = (call: ProviderCall, url: string, headers: Readonly<Record<string, string>>) => {
  const attempt = call.attempt!
  const trace = call.context.record?.trace
  if (trace === undefined || attempt.spanId === undefined) return headers
  attempt.url = url
  return { ...headers, traceparent: attemptTraceparent(trace, attempt) }
}

/**
 * A provider on the skeleton: each call is one request through the shared
 * `UpstreamHttp`, whose timers enforce the call's deadlines (`nativeTimeouts`).
 * A non-streaming call is a single exchange; a streamed one reads the SSE body
 * through the vendor's parser, or, when a server ignores the stream flag and
 * answers with one JSON body, replays that answer as chunks. Each attempt
 * sends its span's context to the vendor as `traceparent`: the attempt's of a
 * traced call record, or, when an Effect tracer is installed (where the
 * provider is built), the current span's.
 */
export const make = <Meta>(vendor: HttpVendor<Meta>): Effect.Effect<Provider, never, UpstreamHttp> =>
  Effect.zipWith(UpstreamHttp, tracingEnabled, (http, tracing) => {
    const classify = vendor.failure ?? fromUpstreamStatus

    // The hot path: one `Effect.async` for the whole exchange, no scope, no generator.
    const create = (call: ProviderCall): Effect.Effect<ChatCompletion, GatewayError> => {
      const request = vendor.request(call, false)
      if (Either.isLeft(request)) return Effect.fail(request.left)
      const { body, headers, url } = request.right
      const send = (headers: Readonly<Record<string, string>>) =>
        Effect.flatMap(
          http.exchange({ vendor: call.vendor, url, headers, body, ...transportTimeouts(call.timeouts, false) }),
          (answer) => isOk(answer.status) ? vendor.decode(answer, request.right, call) : failFromExchange(answer, classify)
        )
      if (call.attempt !== undefined) return send(recordedTrace(call, url, headers))
      return tracing ? withCurrentSpan((span) => send(traceHeaders(span, url, headers))) : send(headers)
    }

    const openIn = (call: ProviderCall, scope: Scope.Scope): Effect.Effect<ChunkPull, GatewayError> => {
      const request = vendor.request(call, true)
      if (Either.isLeft(request)) return Effect.fail(request.left)
      const { body, headers, url } = request.right
      const send = (headers: Readonly<Record<string, string>>) =>
        http.requestIn({ vendor: call.vendor, url, headers, body, ...transportTimeouts(call.timeouts, true) }, scope)
      return Effect.flatMap(
        call.attempt !== undefined
          ? send(recordedTrace(call, url, headers))
          : tracing
          ? withCurrentSpan((span) => send(traceHeaders(span, url, headers)))
          : send(headers),
        (response): Effect.Effect<ChunkPull, GatewayError> => {
          if (!isOk(response.status)) return failFromStatus(http, response, classify)
          if (response.contentType.includes("text/event-stream")) {
            return Effect.map(vendor.parser(request.right, call), (parser) => pullWith(parser, http.reader(response)))
          }
          return http.text(response).pipe(
            Effect.flatMap((text) => vendor.decode({ ...response, text }, request.right, call)),
            Effect.map((completion) => pullOf(completionToChunks(completion, { includeUsage: includeUsage(call) })))
          )
        }
      )
    }
    const open = (call: ProviderCall): Effect.Effect<ChunkPull, GatewayError, Scope.Scope> =>
      Effect.flatMap(Effect.scope, (scope) => openIn(call, scope))

    const models = Effect.succeed(vendor.models)

    return makeProvider({ family: vendor.family, supportsN: vendor.supportsN, nativeTimeouts: true, create, open, openIn, models })
  })

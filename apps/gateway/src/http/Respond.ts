import {
  type ChatCompletion,
  type ChatCompletionRequest,
  type CompletionUsage,
  errorResponse,
  type GatewayError,
  type Principal
} from "@switchyard/core"
import { type CallRecord, type StreamDescription, upstreamWindowMs } from "@switchyard/service"
import type { ServerResponse } from "node:http"
import type { ExchangeTrace } from "../telemetry/RequestSpans.js"

/** What a request left behind for the access log, the metrics and its span. */
export interface Exchange {
  readonly requestId: string
  /** When it arrived (`performance.now()`). */
  readonly started: number
  status?: number | undefined
  keyId?: string | undefined
  account?: string | undefined
  admin?: boolean | undefined
  /** Who the key stands for (its limits). */
  principal?: Principal | undefined
  model?: string | undefined
  stream?: boolean | undefined
  usage?: CompletionUsage | undefined
  error?: string | undefined
  /** What the service reported about the call (target, attempts), for completions. */
  call?: CallRecord | undefined
  /** The metrics' `endpoint` label. */
  endpoint?: string | undefined
  /** The route template the request matched (`/v5/responses/:response_id`). */
  route?: string | undefined
  /** Its place in a trace, when tracing. */
  trace?: ExchangeTrace | undefined
  /** A chat request, once decoded; its answer (non-streaming), or what its stream said (when traced). */
  request?: ChatCompletionRequest | undefined
  completion?: ChatCompletion | undefined
  description?: StreamDescription | undefined
  /** When a stream's first chunk was written. */
  firstChunkAt?: number | undefined
  /** Whether a stream's headers were written (it counts as an open stream until the end). */
  streamOpen?: boolean | undefined
  /** Time spent waiting on the vendor for a stream's chunks after the first ones. */
  streamWaitMs?: number | undefined
}

/** Time spent waiting on vendors so far: the attempts' window, then a stream's waits for its chunks. */
export const upstreamMs = (exchange: Exchange, now: number): number =>
  exchange.call === undefined ? 0 : upstreamWindowMs(exchange.call, now) + (exchange.streamWaitMs ?? 0)

const ms = (value: number) => Math.max(0, value).toFixed(2)

/**
 * The `server-timing` header of a completion (`undefined` for other requests):
 * the gateway's own time and the time waiting on vendors so far, and for a
 * stream, sent with its first byte, the time to its first chunk.
 */
export const serverTiming = (exchange: Exchange, now: number): string | undefined => {
  if (exchange.call === undefined) return undefined
  const total = now - exchange.started
  const upstream = upstreamMs(exchange, now)
  const timing = `gateway;dur=${ms(total - upstream)}, upstream;dur=${ms(upstream)}`
  return exchange.firstChunkAt === undefined ? timing : `${timing}, ttfc;dur=${ms(exchange.firstChunkAt - exchange.started)}`
}

/** The HTTP answer for an error, serialized: status, headers and body (the 422 body is bounded). */
export const renderError = (error: GatewayError): { readonly status: number; readonly headers: Record<string, string>; readonly text: string } => {
  const { body, headers, status } = errorResponse(error)
  return { status, headers, text: JSON.stringify(body) }
}

/** Writes an error in OpenAI's envelope (or the 422 body) with its status and headers. */
export const sendError = (res: ServerResponse, exchange: Exchange, error: GatewayError): void => {
  exchange.error ??= error.message
  if (res.headersSent) return
  const { headers, status, text } = renderError(error)
  const all: Record<string, string | number> = {
    ...headers,
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    "x-request-id": exchange.requestId
  }
  const timing = serverTiming(exchange, performance.now())
  if (timing !== undefined) all["server-timing"] = timing
  res.writeHead(status, all)
  res.end(text)
}

/** Writes a JSON body. */
export const sendJson = (res: ServerResponse, exchange: Exchange, status: number, body: unknown): void => {
  const text = JSON.stringify(body)
  const headers: Record<string, string | number> = {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    "x-request-id": exchange.requestId
  }
  const timing = serverTiming(exchange, performance.now())
  if (timing !== undefined) headers["server-timing"] = timing
  res.writeHead(status, headers)
  res.end(text)
}

/** Names the target that answered (`x-switchyard-target: vendor/model`), once the service has said which; before the headers go out. */
export const setTarget = (res: ServerResponse, exchange: Exchange): void => {
  const target = exchange.call?.target
  if (target !== undefined) res.setHeader("x-switchyard-target", target)
}

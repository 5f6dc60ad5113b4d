import { type CompletionUsage, errorResponse, type GatewayError } from "@switchyard/core"
import type { CallRecord } from "@switchyard/service"
import type { ServerResponse } from "node:http"

/** What a request left behind for the access log. */
export interface Exchange {
  readonly requestId: string
  status?: number | undefined
  keyId?: string | undefined
  account?: string | undefined
  model?: string | undefined
  stream?: boolean | undefined
  usage?: CompletionUsage | undefined
  error?: string | undefined
  /** What the service reported about the call (target, attempts), for completions. */
  call?: CallRecord | undefined
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
  res.writeHead(status, {
    ...headers,
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    "x-request-id": exchange.requestId
  })
  res.end(text)
}

/** Writes a JSON body. */
export const sendJson = (res: ServerResponse, exchange: Exchange, status: number, body: unknown): void => {
  const text = JSON.stringify(body)
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    "x-request-id": exchange.requestId
  })
  res.end(text)
}

/** Names the target that answered (`x-switchyard-target: vendor/model`), once the service has said which; before the headers go out. */
export const setTarget = (res: ServerResponse, exchange: Exchange): void => {
  const target = exchange.call?.target
  if (target !== undefined) res.setHeader("x-switchyard-target", target)
}

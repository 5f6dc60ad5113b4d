/**
 * Upstream failures as typed `GatewayError`s: status codes, vendors' error
 * envelopes, in-band stream errors, transport failures and bad answers.
 */
import {
  type GatewayError,
  UpstreamBadResponse,
  UpstreamOverloaded,
  UpstreamRateLimited,
  UpstreamRejected,
  UpstreamTimeout,
  UpstreamUnavailable
} from "@switchyard/core"
import { parseRetryAfter } from "../ResiliencePolicy.js"

const EXCERPT = 200

/** The first characters of a body, on one line, for error messages. */
export const excerpt = (text: string): string => {
  const flat = text.replace(/\s+/g, " ").trim()
  return flat.length > EXCERPT ? `${flat.slice(0, EXCERPT)}…` : flat
}

/** A short description of an unexpected body, for bad-response errors. */
export const describeBody = (contentType: string, body: string): string =>
  `${contentType || "no content type"}: ${body.length === 0 ? "(empty body)" : excerpt(body)}`

/** A bad-response error for an event or value a vendor should not have sent, with an excerpt of it. */
export const badUpstream = (vendor: string, what: string, data: unknown): UpstreamBadResponse =>
  new UpstreamBadResponse({
    vendor,
    message: `Upstream \`${vendor}\` sent ${what}`,
    excerpt: excerpt(typeof data === "string" ? data : JSON.stringify(data) ?? "")
  })

/** The error of a stream whose body ended before the answer was complete. */
export const streamCutShort = (vendor: string): UpstreamUnavailable =>
  new UpstreamUnavailable({ vendor, message: `Upstream \`${vendor}\` ended the stream before it was complete` })

const asString = (u: unknown): string | undefined => typeof u === "string" && u.length > 0 ? u : undefined

interface UpstreamErrorBody {
  readonly message?: string | undefined
  readonly type?: string | undefined
  readonly code?: string | undefined
  readonly param?: string | undefined
}

/** An error body as JSON (the first element of an array, as Google sometimes sends), or `undefined`. */
const errorJson = (text: string): unknown => {
  try {
    const json: unknown = JSON.parse(text)
    return Array.isArray(json) ? json[0] : json
  } catch {
    return undefined
  }
}

/**
 * Reads the error envelope of any vendor: OpenAI's `{"error":{message,type,code,param}}`,
 * Anthropic's `{"type":"error","error":{type,message}}`, Gemini's
 * `{"error":{code,message,status}}`, FastAPI's `{"detail":...}`, or `{"message"}`.
 */
export const readErrorBody = (text: string): UpstreamErrorBody | undefined => {
  const json = errorJson(text)
  if (typeof json !== "object" || json === null) return undefined
  const root = json as Record<string, unknown>
  const error = typeof root.error === "object" && root.error !== null ? root.error as Record<string, unknown> : undefined
  if (error !== undefined) {
    return {
      message: asString(error.message),
      type: asString(error.type) ?? asString(error.status),
      code: asString(error.code) ?? (typeof error.code === "number" ? String(error.code) : undefined),
      param: asString(error.param)
    }
  }
  if (typeof root.error === "string") return { message: root.error }
  if (root.detail !== undefined) {
    return { message: typeof root.detail === "string" ? root.detail : JSON.stringify(root.detail) }
  }
  return { message: asString(root.message) }
}

/**
 * The typed error for a non-2xx upstream answer: 429 → rate limited (with its
 * retry-after), 529 or an `overloaded_error` → overloaded, 500/502/503 →
 * unavailable, 504 → timeout, other statuses → rejected with the upstream's
 * status and message.
 */
export const fromUpstreamStatus = (options: {
  readonly vendor: string
  readonly status: number
  readonly header: (name: string) => string | undefined
  readonly body: string
  readonly nowMs: number
}): GatewayError => {
  const { body, header, status, vendor } = options
  const parsed = readErrorBody(body)
  const message = parsed?.message ?? (body.trim().length > 0
    ? `Upstream \`${vendor}\` answered ${status}: ${excerpt(body)}`
    : `Upstream \`${vendor}\` answered ${status} with an empty body`)
  const retryAfterMs = parseRetryAfter(header, options.nowMs)
  const withRetryAfter = retryAfterMs !== undefined ? { retryAfterMs } : {}
  if (status === 429) return new UpstreamRateLimited({ vendor, message, ...withRetryAfter })
  if (status === 529 || parsed?.type === "overloaded_error") {
    return new UpstreamOverloaded({ vendor, message, ...withRetryAfter })
  }
  if (status === 500 || status === 502 || status === 503) {
    return new UpstreamUnavailable({ vendor, message, upstreamStatus: status })
  }
  if (status === 504) return new UpstreamTimeout({ vendor, phase: "upstream" })
  if (status >= 200 && status < 300) {
    return new UpstreamBadResponse({ vendor, message, excerpt: excerpt(body), upstreamStatus: status })
  }
  return new UpstreamRejected({
    vendor,
    upstreamStatus: status,
    // A vendor's 401/403 is about the provider key, not the gateway's: say so, or it reads as the caller's mistake.
    message: status === 401 || status === 403 ? `Upstream \`${vendor}\` rejected the provider credentials: ${message}` : message,
    ...(parsed?.type !== undefined ? { type: parsed.type } : {}),
    ...(parsed?.code !== undefined ? { code: parsed.code } : {}),
    ...(parsed?.param !== undefined ? { param: parsed.param } : {})
  })
}

/** The typed error for an in-band error event of a stream (`data: {"error":{...}}`). */
export const fromStreamError = (vendor: string, error: unknown): GatewayError => {
  const body = typeof error === "object" && error !== null ? error as Record<string, unknown> : {}
  const message = asString(body.message) ?? `Upstream \`${vendor}\` reported an error mid-stream`
  const type = asString(body.type) ?? asString(body.status)
  const code = typeof body.code === "number" ? body.code : undefined
  if (type === "rate_limit_error" || type === "RESOURCE_EXHAUSTED" || code === 429) {
    return new UpstreamRateLimited({ vendor, message })
  }
  if (type === "overloaded_error" || code === 529) return new UpstreamOverloaded({ vendor, message })
  if (type === "invalid_request_error" || type === "INVALID_ARGUMENT" || code === 400) {
    return new UpstreamRejected({ vendor, upstreamStatus: 400, message, ...(type ? { type } : {}) })
  }
  return new UpstreamUnavailable({ vendor, message })
}

/** The typed error for a failure of the HTTP exchange itself (connect, reset, timeouts). */
export const fromTransportError = (vendor: string, error: unknown): GatewayError => {
  const code = typeof error === "object" && error !== null ? (error as { code?: unknown }).code : undefined
  const message = error instanceof Error ? error.message : String(error)
  switch (code) {
    case "UND_ERR_HEADERS_TIMEOUT":
      return new UpstreamTimeout({ vendor, phase: "first_byte" })
    case "UND_ERR_BODY_TIMEOUT":
      return new UpstreamTimeout({ vendor, phase: "idle" })
    case "UND_ERR_CONNECT_TIMEOUT":
      return new UpstreamUnavailable({ vendor, message: `Could not connect to upstream \`${vendor}\`: connect timeout` })
    case "ECONNREFUSED":
      return new UpstreamUnavailable({ vendor, message: `Could not connect to upstream \`${vendor}\`: connection refused` })
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return new UpstreamUnavailable({ vendor, message: `Could not resolve upstream \`${vendor}\`'s host` })
    default:
      return new UpstreamUnavailable({ vendor, message: `Connection to upstream \`${vendor}\` failed: ${message}` })
  }
}

/**
 * The `retryDelay` of a Google error's `RetryInfo` detail
 * (`{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"37s"}`), in milliseconds.
 */
export const googleRetryDelayMs = (text: string): number | undefined => {
  const json = errorJson(text)
  const details = (json as { error?: { details?: unknown } } | null)?.error?.details
  if (!Array.isArray(details)) return undefined
  for (const detail of details) {
    const delay = (detail as { retryDelay?: unknown } | null)?.retryDelay
    if (typeof delay !== "string") continue
    const match = /^(\d+(?:\.\d+)?)s$/.exec(delay.trim())
    if (match !== null) return Number.parseFloat(match[1]!) * 1000
  }
  return undefined
}

/** OpenAI's error `type` for a 4xx status. */
const openAiErrorType = (status: number): string =>
  status === 401
    ? "authentication_error"
    : status === 403
    ? "permission_error"
    : status === 404
    ? "not_found_error"
    : "invalid_request_error"

/**
 * The typed error for a non-2xx answer of the Gemini API: as
 * `fromUpstreamStatus` (429 rate limited, 503 unavailable, other 4xx
 * rejected with Google's message), plus the retry delay of Google's
 * `RetryInfo`, and Google's status (`INVALID_ARGUMENT`) as the error's code
 * under OpenAI's error type, so clients see the same errors for every vendor.
 */
export const fromGeminiStatus = (options: Parameters<typeof fromUpstreamStatus>[0]): GatewayError => {
  const error = fromUpstreamStatus(options)
  if (error._tag === "UpstreamRateLimited" && error.retryAfterMs === undefined) {
    const retryAfterMs = googleRetryDelayMs(options.body)
    return retryAfterMs !== undefined
      ? new UpstreamRateLimited({ vendor: error.vendor, message: error.message, retryAfterMs })
      : error
  }
  if (error._tag === "UpstreamRejected") {
    const status = readErrorBody(options.body)?.type
    return new UpstreamRejected({
      vendor: error.vendor,
      upstreamStatus: error.upstreamStatus,
      message: error.message,
      type: openAiErrorType(error.upstreamStatus),
      ...(status !== undefined ? { code: status } : error.code !== undefined ? { code: error.code } : {})
    })
  }
  return error
}

import { Schema } from "effect"
import { optional } from "./internal/fields.js"
import { boundedDetail, HTTPValidationError, locText, summarize, ValidationError } from "./ValidationError.js"

/** How an error is answered: status, retryability, OpenAI's type/code/param, extra headers. */
export const ErrorDescription = Schema.Struct({
  status: Schema.Number,
  retryable: Schema.Boolean,
  type: Schema.String,
  code: Schema.NullOr(Schema.String),
  param: Schema.NullOr(Schema.String),
  retryAfterMs: Schema.optional(Schema.Number)
}).annotations({ identifier: "ErrorDescription" })
export interface ErrorDescription extends Schema.Schema.Type<typeof ErrorDescription> {}

/** The body of a request failed validation (422, with the spec's `detail`). */
export class RequestValidationError extends Schema.TaggedError<RequestValidationError>()("RequestValidationError", {
  detail: Schema.Array(ValidationError)
}) {
  override get message(): string {
    return summarize(this)
  }
}

/** The request is well-formed but cannot be served as asked (400). */
export class InvalidRequest extends Schema.TaggedError<InvalidRequest>()("InvalidRequest", {
  message: Schema.String,
  param: optional(Schema.String),
  code: optional(Schema.String)
}) {}

/** No valid gateway key was presented (401). */
export class Unauthenticated extends Schema.TaggedError<Unauthenticated>()("Unauthenticated", {
  message: Schema.String
}) {}

/** The key is valid but may not do this (403). */
export class Forbidden extends Schema.TaggedError<Forbidden>()("Forbidden", {
  message: Schema.String
}) {}

/**
 * The key is valid but may not act for the account it selected with
 * `x-selected-account-id` (403). Raised before anything is forwarded.
 */
export class AccountForbidden extends Schema.TaggedError<AccountForbidden>()("AccountForbidden", {
  accountId: Schema.String
}) {
  override get message(): string {
    return `This API key may not act for account \`${this.accountId}\` (x-selected-account-id).`
  }
}

/** The model's vendor is not configured (404). */
export class ModelNotFound extends Schema.TaggedError<ModelNotFound>()("ModelNotFound", {
  model: Schema.String,
  vendor: Schema.String,
  configuredVendors: Schema.Array(Schema.String)
}) {
  override get message(): string {
    return `The model \`${this.model}\` does not exist: vendor \`${this.vendor}\` is not configured. ` +
      `Configured vendors: ${this.configuredVendors.join(", ") || "none"}.`
  }
}

/** A stored resource (a response, an item, a stored completion, a key) does not exist, or belongs to another account (404). */
export class ResourceNotFound extends Schema.TaggedError<ResourceNotFound>()("ResourceNotFound", {
  message: Schema.String,
  param: optional(Schema.String),
  code: optional(Schema.String)
}) {}

/** The vendor cannot honour a request parameter (400, naming the parameter). */
export class UnsupportedParameter extends Schema.TaggedError<UnsupportedParameter>()("UnsupportedParameter", {
  vendor: Schema.String,
  param: Schema.String,
  reason: optional(Schema.String)
}) {
  override get message(): string {
    return `Unsupported parameter for vendor \`${this.vendor}\`: \`${this.param}\`` +
      (this.reason ? ` (${this.reason})` : "") +
      ". Remove it, or set drop_unsupported_params in the gateway's configuration."
  }
}

/** The upstream answered 429 (retryable; its retry-after is passed on). */
export class UpstreamRateLimited extends Schema.TaggedError<UpstreamRateLimited>()("UpstreamRateLimited", {
  vendor: Schema.String,
  message: Schema.String,
  retryAfterMs: optional(Schema.Number)
}) {}

/** The upstream is overloaded (Anthropic's 529; retryable). */
export class UpstreamOverloaded extends Schema.TaggedError<UpstreamOverloaded>()("UpstreamOverloaded", {
  vendor: Schema.String,
  message: Schema.String,
  retryAfterMs: optional(Schema.Number)
}) {}

/** Which deadline an upstream call missed. */
export const TimeoutPhase = Schema.Literal("first_byte", "idle", "total", "upstream")
export type TimeoutPhase = typeof TimeoutPhase.Type

/** The upstream did not answer in time (504; retryable). */
export class UpstreamTimeout extends Schema.TaggedError<UpstreamTimeout>()("UpstreamTimeout", {
  vendor: Schema.String,
  phase: TimeoutPhase,
  timeoutMs: optional(Schema.Number)
}) {
  override get message(): string {
    const what = this.phase === "first_byte"
      ? "did not start answering"
      : this.phase === "idle"
      ? "stopped sending data"
      : this.phase === "total"
      ? "did not finish"
      : "timed out"
    return `Upstream \`${this.vendor}\` ${what}${this.timeoutMs !== undefined ? ` within ${this.timeoutMs} ms` : ""}.`
  }
}

/** The upstream could not be reached, dropped the connection, or answered with a 5xx (retryable). */
export class UpstreamUnavailable extends Schema.TaggedError<UpstreamUnavailable>()("UpstreamUnavailable", {
  vendor: Schema.String,
  message: Schema.String,
  upstreamStatus: optional(Schema.Number)
}) {}

/** The upstream's answer is not what it claims to be (bad JSON, an HTML page, an empty body). */
export class UpstreamBadResponse extends Schema.TaggedError<UpstreamBadResponse>()("UpstreamBadResponse", {
  vendor: Schema.String,
  message: Schema.String,
  excerpt: optional(Schema.String),
  upstreamStatus: optional(Schema.Number)
}) {}

/** The upstream rejected the request with a 4xx; its status and message are kept. */
export class UpstreamRejected extends Schema.TaggedError<UpstreamRejected>()("UpstreamRejected", {
  vendor: Schema.String,
  upstreamStatus: Schema.Number,
  message: Schema.String,
  type: optional(Schema.String),
  code: optional(Schema.String),
  param: optional(Schema.String)
}) {}

/** The vendor refused to produce content for safety reasons. */
export class ContentFiltered extends Schema.TaggedError<ContentFiltered>()("ContentFiltered", {
  vendor: Schema.String,
  message: Schema.String
}) {}

/** The request body exceeds the gateway's limit (413). */
export class RequestTooLarge extends Schema.TaggedError<RequestTooLarge>()("RequestTooLarge", {
  limitBytes: Schema.Number
}) {
  override get message(): string {
    return `Request body is larger than the limit of ${this.limitBytes} bytes.`
  }
}

/** The request body is not JSON (415). */
export class UnsupportedMediaType extends Schema.TaggedError<UnsupportedMediaType>()("UnsupportedMediaType", {
  contentType: Schema.String
}) {
  override get message(): string {
    return `Unsupported content type \`${this.contentType || "(none)"}\`: send application/json.`
  }
}

/** No such route (404). */
export class RouteNotFound extends Schema.TaggedError<RouteNotFound>()("RouteNotFound", {
  method: Schema.String,
  path: Schema.String
}) {
  override get message(): string {
    return `No route for ${this.method} ${this.path}.`
  }
}

/** The route exists but not for this method (405). */
export class MethodNotAllowed extends Schema.TaggedError<MethodNotAllowed>()("MethodNotAllowed", {
  method: Schema.String,
  path: Schema.String,
  allowed: Schema.Array(Schema.String)
}) {
  override get message(): string {
    return `Method ${this.method} is not allowed on ${this.path}; use ${this.allowed.join(", ")}.`
  }
}

const seconds = (ms: number): number => Math.max(1, Math.ceil(ms / 1000))

/**
 * Every target that could serve the model has its circuit breaker open (503):
 * nothing was sent upstream. `retryAfterMs` is the time until the first of
 * them lets a probe request through.
 */
export class NoHealthyTarget extends Schema.TaggedError<NoHealthyTarget>()("NoHealthyTarget", {
  model: Schema.String,
  targets: Schema.Array(Schema.String),
  retryAfterMs: Schema.Number
}) {
  override get message(): string {
    const which = this.targets.length === 1 && this.targets[0] === this.model
      ? "its circuit breaker is open"
      : `the circuit breakers of ${this.targets.join(", ")} are open`
    return `No healthy target for \`${this.model}\`: ${which} after repeated failures; retry in ${seconds(this.retryAfterMs)} s.`
  }
}

/** One target a routed call tried, and why it did not answer. */
export const TargetFailure = Schema.Struct({
  target: Schema.String,
  reason: Schema.String
}).annotations({ identifier: "TargetFailure" })
export interface TargetFailure extends Schema.Schema.Type<typeof TargetFailure> {}

/**
 * Every target of a route failed. It is answered as the last failure was
 * (`last`: its status, type, code, retry-after), with a message naming every
 * target tried and why each failed.
 */
export class AllTargetsFailed extends Schema.TaggedError<AllTargetsFailed>()("AllTargetsFailed", {
  model: Schema.String,
  failures: Schema.Array(TargetFailure),
  last: ErrorDescription
}) {
  override get message(): string {
    return `Every target of \`${this.model}\` failed: ` +
      this.failures.map((failure) => `${failure.target}: ${failure.reason}`).join("; ")
  }
}

/** A bug or an unexpected failure inside the gateway (500). Details stay in the logs. */
export class InternalError extends Schema.TaggedError<InternalError>()("InternalError", {
  message: Schema.String
}) {}

/** The database behind stored completions, keys and usage cannot be reached (503; retryable). */
export class StoreUnavailable extends Schema.TaggedError<StoreUnavailable>()("StoreUnavailable", {
  message: Schema.String
}) {}

const formatLimit = (limit: "requests" | "tokens" | "concurrency", max: number): string =>
  limit === "requests"
    ? `requests per minute (RPM): limit ${max}`
    : limit === "tokens"
    ? `tokens per minute (TPM): limit ${max}`
    : `concurrent requests: limit ${max}`

/**
 * A rate limit of the gateway's own (per key or per account) is reached
 * (429, `rate_limit_exceeded`, `type` naming the limit): nothing was
 * forwarded. `retryAfterMs` is the time until the window lets the request through.
 */
export class RateLimitExceeded extends Schema.TaggedError<RateLimitExceeded>()("RateLimitExceeded", {
  limit: Schema.Literal("requests", "tokens", "concurrency"),
  scope: Schema.Literal("key", "account"),
  subject: Schema.String,
  max: Schema.Number,
  /** The tokens (or 1 request) this request asked for. */
  requested: Schema.Number,
  retryAfterMs: Schema.Number
}) {
  override get message(): string {
    const tooBig = this.limit === "tokens" && this.requested > this.max
      ? ` This request alone reserves ${this.requested} tokens (its prompt and max_completion_tokens); lower max_completion_tokens.`
      : ""
    return `Rate limit reached for ${this.scope} \`${this.subject}\` on ${formatLimit(this.limit, this.max)}, requested ${this.requested}.` +
      `${tooBig} Please try again in ${Math.max(1, Math.ceil(this.retryAfterMs / 1000))}s.`
  }
}

/**
 * A budget of the gateway's (per key or per account) is spent for its period
 * (429, `insufficient_quota`, `x-should-retry: false`: retrying will not help
 * before the period ends).
 */
export class QuotaExceeded extends Schema.TaggedError<QuotaExceeded>()("QuotaExceeded", {
  scope: Schema.Literal("key", "account"),
  subject: Schema.String,
  /** `12.5 USD` or `5000000 tokens`. */
  budget: Schema.String,
  period: Schema.Literal("day", "week", "month"),
  /** When the period ends, Unix seconds. */
  resetsAt: Schema.Number
}) {
  override get message(): string {
    return `You exceeded the ${this.period === "day" ? "daily" : `${this.period}ly`} budget of ${this.scope} \`${this.subject}\` (${this.budget}); ` +
      `it resets at ${new Date(this.resetsAt * 1000).toISOString()}.`
  }
}

/** Everything that can go wrong in a gateway call. */
export const GatewayError = Schema.Union(
  RequestValidationError,
  InvalidRequest,
  Unauthenticated,
  Forbidden,
  AccountForbidden,
  ModelNotFound,
  ResourceNotFound,
  UnsupportedParameter,
  UpstreamRateLimited,
  UpstreamOverloaded,
  UpstreamTimeout,
  UpstreamUnavailable,
  UpstreamBadResponse,
  UpstreamRejected,
  ContentFiltered,
  RequestTooLarge,
  UnsupportedMediaType,
  RouteNotFound,
  MethodNotAllowed,
  NoHealthyTarget,
  AllTargetsFailed,
  InternalError,
  StoreUnavailable,
  RateLimitExceeded,
  QuotaExceeded
)
export type GatewayError = typeof GatewayError.Type

/** The errors that come from talking to a vendor. */
export type UpstreamError =
  | UpstreamRateLimited
  | UpstreamOverloaded
  | UpstreamTimeout
  | UpstreamUnavailable
  | UpstreamBadResponse
  | UpstreamRejected
  | ContentFiltered

/** OpenAI's error envelope. */
export const ErrorEnvelope = Schema.Struct({
  error: Schema.Struct({
    message: Schema.String,
    type: Schema.String,
    param: Schema.NullOr(Schema.String),
    code: Schema.NullOr(Schema.String)
  })
}).annotations({ identifier: "ErrorEnvelope" })
export interface ErrorEnvelope extends Schema.Schema.Type<typeof ErrorEnvelope> {}

const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([408, 409, 429, 500, 502, 503, 504, 529])

/** Whether an HTTP status from an upstream is worth retrying. */
export const isRetryableStatus = (status: number): boolean => RETRYABLE_STATUSES.has(status)

const describeStatus = (status: number, type: string, code: string | null, param: string | null = null) => ({
  status,
  retryable: false,
  type,
  code,
  param
})

/** The one exhaustive mapping from each error to its HTTP answer. */
export const describeError = (error: GatewayError): ErrorDescription => {
  switch (error._tag) {
    case "RequestValidationError": {
      const first = error.detail[0]
      const param = first !== undefined && first.type !== "json_invalid" ? locText(first.loc) || null : null
      return describeStatus(422, "invalid_request_error", "validation_error", param)
    }
    case "InvalidRequest":
      return describeStatus(400, "invalid_request_error", error.code ?? null, error.param ?? null)
    case "Unauthenticated":
      return describeStatus(401, "authentication_error", "invalid_api_key")
    case "Forbidden":
      return describeStatus(403, "permission_error", "forbidden")
    case "AccountForbidden":
      return describeStatus(403, "permission_error", "account_forbidden")
    case "ModelNotFound":
      return describeStatus(404, "invalid_request_error", "model_not_found", "model")
    case "ResourceNotFound":
      return describeStatus(404, "invalid_request_error", error.code ?? "not_found", error.param ?? null)
    case "UnsupportedParameter":
      return describeStatus(400, "invalid_request_error", "unsupported_parameter", error.param)
    case "UpstreamRateLimited":
      return { ...describeStatus(429, "rate_limit_error", "rate_limit_exceeded"), retryable: true, retryAfterMs: error.retryAfterMs }
    case "UpstreamOverloaded":
      return { ...describeStatus(503, "overloaded_error", "overloaded"), retryable: true, retryAfterMs: error.retryAfterMs }
    case "UpstreamTimeout":
      return { ...describeStatus(504, "timeout_error", `upstream_timeout_${error.phase}`), retryable: true }
    case "UpstreamUnavailable":
      return {
        ...describeStatus(error.upstreamStatus === 503 ? 503 : 502, "upstream_error", "upstream_unavailable"),
        retryable: true
      }
    case "UpstreamBadResponse":
      return describeStatus(502, "upstream_error", "upstream_bad_response")
    case "UpstreamRejected":
      return {
        ...describeStatus(error.upstreamStatus, error.type ?? "invalid_request_error", error.code ?? null, error.param ?? null),
        retryable: isRetryableStatus(error.upstreamStatus)
      }
    case "ContentFiltered":
      return describeStatus(400, "invalid_request_error", "content_filter")
    case "RequestTooLarge":
      return describeStatus(413, "invalid_request_error", "request_too_large")
    case "UnsupportedMediaType":
      return describeStatus(415, "invalid_request_error", "unsupported_media_type")
    case "RouteNotFound":
      return describeStatus(404, "invalid_request_error", "not_found")
    case "MethodNotAllowed":
      return describeStatus(405, "invalid_request_error", "method_not_allowed")
    case "NoHealthyTarget":
      // Not retried by the service (nothing would answer sooner); the client is told when to come back.
      return { ...describeStatus(503, "upstream_error", "no_healthy_target"), retryAfterMs: error.retryAfterMs }
    case "AllTargetsFailed":
      return error.last
    case "InternalError":
      return describeStatus(500, "server_error", "internal_error")
    case "StoreUnavailable":
      return { ...describeStatus(503, "server_error", "store_unavailable"), retryable: true }
    case "RateLimitExceeded":
      // Not retried by the gateway: the limit is the caller's own.
      return { ...describeStatus(429, error.limit, "rate_limit_exceeded"), retryAfterMs: error.retryAfterMs }
    case "QuotaExceeded":
      return describeStatus(429, "insufficient_quota", "insufficient_quota")
  }
}

/** Whether the call that failed with this error may succeed if tried again. */
export const isRetryable = (error: GatewayError): boolean => describeError(error).retryable

/** The HTTP status for an error. */
export const httpStatus = (error: GatewayError): number => describeError(error).status

/** OpenAI's `{"error":{...}}` envelope for an error. */
export const toErrorEnvelope = (error: GatewayError): ErrorEnvelope => {
  const { code, param, status, type } = describeError(error)
  return { error: { message: error.message || `Request failed with status ${status}.`, type, param, code } }
}

/** Extra response headers an error carries (retry-after, allow). */
export const errorHeaders = (error: GatewayError): Record<string, string> => {
  const described = describeError(error)
  const headers: Record<string, string> = {}
  if (described.retryAfterMs !== undefined) {
    headers["retry-after"] = String(Math.max(0, Math.ceil(described.retryAfterMs / 1000)))
    headers["retry-after-ms"] = String(Math.max(0, Math.round(described.retryAfterMs)))
  }
  if (error._tag === "MethodNotAllowed") headers["allow"] = error.allowed.join(", ")
  if (error._tag === "QuotaExceeded") headers["x-should-retry"] = "false"
  return headers
}

/**
 * The whole HTTP answer for an error: status, headers and JSON body. A 422
 * carries the spec's `detail` plus the envelope, so OpenAI SDKs show a message;
 * its `detail` is bounded (see `boundedDetail`): it never echoes an unbounded input.
 */
export const errorResponse = (
  error: GatewayError
): { readonly status: number; readonly headers: Record<string, string>; readonly body: unknown } => {
  const envelope = toErrorEnvelope(error)
  const body = error._tag === "RequestValidationError" ? { detail: boundedDetail(error.detail), ...envelope } : envelope
  return { status: httpStatus(error), headers: errorHeaders(error), body }
}

/** Builds the 422 error from a validation result. */
export const requestValidationError = (validation: HTTPValidationError): RequestValidationError =>
  new RequestValidationError({ detail: validation.detail })

import { describe, expect, it } from "@effect/vitest"
import { Schema } from "effect"
import {
  AccountForbidden,
  ContentFiltered,
  describeError,
  ErrorEnvelope,
  errorHeaders,
  errorResponse,
  Forbidden,
  GatewayError,
  httpStatus,
  AllTargetsFailed,
  InternalError,
  InvalidRequest,
  isRetryable,
  isRetryableStatus,
  MethodNotAllowed,
  ModelNotFound,
  NoHealthyTarget,
  QuotaExceeded,
  RateLimitExceeded,
  RequestTooLarge,
  requestValidationError,
  ResourceNotFound,
  RouteNotFound,
  StoreUnavailable,
  toErrorEnvelope,
  Unauthenticated,
  UnsupportedMediaType,
  UnsupportedParameter,
  UpstreamBadResponse,
  UpstreamOverloaded,
  UpstreamRateLimited,
  UpstreamRejected,
  UpstreamTimeout,
  UpstreamUnavailable
} from "../src/index.js"
import { detailOf } from "./support/json.js"

interface Expected {
  readonly error: GatewayError
  readonly status: number
  readonly retryable: boolean
  readonly type: string
  readonly code: string | null
  readonly param: string | null
  readonly headers: Record<string, string>
}

const validationDetail = detailOf({ model: "openai/gpt-4o", messages: [], temperature: 3 }) ?? []

/**
 * One expectation per member of the union. The mapped type makes `tsc` fail
 * when a member is added without an entry; the test below makes vitest fail
 * too.
 */
const expectations: { readonly [Tag in GatewayError["_tag"]]: Expected } = {
  RequestValidationError: {
    error: requestValidationError({ detail: validationDetail }),
    status: 422,
    retryable: false,
    type: "invalid_request_error",
    code: "validation_error",
    param: "temperature",
    headers: {}
  },
  InvalidRequest: {
    error: new InvalidRequest({
      message: "stream_options is only allowed when stream is true.",
      param: "stream_options",
      code: "invalid_value"
    }),
    status: 400,
    retryable: false,
    type: "invalid_request_error",
    code: "invalid_value",
    param: "stream_options",
    headers: {}
  },
  Unauthenticated: {
    error: new Unauthenticated({ message: "Missing or invalid API key." }),
    status: 401,
    retryable: false,
    type: "authentication_error",
    code: "invalid_api_key",
    param: null,
    headers: {}
  },
  Forbidden: {
    error: new Forbidden({ message: "This key may not use vendor `anthropic`." }),
    status: 403,
    retryable: false,
    type: "permission_error",
    code: "forbidden",
    param: null,
    headers: {}
  },
  AccountForbidden: {
    error: new AccountForbidden({ accountId: "acct_other" }),
    status: 403,
    retryable: false,
    type: "permission_error",
    code: "account_forbidden",
    param: null,
    headers: {}
  },
  ModelNotFound: {
    error: new ModelNotFound({ model: "acme/rocket-1", vendor: "acme", configuredVendors: ["openai", "anthropic"] }),
    status: 404,
    retryable: false,
    type: "invalid_request_error",
    code: "model_not_found",
    param: "model",
    headers: {}
  },
  ResourceNotFound: {
    error: new ResourceNotFound({
      message: "Response with id 'resp_1' not found.",
      param: "response_id",
      code: "response_not_found"
    }),
    status: 404,
    retryable: false,
    type: "invalid_request_error",
    code: "response_not_found",
    param: "response_id",
    headers: {}
  },
  UnsupportedParameter: {
    error: new UnsupportedParameter({ vendor: "anthropic", param: "logit_bias" }),
    status: 400,
    retryable: false,
    type: "invalid_request_error",
    code: "unsupported_parameter",
    param: "logit_bias",
    headers: {}
  },
  UpstreamRateLimited: {
    error: new UpstreamRateLimited({ vendor: "openai", message: "Rate limit reached for gpt-4o.", retryAfterMs: 1500 }),
    status: 429,
    retryable: true,
    type: "rate_limit_error",
    code: "rate_limit_exceeded",
    param: null,
    headers: { "retry-after": "2", "retry-after-ms": "1500" }
  },
  UpstreamOverloaded: {
    error: new UpstreamOverloaded({ vendor: "anthropic", message: "Overloaded", retryAfterMs: 250 }),
    status: 503,
    retryable: true,
    type: "overloaded_error",
    code: "overloaded",
    param: null,
    headers: { "retry-after": "1", "retry-after-ms": "250" }
  },
  UpstreamTimeout: {
    error: new UpstreamTimeout({ vendor: "openai", phase: "first_byte", timeoutMs: 30_000 }),
    status: 504,
    retryable: true,
    type: "timeout_error",
    code: "upstream_timeout_first_byte",
    param: null,
    headers: {}
  },
  UpstreamUnavailable: {
    error: new UpstreamUnavailable({ vendor: "ollama", message: "connect ECONNREFUSED 127.0.0.1:11434" }),
    status: 502,
    retryable: true,
    type: "upstream_error",
    code: "upstream_unavailable",
    param: null,
    headers: {}
  },
  UpstreamBadResponse: {
    error: new UpstreamBadResponse({
      vendor: "openai",
      message: "The upstream answered with HTML, not JSON.",
      excerpt: "<html>",
      upstreamStatus: 200
    }),
    status: 502,
    retryable: false,
    type: "upstream_error",
    code: "upstream_bad_response",
    param: null,
    headers: {}
  },
  UpstreamRejected: {
    error: new UpstreamRejected({
      vendor: "openai",
      upstreamStatus: 400,
      message: "This model's maximum context length is 128000 tokens.",
      type: "invalid_request_error",
      code: "context_length_exceeded",
      param: "messages"
    }),
    status: 400,
    retryable: false,
    type: "invalid_request_error",
    code: "context_length_exceeded",
    param: "messages",
    headers: {}
  },
  ContentFiltered: {
    error: new ContentFiltered({ vendor: "gemini", message: "The response was blocked for safety reasons." }),
    status: 400,
    retryable: false,
    type: "invalid_request_error",
    code: "content_filter",
    param: null,
    headers: {}
  },
  RequestTooLarge: {
    error: new RequestTooLarge({ limitBytes: 1_048_576 }),
    status: 413,
    retryable: false,
    type: "invalid_request_error",
    code: "request_too_large",
    param: null,
    headers: {}
  },
  UnsupportedMediaType: {
    error: new UnsupportedMediaType({ contentType: "text/plain" }),
    status: 415,
    retryable: false,
    type: "invalid_request_error",
    code: "unsupported_media_type",
    param: null,
    headers: {}
  },
  RouteNotFound: {
    error: new RouteNotFound({ method: "GET", path: "/v1/nothing" }),
    status: 404,
    retryable: false,
    type: "invalid_request_error",
    code: "not_found",
    param: null,
    headers: {}
  },
  MethodNotAllowed: {
    error: new MethodNotAllowed({ method: "GET", path: "/v5/chat/completions", allowed: ["POST", "OPTIONS"] }),
    status: 405,
    retryable: false,
    type: "invalid_request_error",
    code: "method_not_allowed",
    param: null,
    headers: { allow: "POST, OPTIONS" }
  },
  NoHealthyTarget: {
    error: new NoHealthyTarget({ model: "smart", targets: ["openai/gpt-4o", "anthropic/claude-sonnet-4-5"], retryAfterMs: 12_345 }),
    status: 503,
    retryable: false,
    type: "upstream_error",
    code: "no_healthy_target",
    param: null,
    headers: { "retry-after": "13", "retry-after-ms": "12345" }
  },
  AllTargetsFailed: {
    error: new AllTargetsFailed({
      model: "smart",
      failures: [
        { target: "openai/gpt-4o", reason: "Upstream `openai` answered 503" },
        { target: "anthropic/claude-sonnet-4-5", reason: "Rate limit reached" }
      ],
      last: describeError(new UpstreamRateLimited({ vendor: "anthropic", message: "Rate limit reached", retryAfterMs: 2_000 }))
    }),
    status: 429,
    retryable: true,
    type: "rate_limit_error",
    code: "rate_limit_exceeded",
    param: null,
    headers: { "retry-after": "2", "retry-after-ms": "2000" }
  },
  InternalError: {
    error: new InternalError({ message: "An unexpected error occurred." }),
    status: 500,
    retryable: false,
    type: "server_error",
    code: "internal_error",
    param: null,
    headers: {}
  },
  StoreUnavailable: {
    error: new StoreUnavailable({ message: "The database is unavailable." }),
    status: 503,
    retryable: true,
    type: "server_error",
    code: "store_unavailable",
    param: null,
    headers: {}
  },
  RateLimitExceeded: {
    error: new RateLimitExceeded({ limit: "requests", scope: "key", subject: "ci-bot", max: 10, requested: 1, retryAfterMs: 2_500 }),
    status: 429,
    retryable: false,
    type: "requests",
    code: "rate_limit_exceeded",
    param: null,
    headers: { "retry-after": "3", "retry-after-ms": "2500" }
  },
  QuotaExceeded: {
    error: new QuotaExceeded({ scope: "account", subject: "acct_a", budget: "100 USD", period: "month", resetsAt: 1_800_000_000 }),
    status: 429,
    retryable: false,
    type: "insufficient_quota",
    code: "insufficient_quota",
    param: null,
    headers: { "x-should-retry": "false" }
  }
}

describe("GatewayError", () => {
  it("every member of the union has an expectation here, and nothing else does", () => {
    const members = GatewayError.members.map((member) => member._tag)
    expect(new Set(members).size).toBe(members.length)
    expect([...members].sort()).toEqual(Object.keys(expectations).sort())
    for (const [tag, expected] of Object.entries(expectations)) expect(expected.error._tag).toBe(tag)
  })

  for (const [tag, expected] of Object.entries(expectations)) {
    describe(tag, () => {
      const { error } = expected

      it(`maps to ${expected.status}, ${expected.retryable ? "retryable" : "not retryable"}`, () => {
        expect(describeError(error)).toMatchObject({
          status: expected.status,
          retryable: expected.retryable,
          type: expected.type,
          code: expected.code,
          param: expected.param
        })
        expect(httpStatus(error)).toBe(expected.status)
        expect(isRetryable(error)).toBe(expected.retryable)
      })

      it("has OpenAI's envelope with a non-empty message", () => {
        const envelope = toErrorEnvelope(error)
        expect(envelope).toStrictEqual({
          error: { message: error.message, type: expected.type, param: expected.param, code: expected.code }
        })
        expect(Object.keys(envelope)).toEqual(["error"])
        expect(Object.keys(envelope.error).sort()).toEqual(["code", "message", "param", "type"])
        expect(envelope.error.message.trim().length).toBeGreaterThan(0)
        expect(Schema.is(ErrorEnvelope)(envelope)).toBe(true)
      })

      it(`has the headers ${JSON.stringify(expected.headers)}`, () => {
        expect(errorHeaders(error)).toStrictEqual(expected.headers)
      })

      it("is answered with its status, headers and body", () => {
        const envelope = toErrorEnvelope(error)
        expect(errorResponse(error)).toStrictEqual({
          status: expected.status,
          headers: expected.headers,
          body: error._tag === "RequestValidationError" ? { detail: error.detail, ...envelope } : envelope
        })
      })

      it("survives Schema encoding and decoding as a GatewayError", () => {
        const decoded = Schema.decodeUnknownSync(GatewayError)(Schema.encodeSync(GatewayError)(error))
        expect(decoded._tag).toBe(error._tag)
        expect(decoded.message).toBe(error.message)
        expect(describeError(decoded)).toStrictEqual(describeError(error))
      })
    })
  }
})

describe("details of the mapping", () => {
  it("no healthy target says which breakers are open and when to come back; a direct call names its model once", () => {
    const routed = new NoHealthyTarget({ model: "smart", targets: ["openai/gpt-4o", "groq/llama"], retryAfterMs: 1_200 })
    expect(routed.message).toBe(
      "No healthy target for `smart`: the circuit breakers of openai/gpt-4o, groq/llama are open after repeated failures; retry in 2 s."
    )
    const direct = new NoHealthyTarget({ model: "openai/gpt-4o", targets: ["openai/gpt-4o"], retryAfterMs: 30_000 })
    expect(direct.message).toBe("No healthy target for `openai/gpt-4o`: its circuit breaker is open after repeated failures; retry in 30 s.")
  })

  it("all targets failed is answered as its last failure, naming every target and why", () => {
    const last = new UpstreamUnavailable({ vendor: "groq", message: "Bad gateway", upstreamStatus: 502 })
    const error = new AllTargetsFailed({
      model: "smart",
      failures: [{ target: "openai/gpt-4o", reason: "Rate limited" }, { target: "groq/llama", reason: "Bad gateway" }],
      last: describeError(last)
    })
    expect(errorResponse(error)).toStrictEqual({
      status: 502,
      headers: {},
      body: {
        error: {
          message: "Every target of `smart` failed: openai/gpt-4o: Rate limited; groq/llama: Bad gateway",
          type: "upstream_error",
          param: null,
          code: "upstream_unavailable"
        }
      }
    })
  })

  it("retry-after is in whole seconds rounded up; retry-after-ms is rounded; negatives become 0", () => {
    const headers = (retryAfterMs: number) =>
      errorHeaders(new UpstreamRateLimited({ vendor: "openai", message: "slow down", retryAfterMs }))
    expect(headers(0)).toStrictEqual({ "retry-after": "0", "retry-after-ms": "0" })
    expect(headers(1)).toStrictEqual({ "retry-after": "1", "retry-after-ms": "1" })
    expect(headers(1000)).toStrictEqual({ "retry-after": "1", "retry-after-ms": "1000" })
    expect(headers(1001)).toStrictEqual({ "retry-after": "2", "retry-after-ms": "1001" })
    expect(headers(2499.6)).toStrictEqual({ "retry-after": "3", "retry-after-ms": "2500" })
    expect(headers(-20)).toStrictEqual({ "retry-after": "0", "retry-after-ms": "0" })
  })

  it("429 and overloaded without a known delay carry no retry headers", () => {
    expect(errorHeaders(new UpstreamRateLimited({ vendor: "openai", message: "slow down" }))).toStrictEqual({})
    expect(errorHeaders(new UpstreamOverloaded({ vendor: "anthropic", message: "Overloaded" }))).toStrictEqual({})
  })

  it("an upstream 503 stays 503; other unavailability is 502", () => {
    const unavailable = (upstreamStatus?: number) =>
      httpStatus(
        new UpstreamUnavailable({
          vendor: "openai",
          message: "down",
          ...(upstreamStatus !== undefined ? { upstreamStatus } : {})
        })
      )
    expect(unavailable(503)).toBe(503)
    expect(unavailable(500)).toBe(502)
    expect(unavailable()).toBe(502)
  })

  it("an upstream rejection keeps its status; retryable as its status is; type defaults to invalid_request_error", () => {
    const rejected = (upstreamStatus: number) => new UpstreamRejected({ vendor: "openai", upstreamStatus, message: "no" })
    expect(describeError(rejected(404))).toStrictEqual({
      status: 404,
      retryable: false,
      type: "invalid_request_error",
      code: null,
      param: null
    })
    expect(describeError(rejected(409)).retryable).toBe(true)
    expect(describeError(rejected(408)).retryable).toBe(true)
    expect(describeError(rejected(422)).retryable).toBe(false)
  })

  it("each timeout phase has its own code and message", () => {
    const phases = ["first_byte", "idle", "total", "upstream"] as const
    const described = phases.map((phase) => new UpstreamTimeout({ vendor: "openai", phase }))
    expect(described.map((e) => describeError(e).code)).toEqual(phases.map((p) => `upstream_timeout_${p}`))
    expect(new Set(described.map((e) => e.message)).size).toBe(phases.length)
    expect(new UpstreamTimeout({ vendor: "openai", phase: "idle", timeoutMs: 100 }).message).toBe(
      "Upstream `openai` stopped sending data within 100 ms."
    )
  })

  it("messages built from context say what went wrong", () => {
    expect(expectations.ModelNotFound.error.message).toBe(
      "The model `acme/rocket-1` does not exist: vendor `acme` is not configured. Configured vendors: openai, anthropic."
    )
    expect(new ModelNotFound({ model: "x/y", vendor: "x", configuredVendors: [] }).message).toContain(
      "Configured vendors: none."
    )
    expect(new UnsupportedParameter({ vendor: "anthropic", param: "n", reason: "only n=1" }).message).toBe(
      "Unsupported parameter for vendor `anthropic`: `n` (only n=1). Remove it, or set drop_unsupported_params in the gateway's configuration."
    )
    expect(new UnsupportedMediaType({ contentType: "" }).message).toContain("`(none)`")
    expect(expectations.MethodNotAllowed.error.message).toBe(
      "Method GET is not allowed on /v5/chat/completions; use POST, OPTIONS."
    )
  })

  it("isRetryableStatus: 408, 409, 429, 5xx gateway errors and 529; not other 4xx or 501", () => {
    for (const status of [408, 409, 429, 500, 502, 503, 504, 529]) expect(isRetryableStatus(status), String(status)).toBe(true)
    for (const status of [200, 400, 401, 403, 404, 413, 422, 501]) expect(isRetryableStatus(status), String(status)).toBe(false)
  })
})

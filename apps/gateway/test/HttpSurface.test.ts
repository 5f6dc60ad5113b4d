import { describe, expect, it } from "@effect/vitest"
import { Effect, Logger, LogLevel } from "effect"
import { postJson, request, type RawResponse, startGateway } from "./support/Harness.js"

const TIMEOUT = 20_000
const KEY = "sy-key-http"
const hello = { model: "echo/echo", messages: [{ role: "user", content: "hello" }] }

const get = (url: string, headers: Record<string, string> = {}) => Effect.promise(() => request(url, { headers }))
const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  Effect.promise(() => postJson(url, body, headers))

const json = (response: RawResponse): unknown => JSON.parse(response.text)

/** OpenAI's error envelope with the given code. */
const envelope = (code: string, param: string | null = null) => ({
  error: { message: expect.any(String), type: expect.any(String), param, code }
})

describe("validation errors (raw HTTP)", () => {
  it.scopedLive("a request with several problems is a 422 that lists every one in FastAPI's shape", () =>
    Effect.gen(function*() {
      const gateway = yield* startGateway()
      const response = yield* post(`${gateway.url}/v5/chat/completions`, {
        model: 1,
        messages: [{ role: "bogus" }],
        temperature: 5,
        n: 0
      })
      expect(response.status).toBe(422)
      expect(response.headers["content-type"]).toBe("application/json")
      expect(json(response)).toEqual({
        detail: [
          { loc: ["body", "model"], msg: "Input should be a valid string", type: "string_type", input: 1 },
          {
            loc: ["body", "messages", 0, "role"],
            msg: "Input should be 'system', 'developer', 'user', 'assistant', 'tool' or 'function'",
            type: "literal_error",
            input: "bogus",
            ctx: { expected: "'system', 'developer', 'user', 'assistant', 'tool' or 'function'" }
          },
          {
            loc: ["body", "n"],
            msg: "Input should be greater than or equal to 1",
            type: "greater_than_equal",
            input: 0,
            ctx: { ge: 1 }
          },
          {
            loc: ["body", "temperature"],
            msg: "Input should be less than or equal to 2",
            type: "less_than_equal",
            input: 5,
            ctx: { le: 2 }
          }
        ],
        error: {
          message: "model: Input should be a valid string (and 3 more problems)",
          type: "invalid_request_error",
          param: "model",
          code: "validation_error"
        }
      })
      expect(gateway.upstream.requests).toHaveLength(0)
    }), TIMEOUT)

  it.scopedLive("a missing required field is reported with type `missing`", () =>
    Effect.gen(function*() {
      const gateway = yield* startGateway()
      const response = yield* post(`${gateway.url}/v5/chat/completions`, { messages: [] })
      expect(response.status).toBe(422)
      expect(json(response)).toMatchObject({
        detail: [{ loc: ["body", "model"], msg: "Field required", type: "missing" }],
        error: { param: "model", code: "validation_error" }
      })
    }), TIMEOUT)

  it.scopedLive("malformed JSON is a 422 with a json_invalid detail", () =>
    Effect.gen(function*() {
      const gateway = yield* startGateway()
      const broken = yield* post(`${gateway.url}/v5/chat/completions`, "{bad")
      expect(broken.status).toBe(422)
      expect(json(broken)).toEqual({
        detail: [{
          loc: ["body", 1],
          msg: "JSON decode error",
          type: "json_invalid",
          input: {},
          ctx: { error: expect.stringContaining("position 1") }
        }],
        error: {
          message: expect.stringContaining("The request body is not valid JSON"),
          type: "invalid_request_error",
          param: null,
          code: "validation_error"
        }
      })
      const empty = yield* post(`${gateway.url}/v5/chat/completions`, "")
      expect(empty.status).toBe(422)
      expect(json(empty)).toEqual({
        detail: [{ loc: ["body", 0], msg: "JSON decode error", type: "json_invalid", input: {}, ctx: { error: "Expecting value" } }],
        error: {
          message: "The request body is not valid JSON (Expecting value).",
          type: "invalid_request_error",
          param: null,
          code: "validation_error"
        }
      })
    }), TIMEOUT)
})

describe("body limits and content types", () => {
  const LIMIT = 1024
  const padded = (size: number) => {
    const base = JSON.stringify({ ...hello, messages: [{ role: "user", content: "" }] })
    return JSON.stringify({ ...hello, messages: [{ role: "user", content: "x".repeat(size - base.length) }] })
  }

  it.scopedLive("a body over the limit with a content-length is a 413", () =>
    Effect.gen(function*() {
      const gateway = yield* startGateway({ gateway: { bodyLimitBytes: LIMIT } })
      const body = padded(4 * LIMIT)
      expect(Buffer.byteLength(body)).toBe(4 * LIMIT)
      const response = yield* post(`${gateway.url}/v5/chat/completions`, body)
      expect(response.status).toBe(413)
      expect(response.headers["content-type"]).toBe("application/json")
      expect(json(response)).toEqual(envelope("request_too_large"))
    }), TIMEOUT)

  it.scopedLive("a chunked body (no content-length) over the limit is a 413", () =>
    Effect.gen(function*() {
      const gateway = yield* startGateway({ gateway: { bodyLimitBytes: LIMIT } })
      const body = padded(4 * LIMIT)
      const pieces = Array.from({ length: 8 }, (_, i) => body.slice(i * 512, (i + 1) * 512))
      const response = yield* Effect.promise(() =>
        request(`${gateway.url}/v5/chat/completions`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: pieces
        })
      )
      expect(response.status).toBe(413)
      expect(json(response)).toEqual(envelope("request_too_large"))
    }), TIMEOUT)

  it.scopedLive("a body just within the limit is accepted, chunked or not", () =>
    Effect.gen(function*() {
      const gateway = yield* startGateway({ gateway: { bodyLimitBytes: LIMIT } })
      const body = padded(LIMIT)
      expect((yield* post(`${gateway.url}/v5/chat/completions`, body)).status).toBe(200)
      const chunked = yield* Effect.promise(() =>
        request(`${gateway.url}/v5/chat/completions`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: [body.slice(0, 500), body.slice(500)]
        })
      )
      expect(chunked.status).toBe(200)
    }), TIMEOUT)

  it.scopedLive("a text/plain body is a 415; JSON with a charset is accepted", () =>
    Effect.gen(function*() {
      const gateway = yield* startGateway()
      const plain = yield* Effect.promise(() =>
        request(`${gateway.url}/v5/chat/completions`, {
          method: "POST",
          headers: { "content-type": "text/plain" },
          body: JSON.stringify(hello)
        })
      )
      expect(plain.status).toBe(415)
      expect(plain.headers["content-type"]).toBe("application/json")
      expect(json(plain)).toEqual(envelope("unsupported_media_type"))
      const charset = yield* post(`${gateway.url}/v5/chat/completions`, hello, {
        "content-type": "application/json; charset=utf-8"
      })
      expect(charset.status).toBe(200)
    }), TIMEOUT)
})

describe("routes", () => {
  it.scopedLive("an unknown path is a 404 in JSON", () =>
    Effect.gen(function*() {
      const gateway = yield* startGateway()
      for (const path of ["/nope", "/v5/chat", "/v2/chat/completions", "/"]) {
        const response = yield* get(`${gateway.url}${path}`)
        expect(response.status, path).toBe(404)
        expect(response.headers["content-type"]).toBe("application/json")
        expect(json(response)).toEqual(envelope("not_found"))
      }
    }), TIMEOUT)

  it.scopedLive("a wrong method is a 405 in JSON with an allow header", () =>
    Effect.gen(function*() {
      const gateway = yield* startGateway()
      const cases = [
        { method: "PUT", path: "/v5/chat/completions", allow: "POST, GET" },
        { method: "DELETE", path: "/v1/chat/completions", allow: "POST, GET" },
        { method: "POST", path: "/health", allow: "GET" },
        { method: "PUT", path: "/v5/models", allow: "GET" }
      ]
      for (const { allow, method, path } of cases) {
        const response = yield* Effect.promise(() => request(`${gateway.url}${path}`, { method }))
        expect(response.status, `${method} ${path}`).toBe(405)
        expect(response.headers.allow).toBe(allow)
        expect(response.headers["content-type"]).toBe("application/json")
        expect(json(response)).toEqual(envelope("method_not_allowed"))
      }
    }), TIMEOUT)

  it.scopedLive("/v1/models and /v5/models list the models in OpenAI's format", () =>
    Effect.gen(function*() {
      const gateway = yield* startGateway()
      for (const path of ["/v1/models", "/v5/models"]) {
        const response = yield* get(`${gateway.url}${path}`)
        expect(response.status).toBe(200)
        const list = json(response) as { object: string; data: Array<Record<string, unknown>> }
        expect(list.object).toBe("list")
        expect(list.data.length).toBeGreaterThan(0)
        for (const model of list.data) {
          expect(model).toEqual({ id: expect.any(String), object: "model", created: expect.any(Number), owned_by: expect.any(String) })
        }
        expect(list.data.map((m) => m.id)).toEqual(expect.arrayContaining(["echo/echo", "openai/gpt-4o"]))
      }
    }), TIMEOUT)

  it.scopedLive("/health and /ready answer", () =>
    Effect.gen(function*() {
      const gateway = yield* startGateway()
      const health = yield* get(`${gateway.url}/health`)
      expect(health.status).toBe(200)
      expect(json(health)).toEqual({ status: "ok" })
      const ready = yield* get(`${gateway.url}/ready`)
      expect(ready.status).toBe(200)
      expect(json(ready)).toEqual({
        status: "ready",
        vendors: expect.arrayContaining(["echo", "openai"]),
        store: { backend: "memory", healthy: true, queue_depth: 0, dropped: 0, last_error: null }
      })
    }), TIMEOUT)
})

describe("gateway keys", () => {
  it.scopedLive("/health, /ready, /openapi.json and /docs need no key when keys are configured", () =>
    Effect.gen(function*() {
      const gateway = yield* startGateway({ gateway: { apiKeys: [KEY] } })
      for (const path of ["/health", "/ready", "/openapi.json", "/docs"]) {
        expect((yield* get(`${gateway.url}${path}`)).status, path).toBe(200)
      }
    }), TIMEOUT)

  it.scopedLive("models and completions need the key when keys are configured", () =>
    Effect.gen(function*() {
      const gateway = yield* startGateway({ gateway: { apiKeys: [KEY] } })
      for (const path of ["/v1/models", "/v5/models"]) {
        const anonymous = yield* get(`${gateway.url}${path}`)
        expect(anonymous.status, path).toBe(401)
        expect(json(anonymous)).toEqual(envelope("invalid_api_key"))
        expect((yield* get(`${gateway.url}${path}`, { "x-api-key": KEY })).status).toBe(200)
        expect((yield* get(`${gateway.url}${path}`, { authorization: `Bearer ${KEY}` })).status).toBe(200)
      }
      const url = `${gateway.url}/v5/chat/completions`
      const anonymous = yield* post(url, hello)
      expect(anonymous.status).toBe(401)
      expect(json(anonymous)).toEqual(envelope("invalid_api_key"))
      expect((json(anonymous) as { error: { message: string } }).error.message).toContain("x-api-key")
      expect((yield* post(url, hello, { "x-api-key": "wrong" })).status).toBe(401)
      expect((yield* post(url, hello, { authorization: `Basic ${KEY}` })).status).toBe(401)
      expect((yield* post(url, hello, { "x-api-key": KEY })).status).toBe(200)
      expect((yield* post(url, hello, { authorization: `Bearer ${KEY}` })).status).toBe(200)
      expect((yield* post(url, hello, { authorization: `bearer ${KEY}` })).status).toBe(200)
    }), TIMEOUT)

  it.scopedLive("without configured keys, no key is needed", () =>
    Effect.gen(function*() {
      const gateway = yield* startGateway()
      expect((yield* post(`${gateway.url}/v5/chat/completions`, hello)).status).toBe(200)
      expect((yield* get(`${gateway.url}/v5/models`)).status).toBe(200)
    }), TIMEOUT)
})

describe("garbage in", () => {
  const deepArray = "[".repeat(100_000) + "]".repeat(100_000)
  const deepObject = '{"a":'.repeat(50_000) + "1" + "}".repeat(50_000)
  const withField = (field: string, raw: string) =>
    `{"model":"echo/echo","messages":[{"role":"user","content":"hi"}],"${field}":${raw}}`
  const garbage: ReadonlyArray<readonly [string, string | Buffer]> = [
    ["an empty body", ""],
    ["null", "null"],
    ["an array", "[]"],
    ["a string", '"str"'],
    ["a number", "42"],
    ["an overflowing number", "1e999"],
    ["whitespace", "   \n  "],
    ["a truncated object", '{"model":"echo/echo","messages":['],
    ["a deeply nested array", deepArray],
    ["a deeply nested object in a known field", withField("metadata", deepObject)],
    ["deeply nested messages", `{"model":"echo/echo","messages":${deepArray}}`],
    ["a deeply nested unknown field", withField("extra", deepArray)],
    ["huge numbers", withField("max_tokens", "123456789012345678901234567890")],
    ["an overflowing max_tokens", withField("max_tokens", "1e400")],
    ["a negative zero seed", withField("seed", "-0")],
    ["invalid UTF-8", Buffer.concat([Buffer.from('{"model":"echo/echo","messages":[{"role":"user","content":"'), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('"}]}')])],
    ["a lone surrogate escape", withField("user", '"\\ud800"')],
    ["a NUL byte in a string", withField("user", '"a\\u0000b"')],
    ["a duplicate key", '{"model":"echo/echo","model":7,"messages":[]}'],
    ["a wrong-typed everything", '{"model":[],"messages":{},"stream":"yes","tools":7,"stop":[1,2,3,4,5]}'],
    ["a __proto__ key", withField("__proto__", '{"polluted":true}')]
  ]

  it.scopedLive("no input gets a 5xx, an HTML page or a stack trace, and the server stays up", () =>
    Effect.gen(function*() {
      const gateway = yield* startGateway({ gateway: { bodyLimitBytes: 4 * 1024 * 1024 } })
      for (const [name, body] of garbage) {
        const response = yield* Effect.promise(() =>
          request(`${gateway.url}/v5/chat/completions`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body
          })
        )
        expect(response.status, name).toBeLessThan(500)
        expect(response.headers["content-type"], name).toBe("application/json")
        expect(() => JSON.parse(response.text), name).not.toThrow()
        expect(response.text, name).not.toMatch(/<html|\bat \S+ \(|node:internal|RangeError|Maximum call stack/i)
        expect(response.headers["x-request-id"], name).toMatch(/\S/)
      }
      expect((yield* get(`${gateway.url}/health`)).status).toBe(200)
      expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    }), 60_000)

  // Known gap, outside the gateway: the service's `upstreamBody` cannot serialize what JSON.parse accepted, and the
  // defect becomes a 500 (logged, the server stays up). Remove `.fails` once it is a 4xx.
  it.scopedLive("a deeply nested unknown field bound for an OpenAI-compatible vendor is not a 5xx", () =>
    Effect.gen(function*() {
      const gateway = yield* startGateway({ gateway: { bodyLimitBytes: 4 * 1024 * 1024 } }).pipe(
        Logger.withMinimumLogLevel(LogLevel.None)
      )
      const response = yield* post(
        `${gateway.url}/v5/chat/completions`,
        `{"model":"openai/gpt-4o","messages":[{"role":"user","content":"hi"}],"extra":${deepArray}}`
      )
      expect(response.status).toBeLessThan(500)
    }), TIMEOUT)

  it.scopedLive("a 422 for a value nested too deeply to echo back leaves `input` out", () =>
    Effect.gen(function*() {
      const gateway = yield* startGateway({ gateway: { bodyLimitBytes: 4 * 1024 * 1024 } })
      const response = yield* post(`${gateway.url}/v5/chat/completions`, deepArray)
      expect(response.status).toBe(422)
      expect(json(response)).toEqual({
        detail: [{ loc: ["body"], msg: "Input should be a valid dictionary", type: "dict_type" }],
        error: expect.objectContaining({ code: "validation_error" })
      })
    }), TIMEOUT)
})

describe("request ids", () => {
  it.scopedLive("every response has an x-request-id, each one different", () =>
    Effect.gen(function*() {
      const gateway = yield* startGateway({ gateway: { apiKeys: [KEY], bodyLimitBytes: 64 } })
      const auth = { "x-api-key": KEY }
      const url = gateway.url
      const responses: Array<[string, RawResponse]> = [
        ["200", yield* post(`${url}/v5/chat/completions`, { model: "echo/e", messages: [] }, auth)],
        ["stream", yield* post(`${url}/v5/chat/completions`, { model: "echo/e", messages: [], stream: true }, auth)],
        ["401", yield* post(`${url}/v5/chat/completions`, hello)],
        // Unknown routes are 404 for authenticated callers only (a caller without a key gets 401).
        ["404", yield* get(`${url}/nope`, auth)],
        ["404 model", yield* post(`${url}/v5/chat/completions`, { model: "nope/x", messages: [] }, auth)],
        ["405", yield* Effect.promise(() => request(`${url}/v5/chat/completions`, { method: "PUT", headers: auth }))],
        ["413", yield* post(`${url}/v5/chat/completions`, { ...hello, pad: "x".repeat(100) }, auth)],
        ["415", yield* Effect.promise(() => request(`${url}/v5/chat/completions`, { method: "POST", headers: { ...auth, "content-type": "text/plain" }, body: "hi" }))],
        ["422", yield* post(`${url}/v5/chat/completions`, "{", auth)],
        ["models", yield* get(`${url}/v5/models`, auth)],
        ["health", yield* get(`${url}/health`)],
        ["ready", yield* get(`${url}/ready`)],
        ["openapi", yield* get(`${url}/openapi.json`)],
        ["docs", yield* get(`${url}/docs`)]
      ]
      const ids = responses.map(([name, response]) => {
        const id = response.headers["x-request-id"]
        expect(id, name).toMatch(/^[\w.:-]{1,128}$/)
        return id
      })
      expect(new Set(ids).size).toBe(ids.length)
      expect(responses.map(([, r]) => r.status)).toEqual([200, 200, 401, 404, 404, 405, 413, 415, 422, 200, 200, 200, 200, 200])
    }), TIMEOUT)

  it.scopedLive("a valid incoming x-request-id is echoed and logged; an invalid one is replaced", () =>
    Effect.gen(function*() {
      const gateway = yield* startGateway()
      const mine = "trace-abc.123:xyz_9"
      const echoed = yield* post(`${gateway.url}/v5/chat/completions`, hello, { "x-request-id": mine })
      expect(echoed.headers["x-request-id"]).toBe(mine)
      const line = yield* gateway.log.line((line) => line.includes(mine))
      expect(line).toContain("POST /v5/chat/completions 200")
      const failed = yield* get(`${gateway.url}/nope`, { "x-request-id": mine })
      expect(failed.headers["x-request-id"]).toBe(mine)
      for (const invalid of ["has spaces in it", "x".repeat(129), "<script>"]) {
        const response = yield* get(`${gateway.url}/health`, { "x-request-id": invalid })
        expect(response.headers["x-request-id"]).toMatch(/^[\w.:-]{1,128}$/)
        expect(response.headers["x-request-id"]).not.toBe(invalid)
      }
    }), TIMEOUT)
})

describe("model aliases (raw HTTP)", () => {
  it.scopedLive("an alias without a slash is routed to its target, and listed by /v1/models", () =>
    Effect.gen(function*() {
      const gateway = yield* startGateway({ service: { retry: { max_retries: 0 }, aliases: { fast: "echo/fast-model" } } })
      const response = yield* post(`${gateway.url}/v5/chat/completions`, { ...hello, model: "fast" })
      expect(response.status).toBe(200)
      expect(json(response)).toMatchObject({ model: "fast-model", choices: [{ message: { content: "hello" } }] })
      const models = json(yield* get(`${gateway.url}/v1/models`)) as { data: Array<{ id: string }> }
      expect(models.data.map((model) => model.id)).toContain("fast")
    }), TIMEOUT)

  it.scopedLive("a name that is neither an alias nor vendor/model is still a 422 at body.model", () =>
    Effect.gen(function*() {
      const gateway = yield* startGateway({ service: { retry: { max_retries: 0 }, aliases: { fast: "echo/fast-model" } } })
      const response = yield* post(`${gateway.url}/v5/chat/completions`, { ...hello, model: "slow" })
      expect(response.status).toBe(422)
      expect((json(response) as { detail: Array<{ loc: Array<unknown> }> }).detail[0]?.loc).toEqual(["body", "model"])
    }), TIMEOUT)
})

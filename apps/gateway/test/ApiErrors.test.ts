import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { request, startGateway } from "./support/Harness.js"

const TIMEOUT = 30_000
const KEY = "sy-api-errors"

// `/v5/chat/%63ompletions` is not the fast path's path, but the HttpApi router decodes it to the chat
// endpoint: its payload decoding, and so the error middleware, can be exercised over real HTTP.
const ROUTED_TO_HTTPAPI = "/v5/chat/%63ompletions"

const post = (url: string, body: string | ReadonlyArray<string>, headers: Record<string, string> = {}) =>
  Effect.promise(() =>
    request(url, { method: "POST", headers: { "content-type": "application/json", "x-api-key": KEY, ...headers }, body })
  )

describe("the HttpApi side's errors have the fast path's shapes", () => {
  it.scopedLive("malformed JSON (a defect inside HttpApi) is the 422 json_invalid body", () =>
    Effect.gen(function*() {
      const gateway = yield* startGateway({ gateway: { apiKeys: [KEY] } })
      const response = yield* post(`${gateway.url}${ROUTED_TO_HTTPAPI}`, "{bad")
      expect(response.status).toBe(422)
      expect(response.headers["content-type"]).toBe("application/json")
      expect(JSON.parse(response.text)).toEqual({
        detail: [{ loc: ["body", 1], msg: "JSON decode error", type: "json_invalid", input: {}, ctx: { error: expect.stringContaining("position 1") } }],
        error: { message: expect.stringContaining("not valid JSON"), type: "invalid_request_error", param: null, code: "validation_error" }
      })
    }), TIMEOUT)

  it.scopedLive("HttpApi's own decode error (its 400) is a 422 with a detail per problem", () =>
    Effect.gen(function*() {
      const gateway = yield* startGateway({ gateway: { apiKeys: [KEY] } })
      const response = yield* post(`${gateway.url}${ROUTED_TO_HTTPAPI}`, JSON.stringify({ model: 1, messages: [] }))
      expect(response.status).toBe(422)
      const body = JSON.parse(response.text) as { detail: Array<{ loc: Array<unknown>; type: string }>; error: { code: string } }
      expect(body.detail).toContainEqual(expect.objectContaining({ loc: ["body", "model"] }))
      expect(body.error.code).toBe("validation_error")
      expect(response.text).not.toMatch(/HttpApiDecodeError|\bat \S+ \(/)
    }), TIMEOUT)

  it.scopedLive("a valid body on that spelling is a 404, never the dummy of the fast path's route", () =>
    Effect.gen(function*() {
      const gateway = yield* startGateway({ gateway: { apiKeys: [KEY] } })
      const response = yield* post(
        `${gateway.url}${ROUTED_TO_HTTPAPI}`,
        JSON.stringify({ model: "echo/echo", messages: [{ role: "user", content: "hi" }] })
      )
      expect(response.status).toBe(404)
      expect(JSON.parse(response.text)).toMatchObject({ error: { code: "not_found" } })
    }), TIMEOUT)

  it.scopedLive("a body over the limit is a 413, with a content-length or chunked", () =>
    Effect.gen(function*() {
      const gateway = yield* startGateway({ gateway: { apiKeys: [KEY], bodyLimitBytes: 1024 } })
      const big = JSON.stringify({ model: "echo/echo", messages: [{ role: "user", content: "x".repeat(4096) }] })
      for (const body of [big, [big.slice(0, 2000), big.slice(2000)]]) {
        const response = yield* post(`${gateway.url}${ROUTED_TO_HTTPAPI}`, body)
        expect(response.status).toBe(413)
        expect(JSON.parse(response.text)).toMatchObject({ error: { code: "request_too_large" } })
      }
      const models = yield* Effect.promise(() =>
        request(`${gateway.url}/v5/models`, { method: "GET", headers: { "x-api-key": KEY, "content-length": "4096" }, body: "x".repeat(4096) })
      )
      expect(models.status).toBe(413)
    }), TIMEOUT)
})

import { describe, expect, it, layer } from "@effect/vitest"
import { FakeUpstream } from "@switchyard/service/testing"
import { Duration, Effect } from "effect"
import {
  chunk,
  completionBody,
  openStream,
  postJson,
  request,
  sleep,
  startGateway,
  textChunks,
  usageChunk
} from "./support/Harness.js"
import { checkStream, parseEvents } from "./support/ResponseEvents.js"
import { ALICE, gatewayUrl, structuredSchema, vendorGateway, VENDORS, weatherParameters } from "./support/Vendors.js"

const TIMEOUT = 20_000
const auth = { authorization: `Bearer ${ALICE}` }
const tools = [{ type: "function", name: "get_weather", parameters: weatherParameters }]

const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  Effect.promise(() => postJson(url, body, headers))
const get = (url: string, method = "GET", headers: Record<string, string> = {}) =>
  Effect.promise(() => request(url, { method, headers }))
const streamed = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  Effect.promise(async () => {
    const stream = await openStream(url, body, headers)
    await stream.closed
    return stream
  })

layer(vendorGateway(), { excludeTestServices: true })("raw SSE: OpenAI's event rules, whatever the vendor", (it) => {
  for (const { model, vendor } of VENDORS) {
    it.effect(`${vendor}: text, a tool call and JSON output keep the order, sequence_number, output_index and item_id rules`, () =>
      Effect.gen(function*() {
        const url = yield* gatewayUrl
        for (
          const body of [
            { input: "Say hello" },
            { input: "What's the weather in Paris?", tools },
            { input: "The weather as JSON", text: { format: { type: "json_schema", name: "weather", schema: structuredSchema } } }
          ]
        ) {
          const stream = yield* streamed(`${url}/v5/responses`, { model, stream: true, ...body }, auth)
          expect(stream.status).toBe(200)
          expect(stream.headers["content-type"]).toMatch(/^text\/event-stream\b/)
          expect(stream.headers["cache-control"]).toBe("no-cache")
          const events = checkStream(stream.text())
          const completed = events[events.length - 1]!
          expect(completed.event).toBe("response.completed")
          expect(completed.data.response.usage).toMatchObject({ input_tokens: 25, output_tokens: 12, total_tokens: 37 })
          // The same object is stored under the same id.
          const stored = yield* get(`${url}/v5/responses/${completed.data.response.id}`, "GET", auth)
          expect(JSON.parse(stored.text)).toEqual(completed.data.response)
        }
      }), TIMEOUT)
  }

  it.effect("a response is chainable the moment its response.completed event has arrived", () =>
    Effect.gen(function*() {
      const url = yield* gatewayUrl
      const stream = yield* Effect.promise(() => openStream(`${url}/v1/responses`, { model: VENDORS[1].model, input: "Hello", stream: true }, auth))
      yield* Effect.promise(() => stream.until((text) => text.includes("event: response.completed")))
      const id = /"type":"response.completed","sequence_number":\d+,"response":\{"id":"(resp_\w+)"/.exec(stream.text())![1]!
      const next = yield* post(`${url}/v1/responses`, { model: VENDORS[1].model, input: "Hello again", previous_response_id: id }, auth)
      expect(next.status).toBe(200)
      expect(JSON.parse(next.text).previous_response_id).toBe(id)
    }), TIMEOUT)
})

/** An OpenAI-compatible upstream streaming reasoning, text and two tool calls, in that order. */
const mixedChunks = [
  chunk({ role: "assistant", content: "" }),
  chunk({ reasoning_content: "Think" } as never),
  chunk({ reasoning_content: "ing." } as never),
  chunk({ content: "Let me" }),
  chunk({ content: " check." }),
  chunk({ tool_calls: [{ index: 0, id: "call_a", type: "function", function: { name: "get_weather", arguments: "" } }] }),
  chunk({ tool_calls: [{ index: 0, function: { arguments: "{\"city\":" } }] }),
  chunk({ tool_calls: [{ index: 0, function: { arguments: "\"Paris\"}" } }] }),
  chunk({ tool_calls: [{ index: 1, id: "call_b", type: "function", function: { name: "get_weather", arguments: "{\"city\":\"Rome\"}" } }] }),
  chunk({}, "tool_calls"),
  usageChunk()
]

describe("raw SSE from the gateway", () => {
  it.scopedLive("reasoning, text and two calls: four items at output_index 0..3, each closed before the next", () =>
    Effect.gen(function*() {
      const gateway = yield* startGateway({ upstream: (_request, response) => FakeUpstream.sendSse(response, mixedChunks) })
      const stream = yield* streamed(`${gateway.url}/v1/responses`, { model: "openai/gpt-4o", input: "Weather?", tools, stream: true })
      const events = checkStream(stream.text())
      const output = events[events.length - 1]!.data.response.output as Array<Record<string, unknown>>
      expect(output.map((item) => item.type)).toEqual(["reasoning", "message", "function_call", "function_call"])
      expect(output[0]).toMatchObject({ summary: [{ type: "summary_text", text: "Thinking." }] })
      expect(output[1]).toMatchObject({ content: [{ type: "output_text", text: "Let me check.", annotations: [] }] })
      expect(output.slice(2).map((item) => [item.call_id, item.arguments])).toEqual([
        ["call_a", "{\"city\":\"Paris\"}"],
        ["call_b", "{\"city\":\"Rome\"}"]
      ])
    }), TIMEOUT)

  it.scopedLive("a length cut ends with response.incomplete (max_output_tokens), as the JSON answer says", () =>
    Effect.gen(function*() {
      const gateway = yield* startGateway({
        upstream: (request, response) =>
          (request.json as { stream?: boolean }).stream === true
            ? FakeUpstream.sendSse(response, [chunk({ role: "assistant", content: "Cut" }), chunk({}, "length"), usageChunk()])
            : FakeUpstream.sendJson(response, 200, { ...completionBody("Cut"), choices: [{ ...completionBody("Cut").choices[0]!, finish_reason: "length" }] })
      })
      const body = { model: "openai/gpt-4o", input: "Write a lot", max_output_tokens: 1 }
      const stream = yield* streamed(`${gateway.url}/v1/responses`, { ...body, stream: true })
      const events = checkStream(stream.text())
      const last = events[events.length - 1]!
      expect(last.event).toBe("response.incomplete")
      expect(last.data.response).toMatchObject({ status: "incomplete", incomplete_details: { reason: "max_output_tokens" } })
      const whole = JSON.parse((yield* post(`${gateway.url}/v1/responses`, body)).text)
      expect(whole).toMatchObject({ status: "incomplete", incomplete_details: { reason: "max_output_tokens" }, max_output_tokens: 1 })
    }), TIMEOUT)

  it.scopedLive("a failure before the model starts is a plain HTTP error (429 with retry-after), not a stream", () =>
    Effect.gen(function*() {
      const gateway = yield* startGateway({
        upstream: (_request, response) =>
          FakeUpstream.sendJson(response, 429, { error: { message: "Slow down", type: "requests", code: "rate_limit_exceeded" } }, {
            "retry-after": "7"
          })
      })
      const answer = yield* post(`${gateway.url}/v5/responses`, { model: "openai/gpt-4o", input: "Hi", stream: true })
      expect(answer.status).toBe(429)
      expect(answer.headers["content-type"]).toBe("application/json")
      expect(answer.headers["retry-after"]).toBe("7")
      expect(JSON.parse(answer.text).error).toMatchObject({ type: "rate_limit_error", code: "rate_limit_exceeded" })
    }), TIMEOUT)

  it.scopedLive("a failure mid-stream: an error event, then response.failed; the failed response is stored", () =>
    Effect.gen(function*() {
      const gateway = yield* startGateway({
        upstream: (_request, response) => FakeUpstream.sendSse(response, textChunks("Hello there friend"), { resetAfter: 2 })
      })
      const stream = yield* streamed(`${gateway.url}/v5/responses`, { model: "openai/gpt-4o", input: "Hi", stream: true })
      expect(stream.status).toBe(200)
      const events = checkStream(stream.text())
      const [error, failed] = events.slice(-2)
      expect(error!.data).toMatchObject({ type: "error", code: expect.any(String), message: expect.any(String) })
      expect(error!.data.error).toMatchObject({ code: error!.data.code, message: error!.data.message })
      expect(failed!.data.response).toMatchObject({ status: "failed", error: { code: "server_error" } })
      expect(failed!.data.response.output[0]).toMatchObject({ type: "message", status: "incomplete" })
      const stored = JSON.parse((yield* get(`${gateway.url}/v5/responses/${failed!.data.response.id}`)).text)
      expect(stored).toEqual(failed!.data.response)
      expect(yield* gateway.log.line((line) => line.includes("/v5/responses") && line.includes(" 200 "))).toMatch(/ error="/)
    }), TIMEOUT)

  it.scopedLive("silence before the first chunk: response.created goes out with keep-alive comments; a failure then is reported in-band", () =>
    Effect.gen(function*() {
      let fail = false
      const gateway = yield* startGateway({
        gateway: { keepAliveMs: 100 },
        upstream: async (_request, response) => {
          await sleep(450)
          if (fail) {
            return FakeUpstream.sendJson(response, 503, { error: { message: "Overloaded", type: "server_error" } })
          }
          return FakeUpstream.sendSse(response, [...textChunks("Late but here"), usageChunk()])
        }
      })
      const late = yield* Effect.promise(() => openStream(`${gateway.url}/v5/responses`, { model: "openai/gpt-4o", input: "Hi", stream: true }))
      yield* Effect.promise(() => late.until((text) => text.includes(": keep-alive")))
      // Committed before the model said anything: the start events came first.
      expect(parseEvents(late.text()).events.map((e) => e.event)).toEqual(["response.created", "response.in_progress"])
      yield* Effect.promise(() => late.closed)
      const { comments } = parseEvents(late.text())
      expect(comments.length).toBeGreaterThanOrEqual(2)
      const events = checkStream(late.text())
      expect(events[events.length - 1]!.data.response.output[0].content[0].text).toBe("Late but here")

      fail = true
      const failing = yield* streamed(`${gateway.url}/v5/responses`, { model: "openai/gpt-4o", input: "Hi", stream: true })
      expect(failing.status).toBe(200)
      const failed = checkStream(failing.text())
      expect(failed.map((e) => e.event)).toEqual(["response.created", "response.in_progress", "error", "response.failed"])
      expect(failed[2]!.data.code).toBe("upstream_unavailable")
    }), TIMEOUT)

  it.scopedLive("a client that goes away mid-stream makes the gateway abort the upstream response", () =>
    Effect.gen(function*() {
      const gateway = yield* startGateway({
        upstream: (_request, response) => FakeUpstream.sendSse(response, textChunks("one two three four"), { stallAfter: 2 })
      })
      const stream = yield* Effect.promise(() => openStream(`${gateway.url}/v5/responses`, { model: "openai/gpt-4o", input: "Hi", stream: true }))
      yield* Effect.promise(() => stream.until((text) => text.includes("response.output_text.delta")))
      const aborted = gateway.upstream.nextAbort()
      stream.abort()
      yield* Effect.promise(() => aborted).pipe(
        Effect.timeoutFail({ duration: Duration.seconds(10), onTimeout: () => new Error("the upstream response was never aborted") })
      )
      expect(gateway.upstream.abortedResponses()).toBe(1)
    }), TIMEOUT)

  it.scopedLive("bad requests: 400 naming the field, 422 for a wrong type, 415, 413 — in OpenAI's envelope, nothing sent upstream", () =>
    Effect.gen(function*() {
      const gateway = yield* startGateway({ gateway: { bodyLimitBytes: 4096 } })
      const url = `${gateway.url}/v1/responses`
      const unsupported = yield* post(url, { model: "openai/gpt-4o", input: "Hi", tools: [{ type: "file_search", vector_store_ids: ["vs_1"] }] })
      expect(unsupported.status).toBe(400)
      expect(JSON.parse(unsupported.text).error).toMatchObject({ param: "tools[0].type", code: "unsupported_value", type: "invalid_request_error" })
      expect(JSON.parse(unsupported.text).error.message).toContain("file_search")
      const unknown = yield* post(url, { model: "openai/gpt-4o", input: "Hi", messages: [] })
      expect(unknown.status).toBe(400)
      expect(JSON.parse(unknown.text).error).toMatchObject({ param: "messages", code: "unknown_parameter" })
      const wrongType = yield* post(url, { model: "openai/gpt-4o", input: "Hi", temperature: "hot" })
      expect(wrongType.status).toBe(422)
      expect(JSON.parse(wrongType.text).detail[0].loc).toEqual(["body", "temperature"])
      const malformed = yield* post(url, "{\"model\":")
      expect(malformed.status).toBe(422)
      const text = yield* Effect.promise(() => request(url, { method: "POST", headers: { "content-type": "text/plain" }, body: "hi" }))
      expect(text.status).toBe(415)
      const large = yield* post(url, { model: "openai/gpt-4o", input: "x".repeat(5000) })
      expect(large.status).toBe(413)
      expect(gateway.upstream.requests).toHaveLength(0)
    }), TIMEOUT)

  it.scopedLive("GET/DELETE/input_items: 404 for an unknown id, 400 for what cannot be given, 405 for another method; the access log names the path", () =>
    Effect.gen(function*() {
      const gateway = yield* startGateway()
      const created = JSON.parse((yield* post(`${gateway.url}/v1/responses`, { model: "openai/gpt-4o", input: "Hi" })).text)
      expect(created.output[0].content[0].text).toBe("Hello from upstream")
      expect(yield* gateway.log.line((line) => line.includes("POST /v1/responses") && line.includes("openai/gpt-4o"))).toMatch(/ 200 /)
      const missing = yield* get(`${gateway.url}/v5/responses/resp_missing`)
      expect(missing.status).toBe(404)
      expect(JSON.parse(missing.text).error).toMatchObject({ code: "response_not_found", param: "response_id" })
      expect((yield* get(`${gateway.url}/v5/responses/resp_missing`, "DELETE")).status).toBe(404)
      expect((yield* get(`${gateway.url}/v5/responses/resp_missing/input_items`)).status).toBe(404)
      const streamAgain = yield* get(`${gateway.url}/v5/responses/${created.id}?stream=true`)
      expect(streamAgain.status).toBe(400)
      expect(JSON.parse(streamAgain.text).error.param).toBe("stream")
      const include = yield* get(`${gateway.url}/v5/responses/${created.id}/input_items?include=file_search_call.results`)
      expect(include.status).toBe(400)
      expect(JSON.parse(include.text).error.param).toBe("include")
      const badLimit = yield* get(`${gateway.url}/v5/responses/${created.id}/input_items?limit=500`)
      expect(badLimit.status).toBe(422)
      const put = yield* get(`${gateway.url}/v5/responses/${created.id}`, "PUT")
      expect(put.status).toBe(405)
      expect(put.headers.allow).toContain("GET")
      expect(put.headers.allow).toContain("DELETE")
      const ok = yield* get(`${gateway.url}/v5/responses/${created.id}/input_items?limit=1&order=asc`)
      expect(JSON.parse(ok.text)).toMatchObject({ object: "list", has_more: false, data: [{ role: "user" }] })
    }), TIMEOUT)
})

describe("GET /openapi.json", () => {
  it.scopedLive("lists the Responses endpoints under /v5 and /v1, the stream beside the JSON answer", () =>
    Effect.gen(function*() {
      const gateway = yield* startGateway()
      const document = JSON.parse((yield* get(`${gateway.url}/openapi.json`)).text) as {
        paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, unknown> }> }>>
      }
      for (const version of ["v5", "v1"]) {
        expect(Object.keys(document.paths[`/${version}/responses`] ?? {})).toEqual(["post"])
        expect(Object.keys(document.paths[`/${version}/responses/{response_id}`] ?? {}).sort()).toEqual(["delete", "get"])
        expect(Object.keys(document.paths[`/${version}/responses/{response_id}/input_items`] ?? {})).toEqual(["get"])
        const ok = document.paths[`/${version}/responses`]!.post!.responses["200"]!.content!
        expect(Object.keys(ok).sort()).toEqual(["application/json", "text/event-stream"])
      }
    }), TIMEOUT)
})

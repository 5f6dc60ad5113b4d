import { describe, expect, it } from "@effect/vitest"
import type { FakeUpstream } from "@switchyard/service/testing"
import { Effect } from "effect"
import { openStream, sseBlocks, sseData, startGateway } from "./support/Harness.js"

// The relay of an OpenAI-format stream that nothing rewrites: each event is parsed and checked,
// then written with the upstream's own `data` bytes (not serialized again). These upstreams are
// real node:http servers writing hand-made SSE bytes.

const TIMEOUT = 20_000
const streamRequest = { model: "openai/gpt-4o", messages: [{ role: "user", content: "hi" }], stream: true }

/** An upstream that writes `pieces` as they are (each its own write), then ends the body. */
const rawUpstream = (pieces: ReadonlyArray<string>): FakeUpstream.FakeHandler => (_request, response) => {
  response.writeHead(200, { "content-type": "text/event-stream" })
  for (const piece of pieces) response.write(piece)
  response.end()
}

const relay = (pieces: ReadonlyArray<string>, body: unknown = streamRequest) =>
  Effect.gen(function*() {
    const gateway = yield* startGateway({ upstream: rawUpstream(pieces) })
    const stream = yield* Effect.promise(() => openStream(`${gateway.url}/v5/chat/completions`, body))
    const closed = yield* Effect.promise(() => stream.closed)
    return { gateway, stream, closed, text: stream.text() }
  })

// Unusual but valid JSON: spaces, escapes, a float written `1.0`, a field OpenAI may add later.
const first =
  '{ "id" : "chatcmpl-raw", "object":"chat.completion.chunk", "created":1700000000, "model":"gpt-4o", "choices":[{"index":0,"delta":{"role":"assistant","content":"caf\\u00e9 \\ud83d\\ude00"},"logprobs":null,"finish_reason":null}], "x_new_field": 1.0 }'
const last =
  '{"id":"chatcmpl-raw","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]}'
const usage =
  '{"id":"chatcmpl-raw","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o","choices":[],"usage":{"prompt_tokens":11,"completion_tokens":7,"total_tokens":18}}'

describe("raw relay of OpenAI-format streams", () => {
  it.scopedLive("each event's data goes out byte for byte as the upstream wrote it, then [DONE]", () =>
    Effect.gen(function*() {
      const { closed, text } = yield* relay([`data: ${first}\n\n`, `data: ${last}\n\n`, "data: [DONE]\n\n"])
      expect(closed).toEqual({ complete: true })
      expect(text).toBe(`data: ${first}\n\ndata: ${last}\n\ndata: [DONE]\n\n`)
    }), TIMEOUT)

  it.scopedLive("events split across reads, in CRLF framing or with comments still go out as their exact data", () =>
    Effect.gen(function*() {
      const whole = `: a comment\r\ndata: ${first}\r\n\r\ndata: ${last}\r\n\r\ndata: [DONE]\r\n\r\n`
      const cut = [whole.slice(0, 17), whole.slice(17, 120), whole.slice(120, 121), whole.slice(121)]
      const { closed, text } = yield* relay(cut)
      expect(closed).toEqual({ complete: true })
      expect(text).toBe(`data: ${first}\n\ndata: ${last}\n\ndata: [DONE]\n\n`)
    }), TIMEOUT)

  it.scopedLive("an event whose data spans several lines is serialized again (one line), not forwarded as it came", () =>
    Effect.gen(function*() {
      const { text } = yield* relay([`data: {"id":"chatcmpl-raw","object":"chat.completion.chunk",\ndata: "created":1,"model":"m","choices":[{"index":0,"delta":{"content":"x"},"finish_reason":"stop"}]}\n\n`, "data: [DONE]\n\n"])
      const blocks = sseBlocks(text)
      expect(blocks).toHaveLength(2)
      expect(blocks[0]).not.toContain("\n")
      expect(JSON.parse(blocks[0]!.slice("data: ".length))).toEqual({
        id: "chatcmpl-raw",
        object: "chat.completion.chunk",
        created: 1,
        model: "m",
        choices: [{ index: 0, delta: { content: "x" }, finish_reason: "stop" }]
      })
      expect(blocks[1]).toBe("data: [DONE]")
    }), TIMEOUT)

  it.scopedLive("a malformed event after the first is reported in-band and never forwarded; no [DONE]", () =>
    Effect.gen(function*() {
      const { text } = yield* relay([`data: ${first}\n\n`, 'data: {"id":"chatcmpl-raw","choices":[{"broken\n\n', `data: ${last}\n\n`])
      const blocks = sseBlocks(text)
      expect(blocks[0]).toBe(`data: ${first}`)
      expect(blocks).toHaveLength(2)
      expect(text).not.toContain("broken")
      expect(text).not.toContain("[DONE]")
      const error = (sseData(text)[1] as { error: { type: string; message: string } }).error
      expect(error.message).toMatch(/not JSON/)
    }), TIMEOUT)

  it.scopedLive("JSON that is not a chunk is an in-band error too, and is not forwarded", () =>
    Effect.gen(function*() {
      const { text } = yield* relay([`data: ${first}\n\ndata: {"hello":"world"}\n\ndata: ${last}\n\n`])
      const blocks = sseBlocks(text)
      expect(blocks[0]).toBe(`data: ${first}`)
      expect(text).not.toContain("hello")
      expect(text).not.toContain("[DONE]")
      expect((sseData(text)[1] as { error: { message: string } }).error.message).toMatch(/not a chat\.completion\.chunk/)
    }), TIMEOUT)

  it.scopedLive("an in-band error event of the upstream ends the stream with the gateway's own error envelope", () =>
    Effect.gen(function*() {
      const { text } = yield* relay([`data: ${first}\n\n`, 'data: {"error":{"message":"overloaded","type":"server_error"}}\n\n'])
      const blocks = sseBlocks(text)
      expect(blocks).toHaveLength(2)
      expect(blocks[0]).toBe(`data: ${first}`)
      expect((sseData(text)[1] as { error: { message: string } }).error.message).toMatch(/overloaded/)
      expect(text).not.toContain("[DONE]")
    }), TIMEOUT)

  it.scopedLive("usage in the last chunk is relayed as it came and counted (access log tokens)", () =>
    Effect.gen(function*() {
      const { gateway, text } = yield* relay(
        [`data: ${first}\n\ndata: ${last}\n\ndata: ${usage}\n\ndata: [DONE]\n\n`],
        { ...streamRequest, stream_options: { include_usage: true } }
      )
      expect(text).toBe(`data: ${first}\n\ndata: ${last}\n\ndata: ${usage}\n\ndata: [DONE]\n\n`)
      const line = yield* gateway.log.line((line) => line.includes("/v5/chat/completions"))
      expect(line).toContain("tokens=11+7")
      expect(line).toContain(" 200 ")
    }), TIMEOUT)

  it.scopedLive("a stream cut before its finish reason ends with an in-band error, not [DONE]", () =>
    Effect.gen(function*() {
      const { text } = yield* relay([`data: ${first}\n\n`])
      const blocks = sseBlocks(text)
      expect(blocks[0]).toBe(`data: ${first}`)
      expect(blocks).toHaveLength(2)
      expect(text).not.toContain("[DONE]")
      expect((sseData(text)[1] as { error: { type: string } }).error).toBeDefined()
    }), TIMEOUT)

  it.scopedLive("a stream that ends after its finish reason without [DONE] is complete: [DONE] is added", () =>
    Effect.gen(function*() {
      const { text } = yield* relay([`data: ${first}\n\ndata: ${last}\n\n`])
      expect(text).toBe(`data: ${first}\n\ndata: ${last}\n\ndata: [DONE]\n\n`)
    }), TIMEOUT)

  it.scopedLive("a stored call's chunks are rewritten with the gateway's id, not forwarded as they came", () =>
    Effect.gen(function*() {
      const { text } = yield* relay([`data: ${first}\n\ndata: ${last}\n\ndata: [DONE]\n\n`], { ...streamRequest, store: true })
      const chunks = sseData(text) as Array<{ id: string; x_new_field?: number }>
      expect(chunks).toHaveLength(2)
      expect(chunks[0]!.id).not.toBe("chatcmpl-raw")
      expect(chunks[1]!.id).toBe(chunks[0]!.id)
      expect(chunks[0]!.x_new_field).toBe(1)
      expect(text).not.toContain("chatcmpl-raw")
    }), TIMEOUT)
})

import { collectCompletion, completionToChunks, ChatCompletion } from "@switchyard/core"
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Schema, Stream } from "effect"
import { makeContext, TestProvider } from "../src/index.js"
import { FakeUpstream } from "../src/testing/index.js"
import { chunk, completion, contentChunk, failureOf, realSleep, request, withUpstream } from "./support.js"

describe("OpenAiCompatibleProvider over HTTP", () => {
  it.scoped("a completion: the upstream gets the model without the vendor prefix, the key, and the body otherwise unchanged", () =>
    Effect.gen(function*() {
      const { fake, service } = yield* withUpstream((_, res) => FakeUpstream.sendJson(res, 200, completion("Hi there")))
      const wire = {
        model: "openai/gpt-4o-mini",
        messages: [
          { role: "system", content: "Be brief." },
          { role: "user", content: [{ type: "text", text: "Hello" }] }
        ],
        temperature: 0.2,
        max_completion_tokens: 50,
        seed: 7,
        tools: [{ type: "function", function: { name: "lookup", parameters: { type: "object", properties: {} } } }],
        metadata: { team: "search" }
      }
      const result = yield* service.create(request(wire), makeContext())

      expect(result).toEqual(Schema.decodeUnknownSync(ChatCompletion)(completion("Hi there")))
      expect(fake.requests).toHaveLength(1)
      const received = fake.requests[0]!
      expect(received.method).toBe("POST")
      expect(received.path).toBe("/v1/chat/completions")
      expect(received.headers.authorization).toBe("Bearer sk-test")
      expect(received.headers["content-type"]).toBe("application/json")
      expect(received.json).toEqual({ ...wire, model: "gpt-4o-mini" })
    }))

  it.scoped("top-level nulls are left out and `stream` is set for a streamed call", () =>
    Effect.gen(function*() {
      const { fake, service } = yield* withUpstream((_, res) =>
        FakeUpstream.sendSse(res, TestProvider.textChunks("Hi", { model: "gpt-4o-mini" }))
      )
      yield* Stream.runDrain(service.stream(request({ stream: true, user: null, temperature: null, seed: 1 }), makeContext()))

      expect(fake.requests[0]!.json).toEqual({
        model: "gpt-4o-mini",
        messages: [{ role: "user", content: "Hello" }],
        stream: true,
        seed: 1
      })
      expect(fake.requests[0]!.headers.accept).toBe("text/event-stream")
    }))

  it.scoped("a stream written far faster than it is read (~3 MB while the reader stalls) arrives whole and in order", () =>
    Effect.gen(function*() {
      // ~3 MB of chunks written at once: far more than the reader keeps before pausing the body.
      const sent = Array.from({ length: 1500 }, (_, i) => contentChunk(`${i}:${"x".repeat(2000)}`))
      const { service } = yield* withUpstream((_, res) => FakeUpstream.sendSse(res, [...sent, chunk([{ index: 0, delta: {}, logprobs: null, finish_reason: "stop" }])]))
      let stalled = false
      const received = yield* Stream.runCollect(
        service.stream(request({ stream: true }), makeContext()).pipe(
          // The first chunk waits while the upstream keeps writing.
          Stream.tap(() => stalled ? Effect.void : Effect.zipRight(Effect.sync(() => (stalled = true)), realSleep(300)))
        )
      )
      const contents = Chunk.toReadonlyArray(received).map((c) => c.choices[0]?.delta.content)
      expect(contents.slice(0, -1)).toEqual(sent.map((c) => c.choices[0]!.delta.content))
      expect(Chunk.toReadonlyArray(received).at(-1)!.choices[0]!.finish_reason).toBe("stop")
    }))

  it.scoped("streaming with usage: the chunks are exactly what the upstream sent, the usage chunk last", () =>
    Effect.gen(function*() {
      const sent = TestProvider.textChunks("Hello, how are you today?", { model: "gpt-4o-mini", chunkSize: 3, usage: true })
      const { fake, service } = yield* withUpstream((_, res) => FakeUpstream.sendSse(res, sent))
      const received = yield* Stream.runCollect(
        service.stream(request({ stream: true, stream_options: { include_usage: true } }), makeContext())
      )

      expect(Chunk.toReadonlyArray(received)).toEqual(sent)
      const last = Chunk.unsafeLast(received)
      expect(last.choices).toEqual([])
      expect(last.usage).toEqual({ prompt_tokens: 10, completion_tokens: 9, total_tokens: 19 })
      expect(fake.requests[0]!.json).toMatchObject({ stream: true, stream_options: { include_usage: true } })
    }))

  it.scoped("tool calls streamed with arguments split across chunks aggregate to the intact arguments", () =>
    Effect.gen(function*() {
      const args = JSON.stringify({ city: "Paris", units: "metric", days: [1, 2, 3], note: "naïve \"quoted\" ünïcödé" })
      const sent = TestProvider.toolCall("get_weather", args, { model: "gpt-4o-mini", pieces: 7, callId: "call_42" }).chunks
      expect(sent.length).toBeGreaterThan(7)
      const { service } = yield* withUpstream((_, res) => FakeUpstream.sendSse(res, sent))
      const result = yield* collectCompletion(service.stream(request({ stream: true }), makeContext()))

      const choice = result.choices[0]!
      expect(choice.finish_reason).toBe("tool_calls")
      expect(choice.message.tool_calls).toEqual([
        { id: "call_42", type: "function", function: { name: "get_weather", arguments: args } }
      ])
    }))

  it.scoped("unknown fields, top level and inside messages, reach the upstream", () =>
    Effect.gen(function*() {
      const { fake, service } = yield* withUpstream((_, res) => FakeUpstream.sendJson(res, 200, completion("ok")))
      const wire = {
        model: "openai/gpt-4o-mini",
        messages: [
          { role: "system", content: "Be brief.", cache_control: { type: "ephemeral" } },
          { role: "user", content: [{ type: "text", text: "Hello", x_part_tag: 1 }], x_message_meta: "m1" }
        ],
        vendor_option: { depth: 2, flags: ["a", "b"] },
        top_k: 5
      }
      yield* service.create(request(wire), makeContext())

      expect(fake.requests[0]!.json).toEqual({ ...wire, model: "gpt-4o-mini" })
    }))

  it.scoped("a 400 is not retried and keeps the upstream's message", () =>
    Effect.gen(function*() {
      const { fake, service } = yield* withUpstream((_, res) =>
        FakeUpstream.sendJson(res, 400, {
          error: {
            message: "Invalid 'messages[0].content': string too long.",
            type: "invalid_request_error",
            param: "messages",
            code: "string_above_max_length"
          }
        })
      )
      const error = failureOf(yield* Effect.exit(service.create(request(), makeContext())))

      expect(error).toMatchObject({
        _tag: "UpstreamRejected",
        vendor: "openai",
        upstreamStatus: 400,
        message: "Invalid 'messages[0].content': string too long.",
        type: "invalid_request_error",
        param: "messages",
        code: "string_above_max_length"
      })
      expect(fake.requests).toHaveLength(1)
    }))

  describe("bad responses are a typed UpstreamBadResponse with an excerpt, never a defect", () => {
    it.scoped("an HTML page with status 200", () =>
      Effect.gen(function*() {
        const html = "<!DOCTYPE html><html><body><h1>Welcome to nginx!</h1></body></html>"
        const { fake, service } = yield* withUpstream((_, res) => {
          res.writeHead(200, { "content-type": "text/html" })
          res.end(html)
        })
        const error = failureOf(yield* Effect.exit(service.create(request(), makeContext())))

        expect(error._tag).toBe("UpstreamBadResponse")
        expect(error).toMatchObject({ upstreamStatus: 200, excerpt: html })
        expect(error.message).toContain("text/html")
        expect(error.message).toContain("Welcome to nginx!")
        expect(fake.requests).toHaveLength(1)
      }))

    it.scoped("invalid JSON", () =>
      Effect.gen(function*() {
        const { service } = yield* withUpstream((_, res) => FakeUpstream.sendJson(res, 200, "{\"id\": \"chatcmpl-1\", \"choi"))
        const error = failureOf(yield* Effect.exit(service.create(request(), makeContext())))

        expect(error._tag).toBe("UpstreamBadResponse")
        expect(error).toMatchObject({ excerpt: "{\"id\": \"chatcmpl-1\", \"choi" })
        expect(error.message).toContain("not JSON")
      }))

    it.scoped("JSON that is not a completion", () =>
      Effect.gen(function*() {
        const { service } = yield* withUpstream((_, res) => FakeUpstream.sendJson(res, 200, { status: "ok" }))
        const error = failureOf(yield* Effect.exit(service.create(request(), makeContext())))

        expect(error._tag).toBe("UpstreamBadResponse")
        expect(error).toMatchObject({ excerpt: "{\"status\":\"ok\"}" })
      }))

    it.scoped("an empty body", () =>
      Effect.gen(function*() {
        const { service } = yield* withUpstream((_, res) => {
          res.writeHead(200, { "content-type": "application/json", "content-length": 0 })
          res.end()
        })
        const error = failureOf(yield* Effect.exit(service.create(request(), makeContext())))

        expect(error._tag).toBe("UpstreamBadResponse")
        expect(error.message).toContain("(empty body)")
      }))

    it.scoped("an HTML page answering a streaming request", () =>
      Effect.gen(function*() {
        const { service } = yield* withUpstream((_, res) => {
          res.writeHead(200, { "content-type": "text/html" })
          res.end("<html>Bad gateway</html>")
        })
        const error = failureOf(yield* Effect.exit(Stream.runCollect(service.stream(request({ stream: true }), makeContext()))))

        expect(error._tag).toBe("UpstreamBadResponse")
        expect(error).toMatchObject({ excerpt: "<html>Bad gateway</html>" })
      }))

    it.scoped("an SSE event that is not a chunk", () =>
      Effect.gen(function*() {
        const { fake, service } = yield* withUpstream((_, res) =>
          FakeUpstream.sendSse(res, [{ type: "message_start", message: { id: "msg_1" } }])
        )
        const error = failureOf(yield* Effect.exit(Stream.runCollect(service.stream(request({ stream: true }), makeContext()))))

        expect(error._tag).toBe("UpstreamBadResponse")
        expect(error).toMatchObject({ excerpt: "{\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\"}}" })
        expect(error.message).toContain("not a chat.completion.chunk")
        expect(fake.requests).toHaveLength(1)
      }))

    it.scoped("an SSE event that is not JSON, after some chunks", () =>
      Effect.gen(function*() {
        const { service } = yield* withUpstream((_, res) =>
          FakeUpstream.sendSse(res, [contentChunk("Hel"), "lo there"])
        )
        const exit = yield* Effect.exit(Stream.runCollect(service.stream(request({ stream: true }), makeContext())))
        const error = failureOf(exit)

        expect(error._tag).toBe("UpstreamBadResponse")
        expect(error).toMatchObject({ excerpt: "lo there" })
      }))
  })

  it.scoped("a streaming request answered with a plain JSON completion is turned into chunks", () =>
    Effect.gen(function*() {
      const { service } = yield* withUpstream((_, res) => FakeUpstream.sendJson(res, 200, completion("Whole answer")))
      const received = yield* Stream.runCollect(
        service.stream(request({ stream: true, stream_options: { include_usage: true } }), makeContext())
      )
      const expected = completionToChunks(Schema.decodeUnknownSync(ChatCompletion)(completion("Whole answer")), {
        includeUsage: true
      })

      expect(Chunk.toReadonlyArray(received)).toEqual(expected)
      expect(Chunk.unsafeLast(received).usage).toEqual({ prompt_tokens: 8, completion_tokens: 2, total_tokens: 10 })
      const aggregated = yield* collectCompletion(Stream.fromChunk(received))
      expect(aggregated.choices[0]!.message.content).toBe("Whole answer")
    }))

  it.scoped("a stream that ends without [DONE] and without a finish_reason is a typed error after its chunks", () =>
    Effect.gen(function*() {
      const sent = [contentChunk("Hel"), contentChunk("lo")]
      const { fake, service } = yield* withUpstream((_, res) => FakeUpstream.sendSse(res, sent, { done: false }))
      const received: Array<unknown> = []
      const exit = yield* Effect.exit(
        Stream.runForEach(service.stream(request({ stream: true }), makeContext()), (c) => Effect.sync(() => received.push(c)))
      )

      expect(received).toEqual(sent)
      expect(failureOf(exit)).toMatchObject({ _tag: "UpstreamUnavailable", vendor: "openai" })
      expect(fake.requests).toHaveLength(1)
    }))

  it.scoped("a stream that ends without [DONE] after a finish_reason is complete", () =>
    Effect.gen(function*() {
      const sent = TestProvider.textChunks("Hello", { model: "gpt-4o-mini" })
      const { service } = yield* withUpstream((_, res) => FakeUpstream.sendSse(res, sent, { done: false }))
      const received = yield* Stream.runCollect(service.stream(request({ stream: true }), makeContext()))

      expect(Chunk.toReadonlyArray(received)).toEqual(sent)
    }))

  it.scoped("the stream ends at [DONE] even if the upstream keeps the response open", () =>
    Effect.gen(function*() {
      const sent = [contentChunk("Hi")]
      const { service } = yield* withUpstream((_, res) => {
        res.writeHead(200, { "content-type": "text/event-stream" })
        res.write(`data: ${JSON.stringify(sent[0])}\n\ndata: [DONE]\n\n`)
      })
      const received = yield* Stream.runCollect(service.stream(request({ stream: true }), makeContext()))

      expect(Chunk.toReadonlyArray(received)).toEqual(sent)
    }))

  it.scoped("an in-band invalid_request_error event is an UpstreamRejected, not retried", () =>
    Effect.gen(function*() {
      const { fake, service } = yield* withUpstream((_, res, index) =>
        index === 0
          ? FakeUpstream.sendSse(res, [{ error: { message: "Invalid value for 'tools'", type: "invalid_request_error" } }])
          : FakeUpstream.sendSse(res, [chunk([{ index: 0, delta: { content: "x" }, logprobs: null, finish_reason: "stop" }])])
      )
      const error = failureOf(yield* Effect.exit(Stream.runCollect(service.stream(request({ stream: true }), makeContext()))))

      expect(error).toMatchObject({ _tag: "UpstreamRejected", upstreamStatus: 400, message: "Invalid value for 'tools'" })
      expect(fake.requests).toHaveLength(1)
    }))
})

import { type ChatCompletionChunk, collectCompletion } from "@switchyard/core"
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Exit, Fiber, Option, Schema, Stream, TestClock } from "effect"
import { AnthropicTranslation, makeContext } from "../src/index.js"
import { AnthropicFixtures, FakeUpstream, FakeVendors } from "../src/testing/index.js"
import { awaitBackoff, failureOf, realSleep, waitUntil } from "./support.js"
import { anthropicRequest, withAnthropic } from "./vendorSupport.js"

const usage = { input_tokens: 25, output_tokens: 12, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 }
const base = { id: "msg_01XFDUDYJgAACzvnptvVoYEL", object: "chat.completion.chunk", created: 0, model: "claude-sonnet-4-5-20250929" }
const delta = (d: Record<string, unknown>, finish: string | null = null) => ({
  ...base,
  choices: [{ index: 0, delta: d, logprobs: null, finish_reason: finish }]
})
const decodeMessagesRequest = Schema.decodeUnknownSync(AnthropicTranslation.MessagesRequest)

describe("AnthropicProvider: requests", () => {
  it.scoped("translates messages, tools, sampling and limits into a Messages API request, with its headers", () =>
    Effect.gen(function*() {
      const { fake, service } = yield* withAnthropic(FakeVendors.anthropic)
      const weather = { type: "object", properties: { city: { type: "string" } }, required: ["city"] }
      yield* service.create(
        anthropicRequest({
          messages: [
            { role: "system", content: "Be brief." },
            { role: "developer", content: [{ type: "text", text: "Answer in English." }] },
            {
              role: "user",
              content: [
                { type: "text", text: "What is in this image, and what's the weather there?" },
                { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } },
                { type: "image_url", image_url: { url: "https://example.com/paris.jpg", detail: "auto" } }
              ]
            },
            {
              role: "assistant",
              content: "Let me check.",
              tool_calls: [
                { id: "toolu_1", type: "function", function: { name: "get_weather", arguments: "{\"city\":\"Paris\"}" } },
                { id: "toolu_2", type: "function", function: { name: "get_time", arguments: "" } }
              ]
            },
            { role: "tool", tool_call_id: "toolu_1", content: "Sunny, 24°C" },
            { role: "tool", tool_call_id: "toolu_2", content: [{ type: "text", text: "15:00" }] },
            { role: "user", content: "Thanks! Summarise." }
          ],
          tools: [
            { type: "function", function: { name: "get_weather", description: "Weather by city", parameters: weather } },
            { type: "function", function: { name: "get_time" } }
          ],
          tool_choice: "required",
          parallel_tool_calls: false,
          stop: "END",
          max_completion_tokens: 300,
          temperature: 0.5,
          top_p: 0.9,
          top_k: 40,
          user: "user-42"
        }),
        makeContext()
      )

      expect(fake.requests).toHaveLength(1)
      const received = fake.requests[0]!
      expect(received.path).toBe("/v1/messages")
      expect(received.headers["x-api-key"]).toBe("sk-ant-test")
      expect(received.headers["anthropic-version"]).toBe("2023-06-01")
      expect(received.headers.authorization).toBeUndefined()
      expect(received.json).toEqual({
        model: "claude-sonnet-4-5",
        max_tokens: 300,
        system: [{ type: "text", text: "Be brief." }, { type: "text", text: "Answer in English." }],
        messages: [
          {
            role: "user",
            content: [
              { type: "text", text: "What is in this image, and what's the weather there?" },
              { type: "image", source: { type: "base64", media_type: "image/png", data: "iVBORw0KGgo=" } },
              { type: "image", source: { type: "url", url: "https://example.com/paris.jpg" } }
            ]
          },
          {
            role: "assistant",
            content: [
              { type: "text", text: "Let me check." },
              { type: "tool_use", id: "toolu_1", name: "get_weather", input: { city: "Paris" } },
              { type: "tool_use", id: "toolu_2", name: "get_time", input: {} }
            ]
          },
          {
            role: "user",
            content: [
              { type: "tool_result", tool_use_id: "toolu_1", content: "Sunny, 24°C" },
              { type: "tool_result", tool_use_id: "toolu_2", content: [{ type: "text", text: "15:00" }] },
              { type: "text", text: "Thanks! Summarise." }
            ]
          }
        ],
        stop_sequences: ["END"],
        temperature: 0.5,
        top_p: 0.9,
        top_k: 40,
        tools: [
          { name: "get_weather", description: "Weather by city", input_schema: weather },
          { name: "get_time", input_schema: { type: "object", properties: {} } }
        ],
        tool_choice: { type: "any", disable_parallel_tool_use: true },
        metadata: { user_id: "user-42" }
      })
      expect(() => decodeMessagesRequest(received.json)).not.toThrow()
    }))

  it.scoped("max_tokens defaults to the configured value (Anthropic requires it); max_tokens is used when given", () =>
    Effect.gen(function*() {
      const { fake, service } = yield* withAnthropic(FakeVendors.anthropic, { provider: { defaultMaxTokens: 1234 } })
      yield* service.create(anthropicRequest(), makeContext())
      yield* service.create(anthropicRequest({ max_tokens: 77 }), makeContext())
      expect((fake.requests[0]!.json as { max_tokens: number }).max_tokens).toBe(1234)
      expect((fake.requests[1]!.json as { max_tokens: number }).max_tokens).toBe(77)
    }))

  it.scoped("tool_choice: auto, none, a named function; metadata.user_id; parallel_tool_calls with auto", () =>
    Effect.gen(function*() {
      const { fake, service } = yield* withAnthropic(FakeVendors.anthropic)
      const tools = [{ type: "function", function: { name: "lookup", parameters: { type: "object" } } }]
      for (const tool_choice of ["auto", "none", { type: "function", function: { name: "lookup" } }]) {
        yield* service.create(anthropicRequest({ tools, tool_choice }), makeContext())
      }
      yield* service.create(anthropicRequest({ tools, parallel_tool_calls: false, metadata: { user_id: "u-7" } }), makeContext())
      const bodies = fake.requests.map((r) => r.json as Record<string, unknown>)
      expect(bodies.map((b) => b.tool_choice)).toEqual([
        { type: "auto" },
        { type: "none" },
        { type: "tool", name: "lookup" },
        { type: "auto", disable_parallel_tool_use: true }
      ])
      expect(bodies[3]!.metadata).toEqual({ user_id: "u-7" })
    }))

  it.scoped("reasoning_effort becomes a thinking budget: inside max_completion_tokens, or added to the default", () =>
    Effect.gen(function*() {
      const { fake, service } = yield* withAnthropic(FakeVendors.anthropic)
      yield* service.create(anthropicRequest({ reasoning_effort: "low" }), makeContext())
      yield* service.create(anthropicRequest({ reasoning_effort: "high", max_completion_tokens: 5000 }), makeContext())
      yield* service.create(anthropicRequest({ reasoning_effort: "none" }), makeContext())
      const bodies = fake.requests.map((r) => r.json as Record<string, unknown>)
      expect(bodies[0]).toMatchObject({ max_tokens: 4096 + 2048, thinking: { type: "enabled", budget_tokens: 2048 } })
      expect(bodies[1]).toMatchObject({ max_tokens: 5000, thinking: { type: "enabled", budget_tokens: 4999 } })
      expect(bodies[2]!.thinking).toBeUndefined()

      const tooSmall = failureOf(
        yield* Effect.exit(service.create(anthropicRequest({ reasoning_effort: "low", max_completion_tokens: 500 }), makeContext()))
      )
      expect(tooSmall).toMatchObject({ _tag: "UnsupportedParameter", param: "reasoning_effort" })
    }))
})

describe("AnthropicProvider: answers", () => {
  it.scoped("a text message becomes a chat.completion: content, finish reason, usage with cached tokens", () =>
    Effect.gen(function*() {
      const { service } = yield* withAnthropic((_, res) =>
        FakeUpstream.sendJson(
          res,
          200,
          AnthropicFixtures.textMessage("Hi there", {
            usage: { input_tokens: 10, output_tokens: 3, cache_creation_input_tokens: 5, cache_read_input_tokens: 100 }
          })
        )
      )
      const completion = yield* service.create(anthropicRequest(), makeContext())
      expect(completion).toEqual({
        id: "msg_01XFDUDYJgAACzvnptvVoYEL",
        object: "chat.completion",
        created: 0,
        model: "claude-sonnet-4-5-20250929",
        choices: [{
          index: 0,
          finish_reason: "stop",
          logprobs: null,
          message: { role: "assistant", content: "Hi there", refusal: null }
        }],
        usage: { prompt_tokens: 115, completion_tokens: 3, total_tokens: 118, prompt_tokens_details: { cached_tokens: 100 } }
      })
    }))

  it.scoped("stop reasons map to finish reasons", () =>
    Effect.gen(function*() {
      const reasons = ["end_turn", "stop_sequence", "max_tokens", "refusal", "pause_turn"]
      const { service } = yield* withAnthropic((_, res, index) =>
        FakeUpstream.sendJson(res, 200, AnthropicFixtures.textMessage("x", { stopReason: reasons[index]! })))
      const finishes: Array<string> = []
      for (const _ of reasons) {
        finishes.push((yield* service.create(anthropicRequest(), makeContext())).choices[0]!.finish_reason)
      }
      expect(finishes).toEqual(["stop", "stop", "length", "content_filter", "stop"])
    }))

  it.scoped("tool_use blocks become tool calls with Anthropic's ids; text beside them is the content", () =>
    Effect.gen(function*() {
      const { service } = yield* withAnthropic((_, res) =>
        FakeUpstream.sendJson(res, 200, AnthropicFixtures.toolUseMessage([
          { id: "toolu_A", name: "get_weather", input: { city: "Paris" } },
          { id: "toolu_B", name: "get_time", input: { zone: "CET", precise: true } }
        ], { text: "Checking both." })))
      const { choices } = yield* service.create(anthropicRequest(), makeContext())
      expect(choices[0]).toEqual({
        index: 0,
        finish_reason: "tool_calls",
        logprobs: null,
        message: {
          role: "assistant",
          content: "Checking both.",
          refusal: null,
          tool_calls: [
            { id: "toolu_A", type: "function", function: { name: "get_weather", arguments: "{\"city\":\"Paris\"}" } },
            { id: "toolu_B", type: "function", function: { name: "get_time", arguments: "{\"zone\":\"CET\",\"precise\":true}" } }
          ]
        }
      })
    }))

  it.scoped("thinking is returned as reasoning_content, and its blocks (signed, redacted) go back to Anthropic with tool results", () =>
    Effect.gen(function*() {
      const { fake, service } = yield* withAnthropic((_, res) =>
        FakeUpstream.sendJson(res, 200, AnthropicFixtures.thinkingMessage("Let me think.", "42")))
      const { choices } = yield* service.create(anthropicRequest({ reasoning_effort: "low" }), makeContext())
      const message = choices[0]!.message as Record<string, unknown>
      expect(message.content).toBe("42")
      expect(message.reasoning_content).toBe("Let me think.")
      expect(message.thinking_blocks).toEqual([
        { type: "thinking", thinking: "Let me think.", signature: "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds" },
        { type: "redacted_thinking", data: "EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIw" }
      ])

      yield* service.create(
        anthropicRequest({ messages: [{ role: "user", content: "Q" }, message, { role: "user", content: "And?" }] }),
        makeContext()
      )
      expect((fake.requests[1]!.json as { messages: Array<unknown> }).messages[1]).toEqual({
        role: "assistant",
        content: [
          { type: "thinking", thinking: "Let me think.", signature: "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds" },
          { type: "redacted_thinking", data: "EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIw" },
          { type: "text", text: "42" }
        ]
      })
    }))

  it.scoped("response_format json_schema: a forced tool carries the schema; its input is the answer's content", () =>
    Effect.gen(function*() {
      const schema = { type: "object", properties: { answer: { type: "integer" } }, required: ["answer"] }
      const { fake, service } = yield* withAnthropic((_, res) =>
        FakeUpstream.sendJson(res, 200, AnthropicFixtures.toolUseMessage([{ id: "toolu_J", name: "result", input: { answer: 42 } }])))
      const completion = yield* service.create(
        anthropicRequest({ response_format: { type: "json_schema", json_schema: { name: "result", schema, strict: true } } }),
        makeContext()
      )
      expect(completion.choices[0]!.message.content).toBe("{\"answer\":42}")
      expect(completion.choices[0]!.message.tool_calls).toBeUndefined()
      expect(completion.choices[0]!.finish_reason).toBe("stop")
      expect(fake.requests[0]!.json).toMatchObject({
        tools: [{ name: "result", input_schema: schema }],
        tool_choice: { type: "tool", name: "result" }
      })
    }))
})

describe("AnthropicProvider: streams", () => {
  it.scoped("a text stream: the role first, the text, the finish reason, then usage when include_usage; pings ignored", () =>
    Effect.gen(function*() {
      const { fake, service } = yield* withAnthropic((_, res) =>
        FakeVendors.sendAnthropicSse(res, AnthropicFixtures.textStream(["Hello", ", world", "!"], { usage })))
      const chunks = yield* Stream.runCollect(
        service.stream(anthropicRequest({ stream: true, stream_options: { include_usage: true } }), makeContext())
      )
      expect(Chunk.toReadonlyArray(chunks)).toEqual([
        delta({ role: "assistant", content: "" }),
        delta({ content: "Hello" }),
        delta({ content: ", world" }),
        delta({ content: "!" }),
        delta({}, "stop"),
        { ...base, choices: [], usage: { prompt_tokens: 25, completion_tokens: 12, total_tokens: 37, prompt_tokens_details: { cached_tokens: 0 } } }
      ])
      expect(fake.requests[0]!.json).toMatchObject({ stream: true })
      expect(fake.requests[0]!.headers.accept).toBe("text/event-stream")
    }))

  it.scoped("no usage chunk without include_usage", () =>
    Effect.gen(function*() {
      const { service } = yield* withAnthropic((_, res) => FakeVendors.sendAnthropicSse(res, AnthropicFixtures.textStream(["Hi"])))
      const chunks = Chunk.toReadonlyArray(yield* Stream.runCollect(service.stream(anthropicRequest({ stream: true }), makeContext())))
      expect(chunks.every((chunk) => chunk.usage == null && chunk.choices.length === 1)).toBe(true)
    }))

  it.scoped("tool use: each call's id and name first, its input_json_delta pieces by index, finish tool_calls", () =>
    Effect.gen(function*() {
      const tools = [
        { id: "toolu_A", name: "get_weather", input: { city: "Paris", units: "metric", note: "naïve \"quoted\"" } },
        { id: "toolu_B", name: "get_time", input: { zone: "CET" } }
      ]
      const { service } = yield* withAnthropic((_, res) =>
        FakeVendors.sendAnthropicSse(res, AnthropicFixtures.toolUseStream(tools, { text: "Checking.", pieceSize: 5 })))
      const chunks = Chunk.toReadonlyArray(yield* Stream.runCollect(service.stream(anthropicRequest({ stream: true }), makeContext())))
      expect(chunks[2]!.choices[0]!.delta).toEqual({
        tool_calls: [{ index: 0, id: "toolu_A", type: "function", function: { name: "get_weather", arguments: "" } }]
      })
      const result = yield* collectCompletion(Stream.fromIterable(chunks))
      expect(result.choices[0]).toEqual({
        index: 0,
        finish_reason: "tool_calls",
        logprobs: null,
        message: {
          role: "assistant",
          content: "Checking.",
          refusal: null,
          tool_calls: tools.map((tool) => ({
            id: tool.id,
            type: "function",
            function: { name: tool.name, arguments: JSON.stringify(tool.input) }
          }))
        }
      })
    }))

  it.scoped("thinking streams as reasoning_content; the signed block is delivered for the next turn", () =>
    Effect.gen(function*() {
      const { service } = yield* withAnthropic((_, res) =>
        FakeVendors.sendAnthropicSse(res, AnthropicFixtures.thinkingStream(["Hmm, ", "six times seven."], ["4", "2"])))
      const result = yield* collectCompletion(service.stream(anthropicRequest({ stream: true, reasoning_effort: "low" }), makeContext()))
      const message = result.choices[0]!.message as Record<string, unknown>
      expect(message.content).toBe("42")
      expect(message.reasoning_content).toBe("Hmm, six times seven.")
      expect(message.thinking_blocks).toEqual([
        { type: "thinking", thinking: "Hmm, six times seven.", signature: "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds" }
      ])
    }))

  it.scoped("response_format streams the forced tool's input as content", () =>
    Effect.gen(function*() {
      const { service } = yield* withAnthropic((_, res) =>
        FakeVendors.sendAnthropicSse(res, AnthropicFixtures.toolUseStream([{ id: "toolu_J", name: "json_response", input: { ok: true } }])))
      const result = yield* collectCompletion(
        service.stream(anthropicRequest({ stream: true, response_format: { type: "json_object" } }), makeContext())
      )
      expect(result.choices[0]!.message.content).toBe("{\"ok\":true}")
      expect(result.choices[0]!.message.tool_calls).toBeUndefined()
      expect(result.choices[0]!.finish_reason).toBe("stop")
    }))

  it.scoped("an error event mid-stream ends the stream with its typed error after the chunks before it", () =>
    Effect.gen(function*() {
      const events = AnthropicFixtures.textStream(["Hello", " world"])
      const { fake, service } = yield* withAnthropic((_, res) =>
        FakeVendors.sendAnthropicSse(res, [...events.slice(0, 4), AnthropicFixtures.errorEvent("overloaded_error", "Overloaded")]))
      const received: Array<ChatCompletionChunk> = []
      const exit = yield* Effect.exit(
        Stream.runForEach(service.stream(anthropicRequest({ stream: true }), makeContext()), (chunk) => Effect.sync(() => received.push(chunk)))
      )
      expect(received.map((chunk) => chunk.choices[0]!.delta.content)).toEqual(["", "Hello"])
      expect(failureOf(exit)).toMatchObject({ _tag: "UpstreamOverloaded", vendor: "anthropic", message: "Overloaded" })
      expect(fake.requests).toHaveLength(1)
    }))

  it.scoped("an error event before any chunk is retried like a 529", () =>
    Effect.gen(function*() {
      const { fake, service } = yield* withAnthropic((_, res, index) =>
        index === 0
          ? FakeVendors.sendAnthropicSse(res, [AnthropicFixtures.errorEvent()])
          : FakeVendors.sendAnthropicSse(res, AnthropicFixtures.textStream(["Recovered"])))
      const fiber = yield* Effect.fork(collectCompletion(service.stream(anthropicRequest({ stream: true }), makeContext())))
      yield* TestClock.adjust(yield* awaitBackoff(8_000))
      const result = yield* Fiber.join(fiber)
      expect(result.choices[0]!.message.content).toBe("Recovered")
      expect(fake.requests).toHaveLength(2)
    }))

  it.scoped("a stream cut before its stop reason is UpstreamUnavailable after the chunks", () =>
    Effect.gen(function*() {
      const events = AnthropicFixtures.textStream(["Hello", " world"])
      const { service } = yield* withAnthropic((_, res) => FakeVendors.sendAnthropicSse(res, events.slice(0, 5)))
      const exit = yield* Effect.exit(Stream.runCollect(service.stream(anthropicRequest({ stream: true }), makeContext())))
      expect(failureOf(exit)).toMatchObject({ _tag: "UpstreamUnavailable", vendor: "anthropic" })
    }))

  it.scoped("interrupting the consumer aborts the upstream request", () =>
    Effect.gen(function*() {
      const { fake, service } = yield* withAnthropic((_, res) =>
        FakeVendors.sendAnthropicSse(res, AnthropicFixtures.textStream(["Hello", " world"]), { stallAfter: 4 }))
      const aborted = fake.nextAbort()
      let received = 0
      const fiber = yield* Effect.fork(
        Stream.runForEach(service.stream(anthropicRequest({ stream: true }), makeContext()), () => Effect.sync(() => received++))
      )
      yield* waitUntil("the first chunks", () => received >= 2)
      yield* Fiber.interrupt(fiber)
      yield* Effect.promise(() => aborted)
      expect(fake.abortedResponses()).toBe(1)
    }))
})

describe("AnthropicProvider: errors and retries", () => {
  it.scoped("529 overloaded_error is retried after the backoff, then succeeds", () =>
    Effect.gen(function*() {
      const { fake, service } = yield* withAnthropic((_, res, index) =>
        index === 0
          ? FakeUpstream.sendJson(res, 529, AnthropicFixtures.errorBody("overloaded_error", "Overloaded"))
          : FakeUpstream.sendJson(res, 200, AnthropicFixtures.textMessage("Fine now")))
      const fiber = yield* Effect.fork(service.create(anthropicRequest(), makeContext()))
      const delay = yield* awaitBackoff(8_000)
      expect(fake.requests).toHaveLength(1)
      yield* TestClock.adjust(delay)
      expect((yield* Fiber.join(fiber)).choices[0]!.message.content).toBe("Fine now")
      expect(fake.requests).toHaveLength(2)
    }))

  it.scoped("429 rate_limit_error waits out retry-after before retrying", () =>
    Effect.gen(function*() {
      const { fake, service } = yield* withAnthropic((_, res, index) =>
        index === 0
          ? FakeUpstream.sendJson(res, 429, AnthropicFixtures.errorBody("rate_limit_error", "Slow down"), { "retry-after": "3" })
          : FakeUpstream.sendJson(res, 200, AnthropicFixtures.textMessage("ok")))
      const fiber = yield* Effect.fork(service.create(anthropicRequest(), makeContext()))
      expect(yield* awaitBackoff(60_000)).toBe(3_000)
      yield* TestClock.adjust(2_999)
      yield* realSleep(30)
      expect(fake.requests).toHaveLength(1)
      yield* TestClock.adjust(1)
      yield* Fiber.join(fiber)
      expect(fake.requests).toHaveLength(2)
    }))

  it.scoped("429 with no retries left is UpstreamRateLimited with its retry-after and Anthropic's message", () =>
    Effect.gen(function*() {
      const { service } = yield* withAnthropic(
        (_, res) => FakeUpstream.sendJson(res, 429, AnthropicFixtures.errorBody("rate_limit_error", "Slow down"), { "retry-after": "7" }),
        { policy: { maxRetries: 0 } }
      )
      const error = failureOf(yield* Effect.exit(service.create(anthropicRequest(), makeContext())))
      expect(error).toMatchObject({ _tag: "UpstreamRateLimited", message: "Slow down", retryAfterMs: 7_000 })
    }))

  it.scoped("400 invalid_request_error is not retried and keeps Anthropic's message", () =>
    Effect.gen(function*() {
      const { fake, service } = yield* withAnthropic((_, res) =>
        FakeUpstream.sendJson(res, 400, AnthropicFixtures.errorBody("invalid_request_error", "max_tokens: 999999 > 64000, which is the maximum")))
      const error = failureOf(yield* Effect.exit(service.stream(anthropicRequest({ stream: true }), makeContext()).pipe(Stream.runDrain)))
      expect(error).toMatchObject({
        _tag: "UpstreamRejected",
        upstreamStatus: 400,
        type: "invalid_request_error",
        message: "max_tokens: 999999 > 64000, which is the maximum"
      })
      expect(fake.requests).toHaveLength(1)
    }))
})

describe("AnthropicProvider: n > 1 is fanned out by the service", () => {
  it.scoped("create with n = 2: two upstream requests with no n, choices 0 and 1, usage summed", () =>
    Effect.gen(function*() {
      const { fake, service } = yield* withAnthropic((_, res, index) =>
        FakeUpstream.sendJson(res, 200, AnthropicFixtures.textMessage(`Answer ${index}`, { usage })))
      const completion = yield* service.create(anthropicRequest({ n: 2 }), makeContext())
      expect(fake.requests).toHaveLength(2)
      for (const r of fake.requests) expect((r.json as Record<string, unknown>).n).toBeUndefined()
      expect(completion.choices.map((c) => c.index)).toEqual([0, 1])
      expect(completion.choices.map((c) => c.message.content).sort()).toEqual(["Answer 0", "Answer 1"])
      expect(completion.usage).toMatchObject({ prompt_tokens: 50, completion_tokens: 24, total_tokens: 74 })
    }))

  it.scoped("stream with n = 2: both choices' chunks under one id, indexes 0 and 1, one summed usage chunk at the end", () =>
    Effect.gen(function*() {
      const { fake, service } = yield* withAnthropic((_, res, index) =>
        FakeVendors.sendAnthropicSse(res, AnthropicFixtures.textStream([`Choice `, `${index}`], { usage, id: `msg_${index}` }), { delayMs: 5 }))
      const chunks = Chunk.toReadonlyArray(
        yield* Stream.runCollect(service.stream(anthropicRequest({ n: 2, stream: true, stream_options: { include_usage: true } }), makeContext()))
      )
      expect(fake.requests).toHaveLength(2)
      expect(new Set(chunks.map((c) => c.id)).size).toBe(1)
      const result = yield* collectCompletion(Stream.fromIterable(chunks))
      expect(result.choices.map((c) => c.index)).toEqual([0, 1])
      expect(result.choices.map((c) => c.message.content).sort()).toEqual(["Choice 0", "Choice 1"])
      const usageChunks = chunks.filter((c) => c.usage != null)
      expect(usageChunks).toHaveLength(1)
      expect(chunks[chunks.length - 1]!.usage).toMatchObject({ prompt_tokens: 50, completion_tokens: 24, total_tokens: 74 })
    }))
})

describe("AnthropicProvider: parameters it cannot honour", () => {
  it.scoped("are rejected with UnsupportedParameter naming them, before any upstream request", () =>
    Effect.gen(function*() {
      const { fake, service } = yield* withAnthropic(FakeVendors.anthropic)
      const cases: Array<[Record<string, unknown>, string]> = [
        [{ logit_bias: { "50256": -100 } }, "logit_bias"],
        [{ logprobs: true }, "logprobs"],
        [{ seed: 7 }, "seed"],
        [{ frequency_penalty: 0.5 }, "frequency_penalty"],
        [{ temperature: 1.5 }, "temperature"],
        [{ modalities: ["text", "audio"], audio: { voice: "alloy", format: "mp3" } }, "audio"],
        [{ metadata: { team: "search" } }, "metadata.team"],
        [{ service_tier: "flex" }, "service_tier"],
        [{ messages: [{ role: "user", content: "Hi", name: "bob" }] }, "messages[0].name"],
        [{ messages: [{ role: "user", content: [{ type: "input_audio", input_audio: { data: "AAAA", format: "wav" } }] }] }, "messages[0].content[0].input_audio"],
        [{ tools: [{ type: "custom", custom: { name: "grammar" } }] }, "tools[0].custom"]
      ]
      for (const [body, param] of cases) {
        const error = failureOf(yield* Effect.exit(service.create(anthropicRequest(body), makeContext())))
        expect(error).toMatchObject({ _tag: "UnsupportedParameter", vendor: "anthropic", param })
        expect(error.message).toContain(`\`${param}\``)
      }
      expect(fake.requests).toHaveLength(0)
    }))

  it.scoped("neutral values are accepted: logprobs false, penalties 0, n 1, store false, text modality", () =>
    Effect.gen(function*() {
      const { fake, service } = yield* withAnthropic(FakeVendors.anthropic)
      yield* service.create(
        anthropicRequest({ logprobs: false, frequency_penalty: 0, presence_penalty: 0, n: 1, store: false, modalities: ["text"] }),
        makeContext()
      )
      expect(fake.requests).toHaveLength(1)
    }))

  it.scoped("drop_unsupported_params drops exactly the parameters it names", () =>
    Effect.gen(function*() {
      const { fake, service } = yield* withAnthropic(FakeVendors.anthropic, {
        provider: { dropUnsupportedParams: ["logit_bias", "messages.name"] }
      })
      yield* service.create(
        anthropicRequest({ logit_bias: { "1": 5 }, messages: [{ role: "user", content: "Hi", name: "bob" }] }),
        makeContext()
      )
      expect(fake.requests[0]!.json).toEqual({
        model: "claude-sonnet-4-5",
        max_tokens: 4096,
        messages: [{ role: "user", content: [{ type: "text", text: "Hi" }] }]
      })
      const still = failureOf(yield* Effect.exit(service.create(anthropicRequest({ seed: 1 }), makeContext())))
      expect(still).toMatchObject({ _tag: "UnsupportedParameter", param: "seed" })
    }))

  it.scoped("drop_unsupported_params: true drops them all; clampTemperature clamps to 1", () =>
    Effect.gen(function*() {
      const { fake, service } = yield* withAnthropic(FakeVendors.anthropic, {
        provider: { dropUnsupportedParams: true, clampTemperature: true }
      })
      yield* service.create(anthropicRequest({ seed: 1, logprobs: true, temperature: 1.7, service_tier: "flex" }), makeContext())
      expect(fake.requests[0]!.json).toEqual({
        model: "claude-sonnet-4-5",
        max_tokens: 4096,
        temperature: 1,
        messages: [{ role: "user", content: [{ type: "text", text: "Hello" }] }]
      })
    }))

  it.scoped("a malformed tool call in the history is a 400 naming it", () =>
    Effect.gen(function*() {
      const { service } = yield* withAnthropic(FakeVendors.anthropic)
      const exit = yield* Effect.exit(service.create(
        anthropicRequest({
          messages: [
            { role: "user", content: "Hi" },
            { role: "assistant", tool_calls: [{ id: "t1", type: "function", function: { name: "f", arguments: "[1,2]" } }] }
          ]
        }),
        makeContext()
      ))
      expect(failureOf(exit)).toMatchObject({ _tag: "InvalidRequest", param: "messages[1].tool_calls[0].function.arguments" })
      expect(Exit.isFailure(exit)).toBe(true)
    }))
})

describe("AnthropicTranslation: fixtures match the published wire format", () => {
  it("every fixture event decodes as a stream event, every message as a message", () => {
    const events = [
      ...AnthropicFixtures.textStream(["a", "b"]),
      ...AnthropicFixtures.toolUseStream([{ id: "t", name: "f", input: { x: 1 } }], { text: "hi" }),
      ...AnthropicFixtures.thinkingStream(["t"], ["x"]),
      AnthropicFixtures.errorEvent()
    ]
    for (const event of events) {
      expect(Option.isSome(Schema.decodeUnknownOption(AnthropicTranslation.StreamEvent)(event.data))).toBe(true)
      expect(event.event).toBe(event.data.type)
    }
    for (
      const message of [
        AnthropicFixtures.textMessage("x"),
        AnthropicFixtures.toolUseMessage([{ id: "t", name: "f", input: {} }]),
        AnthropicFixtures.thinkingMessage("a", "b")
      ]
    ) {
      expect(Option.isSome(Schema.decodeUnknownOption(AnthropicTranslation.Message)(message))).toBe(true)
    }
  })
})

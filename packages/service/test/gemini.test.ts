import { type ChatCompletionChunk, collectCompletion } from "@switchyard/core"
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Fiber, Option, Schema, Stream, TestClock } from "effect"
import { GeminiTranslation, makeContext } from "../src/index.js"
import { FakeUpstream, FakeVendors, GeminiFixtures } from "../src/testing/index.js"
import { awaitBackoff, failureOf, realSleep, waitUntil } from "./support.js"
import { geminiRequest, withGemini } from "./vendorSupport.js"

const decodeGenerateContentRequest = Schema.decodeUnknownSync(GeminiTranslation.GenerateContentRequest)
const usage = { promptTokenCount: 25, candidatesTokenCount: 12, totalTokenCount: 37 }
const base = { id: "mPv4aN7ZJ5S7nvgPqbXW-Qw", object: "chat.completion.chunk", created: 0, model: "gemini-2.5-flash" }
const delta = (d: Record<string, unknown>, finish: string | null = null, index = 0) => ({
  ...base,
  choices: [{ index, delta: d, logprobs: null, finish_reason: finish }]
})

describe("GeminiProvider: requests", () => {
  it.scoped("translates messages, tools, sampling and limits into generateContent, the key in a header", () =>
    Effect.gen(function*() {
      const { fake, service } = yield* withGemini(FakeVendors.gemini)
      const weather = { type: "object", properties: { city: { type: "string" } }, required: ["city"], additionalProperties: false }
      yield* service.create(
        geminiRequest({
          messages: [
            { role: "system", content: "Be brief." },
            { role: "developer", content: "Answer in English." },
            {
              role: "user",
              content: [
                { type: "text", text: "What is in this image, and what's the weather there?" },
                { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } },
                { type: "input_audio", input_audio: { data: "UklGRg==", format: "wav" } }
              ]
            },
            {
              role: "assistant",
              content: "Let me check.",
              tool_calls: [
                { id: "call_1", type: "function", function: { name: "get_weather", arguments: "{\"city\":\"Paris\"}" } },
                { id: "call_2", type: "function", function: { name: "get_time", arguments: "" } }
              ]
            },
            { role: "tool", tool_call_id: "call_1", content: "{\"sky\":\"clear\",\"celsius\":24}" },
            { role: "tool", tool_call_id: "call_2", content: "15:00" },
            { role: "user", content: "Thanks! Summarise." }
          ],
          tools: [
            { type: "function", function: { name: "get_weather", description: "Weather by city", parameters: weather } },
            { type: "function", function: { name: "get_time" } }
          ],
          tool_choice: { type: "function", function: { name: "get_weather" } },
          stop: ["END", "STOP"],
          max_completion_tokens: 300,
          temperature: 1.2,
          top_p: 0.9,
          top_k: 40,
          seed: 7,
          presence_penalty: 0.5,
          frequency_penalty: -0.5,
          reasoning_effort: "low"
        }),
        makeContext()
      )

      expect(fake.requests).toHaveLength(1)
      const received = fake.requests[0]!
      expect(received.path).toBe("/v1beta/models/gemini-2.5-flash:generateContent")
      expect(received.headers["x-goog-api-key"]).toBe("gm-test")
      expect(received.json).toEqual({
        systemInstruction: { parts: [{ text: "Be brief." }, { text: "Answer in English." }] },
        contents: [
          {
            role: "user",
            parts: [
              { text: "What is in this image, and what's the weather there?" },
              { inlineData: { mimeType: "image/png", data: "iVBORw0KGgo=" } },
              { inlineData: { mimeType: "audio/wav", data: "UklGRg==" } }
            ]
          },
          {
            role: "model",
            parts: [
              { text: "Let me check." },
              { functionCall: { name: "get_weather", args: { city: "Paris" } } },
              { functionCall: { name: "get_time", args: {} } }
            ]
          },
          {
            role: "user",
            parts: [
              { functionResponse: { name: "get_weather", response: { sky: "clear", celsius: 24 } } },
              { functionResponse: { name: "get_time", response: { content: "15:00" } } },
              { text: "Thanks! Summarise." }
            ]
          }
        ],
        tools: [{
          functionDeclarations: [
            { name: "get_weather", description: "Weather by city", parametersJsonSchema: weather },
            { name: "get_time" }
          ]
        }],
        toolConfig: { functionCallingConfig: { mode: "ANY", allowedFunctionNames: ["get_weather"] } },
        generationConfig: {
          temperature: 1.2,
          topP: 0.9,
          topK: 40,
          maxOutputTokens: 300,
          stopSequences: ["END", "STOP"],
          seed: 7,
          presencePenalty: 0.5,
          frequencyPenalty: -0.5,
          thinkingConfig: { thinkingBudget: 1024, includeThoughts: true }
        }
      })
      expect(() => decodeGenerateContentRequest(received.json)).not.toThrow()
    }))

  it.scoped("n → candidateCount, response_format → responseMimeType/responseJsonSchema, logprobs → responseLogprobs/logprobs", () =>
    Effect.gen(function*() {
      const { fake, service } = yield* withGemini(FakeVendors.gemini)
      const schema = { type: "object", properties: { answer: { type: "integer" } } }
      yield* service.create(
        geminiRequest({
          n: 2,
          response_format: { type: "json_schema", json_schema: { name: "result", schema, strict: true } },
          logprobs: true,
          top_logprobs: 3
        }),
        makeContext()
      )
      yield* service.create(geminiRequest({ response_format: { type: "json_object" }, reasoning_effort: "none" }), makeContext())
      expect((fake.requests[0]!.json as Record<string, unknown>).generationConfig).toEqual({
        candidateCount: 2,
        responseMimeType: "application/json",
        responseJsonSchema: schema,
        responseLogprobs: true,
        logprobs: 3
      })
      expect((fake.requests[1]!.json as Record<string, unknown>).generationConfig).toEqual({
        responseMimeType: "application/json",
        thinkingConfig: { thinkingBudget: 0 }
      })
    }))

  it.scoped("tool_choice auto, none, required", () =>
    Effect.gen(function*() {
      const { fake, service } = yield* withGemini(FakeVendors.gemini)
      const tools = [{ type: "function", function: { name: "lookup" } }]
      for (const tool_choice of ["auto", "none", "required"]) {
        yield* service.create(geminiRequest({ tools, tool_choice }), makeContext())
      }
      expect(fake.requests.map((r) => (r.json as Record<string, unknown>).toolConfig)).toEqual([
        { functionCallingConfig: { mode: "AUTO" } },
        { functionCallingConfig: { mode: "NONE" } },
        { functionCallingConfig: { mode: "ANY" } }
      ])
    }))

  it.scoped("a tool message that answers no earlier tool call is a 400 naming it", () =>
    Effect.gen(function*() {
      const { fake, service } = yield* withGemini(FakeVendors.gemini)
      const exit = yield* Effect.exit(service.create(
        geminiRequest({ messages: [{ role: "user", content: "Hi" }, { role: "tool", tool_call_id: "nope", content: "x" }] }),
        makeContext()
      ))
      expect(failureOf(exit)).toMatchObject({ _tag: "InvalidRequest", param: "messages[1].tool_call_id" })
      expect(fake.requests).toHaveLength(0)
    }))
})

describe("GeminiProvider: answers", () => {
  it.scoped("a text response becomes a chat.completion: content, finish reason, usage with thoughts and cached tokens", () =>
    Effect.gen(function*() {
      const { service } = yield* withGemini((_, res) =>
        FakeUpstream.sendJson(res, 200, GeminiFixtures.textResponse("Hi there", {
          usage: { promptTokenCount: 10, candidatesTokenCount: 3, totalTokenCount: 53, thoughtsTokenCount: 40, cachedContentTokenCount: 4 }
        })))
      const completion = yield* service.create(geminiRequest(), makeContext())
      expect(completion).toEqual({
        id: "mPv4aN7ZJ5S7nvgPqbXW-Qw",
        object: "chat.completion",
        created: 0,
        model: "gemini-2.5-flash",
        choices: [{
          index: 0,
          finish_reason: "stop",
          logprobs: null,
          message: { role: "assistant", content: "Hi there", refusal: null }
        }],
        usage: {
          prompt_tokens: 10,
          completion_tokens: 43,
          total_tokens: 53,
          prompt_tokens_details: { cached_tokens: 4 },
          completion_tokens_details: { reasoning_tokens: 40 }
        }
      })
    }))

  it.scoped("finish reasons: MAX_TOKENS → length, SAFETY/RECITATION/BLOCKLIST → content_filter", () =>
    Effect.gen(function*() {
      const reasons = ["STOP", "MAX_TOKENS", "SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT"]
      const { service } = yield* withGemini((_, res, index) =>
        FakeUpstream.sendJson(res, 200, GeminiFixtures.textResponse("x", { finishReason: reasons[index]! })))
      const finishes: Array<string> = []
      for (const _ of reasons) finishes.push((yield* service.create(geminiRequest(), makeContext())).choices[0]!.finish_reason)
      expect(finishes).toEqual(["stop", "length", "content_filter", "content_filter", "content_filter", "content_filter"])
    }))

  it.scoped("function calls become tool calls with generated, distinct ids and finish tool_calls; thought signatures are kept", () =>
    Effect.gen(function*() {
      const { service } = yield* withGemini((_, res) =>
        FakeUpstream.sendJson(res, 200, GeminiFixtures.response([{
          parts: [
            { functionCall: { name: "get_weather", args: { city: "Paris" } }, thoughtSignature: "c2lnbmF0dXJl" },
            { functionCall: { name: "get_weather", args: { city: "Rome" } } }
          ],
          finishReason: "STOP"
        }])))
      const { choices } = yield* service.create(geminiRequest(), makeContext())
      const calls = choices[0]!.message.tool_calls!
      expect(choices[0]!.finish_reason).toBe("tool_calls")
      expect(choices[0]!.message.content).toBeNull()
      expect(calls.map((c) => c.type === "function" && c.function)).toEqual([
        { name: "get_weather", arguments: "{\"city\":\"Paris\"}" },
        { name: "get_weather", arguments: "{\"city\":\"Rome\"}" }
      ])
      expect(calls.every((c) => /^call_[A-Za-z0-9]{24}$/.test(c.id))).toBe(true)
      expect(new Set(calls.map((c) => c.id)).size).toBe(2)
      expect((calls[0] as Record<string, unknown>).extra_content).toEqual({ google: { thought_signature: "c2lnbmF0dXJl" } })
    }))

  it.scoped("a tool call round trip: the thought signature and the function name go back with the result", () =>
    Effect.gen(function*() {
      const { fake, service } = yield* withGemini(FakeVendors.gemini)
      yield* service.create(
        geminiRequest({
          messages: [
            { role: "user", content: "Weather in Paris?" },
            {
              role: "assistant",
              content: null,
              tool_calls: [{
                id: "call_x",
                type: "function",
                function: { name: "get_weather", arguments: "{\"city\":\"Paris\"}" },
                extra_content: { google: { thought_signature: "c2ln" } }
              }]
            },
            { role: "tool", tool_call_id: "call_x", content: "Sunny" }
          ]
        }),
        makeContext()
      )
      expect((fake.requests[0]!.json as { contents: Array<unknown> }).contents.slice(1)).toEqual([
        { role: "model", parts: [{ functionCall: { name: "get_weather", args: { city: "Paris" } }, thoughtSignature: "c2ln" }] },
        { role: "user", parts: [{ functionResponse: { name: "get_weather", response: { content: "Sunny" } } }] }
      ])
    }))

  it.scoped("several candidates become choices with their indexes; thoughts are reasoning_content; logprobs mapped", () =>
    Effect.gen(function*() {
      const answer = {
        ...GeminiFixtures.response([
          { parts: [{ text: "Pondering.", thought: true }, { text: "One" }], finishReason: "STOP", index: 0 },
          { parts: [{ text: "Two" }], finishReason: "MAX_TOKENS", index: 1 }
        ]),
        candidates: [
          {
            content: { parts: [{ text: "Pondering.", thought: true }, { text: "One" }], role: "model" },
            finishReason: "STOP",
            index: 0,
            logprobsResult: {
              topCandidates: [{ candidates: [{ token: "One", logProbability: -0.1 }, { token: "Uno", logProbability: -2.5 }] }],
              chosenCandidates: [{ token: "One", logProbability: -0.1 }]
            }
          },
          { content: { parts: [{ text: "Two" }], role: "model" }, finishReason: "MAX_TOKENS", index: 1 }
        ]
      }
      const { service } = yield* withGemini((_, res) => FakeUpstream.sendJson(res, 200, answer))
      const { choices } = yield* service.create(geminiRequest({ n: 2, logprobs: true, top_logprobs: 2 }), makeContext())
      expect(choices.map((c) => [c.index, c.message.content, c.finish_reason])).toEqual([[0, "One", "stop"], [1, "Two", "length"]])
      expect((choices[0]!.message as Record<string, unknown>).reasoning_content).toBe("Pondering.")
      expect(choices[0]!.logprobs).toEqual({
        content: [{
          token: "One",
          bytes: [79, 110, 101],
          logprob: -0.1,
          top_logprobs: [{ token: "One", bytes: [79, 110, 101], logprob: -0.1 }, { token: "Uno", bytes: [85, 110, 111], logprob: -2.5 }]
        }],
        refusal: null
      })
    }))

  it.scoped("a prompt blocked before any candidate is ContentFiltered (400)", () =>
    Effect.gen(function*() {
      const { service } = yield* withGemini((_, res) =>
        FakeUpstream.sendJson(res, 200, { promptFeedback: { blockReason: "SAFETY" }, usageMetadata: usage, modelVersion: "gemini-2.5-flash" }))
      const error = failureOf(yield* Effect.exit(service.create(geminiRequest(), makeContext())))
      expect(error).toMatchObject({ _tag: "ContentFiltered", vendor: "gemini" })
    }))
})

describe("GeminiProvider: streams", () => {
  it.scoped("streamGenerateContent?alt=sse: the role first, the text, the finish reason, then usage when include_usage", () =>
    Effect.gen(function*() {
      const { fake, service } = yield* withGemini((_, res) => FakeVendors.sendGeminiSse(res, GeminiFixtures.textStream(["Hello", ", world", "!"])))
      const chunks = yield* Stream.runCollect(
        service.stream(geminiRequest({ stream: true, stream_options: { include_usage: true } }), makeContext())
      )
      expect(Chunk.toReadonlyArray(chunks)).toEqual([
        delta({ role: "assistant", content: "" }),
        delta({ content: "Hello" }),
        delta({ content: ", world" }),
        delta({ content: "!" }),
        delta({}, "stop"),
        {
          ...base,
          choices: [],
          usage: {
            prompt_tokens: 25,
            completion_tokens: 12,
            total_tokens: 37,
            prompt_tokens_details: { cached_tokens: 0 },
            completion_tokens_details: { reasoning_tokens: 0 }
          }
        }
      ])
      expect(fake.requests[0]!.path).toBe("/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse")
      expect(fake.requests[0]!.headers["x-goog-api-key"]).toBe("gm-test")
    }))

  it.scoped("a streamed function call arrives whole, with a generated id, then finish tool_calls", () =>
    Effect.gen(function*() {
      const { service } = yield* withGemini((_, res) =>
        FakeVendors.sendGeminiSse(res, GeminiFixtures.functionCallStream([
          { name: "get_weather", args: { city: "Paris" } },
          { name: "get_time", args: {} }
        ])))
      const chunks = Chunk.toReadonlyArray(yield* Stream.runCollect(service.stream(geminiRequest({ stream: true }), makeContext())))
      const result = yield* collectCompletion(Stream.fromIterable(chunks))
      expect(result.choices[0]!.finish_reason).toBe("tool_calls")
      expect(result.choices[0]!.message.tool_calls!.map((c) => c.type === "function" && c.function)).toEqual([
        { name: "get_weather", arguments: "{\"city\":\"Paris\"}" },
        { name: "get_time", arguments: "{}" }
      ])
      expect(chunks[0]!.choices[0]!.delta).toMatchObject({
        role: "assistant",
        content: null,
        tool_calls: [{ index: 0, type: "function", function: { name: "get_weather", arguments: "{\"city\":\"Paris\"}" } }]
      })
      expect(chunks[0]!.choices[0]!.delta.tool_calls![0]!.id).toMatch(/^call_/)
    }))

  it.scoped("thoughts stream as reasoning_content before the answer", () =>
    Effect.gen(function*() {
      const { service } = yield* withGemini((_, res) => FakeVendors.sendGeminiSse(res, GeminiFixtures.thinkingStream(["Think", "ing."], ["4", "2"])))
      const result = yield* collectCompletion(service.stream(geminiRequest({ stream: true, reasoning_effort: "low", stream_options: { include_usage: true } }), makeContext()))
      expect(result.choices[0]!.message.content).toBe("42")
      expect((result.choices[0]!.message as Record<string, unknown>).reasoning_content).toBe("Thinking.")
      expect(result.usage?.completion_tokens_details?.reasoning_tokens).toBe(40)
    }))

  it.scoped("candidates streamed side by side keep their indexes", () =>
    Effect.gen(function*() {
      const { service } = yield* withGemini(FakeVendors.gemini)
      const result = yield* collectCompletion(service.stream(geminiRequest({ stream: true, n: 2 }), makeContext()))
      expect(result.choices.map((c) => [c.index, c.message.content, c.finish_reason])).toEqual([
        [0, FakeVendors.Conversation.greeting.join(""), "stop"],
        [1, FakeVendors.Conversation.greeting.join(""), "stop"]
      ])
    }))

  it.scoped("a stream cut before its finish reason is UpstreamUnavailable after the chunks", () =>
    Effect.gen(function*() {
      const { service } = yield* withGemini((_, res) => FakeVendors.sendGeminiSse(res, GeminiFixtures.textStream(["a", "b", "c"]).slice(0, 2)))
      const received: Array<ChatCompletionChunk> = []
      const exit = yield* Effect.exit(
        Stream.runForEach(service.stream(geminiRequest({ stream: true }), makeContext()), (chunk) => Effect.sync(() => received.push(chunk)))
      )
      expect(received.map((c) => c.choices[0]!.delta.content)).toEqual(["", "a", "b"])
      expect(failureOf(exit)).toMatchObject({ _tag: "UpstreamUnavailable", vendor: "gemini" })
    }))

  it.scoped("an in-stream error is a typed error", () =>
    Effect.gen(function*() {
      const { service } = yield* withGemini((_, res) =>
        FakeVendors.sendGeminiSse(res, [...GeminiFixtures.textStream(["a", "b"]).slice(0, 1), GeminiFixtures.errorBody(400, "INVALID_ARGUMENT", "Bad part")]))
      const exit = yield* Effect.exit(Stream.runDrain(service.stream(geminiRequest({ stream: true }), makeContext())))
      expect(failureOf(exit)).toMatchObject({ _tag: "UpstreamRejected", upstreamStatus: 400, message: "Bad part" })
    }))

  it.scoped("interrupting the consumer aborts the upstream request", () =>
    Effect.gen(function*() {
      const { fake, service } = yield* withGemini((_, res) =>
        FakeVendors.sendGeminiSse(res, GeminiFixtures.textStream(["a", "b", "c"]), { stallAfter: 1 }))
      const aborted = fake.nextAbort()
      let received = 0
      const fiber = yield* Effect.fork(Stream.runForEach(service.stream(geminiRequest({ stream: true }), makeContext()), () => Effect.sync(() => received++)))
      yield* waitUntil("the first chunks", () => received >= 2)
      yield* Fiber.interrupt(fiber)
      yield* Effect.promise(() => aborted)
      expect(fake.abortedResponses()).toBe(1)
    }))

  it.scoped("interrupting create while Gemini thinks aborts the upstream request", () =>
    Effect.gen(function*() {
      const { fake, service } = yield* withGemini(() => undefined)
      const aborted = fake.nextAbort()
      const fiber = yield* Effect.fork(service.create(geminiRequest(), makeContext()))
      yield* waitUntil("the upstream request", () => fake.requests.length === 1)
      yield* Fiber.interrupt(fiber)
      yield* Effect.promise(() => aborted)
      expect(fake.abortedResponses()).toBe(1)
    }))
})

describe("GeminiProvider: errors and retries", () => {
  it.scoped("503 UNAVAILABLE is retried after the backoff, then succeeds", () =>
    Effect.gen(function*() {
      const { fake, service } = yield* withGemini((_, res, index) =>
        index === 0
          ? FakeUpstream.sendJson(res, 503, GeminiFixtures.errorBody(503, "UNAVAILABLE", "The model is overloaded. Please try again later."))
          : FakeUpstream.sendJson(res, 200, GeminiFixtures.textResponse("Fine now")))
      const fiber = yield* Effect.fork(service.create(geminiRequest(), makeContext()))
      const delay = yield* awaitBackoff(8_000)
      expect(fake.requests).toHaveLength(1)
      yield* TestClock.adjust(delay)
      expect((yield* Fiber.join(fiber)).choices[0]!.message.content).toBe("Fine now")
      expect(fake.requests).toHaveLength(2)
    }))

  it.scoped("a stream answered 503 UNAVAILABLE before its first chunk is retried transparently", () =>
    Effect.gen(function*() {
      const { fake, service } = yield* withGemini((_, res, index) =>
        index === 0
          ? FakeUpstream.sendJson(res, 503, GeminiFixtures.errorBody(503, "UNAVAILABLE", "overloaded"))
          : FakeVendors.sendGeminiSse(res, GeminiFixtures.textStream(["ok"])))
      const fiber = yield* Effect.fork(collectCompletion(service.stream(geminiRequest({ stream: true }), makeContext())))
      yield* TestClock.adjust(yield* awaitBackoff(8_000))
      expect((yield* Fiber.join(fiber)).choices[0]!.message.content).toBe("ok")
      expect(fake.requests).toHaveLength(2)
    }))

  it.scoped("429 RESOURCE_EXHAUSTED waits out RetryInfo's retryDelay before retrying", () =>
    Effect.gen(function*() {
      const { fake, service } = yield* withGemini((_, res, index) =>
        index === 0
          ? FakeUpstream.sendJson(res, 429, GeminiFixtures.errorBody(429, "RESOURCE_EXHAUSTED", "Quota exceeded", "12s"))
          : FakeUpstream.sendJson(res, 200, GeminiFixtures.textResponse("ok")))
      const fiber = yield* Effect.fork(service.create(geminiRequest(), makeContext()))
      expect(yield* awaitBackoff(60_000)).toBe(12_000)
      yield* TestClock.adjust(11_999)
      yield* realSleep(30)
      expect(fake.requests).toHaveLength(1)
      yield* TestClock.adjust(1)
      yield* Fiber.join(fiber)
      expect(fake.requests).toHaveLength(2)
    }))

  it.scoped("400 INVALID_ARGUMENT is not retried: OpenAI's error type, Google's status as code, Google's message", () =>
    Effect.gen(function*() {
      const { fake, service } = yield* withGemini((_, res) =>
        FakeUpstream.sendJson(res, 400, GeminiFixtures.errorBody(400, "INVALID_ARGUMENT", "Invalid JSON payload received.")))
      const error = failureOf(yield* Effect.exit(service.create(geminiRequest(), makeContext())))
      expect(error).toMatchObject({
        _tag: "UpstreamRejected",
        upstreamStatus: 400,
        type: "invalid_request_error",
        code: "INVALID_ARGUMENT",
        message: "Invalid JSON payload received."
      })
      expect(fake.requests).toHaveLength(1)
    }))
})

describe("GeminiProvider: parameters it cannot honour", () => {
  it.scoped("are rejected with UnsupportedParameter naming them, before any upstream request", () =>
    Effect.gen(function*() {
      const { fake, service } = yield* withGemini(FakeVendors.gemini)
      const tools = [{ type: "function", function: { name: "f" } }]
      const cases: Array<[Record<string, unknown>, string]> = [
        [{ logit_bias: { "50256": -100 } }, "logit_bias"],
        [{ user: "u-1" }, "user"],
        [{ metadata: { team: "search" } }, "metadata"],
        [{ tools, parallel_tool_calls: false }, "parallel_tool_calls"],
        [{ store: true }, "store"],
        [{ prediction: { type: "content", content: "x" } }, "prediction"],
        [{ messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "https://example.com/a.png" } }] }] }, "messages[0].content[0].image_url.url"],
        [{ safety_settings: [] }, "safety_settings"]
      ]
      for (const [body, param] of cases) {
        const error = failureOf(yield* Effect.exit(service.create(geminiRequest(body), makeContext())))
        expect(error).toMatchObject({ _tag: "UnsupportedParameter", vendor: "gemini", param })
      }
      expect(fake.requests).toHaveLength(0)
    }))

  it.scoped("drop_unsupported_params drops the parameters it names", () =>
    Effect.gen(function*() {
      const { fake, service } = yield* withGemini(FakeVendors.gemini, { provider: { dropUnsupportedParams: ["user", "logit_bias"] } })
      yield* service.create(geminiRequest({ user: "u-1", logit_bias: { "1": 1 }, temperature: 0.3 }), makeContext())
      expect(fake.requests[0]!.json).toEqual({
        contents: [{ role: "user", parts: [{ text: "Hello" }] }],
        generationConfig: { temperature: 0.3 }
      })
    }))
})

describe("GeminiTranslation: fixtures match the published wire format", () => {
  it("every fixture decodes as a GenerateContentResponse", () => {
    for (
      const fixture of [
        GeminiFixtures.textResponse("x"),
        GeminiFixtures.functionCallResponse([{ name: "f", args: { a: 1 } }]),
        ...GeminiFixtures.textStream(["a", "b"]),
        ...GeminiFixtures.thinkingStream(["t"], ["x"]),
        ...GeminiFixtures.functionCallStream([{ name: "f", args: {} }], { thoughtSignature: "s" })
      ]
    ) {
      expect(Option.isSome(Schema.decodeUnknownOption(GeminiTranslation.GenerateContentResponse)(fixture))).toBe(true)
    }
    expect(Option.isSome(Schema.decodeUnknownOption(GeminiTranslation.ErrorBody)(GeminiFixtures.errorBody(429, "RESOURCE_EXHAUSTED", "q", "3s")))).toBe(true)
  })
})

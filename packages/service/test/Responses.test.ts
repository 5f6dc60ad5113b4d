/**
 * The Responses facade as a library: Responses in, Responses out, over the
 * real `ChatCompletions` and a scripted vendor (`TestProvider`), with the
 * in-memory store. No HTTP.
 */
import {
  type ChatCompletionRequest,
  CreateResponseRequest,
  InvalidRequest,
  type ResponseObject,
  type ResponseStreamEvent,
  UnsupportedParameter,
  UpstreamRateLimited
} from "@switchyard/core"
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Exit, Layer, Option, Schema, Stream } from "effect"
import {
  ChatCompletions,
  EchoProvider,
  makeContext,
  ProviderRegistry,
  ResponseIds,
  Responses,
  ResponsesStore,
  TestProvider,
  type TestStep
} from "../src/index.js"
import { failureOf } from "./support.js"

const decode = Schema.decodeUnknownSync(CreateResponseRequest)
const ask = (body: Record<string, unknown>) => decode({ model: "test/m", ...body })

/** The facade over the real `ChatCompletions`, a scripted vendor `test` and an in-memory store. */
const scripted = (script: ReadonlyArray<TestStep>) =>
  Responses.layer({ ids: ResponseIds.sequentialIds() }).pipe(
    Layer.provideMerge(ResponsesStore.layerMemory()),
    Layer.provideMerge(ChatCompletions.layer({ policy: { maxRetries: 0 } })),
    Layer.provideMerge(TestProvider.layer({ script }))
  )

/** The chat requests the vendor received, in order. */
const sent: Effect.Effect<ReadonlyArray<ChatCompletionRequest>, never, TestProvider> = Effect.flatMap(
  TestProvider,
  (provider) => Effect.map(provider.calls, (calls) => calls.map((call) => call.request))
)

const collect = (stream: Stream.Stream<ResponseStreamEvent, unknown>) =>
  Effect.map(Stream.runCollect(stream), Chunk.toReadonlyArray)

const finalOf = (events: ReadonlyArray<ResponseStreamEvent>): ResponseObject =>
  (events[events.length - 1] as { readonly response: ResponseObject }).response

const context = makeContext({ accountId: "acct_1" })

describe("Responses.create", () => {
  it.effect("a text answer: the response object as OpenAI sends it, usage mapped, settings echoed", () =>
    Effect.gen(function*() {
      const responses = yield* Responses
      const response = yield* responses.create(
        ask({ input: "Hi", instructions: "Be brief", temperature: 0.5, metadata: { k: "v" } }),
        context
      )
      expect(response).toEqual({
        id: "resp_2",
        object: "response",
        created_at: 0,
        status: "completed",
        completed_at: 0,
        error: null,
        incomplete_details: null,
        output: [{
          id: "msg_3",
          type: "message",
          role: "assistant",
          status: "completed",
          content: [{ type: "output_text", text: "Hello!", annotations: [] }]
        }],
        usage: {
          input_tokens: 10,
          input_tokens_details: { cached_tokens: 0 },
          output_tokens: 2,
          output_tokens_details: { reasoning_tokens: 0 },
          total_tokens: 12
        },
        background: false,
        instructions: "Be brief",
        max_output_tokens: null,
        max_tool_calls: null,
        model: "test/m",
        parallel_tool_calls: true,
        previous_response_id: null,
        prompt_cache_key: null,
        reasoning: { effort: null, summary: null },
        safety_identifier: null,
        service_tier: "default",
        store: true,
        temperature: 0.5,
        text: { format: { type: "text" }, verbosity: null },
        tool_choice: "auto",
        tools: [],
        top_logprobs: 0,
        top_p: null,
        truncation: "disabled",
        user: null,
        metadata: { k: "v" }
      })
      const [chat] = yield* sent
      expect(chat!.messages).toEqual([{ role: "system", content: "Be brief" }, { role: "user", content: "Hi" }])
      expect(chat!.stream).toBeUndefined()
      expect(chat!.temperature).toBe(0.5)
      expect((chat as Record<string, unknown>).metadata).toBeUndefined()
    }).pipe(Effect.provide(scripted([TestProvider.reply("Hello!", { usage: true, chunkSize: 3 })]))))

  it.effect("settings become chat parameters: max_output_tokens, text.format json_schema, reasoning.effort, tools, tool_choice", () =>
    Effect.gen(function*() {
      const responses = yield* Responses
      yield* responses.create(
        ask({
          input: [{ role: "developer", content: [{ type: "input_text", text: "Use JSON" }] }, { role: "user", content: "Weather?" }],
          max_output_tokens: 64,
          top_p: 0.9,
          user: "u1",
          reasoning: { effort: "low" },
          text: { format: { type: "json_schema", name: "weather", schema: { type: "object" }, strict: true } },
          tools: [{ type: "function", name: "get_weather", description: "Weather", parameters: { type: "object" }, strict: true }],
          tool_choice: { type: "function", name: "get_weather" },
          parallel_tool_calls: false
        }),
        context
      )
      const [chat] = yield* sent
      expect(chat).toEqual({
        model: "test/m",
        messages: [{ role: "developer", content: "Use JSON" }, { role: "user", content: "Weather?" }],
        tools: [{ type: "function", function: { name: "get_weather", description: "Weather", parameters: { type: "object" }, strict: true } }],
        tool_choice: { type: "function", function: { name: "get_weather" } },
        parallel_tool_calls: false,
        response_format: { type: "json_schema", json_schema: { name: "weather", schema: { type: "object" }, strict: true } },
        max_completion_tokens: 64,
        top_p: 0.9,
        reasoning_effort: "low",
        user: "u1"
      })
    }).pipe(Effect.provide(scripted([TestProvider.reply("{}")]))))

  it.effect("a tool call becomes a `function_call` item; its output round-trips as assistant tool_calls and a tool message", () =>
    Effect.gen(function*() {
      const responses = yield* Responses
      const first = yield* responses.create(
        ask({ input: "Weather in Paris?", tools: [{ type: "function", name: "get_weather", parameters: { type: "object" } }] }),
        context
      )
      expect(first.output).toEqual([{
        id: "fc_3",
        type: "function_call",
        call_id: "call_test",
        name: "get_weather",
        arguments: "{\"city\":\"Paris\"}",
        status: "completed"
      }])
      const second = yield* responses.create(
        ask({
          input: [
            { role: "user", content: "Weather in Paris?" },
            first.output[0],
            { type: "function_call_output", call_id: "call_test", output: "{\"temp\":21}" }
          ]
        }),
        context
      )
      expect(second.output[0]).toMatchObject({ type: "message", content: [{ type: "output_text", text: "21 degrees" }] })
      const [, chat] = yield* sent
      expect(chat!.messages).toEqual([
        { role: "user", content: "Weather in Paris?" },
        {
          role: "assistant",
          content: null,
          tool_calls: [{ id: "call_test", type: "function", function: { name: "get_weather", arguments: "{\"city\":\"Paris\"}" } }]
        },
        { role: "tool", tool_call_id: "call_test", content: "{\"temp\":21}" }
      ])
    }).pipe(Effect.provide(scripted([TestProvider.toolCall("get_weather", "{\"city\":\"Paris\"}"), TestProvider.reply("21 degrees")]))))

  it.effect("a length stop is `incomplete` with `max_output_tokens`; the message item is incomplete", () =>
    Effect.gen(function*() {
      const response = yield* (yield* Responses).create(ask({ input: "Go on", max_output_tokens: 3 }), context)
      expect(response.status).toBe("incomplete")
      expect(response.incomplete_details).toEqual({ reason: "max_output_tokens" })
      expect(response.completed_at).toBeNull()
      expect(response.output[0]).toMatchObject({ type: "message", status: "incomplete" })
    }).pipe(Effect.provide(scripted([TestProvider.reply("Once upon", { finishReason: "length" })]))))

  it.effect("a failure of the model is a typed error, and nothing is stored", () =>
    Effect.gen(function*() {
      const responses = yield* Responses
      const exit = yield* Effect.exit(responses.create(ask({ input: "Hi" }), context))
      expect(failureOf(exit)).toBeInstanceOf(UpstreamRateLimited)
      expect(Exit.isFailure(yield* Effect.exit(responses.retrieve("resp_2", context)))).toBe(true)
    }).pipe(Effect.provide(scripted([TestProvider.rateLimited()]))))
})

describe("what the facade cannot honour is refused by name", () => {
  const refused = (body: Record<string, unknown>, param: string, code: string) =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit((yield* Responses).create(ask(body), context))
      expect(failureOf(exit)).toMatchObject({ _tag: "InvalidRequest", param, code })
      expect(yield* sent).toHaveLength(0)
    }).pipe(Effect.provide(scripted([TestProvider.reply("never")])))

  it.effect("a built-in tool", () => refused({ input: "x", tools: [{ type: "web_search" }] }, "tools[0].type", "unsupported_value"))
  it.effect("background", () => refused({ input: "x", background: true }, "background", "unsupported_parameter"))
  it.effect("conversation", () => refused({ input: "x", conversation: "conv_1" }, "conversation", "unsupported_parameter"))
  it.effect("an unknown parameter", () => refused({ input: "x", frobnicate: 1 }, "frobnicate", "unknown_parameter"))
  it.effect("an include it cannot give", () =>
    refused({ input: "x", include: ["reasoning.encrypted_content"] }, "include[0]", "unsupported_value"))
  it.effect("an image by file id", () =>
    refused(
      { input: [{ role: "user", content: [{ type: "input_image", file_id: "file-1", detail: "auto" }] }] },
      "input[0].content[0].file_id",
      "unsupported_parameter"
    ))
  it.effect("an input item of an unknown type", () =>
    refused({ input: [{ type: "computer_call_output", call_id: "c" }] }, "input[0].type", "unsupported_value"))
  it.effect("reasoning summaries", () =>
    refused({ input: "x", reasoning: { effort: "low", summary: "auto" } }, "reasoning.summary", "unsupported_parameter"))
  it.effect("no input at all", () => refused({}, "input", "missing_required_parameter"))

  it.effect("an empty `include` and `store`, `stream_options` are accepted", () =>
    Effect.gen(function*() {
      const response = yield* (yield* Responses).create(ask({ input: "x", include: [], stream_options: { include_obfuscation: false } }), context)
      expect(response.status).toBe("completed")
    }).pipe(Effect.provide(scripted([TestProvider.reply("ok")]))))
})

describe("a vendor's refusal of a chat parameter names the request's field", () => {
  it.effect("reasoning_effort → reasoning.effort; max_completion_tokens → max_output_tokens; message paths → input", () =>
    Effect.gen(function*() {
      const responses = yield* Responses
      const first = failureOf(yield* Effect.exit(responses.create(ask({ input: "x", reasoning: { effort: "high" } }), context)))
      expect(first).toMatchObject({ _tag: "UnsupportedParameter", param: "reasoning.effort" })
      expect(first.message).toContain("`reasoning.effort`")
      const second = failureOf(yield* Effect.exit(responses.create(ask({ input: "x", max_output_tokens: 5 }), context)))
      expect(second).toMatchObject({ _tag: "InvalidRequest", param: "max_output_tokens", message: "`max_output_tokens` is too small" })
      const third = failureOf(yield* Effect.exit(responses.create(ask({ input: "x" }), context)))
      expect(third).toMatchObject({ _tag: "UnsupportedParameter", param: "input" })
    }).pipe(Effect.provide(scripted([
      TestProvider.fail(new UnsupportedParameter({ vendor: "test", param: "reasoning_effort" })),
      TestProvider.fail(new InvalidRequest({ message: "`max_completion_tokens` is too small", param: "max_completion_tokens" })),
      TestProvider.fail(new UnsupportedParameter({ vendor: "test", param: "messages[1].content[0].type" }))
    ]))))
})

describe("state: previous_response_id, item_reference, retrieve, delete, input items", () => {
  it.effect("a chain of three turns: each turn sees the earlier inputs and outputs; instructions are not carried over", () =>
    Effect.gen(function*() {
      const responses = yield* Responses
      const one = yield* responses.create(ask({ input: "My name is Ada.", instructions: "Be terse" }), context)
      const two = yield* responses.create(ask({ input: "What is 2+2?", previous_response_id: one.id }), context)
      const three = yield* responses.create(
        ask({ input: [{ role: "user", content: "And my name?" }], previous_response_id: two.id, instructions: "Answer" }),
        context
      )
      expect(three.previous_response_id).toBe(two.id)
      expect(three.output[0]).toMatchObject({ content: [{ text: "Ada." }] })
      const calls = yield* sent
      expect(calls[1]!.messages).toEqual([
        { role: "user", content: "My name is Ada." },
        { role: "assistant", content: "Hello Ada." },
        { role: "user", content: "What is 2+2?" }
      ])
      expect(calls[2]!.messages).toEqual([
        { role: "system", content: "Answer" },
        { role: "user", content: "My name is Ada." },
        { role: "assistant", content: "Hello Ada." },
        { role: "user", content: "What is 2+2?" },
        { role: "assistant", content: "4" },
        { role: "user", content: "And my name?" }
      ])
    }).pipe(Effect.provide(scripted([TestProvider.reply("Hello Ada."), TestProvider.reply("4"), TestProvider.reply("Ada.")]))))

  it.effect("an unknown previous_response_id is a 400 `previous_response_not_found`", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit((yield* Responses).create(ask({ input: "x", previous_response_id: "resp_nope" }), context))
      expect(failureOf(exit)).toMatchObject({
        _tag: "InvalidRequest",
        code: "previous_response_not_found",
        param: "previous_response_id",
        message: "Previous response with id 'resp_nope' not found."
      })
    }).pipe(Effect.provide(scripted([TestProvider.reply("never")]))))

  it.effect("item_reference resolves an earlier output item; an unknown one is a 404 naming it", () =>
    Effect.gen(function*() {
      const responses = yield* Responses
      const one = yield* responses.create(ask({ input: "Say hi" }), context)
      const messageId = one.output[0]!.id
      yield* responses.create(
        ask({ input: [{ role: "user", content: "Say hi" }, { type: "item_reference", id: messageId }, { role: "user", content: "Again" }] }),
        context
      )
      expect((yield* sent)[1]!.messages).toEqual([
        { role: "user", content: "Say hi" },
        { role: "assistant", content: "hi" },
        { role: "user", content: "Again" }
      ])
      const exit = yield* Effect.exit(responses.create(ask({ input: [{ type: "item_reference", id: "msg_nope" }] }), context))
      expect(failureOf(exit)).toMatchObject({
        _tag: "ResourceNotFound",
        param: "input[0]",
        message: "Item with id 'msg_nope' not found."
      })
    }).pipe(Effect.provide(scripted([TestProvider.reply("hi")]))))

  it.effect("store: false is not kept; another account sees nothing; delete removes", () =>
    Effect.gen(function*() {
      const responses = yield* Responses
      const kept = yield* responses.create(ask({ input: "a" }), context)
      const unkept = yield* responses.create(ask({ input: "b", store: false }), context)
      expect(unkept.store).toBe(false)
      expect(yield* responses.retrieve(kept.id, context)).toEqual(kept)
      expect(failureOf(yield* Effect.exit(responses.retrieve(unkept.id, context)))).toMatchObject({ _tag: "ResourceNotFound" })

      const other = makeContext({ accountId: "acct_2" })
      expect(failureOf(yield* Effect.exit(responses.retrieve(kept.id, other)))).toMatchObject({ _tag: "ResourceNotFound" })
      expect(failureOf(yield* Effect.exit(responses.create(ask({ input: "c", previous_response_id: kept.id }), other))))
        .toMatchObject({ code: "previous_response_not_found" })
      expect(failureOf(yield* Effect.exit(responses.delete(kept.id, other)))).toMatchObject({ _tag: "ResourceNotFound" })

      expect(yield* responses.delete(kept.id, context)).toEqual({ id: kept.id, object: "response", deleted: true })
      expect(failureOf(yield* Effect.exit(responses.retrieve(kept.id, context)))).toMatchObject({
        _tag: "ResourceNotFound",
        message: `Response with id '${kept.id}' not found.`
      })
      expect(failureOf(yield* Effect.exit(responses.delete(kept.id, context)))).toMatchObject({ _tag: "ResourceNotFound" })
    }).pipe(Effect.provide(scripted([TestProvider.reply("ok")]))))

  it.effect("input items: ids given, references resolved, newest first by default, cursor pages", () =>
    Effect.gen(function*() {
      const responses = yield* Responses
      const one = yield* responses.create(ask({ input: "first" }), context)
      const two = yield* responses.create(
        ask({
          input: [
            { role: "user", content: "u1" },
            { type: "item_reference", id: one.output[0]!.id },
            { role: "user", content: [{ type: "input_text", text: "u2" }, { type: "input_image", image_url: "https://x/y.png" }] },
            { type: "function_call", call_id: "c1", name: "f", arguments: "{}" },
            { type: "function_call_output", call_id: "c1", output: [{ type: "input_text", text: "r" }] }
          ]
        }),
        context
      )
      const all = yield* responses.inputItems(two.id, { order: "asc" }, context)
      expect(all.data.map((item) => item.type)).toEqual(["message", "message", "message", "function_call", "function_call_output"])
      expect(all.data[1]).toEqual(one.output[0])
      expect(all.data[2]).toMatchObject({
        role: "user",
        content: [{ type: "input_text", text: "u2" }, { type: "input_image", image_url: "https://x/y.png" }]
      })
      expect(all.data[4]).toMatchObject({ type: "function_call_output", call_id: "c1", output: "r", id: expect.stringMatching(/^fco_/) })
      expect(all).toMatchObject({ has_more: false, first_id: all.data[0]!.id, last_id: all.data[4]!.id })

      const desc = yield* responses.inputItems(two.id, { limit: 2 }, context)
      expect(desc.data.map((item) => item.id)).toEqual([all.data[4]!.id, all.data[3]!.id])
      expect(desc.has_more).toBe(true)
      const next = yield* responses.inputItems(two.id, { limit: 2, after: desc.last_id! }, context)
      expect(next.data.map((item) => item.id)).toEqual([all.data[2]!.id, all.data[1]!.id])
      const last = yield* responses.inputItems(two.id, { limit: 2, after: next.last_id! }, context)
      expect(last).toMatchObject({ data: [all.data[0]], has_more: false })
    }).pipe(Effect.provide(scripted([TestProvider.reply("ok")]))))
})

describe("Responses.stream", () => {
  it.effect("events in order, one response id everywhere and in the store, usage on `response.completed`", () =>
    Effect.gen(function*() {
      const responses = yield* Responses
      const events = yield* collect(responses.stream(ask({ input: "Hi", stream: true }), context))
      expect(events.map((e) => e.type)).toEqual([
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.delta",
        "response.output_text.delta",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed"
      ])
      const final = finalOf(events)
      expect(final.usage).toMatchObject({ input_tokens: 10, output_tokens: 3, total_tokens: 13 })
      expect(final.output[0]).toMatchObject({ content: [{ text: "Hello there" }] })
      expect(yield* responses.retrieve(final.id, context)).toEqual(final)
      const [chat] = yield* sent
      expect(chat).toMatchObject({ stream: true, stream_options: { include_usage: true } })
    }).pipe(Effect.provide(scripted([TestProvider.reply("Hello there", { usage: true })]))))

  it.effect("a response can be chained on the moment its `response.completed` event is handed out", () =>
    Effect.gen(function*() {
      const responses = yield* Responses
      const store = yield* ResponsesStore
      const opened = yield* responses.open(ask({ input: "one", stream: true }), context)
      let terminal: ReadonlyArray<ResponseStreamEvent> = opened.first
      while (!terminal.some((e) => e.type === "response.completed")) terminal = (yield* opened.pull) ?? []
      expect(Option.isSome(yield* store.get(opened.id, context.accountId))).toBe(true)
      const two = yield* responses.create(ask({ input: "two", previous_response_id: opened.id }), context)
      expect(two.status).toBe("completed")
      expect(yield* opened.pull).toBeNull()
    }).pipe(Effect.scoped, Effect.provide(scripted([TestProvider.reply("first"), TestProvider.reply("second")]))))

  it.effect("a failure after the start: `error`, then `response.failed`; the failed response is stored, chained on without its output", () =>
    Effect.gen(function*() {
      const responses = yield* Responses
      const events = yield* collect(responses.stream(ask({ input: "Hi", stream: true }), context))
      const types = events.map((e) => e.type)
      expect(types.slice(-2)).toEqual(["error", "response.failed"])
      expect(types).not.toContain("response.completed")
      expect(events[events.length - 2]).toMatchObject({ type: "error", code: "upstream_unavailable", message: expect.stringContaining("reset") })
      const failed = finalOf(events)
      expect(failed).toMatchObject({ status: "failed", error: { code: "server_error" } })
      expect(failed.output[0]).toMatchObject({ type: "message", status: "incomplete" })
      expect(yield* responses.retrieve(failed.id, context)).toEqual(failed)
      // Chaining on it: its input joins the conversation, its partial output does not.
      yield* responses.create(ask({ input: "Again", previous_response_id: failed.id }), context)
      expect((yield* sent)[1]!.messages).toEqual([{ role: "user", content: "Hi" }, { role: "user", content: "Again" }])
    }).pipe(Effect.provide(scripted([TestProvider.cut("Hello there, friend", 3), TestProvider.reply("ok")]))))

  it.effect("a failure before the start fails the stream with the typed error and no event", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(collect((yield* Responses).stream(ask({ input: "Hi", stream: true }), context)))
      expect(failureOf(exit)).toBeInstanceOf(UpstreamRateLimited)
    }).pipe(Effect.provide(scripted([TestProvider.rateLimited()]))))

  it.effect("prepare: start events given early are not repeated by open; fail ends a started stream", () =>
    Effect.gen(function*() {
      const responses = yield* Responses
      const prepared = yield* responses.prepare(ask({ input: "Hi", stream: true }), context)
      const start = prepared.start()
      expect(start.map((e) => e.type)).toEqual(["response.created", "response.in_progress"])
      expect(prepared.start()).toEqual([])
      const opened = yield* prepared.open
      expect(opened.first[0]).toMatchObject({ type: "response.output_item.added", sequence_number: 2 })

      const other = yield* responses.prepare(ask({ input: "Hi", stream: true }), context)
      other.start()
      const ending = yield* other.fail(new UpstreamRateLimited({ vendor: "test", message: "slow down" }))
      expect(ending.map((e) => [e.type, e.sequence_number])).toEqual([["error", 2], ["response.failed", 3]])
      expect(yield* responses.retrieve(other.id, context)).toMatchObject({ status: "failed", error: { code: "rate_limit_exceeded" } })
    }).pipe(Effect.scoped, Effect.provide(scripted([TestProvider.reply("Hello")]))))
})

describe("over the echo vendor", () => {
  const echo = Responses.layer().pipe(
    Layer.provideMerge(ResponsesStore.layerMemory()),
    Layer.provideMerge(ChatCompletions.layer()),
    Layer.provideMerge(Layer.effect(ProviderRegistry, Effect.map(EchoProvider.make(), (echo) => ProviderRegistry.make({ echo }))))
  )

  it.effect("create and stream answer with the last user message, ids shaped as OpenAI's", () =>
    Effect.gen(function*() {
      const responses = yield* Responses
      const whole = yield* responses.create(decode({ model: "echo/x", input: "Hello, echo" }), context)
      expect(whole.id).toMatch(/^resp_[0-9a-f]{48}$/)
      expect(whole.output[0]!.id).toMatch(/^msg_[0-9a-f]{48}$/)
      expect(whole.output[0]).toMatchObject({ content: [{ type: "output_text", text: "Hello, echo" }] })
      expect(whole.usage!.output_tokens).toBeGreaterThan(0)
      const events = yield* collect(responses.stream(decode({ model: "echo/x", input: "Stream me", previous_response_id: whole.id }), context))
      expect(finalOf(events).output[0]).toMatchObject({ content: [{ type: "output_text", text: "Stream me" }] })
      expect(new Set(events.filter((e) => "item_id" in e).map((e) => (e as { item_id: string }).item_id)).size).toBe(1)
    }).pipe(Effect.provide(echo)), { timeout: 20_000 })
})

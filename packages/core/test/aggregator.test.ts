import { describe, expect, it } from "@effect/vitest"
import { Effect, FastCheck as fc, Schema, Stream } from "effect"
import {
  aggregateChunks,
  ChatCompletion,
  type ChatCompletionChoice,
  type ChatCompletionChunk,
  type ChatCompletionChunkChoice,
  type ChatCompletionTokenLogprob,
  ChunkAggregator,
  collectCompletion,
  completionToChunks,
  Sse,
  UpstreamTimeout
} from "../src/index.js"
import { recordedStream } from "./fixtures/openai-stream.js"
import { jsonArbitrary, PROPERTY_TIMEOUT } from "./support/json.js"

const head = { id: "chatcmpl-9", object: "chat.completion.chunk", created: 1732527000, model: "gpt-4o" } as const

/** A chunk with one choice. */
const delta = (
  index: number,
  d: ChatCompletionChunkChoice["delta"],
  rest: Partial<Omit<ChatCompletionChunkChoice, "delta" | "index">> = {}
): ChatCompletionChunk => ({ ...head, choices: [{ index, delta: d, finish_reason: null, ...rest }] })

const token = (t: string, logprob: number): ChatCompletionTokenLogprob => ({
  token: t,
  logprob,
  bytes: [...new TextEncoder().encode(t)],
  top_logprobs: [{ token: t, logprob }]
})

const isCompletion = Schema.is(ChatCompletion)

describe("ChunkAggregator", () => {
  it("keeps content per choice index when two choices are interleaved (n=2), and sorts the choices", () => {
    const completion = aggregateChunks([
      delta(1, { role: "assistant", content: "" }),
      delta(0, { role: "assistant", content: "" }),
      delta(0, { content: "Hello" }),
      delta(1, { content: "Bonjour" }),
      delta(1, { content: " le monde" }),
      delta(0, { content: " world" }),
      delta(1, {}, { finish_reason: "stop" }),
      delta(0, {}, { finish_reason: "length" })
    ])
    expect(completion.choices.map((c) => [c.index, c.message.content, c.finish_reason])).toStrictEqual([
      [0, "Hello world", "length"],
      [1, "Bonjour le monde", "stop"]
    ])
    expect(isCompletion(completion)).toBe(true)
  })

  it("handles several choices in one chunk", () => {
    const completion = aggregateChunks([
      { ...head, choices: [{ index: 0, delta: { content: "a" } }, { index: 1, delta: { content: "b" } }] },
      { ...head, choices: [{ index: 1, delta: { content: "B" } }, { index: 0, delta: { content: "A" } }] }
    ])
    expect(completion.choices.map((c) => c.message.content)).toStrictEqual(["aA", "bB"])
  })

  it("reassembles two parallel tool calls, interleaved, from many small argument pieces", () => {
    const weather = "{\"city\": \"Zürich\", \"unit\": \"celsius\"}"
    const time = "{\"timezone\": \"Europe/Zurich\"}"
    const pieces = (s: string) => s.match(/.{1,3}/gu) ?? []
    const a = pieces(weather)
    const b = pieces(time)
    const chunks: Array<ChatCompletionChunk> = [
      delta(0, { role: "assistant", content: null }),
      delta(0, { tool_calls: [{ index: 0, id: "call_w", type: "function", function: { name: "get_weather", arguments: "" } }] }),
      delta(0, { tool_calls: [{ index: 1, id: "call_t", type: "function", function: { name: "get_time", arguments: "" } }] })
    ]
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      if (i < b.length) chunks.push(delta(0, { tool_calls: [{ index: 1, function: { arguments: b[i]! } }] }))
      if (i < a.length) chunks.push(delta(0, { tool_calls: [{ index: 0, function: { arguments: a[i]! } }] }))
    }
    chunks.push(delta(0, {}, { finish_reason: "tool_calls" }))
    expect(chunks.length).toBeGreaterThan(20)

    const [choice] = aggregateChunks(chunks).choices
    expect(choice?.finish_reason).toBe("tool_calls")
    expect(choice?.message.content).toBeNull()
    expect(choice?.message.tool_calls).toStrictEqual([
      { id: "call_w", type: "function", function: { name: "get_weather", arguments: weather } },
      { id: "call_t", type: "function", function: { name: "get_time", arguments: time } }
    ])
  })

  it("reassembles the deprecated function_call", () => {
    const [choice] = aggregateChunks([
      delta(0, { role: "assistant", function_call: { name: "lookup", arguments: "" } }),
      delta(0, { function_call: { arguments: "{\"q\":" } }),
      delta(0, { function_call: { arguments: "\"effect\"}" } }),
      delta(0, {}, { finish_reason: "function_call" })
    ]).choices
    expect(choice?.message.function_call).toStrictEqual({ name: "lookup", arguments: "{\"q\":\"effect\"}" })
    expect(choice?.finish_reason).toBe("function_call")
  })

  it("concatenates a refusal and leaves content null", () => {
    const [choice] = aggregateChunks([
      delta(0, { role: "assistant", content: null, refusal: "" }),
      delta(0, { refusal: "I'm sorry, " }),
      delta(0, { refusal: "I can't help with that." }),
      delta(0, {}, { finish_reason: "stop" })
    ]).choices
    expect(choice?.message).toStrictEqual({
      role: "assistant",
      content: null,
      refusal: "I'm sorry, I can't help with that."
    })
  })

  it("concatenates content and refusal logprobs in order", () => {
    const [choice] = aggregateChunks([
      delta(0, { content: "Hel" }, { logprobs: { content: [token("Hel", -0.1)], refusal: null } }),
      delta(0, { content: "lo" }, { logprobs: { content: [token("lo", -0.2)] } }),
      delta(0, { refusal: "No" }, { logprobs: { content: null, refusal: [token("No", -3)] } }),
      delta(0, { content: "!" }, { logprobs: { content: [token("!", -0.3)], refusal: null } }),
      delta(0, {}, { logprobs: null, finish_reason: "stop" })
    ]).choices
    expect(choice?.logprobs).toStrictEqual({
      content: [token("Hel", -0.1), token("lo", -0.2), token("!", -0.3)],
      refusal: [token("No", -3)]
    })
  })

  it("reports logprobs as null when no chunk had any", () => {
    expect(aggregateChunks([delta(0, { content: "x" }, { logprobs: null })]).choices[0]?.logprobs).toBeNull()
  })

  it("takes usage from the final chunk with choices: []", () => {
    const usage = { prompt_tokens: 10, completion_tokens: 2, total_tokens: 12 }
    const completion = aggregateChunks([
      { ...delta(0, { content: "Hi" }), usage: null },
      { ...delta(0, {}, { finish_reason: "stop" }), usage: null },
      { ...head, choices: [], usage }
    ])
    expect(completion.usage).toStrictEqual(usage)
    expect(completion.choices).toHaveLength(1)
  })

  it("has no usage when no chunk carried one", () => {
    expect(aggregateChunks([delta(0, { content: "Hi" })])).not.toHaveProperty("usage")
  })

  it("takes id, model and created from the first chunk; fingerprint and service tier from the last that has them", () => {
    const completion = aggregateChunks([
      { ...delta(0, { content: "a" }), id: "first", model: "gpt-4o-2024-08-06", created: 1, system_fingerprint: null },
      { ...delta(0, { content: "b" }), id: "second", model: "other", created: 2, system_fingerprint: "fp_1", service_tier: "default" },
      { ...delta(0, { content: "c" }), id: "third", system_fingerprint: "fp_2", service_tier: null }
    ])
    expect(completion).toMatchObject({
      id: "first",
      object: "chat.completion",
      model: "gpt-4o-2024-08-06",
      created: 1,
      system_fingerprint: "fp_2",
      service_tier: "default"
    })
  })

  it("reports a choice that never got a finish_reason as \"stop\"", () => {
    expect(aggregateChunks([delta(0, { content: "cut off" })]).choices[0]?.finish_reason).toBe("stop")
  })

  it("keeps unknown delta fields: strings are concatenated, other values replaced", () => {
    const [choice] = aggregateChunks([
      delta(0, { role: "assistant", reasoning_content: "Let me ", x_meta: { step: 1 } } as ChatCompletionChunkChoice["delta"]),
      delta(0, { reasoning_content: "think.", x_meta: { step: 2 } } as ChatCompletionChunkChoice["delta"]),
      delta(0, { content: "42", reasoning_content: null } as ChatCompletionChunkChoice["delta"])
    ]).choices
    expect(choice?.message).toMatchObject({ content: "42", reasoning_content: "Let me think.", x_meta: { step: 2 } })
  })

  it("counts the chunks and gives an empty completion for none", () => {
    const aggregator = new ChunkAggregator()
    expect(aggregator.result()).toStrictEqual({ id: "", object: "chat.completion", created: 0, model: "", choices: [] })
    aggregator.push(delta(0, { content: "a" }))
    aggregator.push(delta(0, { content: "b" }))
    expect(aggregator.count).toBe(2)
    expect(aggregator.result().choices[0]?.message.content).toBe("ab")
  })

  it("folds the recorded OpenAI stream, decoded from SSE, into the completion it represents", () => {
    const chunks = Sse.decodeAll(recordedStream)
      .filter((e) => e.data !== "[DONE]")
      .map((e) => JSON.parse(e.data) as ChatCompletionChunk)
    const completion = aggregateChunks(chunks)
    expect(completion).toStrictEqual({
      id: "chatcmpl-AXf3kq1",
      object: "chat.completion",
      created: 1732527000,
      model: "gpt-4o-2024-08-06",
      system_fingerprint: "fp_7f6be3efb0",
      choices: [{
        index: 0,
        finish_reason: "tool_calls",
        logprobs: null,
        message: {
          role: "assistant",
          content: "héllo 👋 日本",
          refusal: null,
          tool_calls: [{
            id: "call_Qm3x9",
            type: "function",
            function: { name: "get_weather", arguments: "{\"city\": \"Zürich\"}" }
          }]
        }
      }],
      usage: {
        prompt_tokens: 42,
        completion_tokens: 17,
        total_tokens: 59,
        prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
        completion_tokens_details: {
          reasoning_tokens: 0,
          audio_tokens: 0,
          accepted_prediction_tokens: 0,
          rejected_prediction_tokens: 0
        }
      }
    })
    expect(isCompletion(completion)).toBe(true)
  })
})

describe("collectCompletion", () => {
  const chunks = [delta(0, { role: "assistant", content: "Hi" }), delta(0, { content: " there" }), delta(0, {}, {
    finish_reason: "stop"
  })]

  it.effect("runs a stream of chunks to the end and aggregates it, whatever the batching", () =>
    Effect.gen(function*() {
      const batched = yield* collectCompletion(Stream.fromIterable(chunks))
      const single = yield* collectCompletion(Stream.fromIterable(chunks).pipe(Stream.rechunk(1)))
      expect(batched).toStrictEqual(aggregateChunks(chunks))
      expect(single).toStrictEqual(batched)
      expect(batched.choices[0]?.message.content).toBe("Hi there")
    }))

  it.effect("fails with the stream's error", () =>
    Effect.gen(function*() {
      const timeout = new UpstreamTimeout({ vendor: "openai", phase: "idle" })
      const error = yield* collectCompletion(Stream.fromIterable(chunks).pipe(Stream.concat(Stream.fail(timeout)))).pipe(
        Effect.flip
      )
      expect(error).toBe(timeout)
    }))

  it.effect("starts afresh on each run", () =>
    Effect.gen(function*() {
      const effect = collectCompletion(Stream.fromIterable(chunks))
      const first = yield* effect
      const second = yield* effect
      expect(second).toStrictEqual(first)
    }))
})

// ---------------------------------------------------------------------------
// Round trip: a completion, streamed as random pieces, aggregates back.
// ---------------------------------------------------------------------------

/** What survives streaming: function tool calls (custom ones have no delta form), one choice per index. */
const streamable = (completion: ChatCompletion): ChatCompletion => {
  const seen = new Set<number>()
  const choices: Array<ChatCompletionChoice> = []
  for (const choice of completion.choices) {
    if (seen.has(choice.index)) continue
    seen.add(choice.index)
    const { message } = choice
    const toolCalls = (message.tool_calls ?? []).flatMap((call) =>
      call.type === "function"
        ? [{ id: call.id, type: "function" as const, function: { name: call.function.name, arguments: call.function.arguments } }]
        : []
    )
    const content = choice.logprobs?.content ?? []
    const refusal = choice.logprobs?.refusal ?? []
    choices.push({
      index: choice.index,
      finish_reason: choice.finish_reason,
      logprobs: content.length > 0 || refusal.length > 0
        ? { content: content.length > 0 ? content : null, refusal: refusal.length > 0 ? refusal : null }
        : null,
      message: {
        role: "assistant",
        content: message.content ?? null,
        refusal: message.refusal ?? null,
        ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
        ...(message.function_call != null ? { function_call: message.function_call } : {})
      }
    })
  }
  choices.sort((a, b) => a.index - b.index)
  return {
    id: completion.id,
    object: "chat.completion",
    created: completion.created,
    model: completion.model,
    choices,
    ...(completion.usage != null ? { usage: completion.usage } : {})
  }
}

/** Cuts a string into pieces whose lengths come from `sizes`, cycling. */
const split = (text: string, sizes: ReadonlyArray<number>): Array<string> => {
  const pieces: Array<string> = []
  let at = 0
  for (let i = 0; at < text.length; i++) {
    const size = 1 + (sizes[i % sizes.length] ?? 0)
    pieces.push(text.slice(at, at + size))
    at += size
  }
  return pieces.length > 0 ? pieces : [text]
}

/** The chunks a vendor might send for a completion: pieces of everything, choices interleaved as `order` says. */
const toChunks = (completion: ChatCompletion, sizes: ReadonlyArray<number>, order: ReadonlyArray<number>) => {
  const c = (choice: ChatCompletionChunkChoice): ChatCompletionChunk => ({
    id: completion.id,
    created: completion.created,
    model: completion.model,
    choices: [choice]
  })
  const perChoice = completion.choices.map((choice) => {
    const { index, message } = choice
    const out: Array<ChatCompletionChunk> = [c({ index, delta: { role: "assistant" } })]
    if (message.content != null) for (const p of split(message.content, sizes)) out.push(c({ index, delta: { content: p } }))
    if (message.refusal != null) for (const p of split(message.refusal, sizes)) out.push(c({ index, delta: { refusal: p } }))
    message.tool_calls?.forEach((call, i) => {
      if (call.type !== "function") return
      const { name, arguments: args } = call.function
      out.push(c({ index, delta: { tool_calls: [{ index: i, id: call.id, type: "function", function: { name } }] } }))
      for (const p of split(args, sizes)) out.push(c({ index, delta: { tool_calls: [{ index: i, function: { arguments: p } }] } }))
    })
    if (message.function_call != null) {
      out.push(c({ index, delta: { function_call: { name: message.function_call.name } } }))
      for (const p of split(message.function_call.arguments, sizes)) {
        out.push(c({ index, delta: { function_call: { arguments: p } } }))
      }
    }
    for (const t of choice.logprobs?.content ?? []) out.push(c({ index, delta: {}, logprobs: { content: [t] } }))
    for (const t of choice.logprobs?.refusal ?? []) out.push(c({ index, delta: {}, logprobs: { refusal: [t] } }))
    out.push(c({ index, delta: {}, finish_reason: choice.finish_reason }))
    return out
  })
  const chunks: Array<ChatCompletionChunk> = []
  for (let i = 0; perChoice.some((list) => list.length > 0); i++) {
    const pending = perChoice.filter((list) => list.length > 0)
    const next = pending[(order[i % Math.max(order.length, 1)] ?? 0) % pending.length]!
    chunks.push(next.shift()!)
  }
  if (completion.usage != null) {
    chunks.push({ id: completion.id, created: completion.created, model: completion.model, choices: [], usage: completion.usage })
  }
  return chunks
}

/** At least one choice: a stream without chunks has no id, model or creation time to aggregate. */
const streamableCompletion = jsonArbitrary(ChatCompletion)
  .map(streamable)
  .filter((completion) => completion.choices.length >= 1 && completion.choices.length <= 4)

describe("round trips through chunks", () => {
  it.prop("content, refusal, tool calls and logprobs split into random chunks aggregate back", [
    streamableCompletion,
    fc.array(fc.nat({ max: 12 }), { minLength: 1, maxLength: 8 }),
    fc.array(fc.nat(), { minLength: 1, maxLength: 8 })
  ], ([completion, sizes, order]) => {
    expect(aggregateChunks(toChunks(completion, sizes, order))).toStrictEqual(completion)
  }, { timeout: PROPERTY_TIMEOUT, fastCheck: { numRuns: 200 } })

  it.prop("plain text in random pieces aggregates to the same text", [
    fc.string({ unit: "grapheme", maxLength: 200 }),
    fc.array(fc.nat({ max: 20 }), { minLength: 1, maxLength: 10 })
  ], ([text, sizes]) => {
    const chunks = split(text, sizes).map((piece) => delta(0, { content: piece }))
    expect(aggregateChunks(chunks).choices[0]?.message.content).toBe(text)
  }, { timeout: PROPERTY_TIMEOUT })

  it.prop("completionToChunks then aggregation gives the completion back", [
    streamableCompletion
  ], ([completion]) => {
    const chunks = completionToChunks(completion, { includeUsage: true })
    const { usage: _usage, ...withoutUsage } = completion
    expect(aggregateChunks(chunks)).toStrictEqual(completion)
    expect(aggregateChunks(completionToChunks(completion))).toStrictEqual(withoutUsage)
  }, { timeout: PROPERTY_TIMEOUT, fastCheck: { numRuns: 200 } })
})

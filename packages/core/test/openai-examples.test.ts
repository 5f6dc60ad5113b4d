import { describe, expect, it } from "@effect/vitest"
import { Either, Schema } from "effect"
import {
  aggregateChunks,
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionRequest,
  ErrorEnvelope,
  looksLikeChunk,
  Sse
} from "../src/index.js"
import { completions, errorBody, requests, textStream, toolCallStream } from "./fixtures/openai-examples.js"
import { decodeRequest, detailOf } from "./support/json.js"
import { makeValidators } from "./support/spec.js"

const { raw, responses } = makeValidators()
const decodeCompletion = Schema.decodeUnknownEither(ChatCompletion, { errors: "all" })
const decodeChunk = Schema.decodeUnknownEither(ChatCompletionChunk, { errors: "all" })
const encodeCompletion = Schema.encodeSync(ChatCompletion)
const encodeChunk = Schema.encodeSync(ChatCompletionChunk)
const usageOf = (body: Record<string, unknown> | undefined) => (body?.["usage"] ?? {}) as Record<string, unknown>

describe("OpenAI's documented requests", () => {
  for (const [name, body] of Object.entries(requests)) {
    describe(name, () => {
      it("is valid for the spec as OpenAI writes it", () => {
        expect(raw.validate("ChatCompletionRequest", body).errors).toEqual([])
      })

      it("is rejected by us only for its bare model name", () => {
        expect(detailOf(body)?.map((d) => [d.loc, d.type])).toStrictEqual([[["body", "model"], "value_error"]])
      })

      it("decodes, everything kept, once the model names its vendor", () => {
        const routed = { ...body, model: `openai/${String(body.model)}` }
        const decoded = decodeRequest(routed)
        expect(Either.getOrThrow(decoded)).toStrictEqual(routed)
        expect(Schema.encodeSync(ChatCompletionRequest)(Either.getOrThrow(decoded))).toStrictEqual(routed)
      })
    })
  }
})

describe("OpenAI's documented responses", () => {
  for (const [name, body] of Object.entries(completions)) {
    describe(name, () => {
      it("decodes and encodes back unchanged", () => {
        const decoded = decodeCompletion(body)
        expect(Either.isRight(decoded)).toBe(true)
        expect(encodeCompletion(Either.getOrThrow(decoded))).toStrictEqual(body)
      })

      it("validates against the spec with the nullable overlay", () => {
        expect(responses.validate("ChatCompletion", body).errors).toEqual([])
      })
    })
  }

  it("the raw spec rejects the documented nulls the overlay allows", () => {
    expect(raw.validate("ChatCompletion", completions["tool calls with null content"]).valid).toBe(false)
    expect(raw.validate("ChatCompletion", completions["refusal"]).valid).toBe(false)
    expect(raw.validate("ChatCompletionChunk", textStream[0]).valid).toBe(false)
  })

  it("content null with tool calls keeps both", () => {
    const completion = Either.getOrThrow(decodeCompletion(completions["tool calls with null content"]))
    const [choice] = completion.choices
    expect(choice?.message.content).toBeNull()
    expect(choice?.finish_reason).toBe("tool_calls")
    expect(JSON.parse(choice?.message.tool_calls?.[0]?.type === "function" ? choice.message.tool_calls[0].function.arguments : ""))
      .toStrictEqual({ location: "Boston, MA" })
  })

  it("a refusal is its own field, with content null", () => {
    const [choice] = Either.getOrThrow(decodeCompletion(completions["refusal"])).choices
    expect(choice?.message).toMatchObject({ content: null, refusal: "I'm sorry, I cannot assist with that request." })
  })

  it("logprobs keep every token, its bytes and its alternatives", () => {
    const [choice] = Either.getOrThrow(decodeCompletion(completions["logprobs"])).choices
    expect(choice?.logprobs?.content?.map((t) => [t.token, t.bytes, t.top_logprobs.length])).toStrictEqual([
      ["Hello", [72, 101, 108, 108, 111], 2],
      ["!", [33], 2]
    ])
    expect(choice?.logprobs?.refusal).toBeNull()
  })

  it("vendor extensions (OpenRouter, DeepSeek style) are kept at every level, so they are relayed", () => {
    const completion = {
      ...completions["default"],
      provider: "OpenAI",
      choices: [{
        index: 0,
        message: {
          role: "assistant",
          content: "4",
          reasoning: "2 + 2 = 4",
          tool_calls: [{ id: "call_1", type: "function", function: { name: "f", arguments: "{}", parsed: {} }, x: 1 }],
          annotations: [{ type: "url_citation", url_citation: { start_index: 0, end_index: 1, title: "t", url: "u", x: 1 } }]
        },
        logprobs: { content: [{ token: "4", logprob: -0.1, top_logprobs: [{ token: "4", logprob: -0.1, x: 1 }], x: 1 }], x: 1 },
        finish_reason: "stop",
        native_finish_reason: "end_turn"
      }],
      usage: { ...usageOf(completions["default"]), cost: 0.00012, prompt_tokens_details: { cached_tokens: 0, x: 1 } }
    }
    expect(Either.getOrThrow(decodeCompletion(completion))).toStrictEqual(completion)
    const chunk = {
      ...textStream[1],
      provider: "DeepSeek",
      choices: [{ index: 0, delta: { content: "", reasoning_content: "Let me think", x: 1 }, finish_reason: null, x: 1 }]
    }
    expect(Either.getOrThrow(decodeChunk(chunk))).toStrictEqual(chunk)
  })

  it("OpenAI's error body is an ErrorEnvelope", () => {
    expect(Schema.decodeUnknownSync(ErrorEnvelope)(errorBody)).toStrictEqual(errorBody)
  })
})

describe("OpenAI's documented streams", () => {
  for (const [name, stream] of [["text with usage", textStream], ["tool call", toolCallStream]] as const) {
    describe(name, () => {
      it("every chunk decodes, encodes back unchanged, passes looksLikeChunk and the overlaid spec", () => {
        for (const chunk of stream) {
          const decoded = decodeChunk(chunk)
          expect(Either.isRight(decoded)).toBe(true)
          expect(encodeChunk(Either.getOrThrow(decoded))).toStrictEqual(chunk)
          expect(looksLikeChunk(chunk)).toBe(true)
          expect(responses.validate("ChatCompletionChunk", chunk).errors).toEqual([])
        }
      })

      it("survives SSE framing: encoded as events and decoded, the same chunks come back", () => {
        const body = stream.map((chunk) => `data: ${JSON.stringify(chunk)}\n\n`).join("") + Sse.DONE
        const events = Sse.decodeAll(new TextEncoder().encode(body))
        expect(events.map((e) => e.data === "[DONE]" ? e.data : JSON.parse(e.data))).toStrictEqual([...stream, "[DONE]"])
      })
    })
  }

  it("the text stream aggregates into the completion OpenAI would have answered", () => {
    const chunks = textStream.map((chunk) => Either.getOrThrow(decodeChunk(chunk)))
    expect(aggregateChunks(chunks)).toStrictEqual({
      id: "chatcmpl-123",
      object: "chat.completion",
      created: 1694268190,
      model: "gpt-4o-mini",
      system_fingerprint: "fp_44709d6fcb",
      choices: [{
        index: 0,
        finish_reason: "stop",
        logprobs: null,
        message: { role: "assistant", content: "Hello!", refusal: null }
      }],
      usage: { prompt_tokens: 9, completion_tokens: 2, total_tokens: 11 }
    })
  })

  it("the tool-call stream aggregates into one call with its arguments whole", () => {
    const chunks = toolCallStream.map((chunk) => Either.getOrThrow(decodeChunk(chunk)))
    const [choice] = aggregateChunks(chunks).choices
    expect(choice).toStrictEqual({
      index: 0,
      finish_reason: "tool_calls",
      logprobs: null,
      message: {
        role: "assistant",
        content: null,
        refusal: null,
        tool_calls: [{
          id: "call_DdmO9pD3xa9XTPNJ32zg2hcA",
          type: "function",
          function: { name: "get_current_weather", arguments: "{\"location\":\"Boston, MA\"}" }
        }]
      }
    })
    expect(responses.validate("ChatCompletion", aggregateChunks(chunks)).errors).toEqual([])
  })
})

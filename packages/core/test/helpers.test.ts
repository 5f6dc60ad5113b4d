import { describe, expect, it } from "@effect/vitest"
import { Schema } from "effect"
import {
  addUsage,
  ChatCompletionRequest,
  CompletionUsage,
  contentText,
  knownRequestFields,
  unknownRequestFields,
  type UserContentPart
} from "../src/index.js"
import { PROPERTY_TIMEOUT, schemaArbitrary } from "./support/json.js"

describe("addUsage", () => {
  it("adds the totals and the details field by field, leaving out what neither side has", () => {
    expect(addUsage(
      {
        prompt_tokens: 10,
        completion_tokens: 5,
        total_tokens: 15,
        completion_tokens_details: { reasoning_tokens: 3, audio_tokens: null }
      },
      {
        prompt_tokens: 20,
        completion_tokens: 7,
        total_tokens: 27,
        completion_tokens_details: { reasoning_tokens: 4, accepted_prediction_tokens: 1 },
        prompt_tokens_details: { cached_tokens: 8 }
      }
    )).toStrictEqual({
      prompt_tokens: 30,
      completion_tokens: 12,
      total_tokens: 42,
      completion_tokens_details: { reasoning_tokens: 7, accepted_prediction_tokens: 1 },
      prompt_tokens_details: { cached_tokens: 8 }
    })
  })

  it("has no details when neither side has any (absent or null)", () => {
    const a = { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2, prompt_tokens_details: null }
    expect(addUsage(a, { prompt_tokens: 1, completion_tokens: 0, total_tokens: 1 })).toStrictEqual({
      prompt_tokens: 2,
      completion_tokens: 1,
      total_tokens: 3
    })
  })

  it.prop("is commutative, and its result is a valid CompletionUsage with summed totals", [
    schemaArbitrary(CompletionUsage),
    schemaArbitrary(CompletionUsage)
  ], ([a, b]) => {
    const sum = addUsage(a, b)
    expect(addUsage(b, a)).toStrictEqual(sum)
    expect(Schema.is(CompletionUsage)(sum)).toBe(true)
    expect([sum.prompt_tokens, sum.completion_tokens, sum.total_tokens]).toStrictEqual([
      a.prompt_tokens + b.prompt_tokens,
      a.completion_tokens + b.completion_tokens,
      a.total_tokens + b.total_tokens
    ])
  }, { timeout: PROPERTY_TIMEOUT })
})

describe("contentText", () => {
  it("is the string itself, the text parts joined, or empty for null", () => {
    expect(contentText("Hello")).toBe("Hello")
    const parts: ReadonlyArray<UserContentPart> = [
      { type: "text", text: "Hello, " },
      { type: "image_url", image_url: { url: "https://example.com/a.png" } },
      { type: "text", text: "world" }
    ]
    expect(contentText(parts)).toBe("Hello, world")
    expect(contentText(null)).toBe("")
    expect(contentText(undefined)).toBe("")
    expect(contentText([])).toBe("")
  })
})

describe("known and unknown request fields", () => {
  it("knows exactly the fields of the request Schema", () => {
    expect([...knownRequestFields].sort()).toStrictEqual(Object.keys(ChatCompletionRequest.fields).sort())
    expect(knownRequestFields.has("model") && knownRequestFields.has("user")).toBe(true)
  })

  it("unknownRequestFields returns the pass-through fields only", () => {
    const request = Schema.decodeUnknownSync(ChatCompletionRequest)({
      model: "openai/gpt-4o",
      messages: [],
      temperature: 0.2,
      safety_identifier: "s-1",
      x_vendor: { a: [1] }
    })
    expect(unknownRequestFields(request)).toStrictEqual({ safety_identifier: "s-1", x_vendor: { a: [1] } })
  })
})

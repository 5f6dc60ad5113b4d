import { describe, expect, it } from "@effect/vitest"
import { Either, Schema } from "effect"
import {
  describeError,
  fromParseIssue,
  HTTPValidationError,
  jsonInvalid,
  requestValidationError,
  summarize
} from "../src/index.js"
import { decodeRequest, detailOf } from "./support/json.js"

const user = { role: "user", content: "Hello" }
const base = { model: "openai/gpt-4o", messages: [user] }

/** The 422 detail of `base` with `patch` applied; fails the test if the body is valid. */
const detail = (patch: Record<string, unknown>) => {
  const result = detailOf({ ...base, ...patch })
  expect(result, "the body should be invalid").toBeDefined()
  return result
}

describe("each pydantic error type, with its exact loc, msg, type, input and ctx", () => {
  it("missing: a required field, with the enclosing object as input", () => {
    const body = { messages: [user] }
    expect(detailOf(body)).toStrictEqual([{ loc: ["body", "model"], msg: "Field required", type: "missing", input: body }])
  })

  it("missing: a required field of a message", () => {
    const message = { role: "tool", content: "42" }
    expect(detail({ messages: [message] })).toStrictEqual([
      { loc: ["body", "messages", 0, "tool_call_id"], msg: "Field required", type: "missing", input: message }
    ])
  })

  it("string_type", () => {
    expect(detail({ model: 5 })).toStrictEqual([
      { loc: ["body", "model"], msg: "Input should be a valid string", type: "string_type", input: 5 }
    ])
  })

  it("string_type for a string-or-list field given neither", () => {
    expect(detail({ messages: [{ role: "user", content: 5 }] })).toStrictEqual([
      {
        loc: ["body", "messages", 0, "content"],
        msg: "Input should be a valid string or a valid list",
        type: "string_type",
        input: 5
      }
    ])
  })

  it("int_type, saying that null is also accepted", () => {
    expect(detail({ seed: "42" })).toStrictEqual([
      { loc: ["body", "seed"], msg: "Input should be a valid integer or null", type: "int_type", input: "42" }
    ])
  })

  it("int_from_float", () => {
    expect(detail({ n: 1.5 })).toStrictEqual([
      {
        loc: ["body", "n"],
        msg: "Input should be a valid integer, got a number with a fractional part",
        type: "int_from_float",
        input: 1.5
      }
    ])
  })

  it("float_type", () => {
    expect(detail({ temperature: "hot" })).toStrictEqual([
      { loc: ["body", "temperature"], msg: "Input should be a valid number or null", type: "float_type", input: "hot" }
    ])
  })

  it("bool_type", () => {
    expect(detail({ stream: "yes" })).toStrictEqual([
      { loc: ["body", "stream"], msg: "Input should be a valid boolean or null", type: "bool_type", input: "yes" }
    ])
  })

  it("list_type, for a required and for an optional list", () => {
    expect(detail({ messages: "Hello" })).toStrictEqual([
      { loc: ["body", "messages"], msg: "Input should be a valid list", type: "list_type", input: "Hello" }
    ])
    expect(detail({ tools: {} })).toStrictEqual([
      { loc: ["body", "tools"], msg: "Input should be a valid list or null", type: "list_type", input: {} }
    ])
  })

  it("dict_type, for the body and for a message", () => {
    expect(detailOf("Hello")).toStrictEqual([
      { loc: ["body"], msg: "Input should be a valid dictionary", type: "dict_type", input: "Hello" }
    ])
    expect(detail({ messages: ["Hello"] })).toStrictEqual([
      { loc: ["body", "messages", 0], msg: "Input should be a valid dictionary", type: "dict_type", input: "Hello" }
    ])
  })

  it("literal_error, listing the expected values", () => {
    const expected = "'system', 'developer', 'user', 'assistant', 'tool' or 'function'"
    expect(detail({ messages: [{ role: "robot", content: "Hi" }] })).toStrictEqual([
      {
        loc: ["body", "messages", 0, "role"],
        msg: `Input should be ${expected}`,
        type: "literal_error",
        input: "robot",
        ctx: { expected }
      }
    ])
  })

  it("literal_error for a nullable literal says null is accepted", () => {
    const expected = "'auto', 'low', 'high' or null"
    const image = { type: "image_url", image_url: { url: "https://example.com/a.png", detail: "ultra" } }
    expect(detail({ messages: [{ role: "user", content: [image] }] })).toStrictEqual([
      {
        loc: ["body", "messages", 0, "content", 0, "image_url", "detail"],
        msg: `Input should be ${expected}`,
        type: "literal_error",
        input: "ultra",
        ctx: { expected }
      }
    ])
  })

  it("less_than_equal", () => {
    expect(detail({ temperature: 3 })).toStrictEqual([
      {
        loc: ["body", "temperature"],
        msg: "Input should be less than or equal to 2",
        type: "less_than_equal",
        input: 3,
        ctx: { le: 2 }
      }
    ])
  })

  it("greater_than_equal", () => {
    expect(detail({ top_p: -1 })).toStrictEqual([
      {
        loc: ["body", "top_p"],
        msg: "Input should be greater than or equal to 0",
        type: "greater_than_equal",
        input: -1,
        ctx: { ge: 0 }
      }
    ])
  })

  it("too_long for a list", () => {
    const stop = ["a", "b", "c", "d", "e"]
    expect(detail({ stop })).toStrictEqual([
      {
        loc: ["body", "stop"],
        msg: "List should have at most 4 items after validation, not 5",
        type: "too_long",
        input: stop,
        ctx: { field_type: "List", max_length: 4, actual_length: 5 }
      }
    ])
  })

  it("too_long for a dictionary", () => {
    const metadata = Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, "v"]))
    expect(detail({ metadata })).toStrictEqual([
      {
        loc: ["body", "metadata"],
        msg: "Dictionary should have at most 16 items after validation, not 17",
        type: "too_long",
        input: metadata,
        ctx: { field_type: "Dictionary", max_length: 16, actual_length: 17 }
      }
    ])
  })

  it("string_too_long for a dictionary value", () => {
    const value = "v".repeat(513)
    expect(detail({ metadata: { k: value } })).toStrictEqual([
      {
        loc: ["body", "metadata", "k"],
        msg: "String should have at most 512 characters",
        type: "string_too_long",
        input: value,
        ctx: { max_length: 512 }
      }
    ])
  })

  it("string_too_long for dictionary keys: one item per key, at [..., key, \"[key]\"], with the key as input", () => {
    const a = "a".repeat(65)
    const b = "b".repeat(70)
    expect(detail({ metadata: { [a]: "v", ok: "v", [b]: "v" } })).toStrictEqual([
      {
        loc: ["body", "metadata", a, "[key]"],
        msg: "String should have at most 64 characters",
        type: "string_too_long",
        input: a,
        ctx: { max_length: 64 }
      },
      {
        loc: ["body", "metadata", b, "[key]"],
        msg: "String should have at most 64 characters",
        type: "string_too_long",
        input: b,
        ctx: { max_length: 64 }
      }
    ])
  })

  it("value_error for a model without a vendor, with the Schema's message", () => {
    expect(detail({ model: "gpt-4o" })).toStrictEqual([
      {
        loc: ["body", "model"],
        msg: "model must be `vendor/model`, for example `openai/gpt-4o`",
        type: "value_error",
        input: "gpt-4o"
      }
    ])
  })

  it("json_invalid for an empty body: position 0, \"Expecting value\"", () => {
    const error = (() => {
      try {
        JSON.parse("")
      } catch (e) {
        return e
      }
    })()
    expect(jsonInvalid(error, "")).toStrictEqual({
      detail: [{
        loc: ["body", 0],
        msg: "JSON decode error",
        type: "json_invalid",
        input: {},
        ctx: { error: "Expecting value" }
      }]
    })
    expect(jsonInvalid(error, "  \n").detail[0]?.ctx).toStrictEqual({ error: "Expecting value" })
  })

  it("json_invalid for a truncated body: the position and the parser's message", () => {
    const text = "{\"model\": \"openai/gpt-4o\""
    let error: unknown
    try {
      JSON.parse(text)
    } catch (e) {
      error = e
    }
    const message = (error as Error).message
    const position = Number(/position (\d+)/.exec(message)?.[1])
    expect(position).toBe(text.length)
    expect(jsonInvalid(error, text)).toStrictEqual({
      detail: [{
        loc: ["body", position],
        msg: "JSON decode error",
        type: "json_invalid",
        input: {},
        ctx: { error: message }
      }]
    })
  })

  it("json_invalid takes the position from the parser's message, not from the text's length", () => {
    const text = "{\"a\": 1,, \"b\": 2}"
    expect(jsonInvalid(new SyntaxError("Unexpected token ',' in JSON at position 8"), text).detail[0]?.loc)
      .toStrictEqual(["body", 8])
  })
})

describe("the formatter on any Schema (the types core's own Schemas do not produce)", () => {
  const S = Schema.Struct({
    tags: Schema.Array(Schema.String).pipe(Schema.minItems(2)),
    name: Schema.String.pipe(Schema.minLength(3)),
    code: Schema.String.pipe(Schema.pattern(/^x+$/)),
    small: Schema.Number.pipe(Schema.lessThan(5)),
    positive: Schema.Number.pipe(Schema.greaterThan(0))
  })
  const decode = Schema.decodeUnknownEither(S, { errors: "all", onExcessProperty: "error" })
  const input = { tags: ["a"], name: "ab", code: "y", small: 5, positive: 0, extra: true }

  it("reports too_short, string_too_short, string_pattern_mismatch, less_than, greater_than, extra_forbidden under a custom root", () => {
    const result = decode(input)
    if (Either.isRight(result)) throw new Error("expected a failure")
    expect(fromParseIssue(result.left.issue, "query").detail).toStrictEqual([
      { loc: ["query", "extra"], msg: "Extra inputs are not permitted", type: "extra_forbidden", input: true },
      {
        loc: ["query", "tags"],
        msg: "List should have at least 2 items after validation, not 1",
        type: "too_short",
        input: ["a"],
        ctx: { field_type: "List", min_length: 2, actual_length: 1 }
      },
      {
        loc: ["query", "name"],
        msg: "String should have at least 3 characters",
        type: "string_too_short",
        input: "ab",
        ctx: { min_length: 3 }
      },
      {
        loc: ["query", "code"],
        msg: "String should match pattern '^x+$'",
        type: "string_pattern_mismatch",
        input: "y",
        ctx: { pattern: "^x+$" }
      },
      { loc: ["query", "small"], msg: "Input should be less than 5", type: "less_than", input: 5, ctx: { lt: 5 } },
      {
        loc: ["query", "positive"],
        msg: "Input should be greater than 0",
        type: "greater_than",
        input: 0,
        ctx: { gt: 0 }
      }
    ])
  })
})

describe("all problems are reported", () => {
  it("one item per problem, across fields, messages and nested parts", () => {
    const items = detailOf({
      model: "gpt-4o",
      messages: [
        { role: "robot", content: "Hi" },
        { role: "tool", content: "42" },
        "Hello",
        { role: "user", content: [{ type: "text" }] }
      ],
      temperature: 3,
      top_p: -1,
      n: 1.5,
      stop: 5,
      seed: "x",
      tools: [{ type: "function" }],
      metadata: { a: 1 }
    })
    expect(items?.map((d) => [d.loc, d.type])).toStrictEqual([
      [["body", "model"], "value_error"],
      [["body", "messages", 0, "role"], "literal_error"],
      [["body", "messages", 1, "tool_call_id"], "missing"],
      [["body", "messages", 2], "dict_type"],
      [["body", "messages", 3, "content", 0, "text"], "missing"],
      [["body", "metadata", "a"], "string_type"],
      [["body", "n"], "int_from_float"],
      [["body", "seed"], "int_type"],
      [["body", "stop"], "string_type"],
      [["body", "temperature"], "less_than_equal"],
      [["body", "tools", 0, "function"], "missing"],
      [["body", "top_p"], "greater_than_equal"]
    ])
  })

  it("a union member that failed deeply is reported alone, without the members that merely did not match", () => {
    expect(detail({ tool_choice: { type: "function" } })).toStrictEqual([
      { loc: ["body", "tool_choice", "function"], msg: "Field required", type: "missing", input: { type: "function" } }
    ])
    expect(detail({ function_call: {} })).toStrictEqual([
      { loc: ["body", "function_call", "name"], msg: "Field required", type: "missing", input: {} }
    ])
  })

  it("a value that matches no member of a union lists what each member expects", () => {
    expect(detail({ function_call: 3 })).toStrictEqual([
      {
        loc: ["body", "function_call"],
        msg: "Input should be 'none' or 'auto' or a valid dictionary or null",
        type: "literal_error",
        input: 3
      }
    ])
  })

  it("the 422 body is a valid HTTPValidationError", () => {
    const items = detail({ temperature: 3, n: 0 })
    expect(Schema.is(HTTPValidationError)({ detail: items })).toBe(true)
  })
})

describe("what valid requests keep", () => {
  it("unknown fields at the top level, on messages, content parts and tools", () => {
    const body = {
      ...base,
      messages: [
        { role: "user", content: [{ type: "text", text: "Hi", cache_control: { type: "ephemeral" } }], x_message: 1 }
      ],
      tools: [{ type: "function", function: { name: "f", x_fn: true }, x_tool: "t" }],
      safety_identifier: "abc",
      x_vendor: { nested: [1, null] }
    }
    const result = decodeRequest(body)
    expect(Either.getOrThrow(result)).toStrictEqual(body)
  })

  it("null for optional fields, at the top level and inside messages", () => {
    const body = {
      ...base,
      messages: [
        { role: "system", content: "Be brief.", name: null },
        { role: "assistant", content: null, refusal: null, tool_calls: null, audio: null, function_call: null },
        { role: "user", content: [{ type: "image_url", image_url: { url: "https://example.com/a.png", detail: null } }] }
      ],
      temperature: null,
      top_p: null,
      stop: null,
      tools: null,
      tool_choice: null,
      response_format: null,
      stream_options: null,
      metadata: null
    }
    expect(Either.getOrThrow(decodeRequest(body))).toStrictEqual(body)
  })
})

describe("summaries", () => {
  it("summarize names the first problem and counts the others", () => {
    const items = detail({ temperature: 3, n: 0, top_p: 2 })!
    expect(summarize({ detail: items })).toBe("n: Input should be greater than or equal to 1 (and 2 more problems)")
    expect(summarize({ detail: items.slice(0, 2) })).toBe(
      "n: Input should be greater than or equal to 1 (and 1 more problem)"
    )
    expect(summarize({ detail: [] })).toBe("Invalid request")
    expect(summarize(jsonInvalid(new SyntaxError("x"), ""))).toBe("The request body is not valid JSON (Expecting value).")
  })

  it("the 422 error carries the summary as message and the first loc as param (none for a JSON error)", () => {
    const error = requestValidationError({ detail: detail({ messages: [{ role: "robot", content: "Hi" }] })! })
    expect(error.message).toMatch(/^messages\.0\.role: Input should be 'system'/)
    expect(describeError(error).param).toBe("messages.0.role")
    expect(describeError(requestValidationError({ detail: detailOf("x")! })).param).toBeNull()
    expect(describeError(requestValidationError(jsonInvalid(new SyntaxError("x"), "{"))).param).toBeNull()
  })
})

import { describe, expect, it } from "@effect/vitest"
import { Arbitrary, FastCheck as fc, Schema } from "effect"
import {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionRequest,
  type ChatCompletionRequestEncoded,
  knownRequestFields,
  looksLikeChunk,
  unknownRequestFields
} from "../src/index.js"
import { decodeRequest, detailOf, jsonArbitrary, overTheWire, PROPERTY_TIMEOUT, schemaArbitrary } from "./support/json.js"

const roundTrips = <A, I>(name: string, schema: Schema.Schema<A, I, never>) => {
  const decode = Schema.decodeUnknownSync(schema, { errors: "all" })
  const encode = Schema.encodeSync(schema)

  it.prop(`${name}: decode(encode(x)) is x`, [schemaArbitrary(schema)], ([value]) => {
    expect(decode(encode(value))).toStrictEqual(value)
  }, { timeout: PROPERTY_TIMEOUT, fastCheck: { numRuns: 200 } })

  it.prop(`${name}: encoded, sent as JSON and decoded, x comes back unchanged`, [jsonArbitrary(schema)], ([value]) => {
    const wire = overTheWire(encode(value))
    expect(decode(wire)).toStrictEqual(value)
    expect(encode(decode(wire))).toStrictEqual(wire)
  }, { timeout: PROPERTY_TIMEOUT, fastCheck: { numRuns: 200 } })
}

describe("round trips", () => {
  roundTrips("ChatCompletionRequest", ChatCompletionRequest)
  roundTrips("ChatCompletion", ChatCompletion)
  roundTrips("ChatCompletionChunk", ChatCompletionChunk)
})

/** Valid request bodies as they arrive: encoded, JSON-safe, with at least one message. */
const validBody: fc.Arbitrary<ChatCompletionRequestEncoded> = jsonArbitrary(ChatCompletionRequest)
  .map((request) => overTheWire(Schema.encodeSync(ChatCompletionRequest)(request)) as ChatCompletionRequestEncoded)
  .filter((body) => body.messages.length > 0)

const ROLES = new Set(["system", "developer", "user", "assistant", "tool", "function"])

describe("mutated requests are rejected at the right loc with the right type", () => {
  it.prop("temperature above 2 → less_than_equal at [body, temperature]", [
    validBody,
    fc.double({ min: 2, minExcluded: true, max: 1e9, noNaN: true })
  ], ([body, temperature]) => {
    expect(detailOf({ ...body, temperature })).toStrictEqual([{
      loc: ["body", "temperature"],
      msg: "Input should be less than or equal to 2",
      type: "less_than_equal",
      input: temperature,
      ctx: { le: 2 }
    }])
  }, { timeout: PROPERTY_TIMEOUT })

  it.prop("temperature below 0 → greater_than_equal at [body, temperature]", [
    validBody,
    fc.double({ max: 0, maxExcluded: true, min: -1e9, noNaN: true }).filter((t) => t < 0)
  ], ([body, temperature]) => {
    expect(detailOf({ ...body, temperature })).toStrictEqual([{
      loc: ["body", "temperature"],
      msg: "Input should be greater than or equal to 0",
      type: "greater_than_equal",
      input: temperature,
      ctx: { ge: 0 }
    }])
  }, { timeout: PROPERTY_TIMEOUT })

  it.prop("top_p above 1 → less_than_equal at [body, top_p]", [
    validBody,
    fc.double({ min: 1, minExcluded: true, max: 1e9, noNaN: true })
  ], ([body, top_p]) => {
    const detail = detailOf({ ...body, top_p })
    expect(detail?.map((d) => [d.loc, d.type, d.ctx])).toStrictEqual([[["body", "top_p"], "less_than_equal", { le: 1 }]])
  }, { timeout: PROPERTY_TIMEOUT })

  it.prop("a message role replaced by an invalid string → literal_error at [body, messages, i, role]", [
    validBody,
    fc.nat(),
    fc.string().filter((role) => !ROLES.has(role))
  ], ([body, n, role]) => {
    const i = n % body.messages.length
    const messages = body.messages.map((m, j) => j === i ? { ...m, role } : m)
    const detail = detailOf({ ...body, messages })
    expect(detail).toStrictEqual([{
      loc: ["body", "messages", i, "role"],
      msg: "Input should be 'system', 'developer', 'user', 'assistant', 'tool' or 'function'",
      type: "literal_error",
      input: role,
      ctx: { expected: "'system', 'developer', 'user', 'assistant', 'tool' or 'function'" }
    }])
  }, { timeout: PROPERTY_TIMEOUT })

  it.prop("model deleted → missing at [body, model], with the body as input", [validBody], ([body]) => {
    const { model: _model, ...rest } = body
    expect(detailOf(rest)).toStrictEqual([{ loc: ["body", "model"], msg: "Field required", type: "missing", input: rest }])
  }, { timeout: PROPERTY_TIMEOUT })

  it.prop("messages deleted → missing at [body, messages]", [validBody], ([body]) => {
    const { messages: _messages, ...rest } = body
    expect(detailOf(rest)?.map((d) => [d.loc, d.type])).toStrictEqual([[["body", "messages"], "missing"]])
  }, { timeout: PROPERTY_TIMEOUT })

  it.prop("n made a float → int_from_float at [body, n]", [
    validBody,
    fc.double({ min: 1, max: 128, noNaN: true }).filter((n) => !Number.isInteger(n))
  ], ([body, n]) => {
    expect(detailOf({ ...body, n })).toStrictEqual([{
      loc: ["body", "n"],
      msg: "Input should be a valid integer, got a number with a fractional part",
      type: "int_from_float",
      input: n
    }])
  }, { timeout: PROPERTY_TIMEOUT })

  it.prop("more than 4 stop sequences → too_long at [body, stop] with the actual length", [
    validBody,
    fc.array(fc.string(), { minLength: 5, maxLength: 12 })
  ], ([body, stop]) => {
    expect(detailOf({ ...body, stop })).toStrictEqual([{
      loc: ["body", "stop"],
      msg: `List should have at most 4 items after validation, not ${stop.length}`,
      type: "too_long",
      input: stop,
      ctx: { field_type: "List", max_length: 4, actual_length: stop.length }
    }])
  }, { timeout: PROPERTY_TIMEOUT })

  it.prop("several mutations at once → one item per mutation, all reported", [
    validBody,
    fc.nat()
  ], ([body, n]) => {
    const i = n % body.messages.length
    const { model: _model, ...rest } = body
    const messages = body.messages.map((m, j) => j === i ? { ...m, role: "robot" } : m)
    const detail = detailOf({ ...rest, messages, temperature: 7, n: 2.5, stream: "yes" })
    expect(detail?.map((d) => JSON.stringify([d.loc, d.type])).sort()).toStrictEqual([
      JSON.stringify([["body", "messages", i, "role"], "literal_error"]),
      JSON.stringify([["body", "model"], "missing"]),
      JSON.stringify([["body", "n"], "int_from_float"]),
      JSON.stringify([["body", "stream"], "bool_type"]),
      JSON.stringify([["body", "temperature"], "less_than_equal"])
    ].sort())
  }, { timeout: PROPERTY_TIMEOUT })
})

describe("what a valid request keeps", () => {
  const unknownKey = fc.string({ minLength: 1 }).filter((key) => !knownRequestFields.has(key) && key !== "__proto__")

  it.prop("unknown top-level fields are kept as they are", [
    validBody,
    fc.dictionary(unknownKey, fc.jsonValue())
  ], ([body, extra]) => {
    const result = decodeRequest(overTheWire({ ...body, ...extra }))
    expect(result._tag).toBe("Right")
    // toEqual, not toStrictEqual: the latter compares `.constructor`, which is an ordinary key here.
    if (result._tag === "Right") expect(unknownRequestFields(result.right)).toEqual(overTheWire(extra))
  }, { timeout: PROPERTY_TIMEOUT })

  it.prop("null for any optional top-level field is accepted and kept", [
    validBody,
    fc.subarray([...knownRequestFields].filter((key) => key !== "model" && key !== "messages"), { minLength: 1 })
  ], ([body, keys]) => {
    const nulls = Object.fromEntries(keys.map((key) => [key, null]))
    const result = decodeRequest({ ...body, ...nulls })
    expect(result._tag).toBe("Right")
    if (result._tag === "Right") {
      for (const key of keys) expect((result.right as Record<string, unknown>)[key]).toBeNull()
    }
  }, { timeout: PROPERTY_TIMEOUT })
})

describe("looksLikeChunk", () => {
  const isChunk = Schema.is(ChatCompletionChunk)

  it.prop("accepts every Arbitrary chunk", [Arbitrary.make(ChatCompletionChunk)], ([chunk]) => {
    expect(looksLikeChunk(chunk)).toBe(true)
  }, { timeout: PROPERTY_TIMEOUT, fastCheck: { numRuns: 300 } })

  it.prop("accepts every Arbitrary chunk after a JSON round trip", [jsonArbitrary(ChatCompletionChunk)], ([chunk]) => {
    expect(looksLikeChunk(overTheWire(chunk))).toBe(true)
  }, { timeout: PROPERTY_TIMEOUT })

  /** A chunk with one field (at the top, in a choice or in its delta) replaced by any JSON value, or deleted. */
  const mutatedChunk = fc.tuple(
    jsonArbitrary(ChatCompletionChunk),
    fc.constantFrom("top", "choice", "delta", "usage"),
    fc.constantFrom("id", "choices", "created", "model", "usage", "index", "delta", "finish_reason", "content", "role"),
    fc.option(fc.jsonValue(), { nil: undefined })
  ).map(([chunk, where, key, value]) => {
    const copy = overTheWire(chunk) as Record<string, unknown> & { choices: Array<Record<string, unknown>> }
    const first = copy.choices[0]
    const target: Record<string, unknown> | undefined = where === "top"
      ? copy
      : where === "choice"
      ? first
      : where === "delta"
      ? first?.delta as Record<string, unknown> | undefined
      : copy.usage as Record<string, unknown> | undefined
    if (target != null && typeof target === "object") {
      if (value === undefined) delete target[key]
      else target[key] = value
    }
    return copy
  })

  it.prop("accepts everything Schema.is(ChatCompletionChunk) accepts, also among mutated chunks", [mutatedChunk], ([
    value
  ]) => {
    if (isChunk(value)) expect(looksLikeChunk(value)).toBe(true)
  }, { timeout: PROPERTY_TIMEOUT, fastCheck: { numRuns: 500 } })

  it("rejects what is clearly not a chunk", () => {
    const chunk = { id: "c", created: 1, model: "m", choices: [{ index: 0, delta: {} }] }
    expect(looksLikeChunk(chunk)).toBe(true)
    expect(looksLikeChunk(null)).toBe(false)
    expect(looksLikeChunk("data")).toBe(false)
    expect(looksLikeChunk([chunk])).toBe(false)
    expect(looksLikeChunk({ ...chunk, id: 1 })).toBe(false)
    expect(looksLikeChunk({ ...chunk, choices: {} })).toBe(false)
    expect(looksLikeChunk({ ...chunk, choices: [{ index: 0.5, delta: {} }] })).toBe(false)
    expect(looksLikeChunk({ ...chunk, choices: [{ index: 0 }] })).toBe(false)
    expect(looksLikeChunk({ ...chunk, choices: [{ index: 0, delta: [] }] })).toBe(false)
    expect(looksLikeChunk({ ...chunk, usage: "lots" })).toBe(false)
    expect(looksLikeChunk({ error: { message: "overloaded", type: "server_error" } })).toBe(false)
  })
})

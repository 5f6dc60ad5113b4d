/**
 * The stream translation against OpenAI's event rules, over every shape of
 * chat stream: text, refusals, reasoning, tool calls (several, with their
 * arguments in pieces), in any order, any finish reason, with or without
 * usage, cut by a failure anywhere.
 */
import {
  aggregateChunks,
  type ChatCompletionChunk,
  type FinishReason,
  type ResponseObject,
  type ResponseOutputItem,
  ResponseStreamEvent,
  UpstreamRateLimited,
  UpstreamUnavailable
} from "@switchyard/core"
import { describe, expect, it } from "@effect/vitest"
import { FastCheck as fc, Schema } from "effect"
import { ResponseEventWriter, ResponseIds, ResponseInput } from "../src/index.js"

type Segment =
  | { readonly kind: "text"; readonly pieces: ReadonlyArray<string> }
  | { readonly kind: "refusal"; readonly pieces: ReadonlyArray<string> }
  | { readonly kind: "reasoning"; readonly pieces: ReadonlyArray<string> }
  | { readonly kind: "call"; readonly name: string; readonly pieces: ReadonlyArray<string>; readonly withId: boolean }

interface Script {
  readonly segments: ReadonlyArray<Segment>
  readonly finish: FinishReason
  readonly usage: boolean
  /** Fail after this many chunks (none: the stream completes). */
  readonly failAfter: number | undefined
  readonly rateLimited: boolean
}

const pieces = fc.array(fc.string({ minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 5 })

const segment: fc.Arbitrary<Segment> = fc.oneof(
  pieces.map((p) => ({ kind: "text" as const, pieces: p })),
  pieces.map((p) => ({ kind: "refusal" as const, pieces: p })),
  pieces.map((p) => ({ kind: "reasoning" as const, pieces: p })),
  fc.record({
    name: fc.constantFrom("get_weather", "search", "noop"),
    pieces: fc.array(fc.string({ maxLength: 6 }), { maxLength: 4 }),
    withId: fc.boolean()
  }).map((call) => ({ kind: "call" as const, ...call }))
)

const script: fc.Arbitrary<Script> = fc.record({
  segments: fc.array(segment, { maxLength: 6 }),
  finish: fc.constantFrom<FinishReason>("stop", "length", "tool_calls", "content_filter"),
  usage: fc.boolean(),
  failAfter: fc.option(fc.nat({ max: 30 }), { nil: undefined }),
  rateLimited: fc.boolean()
})

const base = { id: "chatcmpl-1", object: "chat.completion.chunk" as const, created: 1, model: "m" }

/** The chat chunks of a script: a role chunk, one chunk per piece, the finish, maybe usage. */
const chunksOf = (s: Script): Array<ChatCompletionChunk> => {
  const chunks: Array<ChatCompletionChunk> = [{ ...base, choices: [{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }] }]
  let tool = 0
  for (const seg of s.segments) {
    if (seg.kind === "call") {
      const index = tool++
      chunks.push({
        ...base,
        choices: [{
          index: 0,
          delta: {
            tool_calls: [{
              index,
              ...(seg.withId ? { id: `call_${index}` } : {}),
              type: "function",
              function: { name: seg.name, arguments: "" }
            }]
          },
          finish_reason: null
        }]
      })
      for (const piece of seg.pieces) {
        chunks.push({ ...base, choices: [{ index: 0, delta: { tool_calls: [{ index, function: { arguments: piece } }] }, finish_reason: null }] })
      }
    } else {
      for (const piece of seg.pieces) {
        const delta = seg.kind === "text"
          ? { content: piece }
          : seg.kind === "refusal"
          ? { refusal: piece }
          : { reasoning_content: piece }
        chunks.push({ ...base, choices: [{ index: 0, delta, finish_reason: null }] })
      }
    }
  }
  chunks.push({ ...base, choices: [{ index: 0, delta: {}, finish_reason: s.finish }] })
  if (s.usage) chunks.push({ ...base, choices: [], usage: { prompt_tokens: 7, completion_tokens: 5, total_tokens: 12 } })
  return chunks
}

const request = { model: "test/m", input: "hi" }

const writerFor = () =>
  new ResponseEventWriter(ResponseInput.responseBase(request, "resp_1", 1_700_000_000), ResponseIds.sequentialIds(), () => 1_700_000_001)

/** Runs a script through a writer, in batches of random sizes. */
const run = (s: Script, batch: number) => {
  const writer = writerFor()
  const chunks = chunksOf(s)
  const events: Array<ResponseStreamEvent> = [...writer.start()]
  const cut = s.failAfter !== undefined && s.failAfter < chunks.length ? s.failAfter : undefined
  const fed = cut === undefined ? chunks : chunks.slice(0, cut)
  for (let i = 0; i < fed.length; i += batch) events.push(...writer.push(fed.slice(i, i + batch)))
  const ended = cut === undefined
    ? writer.finish()
    : writer.fail(
      s.rateLimited
        ? new UpstreamRateLimited({ vendor: "test", message: "slow down" })
        : new UpstreamUnavailable({ vendor: "test", message: "reset" })
    )
  events.push(...ended.events)
  return { events, response: ended.response, failed: cut !== undefined, chunks: fed }
}

const decodeEvent = Schema.decodeUnknownSync(ResponseStreamEvent)

/** Every rule of the issue, checked on one event sequence. */
const checkRules = (events: ReadonlyArray<ResponseStreamEvent>, response: ResponseObject, failed: boolean) => {
  // Each event is what the Schema says, after a trip through JSON.
  for (const event of events) decodeEvent(JSON.parse(JSON.stringify(event)))
  // sequence_number from 0, by one.
  expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i))
  // created, in_progress first; exactly one terminal event, last; `error` right before `response.failed`.
  expect(events[0]!.type).toBe("response.created")
  expect(events[1]!.type).toBe("response.in_progress")
  const terminal = events.filter((e) => e.type === "response.completed" || e.type === "response.incomplete" || e.type === "response.failed")
  expect(terminal).toHaveLength(1)
  expect(events[events.length - 1]).toBe(terminal[0])
  expect(events.filter((e) => e.type === "error")).toHaveLength(failed ? 1 : 0)
  if (failed) expect(events[events.length - 2]!.type).toBe("error")
  // One response id everywhere.
  for (const event of events) if ("response" in event) expect(event.response.id).toBe(response.id)
  expect((terminal[0] as { response: ResponseObject }).response).toEqual(response)

  // Items: added at contiguous indexes, in order; every item-scoped event names its item and
  // falls between its item's added and done; done at most once (exactly once unless failed).
  const added = new Map<number, ResponseOutputItem>()
  const done = new Map<number, ResponseOutputItem>()
  const text = new Map<string, string>()
  const parts = new Map<string, "open" | "closed">()
  const args = new Map<number, string>()
  // Items stream one after the other: no event of another item while one is open.
  let open: number | undefined
  for (const event of events) {
    if ("output_index" in event && event.type !== "response.output_item.added") expect(event.output_index).toBe(open)
    switch (event.type) {
      case "response.output_item.added": {
        expect(open).toBeUndefined()
        open = event.output_index
        expect(event.output_index).toBe(added.size)
        added.set(event.output_index, event.item)
        expect(event.item.status ?? "in_progress").toBe("in_progress")
        break
      }
      case "response.output_item.done": {
        expect(added.get(event.output_index)?.id).toBe(event.item.id)
        expect(done.has(event.output_index)).toBe(false)
        done.set(event.output_index, event.item)
        open = undefined
        break
      }
      case "response.created":
      case "response.in_progress":
      case "response.completed":
      case "response.incomplete":
      case "response.failed":
      case "error":
        break
      default: {
        const item = added.get(event.output_index)
        expect(item?.id).toBe(event.item_id)
        expect(done.has(event.output_index)).toBe(false)
        const key = "content_index" in event
          ? `${event.output_index}:${event.content_index}`
          : "summary_index" in event
          ? `${event.output_index}:s${event.summary_index}`
          : `${event.output_index}`
        switch (event.type) {
          case "response.content_part.added":
          case "response.reasoning_summary_part.added":
            expect(parts.has(key)).toBe(false)
            if (event.type === "response.content_part.added") {
              // content_index contiguous from 0 within its message
              expect(event.content_index).toBe([...parts.keys()].filter((k) => k.startsWith(`${event.output_index}:`) && !k.includes("s")).length)
            }
            parts.set(key, "open")
            text.set(key, "")
            break
          case "response.output_text.delta":
          case "response.refusal.delta":
          case "response.reasoning_summary_text.delta":
            expect(parts.get(key)).toBe("open")
            text.set(key, text.get(key)! + event.delta)
            break
          case "response.output_text.done":
            expect(parts.get(key)).toBe("open")
            expect(event.text).toBe(text.get(key))
            break
          case "response.refusal.done":
            expect(event.refusal).toBe(text.get(key))
            break
          case "response.reasoning_summary_text.done":
            expect(event.text).toBe(text.get(key))
            break
          case "response.content_part.done":
          case "response.reasoning_summary_part.done":
            expect(parts.get(key)).toBe("open")
            parts.set(key, "closed")
            expect(event.part.type === "refusal" ? event.part.refusal : event.part.text).toBe(text.get(key))
            break
          case "response.function_call_arguments.delta":
            args.set(event.output_index, (args.get(event.output_index) ?? "") + event.delta)
            break
          case "response.function_call_arguments.done":
            expect(event.arguments).toBe(args.get(event.output_index) ?? "")
            expect(event.name).toBe((item as { name: string }).name)
            break
        }
      }
    }
  }
  if (!failed) {
    expect(done.size).toBe(added.size)
    for (const state of parts.values()) expect(state).toBe("closed")
  }
  // The final response holds the items as they were when done (open ones, on failure, incomplete).
  expect(response.output.map((item) => item.id)).toEqual([...added.values()].map((item) => item.id))
  response.output.forEach((item, index) => {
    const closed = done.get(index)
    if (closed !== undefined) expect(item).toEqual(closed)
    else {
      expect(failed).toBe(true)
      if (item.type !== "reasoning") expect(item.status).toBe("incomplete")
    }
    if (item.type === "function_call") expect(item.arguments).toBe(args.get(index) ?? "")
  })
}

describe("ResponseEventWriter: the stream rules, for every stream", () => {
  it("sequence, order, one item at a time, contiguous indexes, item ids, one terminal event, the final response", () => {
    fc.assert(
      fc.property(script, fc.integer({ min: 1, max: 5 }), (s, batch) => {
        const { events, failed, response } = run(s, batch)
        checkRules(events, response, failed)
      }),
      { numRuns: 400 }
    )
  })

  it("the content of the final response is the content of the chunks, and its status their finish reason", () => {
    fc.assert(
      fc.property(script.map((s) => ({ ...s, failAfter: undefined })), (s) => {
        const { response } = run(s, 1)
        const text = s.segments.flatMap((seg) => (seg.kind === "text" ? seg.pieces : [])).join("")
        const refusal = s.segments.flatMap((seg) => (seg.kind === "refusal" ? seg.pieces : [])).join("")
        const reasoning = s.segments.flatMap((seg) => (seg.kind === "reasoning" ? seg.pieces : [])).join("")
        const outText = response.output.flatMap((item) =>
          item.type === "message" ? item.content.flatMap((c) => (c.type === "output_text" ? [c.text] : [])) : []
        ).join("")
        const outRefusal = response.output.flatMap((item) =>
          item.type === "message" ? item.content.flatMap((c) => (c.type === "refusal" ? [c.refusal] : [])) : []
        ).join("")
        const outReasoning = response.output.flatMap((item) => (item.type === "reasoning" ? item.summary.map((p) => p.text) : []))
          .join("")
        expect(outText).toBe(text)
        expect(outRefusal).toBe(refusal)
        expect(outReasoning).toBe(reasoning)
        const calls = s.segments.filter((seg) => seg.kind === "call")
        const outCalls = response.output.filter((item) => item.type === "function_call")
        expect(outCalls.map((c) => [c.name, c.arguments])).toEqual(
          calls.map((c) => [c.name, c.pieces.join("") === "" ? "{}" : c.pieces.join("")])
        )
        calls.forEach((call, i) => {
          if (call.withId) expect(outCalls[i]!.call_id).toBe(`call_${i}`)
          else expect(outCalls[i]!.call_id).toMatch(/^call_/)
        })
        const incomplete = s.finish === "length" || s.finish === "content_filter"
        expect(response.status).toBe(incomplete ? "incomplete" : "completed")
        expect(response.incomplete_details).toEqual(
          incomplete ? { reason: s.finish === "length" ? "max_output_tokens" : "content_filter" } : null
        )
        expect(response.usage).toEqual(
          s.usage
            ? { input_tokens: 7, input_tokens_details: { cached_tokens: 0 }, output_tokens: 5, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 12 }
            : { input_tokens: 0, input_tokens_details: { cached_tokens: 0 }, output_tokens: 0, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 0 }
        )
        expect(response.error).toBeNull()
      }),
      { numRuns: 300 }
    )
  })

  it("a failure after the start: `error` (its code a string) then `response.failed` with OpenAI's error code", () => {
    fc.assert(
      fc.property(script.map((s) => ({ ...s, failAfter: s.failAfter ?? 0 })), (s) => {
        const { events, response } = run(s, 2)
        if (s.failAfter! >= chunksOf(s).length) return
        const error = events[events.length - 2]!
        expect(error.type).toBe("error")
        if (error.type !== "error") return
        expect(typeof error.code).toBe("string")
        expect(error.message.length).toBeGreaterThan(0)
        expect(error.error).toEqual({ type: expect.any(String), code: error.code, message: error.message, param: null })
        expect(response.status).toBe("failed")
        expect(response.error).toEqual({
          code: s.rateLimited ? "rate_limit_exceeded" : "server_error",
          message: s.rateLimited ? "slow down" : "reset"
        })
      }),
      { numRuns: 200 }
    )
  })

  it("a whole completion gives the response its stream would have ended with (canonical order)", () => {
    // Aggregation keeps reasoning, then text, then refusal, then tool calls: generate streams in that order.
    const canonical = script.map((s) => {
      const order = ["reasoning", "text", "refusal", "call"] as const
      const merged: Array<Segment> = []
      for (const kind of order) {
        const same = s.segments.filter((seg) => seg.kind === kind)
        if (kind === "call") merged.push(...same)
        else if (same.length > 0) merged.push({ kind, pieces: same.flatMap((seg) => (seg as { pieces: ReadonlyArray<string> }).pieces) } as Segment)
      }
      return { ...s, segments: merged, failAfter: undefined }
    })
    fc.assert(
      fc.property(canonical, (s) => {
        const streamed = run(s, 3).response
        const whole = writerFor().complete(aggregateChunks(chunksOf(s)))
        const normalise = (r: ResponseObject) => JSON.parse(JSON.stringify(r).replace(/"(msg|fc|rs|call)_\d+"/g, "\"$1_x\""))
        expect(normalise(whole)).toEqual(normalise(streamed))
      }),
      { numRuns: 200 }
    )
  })
})

describe("ResponseEventWriter: examples", () => {
  it("a text answer: the exact event sequence", () => {
    const writer = writerFor()
    const events = [
      ...writer.start(),
      ...writer.push([
        { ...base, choices: [{ index: 0, delta: { role: "assistant", content: "Hel" }, finish_reason: null }] },
        { ...base, choices: [{ index: 0, delta: { content: "lo" }, finish_reason: "stop" }] }
      ]),
      ...writer.finish().events
    ]
    expect(events.map((e) => e.type)).toEqual([
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.content_part.added",
      "response.output_text.delta",
      "response.output_text.delta",
      "response.output_text.done",
      "response.content_part.done",
      "response.output_item.done",
      "response.completed"
    ])
    expect(events[2]).toEqual({
      type: "response.output_item.added",
      sequence_number: 2,
      output_index: 0,
      item: { id: "msg_1", type: "message", role: "assistant", status: "in_progress", content: [] }
    })
    expect(events[4]).toEqual({
      type: "response.output_text.delta",
      sequence_number: 4,
      item_id: "msg_1",
      output_index: 0,
      content_index: 0,
      delta: "Hel",
      logprobs: []
    })
    const completed = events[9] as { response: ResponseObject }
    expect(completed.response).toMatchObject({
      id: "resp_1",
      object: "response",
      status: "completed",
      completed_at: 1_700_000_001,
      output: [{ id: "msg_1", type: "message", role: "assistant", status: "completed", content: [{ type: "output_text", text: "Hello", annotations: [] }] }]
    })
  })

  it("text then two tool calls: each item closes before the next starts; a call without arguments gets `{}`", () => {
    const writer = writerFor()
    const events = [
      ...writer.start(),
      ...writer.push([
        { ...base, choices: [{ index: 0, delta: { content: "Let me look." }, finish_reason: null }] },
        { ...base, choices: [{ index: 0, delta: { tool_calls: [{ index: 0, id: "call_a", function: { name: "a", arguments: "{\"x\":" } }] }, finish_reason: null }] },
        { ...base, choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: "1}" } }] }, finish_reason: null }] },
        { ...base, choices: [{ index: 0, delta: { tool_calls: [{ index: 1, id: "call_b", function: { name: "b", arguments: "" } }] }, finish_reason: "tool_calls" }] }
      ]),
      ...writer.finish().events
    ]
    expect(events.map((e) => [e.type, "output_index" in e ? e.output_index : null])).toEqual([
      ["response.created", null],
      ["response.in_progress", null],
      ["response.output_item.added", 0],
      ["response.content_part.added", 0],
      ["response.output_text.delta", 0],
      ["response.output_text.done", 0],
      ["response.content_part.done", 0],
      ["response.output_item.done", 0],
      ["response.output_item.added", 1],
      ["response.function_call_arguments.delta", 1],
      ["response.function_call_arguments.delta", 1],
      ["response.function_call_arguments.done", 1],
      ["response.output_item.done", 1],
      ["response.output_item.added", 2],
      ["response.function_call_arguments.delta", 2],
      ["response.function_call_arguments.done", 2],
      ["response.output_item.done", 2],
      ["response.completed", null]
    ])
    const response = (events[events.length - 1] as { response: ResponseObject }).response
    expect(response.output.slice(1)).toEqual([
      { id: "fc_2", type: "function_call", call_id: "call_a", name: "a", arguments: "{\"x\":1}", status: "completed" },
      { id: "fc_3", type: "function_call", call_id: "call_b", name: "b", arguments: "{}", status: "completed" }
    ])
  })
})

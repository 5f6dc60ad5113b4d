import { describe, expect, it } from "@effect/vitest"
import { Either, Schema } from "effect"
import {
  CreateResponseRequest,
  encodeResponseEvent,
  ResponseItemList,
  ResponseObject,
  responsesRequestIssue,
  ResponseStreamEvent
} from "../src/index.js"

const decode = Schema.decodeUnknownEither(CreateResponseRequest, { errors: "all" })
const decodeSync = Schema.decodeUnknownSync(CreateResponseRequest)
const issueOf = (body: Record<string, unknown>) => responsesRequestIssue(decodeSync({ model: "openai/gpt-4o", ...body }))

/** What the Vercel AI SDK 5 (`@ai-sdk/openai`) sends on a tool round trip with `store` on. */
const aiSdkRequest = {
  model: "anthropic/claude-sonnet-4-5",
  input: [
    { role: "system", content: "You are terse." },
    { role: "user", content: [{ type: "input_text", text: "Weather in Paris?" }, { type: "input_image", image_url: "data:image/png;base64,AAAA" }] },
    { type: "item_reference", id: "fc_1" },
    { type: "function_call_output", call_id: "call_1", output: "{\"temp\":21}" },
    { role: "assistant", content: [{ type: "output_text", text: "It is 21." }], id: "msg_1" }
  ],
  temperature: 0,
  max_output_tokens: 100,
  text: { format: { type: "json_schema", strict: false, name: "response", schema: { type: "object" } } },
  tools: [{ type: "function", name: "weather", description: "Weather", parameters: { type: "object" }, strict: false }],
  tool_choice: "auto",
  stream: true
}

/** What `@effect/ai-openai` sends. */
const effectAiRequest = {
  model: "gemini/gemini-2.5-flash",
  input: [
    { role: "system", content: "Be helpful" },
    { role: "user", content: [{ type: "input_text", text: "Hi" }] },
    { role: "assistant", content: [{ type: "output_text", text: "Hello" }] },
    { type: "function_call", call_id: "call_1", name: "f", arguments: "{}" },
    { type: "function_call_output", call_id: "call_1", output: "\"ok\"" }
  ],
  include: [],
  text: { format: { type: "text" } },
  tools: [{ type: "function", name: "f", description: "F", parameters: { type: "object", properties: {} }, strict: true }],
  tool_choice: "required"
}

describe("CreateResponseRequest", () => {
  it("decodes what the AI SDK, @effect/ai-openai and the openai SDK send, and finds nothing to refuse", () => {
    for (
      const body of [
        aiSdkRequest,
        effectAiRequest,
        { model: "openai/gpt-4o", input: "Hello", previous_response_id: "resp_1", store: true, metadata: { a: "b" } },
        { model: "fast", input: [{ id: "msg_9" }] }
      ]
    ) {
      const decoded = decode(body)
      expect(Either.isRight(decoded), JSON.stringify(body)).toBe(true)
      expect(responsesRequestIssue(Either.getOrThrow(decoded))).toBeUndefined()
    }
  })

  it("malformed input is a decoding failure, not a refusal", () => {
    expect(Either.isLeft(decode({ model: "m", input: [{ type: "function_call", name: "f" }] }))).toBe(true)
    expect(Either.isLeft(decode({ model: "m", input: "x", tools: [{ type: "function" }] }))).toBe(true)
    expect(Either.isLeft(decode({ model: "m", input: "x", temperature: 3 }))).toBe(true)
    expect(Either.isLeft(decode({ model: "", input: "x" }))).toBe(true)
    expect(Either.isLeft(decode({ model: "m", input: [{ role: "tool", content: "x" }] }))).toBe(true)
  })
})

describe("responsesRequestIssue: refused by name", () => {
  const cases: ReadonlyArray<[string, Record<string, unknown>, string, string]> = [
    ["an unknown parameter", { input: "x", seed: 1 }, "seed", "unknown_parameter"],
    ["web_search", { input: "x", tools: [{ type: "function", name: "f" }, { type: "web_search" }] }, "tools[1].type", "unsupported_value"],
    ["file_search", { input: "x", tools: [{ type: "file_search", vector_store_ids: ["vs"] }] }, "tools[0].type", "unsupported_value"],
    ["background", { input: "x", background: true }, "background", "unsupported_parameter"],
    ["conversation", { input: "x", conversation: { id: "conv_1" } }, "conversation", "unsupported_parameter"],
    ["a prompt template", { input: "x", prompt: { id: "pmpt_1" } }, "prompt", "unsupported_parameter"],
    ["max_tool_calls", { input: "x", max_tool_calls: 2 }, "max_tool_calls", "unsupported_parameter"],
    ["auto truncation", { input: "x", truncation: "auto" }, "truncation", "unsupported_value"],
    ["logprobs", { input: "x", top_logprobs: 3 }, "top_logprobs", "unsupported_parameter"],
    ["an include", { input: "x", include: ["message.input_image.image_url", "file_search_call.results"] }, "include[1]", "unsupported_value"],
    ["a tool choice of another kind", { input: "x", tool_choice: { type: "web_search_preview" } }, "tool_choice.type", "unsupported_value"],
    ["a reasoning summary", { input: "x", reasoning: { summary: "auto" } }, "reasoning.summary", "unsupported_parameter"],
    ["an unknown item", { input: [{ role: "user", content: "x" }, { type: "mcp_call", id: "m" }] }, "input[1].type", "unsupported_value"],
    ["an unknown part", { input: [{ role: "user", content: [{ type: "input_audio", data: "" }] }] }, "input[0].content[0].type", "unsupported_value"],
    ["an image in a system message", { input: [{ role: "system", content: [{ type: "input_image", image_url: "u" }] }] }, "input[0].content[0].type", "unsupported_value"],
    ["a file by id", { input: [{ role: "user", content: [{ type: "input_file", file_id: "file-1" }] }] }, "input[0].content[0].file_id", "unsupported_parameter"],
    ["a file by URL", { input: [{ role: "user", content: [{ type: "input_file", file_url: "https://x" }] }] }, "input[0].content[0].file_url", "unsupported_parameter"],
    ["an image in a tool result", { input: [{ type: "function_call_output", call_id: "c", output: [{ type: "input_image", image_url: "u" }] }] }, "input[0].output[0].type", "unsupported_value"]
  ]
  for (const [what, body, param, code] of cases) {
    it(what, () => {
      const issue = issueOf(body)
      expect(issue).toMatchObject({ _tag: "InvalidRequest", param, code })
      expect(issue!.message).toContain(param.split("[")[0]!)
    })
  }

  it("accepts an empty include, include of input image URLs, and a file given inline", () => {
    expect(issueOf({ input: "x", include: [] })).toBeUndefined()
    expect(issueOf({ input: "x", include: ["message.input_image.image_url"] })).toBeUndefined()
    expect(issueOf({ input: [{ role: "user", content: [{ type: "input_file", file_data: "data:application/pdf;base64,AA", filename: "a.pdf" }] }] }))
      .toBeUndefined()
  })
})

/** A streamed response as OpenAI documents it (abridged to what the schemas model). */
const response = (status: string, output: Array<unknown>, usage: unknown) => ({
  id: "resp_67c9fdcecf488190bdd9a0409de3a1ec07b8b0ad4e5eb654",
  object: "response",
  created_at: 1741290958,
  status,
  background: false,
  completed_at: status === "completed" ? 1741290959 : null,
  error: null,
  incomplete_details: null,
  instructions: "You are a helpful assistant.",
  max_output_tokens: null,
  max_tool_calls: null,
  model: "gpt-4.1-2025-04-14",
  output,
  parallel_tool_calls: true,
  previous_response_id: null,
  prompt_cache_key: null,
  reasoning: { effort: null, summary: null },
  safety_identifier: null,
  service_tier: "default",
  store: true,
  temperature: 1,
  text: { format: { type: "text" }, verbosity: "medium" },
  tool_choice: "auto",
  tools: [],
  top_logprobs: 0,
  top_p: 1,
  truncation: "disabled",
  usage,
  user: null,
  metadata: {}
})
const message = (status: string, text: string | undefined) => ({
  id: "msg_67c9fdcf37fc8190ba82116e33fb28c507b8b0ad4e5eb654",
  type: "message",
  status,
  role: "assistant",
  content: text === undefined ? [] : [{ type: "output_text", text, annotations: [] }]
})
const usage = {
  input_tokens: 37,
  input_tokens_details: { cached_tokens: 0 },
  output_tokens: 11,
  output_tokens_details: { reasoning_tokens: 0 },
  total_tokens: 48
}
const openAiStream = [
  { type: "response.created", sequence_number: 0, response: response("in_progress", [], null) },
  { type: "response.in_progress", sequence_number: 1, response: response("in_progress", [], null) },
  { type: "response.output_item.added", sequence_number: 2, output_index: 0, item: message("in_progress", undefined) },
  {
    type: "response.content_part.added",
    sequence_number: 3,
    item_id: "msg_67c9fdcf37fc8190ba82116e33fb28c507b8b0ad4e5eb654",
    output_index: 0,
    content_index: 0,
    part: { type: "output_text", text: "", annotations: [] }
  },
  {
    type: "response.output_text.delta",
    sequence_number: 4,
    item_id: "msg_67c9fdcf37fc8190ba82116e33fb28c507b8b0ad4e5eb654",
    output_index: 0,
    content_index: 0,
    delta: "Hi",
    logprobs: []
  },
  {
    type: "response.output_text.done",
    sequence_number: 5,
    item_id: "msg_67c9fdcf37fc8190ba82116e33fb28c507b8b0ad4e5eb654",
    output_index: 0,
    content_index: 0,
    text: "Hi there!",
    logprobs: []
  },
  {
    type: "response.content_part.done",
    sequence_number: 6,
    item_id: "msg_67c9fdcf37fc8190ba82116e33fb28c507b8b0ad4e5eb654",
    output_index: 0,
    content_index: 0,
    part: { type: "output_text", text: "Hi there!", annotations: [] }
  },
  { type: "response.output_item.done", sequence_number: 7, output_index: 0, item: message("completed", "Hi there!") },
  { type: "response.completed", sequence_number: 8, response: response("completed", [message("completed", "Hi there!")], usage) },
  {
    type: "response.function_call_arguments.done",
    sequence_number: 9,
    item_id: "fc_1",
    output_index: 1,
    name: "get_weather",
    arguments: "{\"location\":\"Paris\"}"
  },
  { type: "error", sequence_number: 10, code: "ERR_SOMETHING", message: "Something went wrong", param: null }
]

describe("the response and its stream events", () => {
  it("OpenAI's documented events decode, each with its own schema, and encode as `event:` + `data:`", () => {
    for (const event of openAiStream) {
      const decoded = Schema.decodeUnknownSync(ResponseStreamEvent)(event)
      expect(decoded.type).toBe(event.type)
      expect(JSON.parse(JSON.stringify(decoded))).toEqual(event)
    }
    expect(encodeResponseEvent(Schema.decodeUnknownSync(ResponseStreamEvent)(openAiStream[4]))).toBe(
      `event: response.output_text.delta\ndata: ${JSON.stringify(openAiStream[4])}\n\n`
    )
  })

  it("the final response and a page of items decode", () => {
    expect(Schema.decodeUnknownSync(ResponseObject)(openAiStream[8]!.response)).toMatchObject({ status: "completed", usage })
    expect(Schema.decodeUnknownSync(ResponseItemList)({
      object: "list",
      data: [{ id: "msg_1", type: "message", role: "user", status: "completed", content: [{ type: "input_text", text: "Hi" }] }],
      first_id: "msg_1",
      last_id: "msg_1",
      has_more: false
    }).data).toHaveLength(1)
  })

  it("an event that breaks its schema is refused", () => {
    expect(() => Schema.decodeUnknownSync(ResponseStreamEvent)({ type: "response.output_text.delta", sequence_number: 1, delta: "x" })).toThrow()
    expect(() => Schema.decodeUnknownSync(ResponseStreamEvent)({ type: "response.completed", sequence_number: 1, response: {} })).toThrow()
  })
})

import { Schema } from "effect"
import { optional } from "../internal/fields.js"
import {
  InputFilePart,
  InputImagePart,
  InputTextPart,
  ItemStatus,
  SummaryTextPart,
  TextFormat
} from "./ResponseRequest.js"

/** Text the model produced, with its annotations (always `[]` through Switchyard). */
export const ResponseOutputText = Schema.Struct({
  type: Schema.Literal("output_text"),
  text: Schema.String,
  annotations: Schema.Array(Schema.Unknown),
  logprobs: optional(Schema.Array(Schema.Unknown))
}).annotations({ identifier: "ResponseOutputText" })
export interface ResponseOutputText extends Schema.Schema.Type<typeof ResponseOutputText> {}

/** A refusal the model produced instead of an answer. */
export const ResponseOutputRefusal = Schema.Struct({
  type: Schema.Literal("refusal"),
  refusal: Schema.String
}).annotations({ identifier: "ResponseOutputRefusal" })
export interface ResponseOutputRefusal extends Schema.Schema.Type<typeof ResponseOutputRefusal> {}

/** A content part of an output message. */
export const ResponseOutputContent = Schema.Union(ResponseOutputText, ResponseOutputRefusal)
export type ResponseOutputContent = typeof ResponseOutputContent.Type

/** A message of the model (`msg_…`). */
export const ResponseOutputMessage = Schema.Struct({
  id: Schema.String,
  type: Schema.Literal("message"),
  role: Schema.Literal("assistant"),
  status: ItemStatus,
  content: Schema.Array(ResponseOutputContent)
}).annotations({ identifier: "ResponseOutputMessage" })
export interface ResponseOutputMessage extends Schema.Schema.Type<typeof ResponseOutputMessage> {}

/** A call of a function by the model (`fc_…`); `call_id` is what its output answers. */
export const ResponseFunctionCall = Schema.Struct({
  id: Schema.String,
  type: Schema.Literal("function_call"),
  call_id: Schema.String,
  name: Schema.String,
  arguments: Schema.String,
  status: ItemStatus
}).annotations({ identifier: "ResponseFunctionCall" })
export interface ResponseFunctionCall extends Schema.Schema.Type<typeof ResponseFunctionCall> {}

/** The model's reasoning (`rs_…`), from vendors that expose it (Anthropic and Gemini thinking, DeepSeek). */
export const ResponseReasoning = Schema.Struct({
  id: Schema.String,
  type: Schema.Literal("reasoning"),
  summary: Schema.Array(SummaryTextPart),
  status: optional(ItemStatus)
}).annotations({ identifier: "ResponseReasoning" })
export interface ResponseReasoning extends Schema.Schema.Type<typeof ResponseReasoning> {}

/** An item of a response's `output`. */
export const ResponseOutputItem = Schema.Union(ResponseOutputMessage, ResponseFunctionCall, ResponseReasoning)
  .annotations({ identifier: "ResponseOutputItem" })
export type ResponseOutputItem = typeof ResponseOutputItem.Type

/** A message of the input, as stored and listed (`msg_…`). */
export const ResponseInputMessage = Schema.Struct({
  id: Schema.String,
  type: Schema.Literal("message"),
  role: Schema.Literal("user", "system", "developer"),
  status: ItemStatus,
  content: Schema.Array(Schema.Union(InputTextPart, InputImagePart, InputFilePart))
}).annotations({ identifier: "ResponseInputMessage" })
export interface ResponseInputMessage extends Schema.Schema.Type<typeof ResponseInputMessage> {}

/** A function's result from the input, as stored and listed. */
export const ResponseFunctionCallOutput = Schema.Struct({
  id: Schema.String,
  type: Schema.Literal("function_call_output"),
  call_id: Schema.String,
  output: Schema.String,
  status: ItemStatus
}).annotations({ identifier: "ResponseFunctionCallOutput" })
export interface ResponseFunctionCallOutput extends Schema.Schema.Type<typeof ResponseFunctionCallOutput> {}

/**
 * Any stored item, with its id: an input message, an output (or earlier
 * assistant) message, a function call, a function's output, reasoning. What
 * `input_items` lists and what an `item_reference` resolves to.
 */
export const ResponseItem = Schema.Union(
  ResponseInputMessage,
  ResponseOutputMessage,
  ResponseFunctionCall,
  ResponseFunctionCallOutput,
  ResponseReasoning
).annotations({ identifier: "ResponseItem" })
export type ResponseItem = typeof ResponseItem.Type

/** Token counts of a response, with their details. */
export const ResponseUsage = Schema.Struct({
  input_tokens: Schema.Int,
  input_tokens_details: Schema.Struct({ cached_tokens: Schema.Int }),
  output_tokens: Schema.Int,
  output_tokens_details: Schema.Struct({ reasoning_tokens: Schema.Int }),
  total_tokens: Schema.Int
}).annotations({ identifier: "ResponseUsage" })
export interface ResponseUsage extends Schema.Schema.Type<typeof ResponseUsage> {}

/** Why a response failed: one of OpenAI's codes (`server_error`, `rate_limit_exceeded`, …) and a message. */
export const ResponseErrorDetail = Schema.Struct({
  code: Schema.String,
  message: Schema.String
}).annotations({ identifier: "ResponseErrorDetail" })
export interface ResponseErrorDetail extends Schema.Schema.Type<typeof ResponseErrorDetail> {}

/** Why a response is incomplete. */
export const IncompleteDetails = Schema.Struct({
  reason: Schema.Literal("max_output_tokens", "content_filter")
}).annotations({ identifier: "IncompleteDetails" })
export interface IncompleteDetails extends Schema.Schema.Type<typeof IncompleteDetails> {}

/** The status of a response. */
export const ResponseStatus = Schema.Literal("completed", "failed", "in_progress", "cancelled", "queued", "incomplete")
export type ResponseStatus = typeof ResponseStatus.Type

/** A function tool as a response echoes it. */
export const ResponseFunctionToolEcho = Schema.Struct({
  type: Schema.Literal("function"),
  name: Schema.String,
  description: Schema.NullOr(Schema.String),
  parameters: Schema.NullOr(Schema.Record({ key: Schema.String, value: Schema.Unknown })),
  strict: Schema.NullOr(Schema.Boolean)
}).annotations({ identifier: "ResponseFunctionToolEcho" })
export interface ResponseFunctionToolEcho extends Schema.Schema.Type<typeof ResponseFunctionToolEcho> {}

/** The tool choice as a response echoes it. */
export const ResponseToolChoiceEcho = Schema.Union(
  Schema.Literal("none", "auto", "required"),
  Schema.Struct({ type: Schema.Literal("function"), name: Schema.String })
)
export type ResponseToolChoiceEcho = typeof ResponseToolChoiceEcho.Type

/**
 * A response, as OpenAI sends it: id (`resp_…`), status, output items,
 * usage, why it is incomplete or failed, and the request's settings echoed.
 */
export const ResponseObject = Schema.Struct({
  id: Schema.String,
  object: Schema.Literal("response"),
  created_at: Schema.Int,
  status: ResponseStatus,
  background: Schema.Boolean,
  completed_at: Schema.NullOr(Schema.Int),
  error: Schema.NullOr(ResponseErrorDetail),
  incomplete_details: Schema.NullOr(IncompleteDetails),
  instructions: Schema.NullOr(Schema.String),
  max_output_tokens: Schema.NullOr(Schema.Int),
  max_tool_calls: Schema.NullOr(Schema.Int),
  model: Schema.String,
  output: Schema.Array(ResponseOutputItem),
  parallel_tool_calls: Schema.Boolean,
  previous_response_id: Schema.NullOr(Schema.String),
  prompt_cache_key: Schema.NullOr(Schema.String),
  reasoning: Schema.Struct({ effort: Schema.NullOr(Schema.String), summary: Schema.NullOr(Schema.String) }),
  safety_identifier: Schema.NullOr(Schema.String),
  service_tier: Schema.NullOr(Schema.String),
  store: Schema.Boolean,
  temperature: Schema.NullOr(Schema.Number),
  text: Schema.Struct({ format: TextFormat, verbosity: Schema.NullOr(Schema.String) }),
  tool_choice: ResponseToolChoiceEcho,
  tools: Schema.Array(ResponseFunctionToolEcho),
  top_logprobs: Schema.Int,
  top_p: Schema.NullOr(Schema.Number),
  truncation: Schema.Literal("auto", "disabled"),
  usage: Schema.NullOr(ResponseUsage),
  user: Schema.NullOr(Schema.String),
  metadata: Schema.Record({ key: Schema.String, value: Schema.String })
}).annotations({ identifier: "ResponseObject", title: "Response" })
export interface ResponseObject extends Schema.Schema.Type<typeof ResponseObject> {}

/** The answer of `DELETE /v5/responses/{id}`. */
export const ResponseDeleted = Schema.Struct({
  id: Schema.String,
  object: Schema.Literal("response"),
  deleted: Schema.Literal(true)
}).annotations({ identifier: "ResponseDeleted" })
export interface ResponseDeleted extends Schema.Schema.Type<typeof ResponseDeleted> {}

/** A page of a response's input items (`GET /v5/responses/{id}/input_items`). */
export const ResponseItemList = Schema.Struct({
  object: Schema.Literal("list"),
  data: Schema.Array(ResponseItem),
  first_id: Schema.NullOr(Schema.String),
  last_id: Schema.NullOr(Schema.String),
  has_more: Schema.Boolean
}).annotations({ identifier: "ResponseItemList" })
export interface ResponseItemList extends Schema.Schema.Type<typeof ResponseItemList> {}

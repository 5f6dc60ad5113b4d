import { Schema } from "effect"
import { Metadata } from "../ChatCompletionRequest.js"
import { keepUnknownKeys, nullable, optional } from "../internal/fields.js"
import { JsonSchemaObject } from "../Tool.js"

/**
 * The Responses API request (`POST /v5/responses`) as OpenAI defines it.
 * Every field OpenAI documents is modelled, including those Switchyard cannot
 * honour (built-in tools, `background`, `conversation`, …): they decode, so
 * `responsesRequestIssue` can reject them with a 400 that names them rather
 * than a generic validation error.
 */

/** A type tag other than the given ones: how unknown variants decode, to be rejected by name. */
const otherThan = (...known: ReadonlyArray<string>) =>
  Schema.String.pipe(Schema.filter((type) => !known.includes(type), { description: `not one of ${known.join(", ")}` }))

/** Text in an input message. */
export const InputTextPart = Schema.Struct({
  type: Schema.Literal("input_text"),
  text: Schema.String
}).annotations({ identifier: "InputTextPart" })
export interface InputTextPart extends Schema.Schema.Type<typeof InputTextPart> {}

/** An image in an input message: a URL or a `data:` URL (`file_id` needs a files API Switchyard lacks). */
export const InputImagePart = Schema.Struct({
  type: Schema.Literal("input_image"),
  image_url: nullable(Schema.String),
  file_id: nullable(Schema.String),
  detail: nullable(Schema.Literal("auto", "low", "high"))
}).annotations({ identifier: "InputImagePart" })
export interface InputImagePart extends Schema.Schema.Type<typeof InputImagePart> {}

/** A file in an input message: inline base64 `file_data` (ids and URLs are not supported). */
export const InputFilePart = Schema.Struct({
  type: Schema.Literal("input_file"),
  file_data: nullable(Schema.String),
  file_id: nullable(Schema.String),
  file_url: nullable(Schema.String),
  filename: nullable(Schema.String)
}).annotations({ identifier: "InputFilePart" })
export interface InputFilePart extends Schema.Schema.Type<typeof InputFilePart> {}

/** Earlier model text, sent back as part of an assistant message. */
export const OutputTextPart = Schema.Struct({
  type: Schema.Literal("output_text"),
  text: Schema.String,
  annotations: optional(Schema.Array(Schema.Unknown)),
  logprobs: nullable(Schema.Array(Schema.Unknown))
}).annotations({ identifier: "OutputTextPart" })
export interface OutputTextPart extends Schema.Schema.Type<typeof OutputTextPart> {}

/** An earlier refusal, sent back as part of an assistant message. */
export const RefusalPart = Schema.Struct({
  type: Schema.Literal("refusal"),
  refusal: Schema.String
}).annotations({ identifier: "RefusalPart" })
export interface RefusalPart extends Schema.Schema.Type<typeof RefusalPart> {}

/** A content part of a type Switchyard does not know (rejected by name). */
export const OtherContentPart = Schema.Struct({
  type: otherThan("input_text", "input_image", "input_file", "output_text", "refusal")
}).annotations({ identifier: "OtherContentPart", ...keepUnknownKeys })
export interface OtherContentPart extends Schema.Schema.Type<typeof OtherContentPart> {}

/** Any content part of an input message. */
export const InputContentPart = Schema.Union(
  InputTextPart,
  InputImagePart,
  InputFilePart,
  OutputTextPart,
  RefusalPart,
  OtherContentPart
).annotations({ identifier: "InputContentPart" })
export type InputContentPart = typeof InputContentPart.Type

/** The status of an item. */
export const ItemStatus = Schema.Literal("in_progress", "completed", "incomplete")
export type ItemStatus = typeof ItemStatus.Type

/**
 * A message: from the user, earlier from the assistant, or instructions
 * (`system`, `developer`). `content` is a string or a list of parts.
 */
export const InputMessageItem = Schema.Struct({
  type: nullable(Schema.Literal("message")),
  id: nullable(Schema.String),
  role: Schema.Literal("user", "assistant", "system", "developer"),
  content: Schema.Union(Schema.String, Schema.Array(InputContentPart)),
  status: nullable(ItemStatus)
}).annotations({ identifier: "InputMessageItem" })
export interface InputMessageItem extends Schema.Schema.Type<typeof InputMessageItem> {}

/** An earlier call of a function by the model. */
export const FunctionCallItem = Schema.Struct({
  type: Schema.Literal("function_call"),
  id: nullable(Schema.String),
  call_id: Schema.String,
  name: Schema.String,
  arguments: Schema.String,
  status: nullable(ItemStatus)
}).annotations({ identifier: "FunctionCallItem" })
export interface FunctionCallItem extends Schema.Schema.Type<typeof FunctionCallItem> {}

/** The result of a function call, answering `call_id`: text, or a list of parts. */
export const FunctionCallOutputItem = Schema.Struct({
  type: Schema.Literal("function_call_output"),
  id: nullable(Schema.String),
  call_id: Schema.String,
  output: Schema.Union(Schema.String, Schema.Array(InputContentPart)),
  status: nullable(ItemStatus)
}).annotations({ identifier: "FunctionCallOutputItem" })
export interface FunctionCallOutputItem extends Schema.Schema.Type<typeof FunctionCallOutputItem> {}

/** A reasoning summary, as the model produced it. */
export const SummaryTextPart = Schema.Struct({
  type: Schema.Literal("summary_text"),
  text: Schema.String
}).annotations({ identifier: "SummaryTextPart" })
export interface SummaryTextPart extends Schema.Schema.Type<typeof SummaryTextPart> {}

/** An earlier reasoning item of the model (kept for the record; chat models do not take it back). */
export const ReasoningInputItem = Schema.Struct({
  type: Schema.Literal("reasoning"),
  id: nullable(Schema.String),
  summary: Schema.Array(SummaryTextPart),
  encrypted_content: nullable(Schema.String),
  status: nullable(ItemStatus)
}).annotations({ identifier: "ReasoningInputItem" })
export interface ReasoningInputItem extends Schema.Schema.Type<typeof ReasoningInputItem> {}

/** A reference to an item of a stored response (its input or its output), by id. */
export const ItemReference = Schema.Struct({
  type: nullable(Schema.Literal("item_reference")),
  id: Schema.String
}).annotations({ identifier: "ItemReference" })
export interface ItemReference extends Schema.Schema.Type<typeof ItemReference> {}

/** An input item of a type Switchyard does not know (rejected by name). */
export const OtherInputItem = Schema.Struct({
  type: otherThan("message", "function_call", "function_call_output", "reasoning", "item_reference")
}).annotations({ identifier: "OtherInputItem", ...keepUnknownKeys })
export interface OtherInputItem extends Schema.Schema.Type<typeof OtherInputItem> {}

/** Any item of `input`. */
export const InputItem = Schema.Union(
  InputMessageItem,
  FunctionCallItem,
  FunctionCallOutputItem,
  ReasoningInputItem,
  ItemReference,
  OtherInputItem
).annotations({ identifier: "InputItem" })
export type InputItem = typeof InputItem.Type

/** A function the model may call, in the Responses API's flat shape. */
export const ResponsesFunctionTool = Schema.Struct({
  type: Schema.Literal("function"),
  name: Schema.String,
  description: nullable(Schema.String),
  parameters: nullable(JsonSchemaObject),
  strict: nullable(Schema.Boolean)
}).annotations({ identifier: "ResponsesFunctionTool" })
export interface ResponsesFunctionTool extends Schema.Schema.Type<typeof ResponsesFunctionTool> {}

/** A built-in tool (`web_search`, `file_search`, …): OpenAI's, which Switchyard cannot run (rejected by name). */
export const BuiltInTool = Schema.Struct({
  type: otherThan("function")
}).annotations({ identifier: "BuiltInTool", ...keepUnknownKeys })
export interface BuiltInTool extends Schema.Schema.Type<typeof BuiltInTool> {}

/** A tool of a request. */
export const ResponsesTool = Schema.Union(ResponsesFunctionTool, BuiltInTool).annotations({ identifier: "ResponsesTool" })
export type ResponsesTool = typeof ResponsesTool.Type

/** Forces a call of the named function. */
export const ResponsesNamedToolChoice = Schema.Struct({
  type: Schema.Literal("function"),
  name: Schema.String
}).annotations({ identifier: "ResponsesNamedToolChoice" })
export interface ResponsesNamedToolChoice extends Schema.Schema.Type<typeof ResponsesNamedToolChoice> {}

/** Another kind of tool choice (`allowed_tools`, a built-in tool, …): rejected by name. */
export const OtherToolChoice = Schema.Struct({
  type: otherThan("function")
}).annotations({ identifier: "OtherToolChoice", ...keepUnknownKeys })

/** Which tool the model calls: `none`, `auto`, `required`, or a named function. */
export const ResponsesToolChoice = Schema.Union(
  Schema.Literal("none", "auto", "required"),
  ResponsesNamedToolChoice,
  OtherToolChoice
).annotations({ identifier: "ResponsesToolChoice" })
export type ResponsesToolChoice = typeof ResponsesToolChoice.Type

/** Plain text output. */
export const TextFormatText = Schema.Struct({ type: Schema.Literal("text") }).annotations({ identifier: "TextFormatText" })

/** Any JSON object as output. */
export const TextFormatJsonObject = Schema.Struct({ type: Schema.Literal("json_object") }).annotations({
  identifier: "TextFormatJsonObject"
})

/** Output that follows a JSON Schema: the Responses API's flat form of `response_format.json_schema`. */
export const TextFormatJsonSchema = Schema.Struct({
  type: Schema.Literal("json_schema"),
  name: Schema.String,
  schema: JsonSchemaObject,
  description: nullable(Schema.String),
  strict: nullable(Schema.Boolean)
}).annotations({ identifier: "TextFormatJsonSchema" })
export interface TextFormatJsonSchema extends Schema.Schema.Type<typeof TextFormatJsonSchema> {}

/** The format of the model's text output. */
export const TextFormat = Schema.Union(TextFormatText, TextFormatJsonObject, TextFormatJsonSchema).annotations({
  identifier: "TextFormat"
})
export type TextFormat = typeof TextFormat.Type

/** Text output settings: the format and, for models that have it, verbosity. */
export const TextConfig = Schema.Struct({
  format: nullable(TextFormat),
  verbosity: nullable(Schema.Literal("low", "medium", "high"))
}).annotations({ identifier: "TextConfig" })
export interface TextConfig extends Schema.Schema.Type<typeof TextConfig> {}

/** How much the model thinks. */
export const ReasoningEffort = Schema.Literal("none", "minimal", "low", "medium", "high", "xhigh")
export type ReasoningEffort = typeof ReasoningEffort.Type

/** Reasoning settings: the effort (summaries cannot be asked of chat models). */
export const ReasoningConfig = Schema.Struct({
  effort: nullable(ReasoningEffort),
  summary: nullable(Schema.Literal("auto", "concise", "detailed")),
  generate_summary: nullable(Schema.Literal("auto", "concise", "detailed"))
}).annotations({ identifier: "ReasoningConfig" })
export interface ReasoningConfig extends Schema.Schema.Type<typeof ReasoningConfig> {}

/** The body of `POST /v5/responses`. Unknown top-level fields are kept, to be rejected by name. */
export const CreateResponseRequest = Schema.Struct({
  model: Schema.String.pipe(Schema.minLength(1)).annotations({
    description: "`vendor/model` (for example `anthropic/claude-sonnet-4-5`) or a configured alias"
  }),
  input: optional(Schema.Union(Schema.String, Schema.Array(InputItem))),
  instructions: nullable(Schema.String),
  tools: nullable(Schema.Array(ResponsesTool)),
  tool_choice: nullable(ResponsesToolChoice),
  parallel_tool_calls: nullable(Schema.Boolean),
  text: nullable(TextConfig),
  max_output_tokens: nullable(Schema.Int.pipe(Schema.greaterThanOrEqualTo(1))),
  temperature: nullable(Schema.Number.pipe(Schema.between(0, 2))),
  top_p: nullable(Schema.Number.pipe(Schema.between(0, 1))),
  reasoning: nullable(ReasoningConfig),
  metadata: nullable(Metadata),
  user: nullable(Schema.String),
  store: nullable(Schema.Boolean),
  previous_response_id: nullable(Schema.String),
  stream: nullable(Schema.Boolean),
  stream_options: nullable(Schema.Struct({ include_obfuscation: nullable(Schema.Boolean) })),
  include: nullable(Schema.Array(Schema.String)),
  service_tier: nullable(Schema.Literal("auto", "default", "flex", "scale", "priority")),
  safety_identifier: nullable(Schema.String),
  prompt_cache_key: nullable(Schema.String),
  truncation: nullable(Schema.Literal("auto", "disabled")),
  top_logprobs: nullable(Schema.Int.pipe(Schema.between(0, 20))),
  max_tool_calls: nullable(Schema.Int),
  background: nullable(Schema.Boolean),
  conversation: nullable(Schema.Unknown),
  prompt: nullable(Schema.Unknown)
}).annotations({ identifier: "CreateResponseRequest", title: "CreateResponseRequest", ...keepUnknownKeys })

/** A decoded Responses API request. */
export interface CreateResponseRequest extends Schema.Schema.Type<typeof CreateResponseRequest> {}
/** A Responses API request as it arrives on the wire. */
export interface CreateResponseRequestEncoded extends Schema.Schema.Encoded<typeof CreateResponseRequest> {}

/** The `include` values the facade can give: image URLs of input messages are always kept. */
export const supportedIncludes: ReadonlySet<string> = new Set(["message.input_image.image_url"])

/** Query parameters of `GET /v5/responses/{id}/input_items`. */
export const InputItemsParams = Schema.Struct({
  after: Schema.optional(Schema.String),
  limit: Schema.optional(Schema.NumberFromString.pipe(Schema.int(), Schema.between(1, 100))),
  order: Schema.optional(Schema.Literal("asc", "desc")),
  include: Schema.optional(Schema.Union(Schema.String, Schema.Array(Schema.String)))
}).annotations({ identifier: "InputItemsParams" })
export interface InputItemsParams extends Schema.Schema.Type<typeof InputItemsParams> {}

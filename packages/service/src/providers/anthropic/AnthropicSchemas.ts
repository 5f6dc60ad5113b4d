/**
 * The wire format of Anthropic's Messages API (`POST /v1/messages`), as far
 * as the gateway writes and reads it, and the options of its translation.
 */
import { Schema } from "effect"

/** Prompt caching of a block. */
export const CacheControl = Schema.Struct({ type: Schema.Literal("ephemeral"), ttl: Schema.optional(Schema.String) })

/** A text block. */
export const TextBlockParam = Schema.Struct({
  type: Schema.Literal("text"),
  text: Schema.String,
  cache_control: Schema.optional(CacheControl)
})
export interface TextBlockParam extends Schema.Schema.Type<typeof TextBlockParam> {}

/** An image: base64 data with its media type, or a URL. */
export const ImageBlockParam = Schema.Struct({
  type: Schema.Literal("image"),
  source: Schema.Union(
    Schema.Struct({ type: Schema.Literal("base64"), media_type: Schema.String, data: Schema.String }),
    Schema.Struct({ type: Schema.Literal("url"), url: Schema.String })
  ),
  cache_control: Schema.optional(CacheControl)
})
export interface ImageBlockParam extends Schema.Schema.Type<typeof ImageBlockParam> {}

/** A document (PDF or plain text), as base64 data. */
export const DocumentBlockParam = Schema.Struct({
  type: Schema.Literal("document"),
  source: Schema.Struct({ type: Schema.Literal("base64"), media_type: Schema.String, data: Schema.String }),
  title: Schema.optional(Schema.String),
  cache_control: Schema.optional(CacheControl)
})
export interface DocumentBlockParam extends Schema.Schema.Type<typeof DocumentBlockParam> {}

/** A tool call of an earlier assistant turn. */
export const ToolUseBlockParam = Schema.Struct({
  type: Schema.Literal("tool_use"),
  id: Schema.String,
  name: Schema.String,
  input: Schema.Record({ key: Schema.String, value: Schema.Unknown })
})
export interface ToolUseBlockParam extends Schema.Schema.Type<typeof ToolUseBlockParam> {}

/** The result of a tool call, in a user turn. */
export const ToolResultBlockParam = Schema.Struct({
  type: Schema.Literal("tool_result"),
  tool_use_id: Schema.String,
  content: Schema.Union(Schema.String, Schema.Array(TextBlockParam)),
  is_error: Schema.optional(Schema.Boolean)
})
export interface ToolResultBlockParam extends Schema.Schema.Type<typeof ToolResultBlockParam> {}

/** Extended thinking of an earlier assistant turn, with its signature. */
export const ThinkingBlock = Schema.Struct({
  type: Schema.Literal("thinking"),
  thinking: Schema.String,
  signature: Schema.String
})
export interface ThinkingBlock extends Schema.Schema.Type<typeof ThinkingBlock> {}

/** Thinking the vendor encrypted. */
export const RedactedThinkingBlock = Schema.Struct({
  type: Schema.Literal("redacted_thinking"),
  data: Schema.String
})
export interface RedactedThinkingBlock extends Schema.Schema.Type<typeof RedactedThinkingBlock> {}

/** Any block of a request message. */
export const ContentBlockParam = Schema.Union(
  TextBlockParam,
  ImageBlockParam,
  DocumentBlockParam,
  ToolUseBlockParam,
  ToolResultBlockParam,
  ThinkingBlock,
  RedactedThinkingBlock
)
export type ContentBlockParam = typeof ContentBlockParam.Type

/** A turn of the conversation. */
export const MessageParam = Schema.Struct({
  role: Schema.Literal("user", "assistant"),
  content: Schema.Union(Schema.String, Schema.Array(ContentBlockParam))
})
export interface MessageParam extends Schema.Schema.Type<typeof MessageParam> {}

/** A tool the model may call. */
export const ToolParam = Schema.Struct({
  name: Schema.String,
  description: Schema.optional(Schema.String),
  input_schema: Schema.Record({ key: Schema.String, value: Schema.Unknown }),
  cache_control: Schema.optional(CacheControl)
})
export interface ToolParam extends Schema.Schema.Type<typeof ToolParam> {}

/** How the model uses tools. */
export const ToolChoiceParam = Schema.Union(
  Schema.Struct({ type: Schema.Literal("auto", "any"), disable_parallel_tool_use: Schema.optional(Schema.Boolean) }),
  Schema.Struct({ type: Schema.Literal("tool"), name: Schema.String, disable_parallel_tool_use: Schema.optional(Schema.Boolean) }),
  Schema.Struct({ type: Schema.Literal("none") })
)
export type ToolChoiceParam = typeof ToolChoiceParam.Type

/** The body of `POST /v1/messages`. */
export const MessagesRequest = Schema.Struct({
  model: Schema.String,
  max_tokens: Schema.Int,
  messages: Schema.Array(MessageParam),
  system: Schema.optional(Schema.Union(Schema.String, Schema.Array(TextBlockParam))),
  stop_sequences: Schema.optional(Schema.Array(Schema.String)),
  stream: Schema.optional(Schema.Boolean),
  temperature: Schema.optional(Schema.Number),
  top_p: Schema.optional(Schema.Number),
  top_k: Schema.optional(Schema.Int),
  tools: Schema.optional(Schema.Array(ToolParam)),
  tool_choice: Schema.optional(ToolChoiceParam),
  thinking: Schema.optional(Schema.Union(
    Schema.Struct({ type: Schema.Literal("enabled"), budget_tokens: Schema.Int }),
    Schema.Struct({ type: Schema.Literal("disabled") })
  )),
  metadata: Schema.optional(Schema.Struct({ user_id: Schema.optional(Schema.String) }))
}).annotations({ identifier: "AnthropicMessagesRequest" })
export interface MessagesRequest extends Schema.Schema.Type<typeof MessagesRequest> {}

/** Token counts of a message. */
export const Usage = Schema.Struct({
  input_tokens: Schema.Number,
  output_tokens: Schema.Number,
  cache_creation_input_tokens: Schema.optional(Schema.NullOr(Schema.Number)),
  cache_read_input_tokens: Schema.optional(Schema.NullOr(Schema.Number))
})
export interface Usage extends Schema.Schema.Type<typeof Usage> {}

/** A content block of a response: text, a tool call, thinking, or one the gateway does not know (skipped). */
export const ContentBlock = Schema.Union(
  Schema.Struct({ type: Schema.Literal("text"), text: Schema.String }),
  Schema.Struct({
    type: Schema.Literal("tool_use"),
    id: Schema.String,
    name: Schema.String,
    input: Schema.Unknown
  }),
  ThinkingBlock,
  RedactedThinkingBlock,
  Schema.Struct({ type: Schema.String })
)
export type ContentBlock = typeof ContentBlock.Type

/** A response of `POST /v1/messages`. */
export const Message = Schema.Struct({
  id: Schema.String,
  type: Schema.Literal("message"),
  role: Schema.Literal("assistant"),
  model: Schema.String,
  content: Schema.Array(ContentBlock),
  stop_reason: Schema.NullOr(Schema.String),
  stop_sequence: Schema.optional(Schema.NullOr(Schema.String)),
  usage: Usage
}).annotations({ identifier: "AnthropicMessage" })
export interface Message extends Schema.Schema.Type<typeof Message> {}

/** An error body: `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`. */
export const ErrorBody = Schema.Struct({
  type: Schema.Literal("error"),
  error: Schema.Struct({ type: Schema.String, message: Schema.String })
})

/** The events of a streamed message, in the order the API sends them. */
export const StreamEvent = Schema.Union(
  Schema.Struct({ type: Schema.Literal("message_start"), message: Message }),
  Schema.Struct({ type: Schema.Literal("content_block_start"), index: Schema.Int, content_block: ContentBlock }),
  Schema.Struct({
    type: Schema.Literal("content_block_delta"),
    index: Schema.Int,
    delta: Schema.Union(
      Schema.Struct({ type: Schema.Literal("text_delta"), text: Schema.String }),
      Schema.Struct({ type: Schema.Literal("input_json_delta"), partial_json: Schema.String }),
      Schema.Struct({ type: Schema.Literal("thinking_delta"), thinking: Schema.String }),
      Schema.Struct({ type: Schema.Literal("signature_delta"), signature: Schema.String })
    )
  }),
  Schema.Struct({ type: Schema.Literal("content_block_stop"), index: Schema.Int }),
  Schema.Struct({
    type: Schema.Literal("message_delta"),
    delta: Schema.Struct({ stop_reason: Schema.NullOr(Schema.String), stop_sequence: Schema.optional(Schema.NullOr(Schema.String)) }),
    usage: Schema.partial(Usage)
  }),
  Schema.Struct({ type: Schema.Literal("message_stop") }),
  Schema.Struct({ type: Schema.Literal("ping") }),
  ErrorBody
)
export type StreamEvent = typeof StreamEvent.Type

/** How requests are translated for Anthropic. A value: compare it, log it. */
export const TranslationOptions = Schema.Struct({
  /** `max_tokens` when the request sets neither `max_completion_tokens` nor `max_tokens` (Anthropic requires it). */
  defaultMaxTokens: Schema.Int.pipe(Schema.positive()),
  /** Clamp a `temperature` above 1 to 1 (Anthropic's range is 0..1); if false, such a request fails with a 400. */
  clampTemperature: Schema.Boolean,
  /** The thinking budget (tokens, at least 1024) for each `reasoning_effort`; `none` turns thinking off. */
  thinkingBudgets: Schema.Record({ key: Schema.String, value: Schema.Int.pipe(Schema.greaterThanOrEqualTo(1024)) }),
  /** Unsupported parameters to drop rather than reject (`drop_unsupported_params`). */
  dropUnsupportedParams: Schema.Union(Schema.Boolean, Schema.Array(Schema.String))
}).annotations({ identifier: "AnthropicTranslationOptions" })
export interface TranslationOptions extends Schema.Schema.Type<typeof TranslationOptions> {}

/** The defaults: 4096 tokens, no clamping, budgets 1024/2048/8192/24576, nothing dropped. */
export const defaultTranslationOptions: TranslationOptions = {
  defaultMaxTokens: 4096,
  clampTemperature: false,
  thinkingBudgets: { minimal: 1024, low: 2048, medium: 8192, high: 24576 },
  dropUnsupportedParams: false
}

/** The smallest thinking budget Anthropic accepts. */
export const MIN_THINKING_BUDGET = 1024

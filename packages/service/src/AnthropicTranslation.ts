import {
  type ChatCompletion,
  type ChatCompletionChunk,
  type ChatCompletionMessageToolCall,
  type ChatCompletionRequest,
  type CompletionUsage,
  type FinishReason,
  type GatewayError,
  Sse,
  UpstreamBadResponse,
  UpstreamUnavailable
} from "@switchyard/core"
import { type Either, Schema } from "effect"
import type { Step, StreamParser } from "./ChunkStream.js"
import { fromStreamError } from "./UpstreamErrors.js"
import {
  type ChunkBase,
  choiceChunk,
  extraDelta,
  ParamGuard,
  parseDataUrl,
  stopList,
  textParts,
  toolArguments,
  badUpstream
} from "./VendorTranslation.js"

// ---------------------------------------------------------------------------
// The wire format of Anthropic's Messages API (`POST /v1/messages`), as far as
// the gateway writes and reads it.
// ---------------------------------------------------------------------------

const CacheControl = Schema.Struct({ type: Schema.Literal("ephemeral"), ttl: Schema.optional(Schema.String) })

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

// ---------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------
// Request: OpenAI → Anthropic
// ---------------------------------------------------------------------------

/** A translated request, and what reading its answer needs to know. */
export interface AnthropicCall {
  readonly body: MessagesRequest
  /** The tool forced to carry a `response_format`: its input is the answer's content. */
  readonly jsonTool: string | undefined
}

type MutableMessage = { role: "user" | "assistant"; content: Array<ContentBlockParam> }

const cacheControlOf = (part: object): { cache_control?: typeof CacheControl.Type } => {
  const value = (part as { cache_control?: unknown }).cache_control
  return typeof value === "object" && value !== null && (value as { type?: unknown }).type === "ephemeral"
    ? { cache_control: value as typeof CacheControl.Type }
    : {}
}

const asThinkingBlocks = (value: unknown): Array<ThinkingBlock | RedactedThinkingBlock> => {
  if (!Array.isArray(value)) return []
  return value.flatMap((block): Array<ThinkingBlock | RedactedThinkingBlock> => {
    if (typeof block !== "object" || block === null) return []
    const b = block as Record<string, unknown>
    if (b.type === "thinking" && typeof b.thinking === "string" && typeof b.signature === "string") {
      return [{ type: "thinking", thinking: b.thinking, signature: b.signature }]
    }
    if (b.type === "redacted_thinking" && typeof b.data === "string") return [{ type: "redacted_thinking", data: b.data }]
    return []
  })
}

const imageBlock = (guard: ParamGuard, param: string, url: string): ImageBlockParam => {
  const data = parseDataUrl(url)
  if (data !== undefined) return { type: "image", source: { type: "base64", media_type: data.mediaType, data: data.data } }
  if (/^https?:\/\//i.test(url)) return { type: "image", source: { type: "url", url } }
  return guard.invalid(param, `${param} must be an http(s) URL or a base64 data: URL`)
}

const userBlocks = (
  guard: ParamGuard,
  at: string,
  content: Extract<ChatCompletionRequest["messages"][number], { role: "user" }>["content"]
): Array<ContentBlockParam> => {
  if (typeof content === "string") return [{ type: "text", text: content }]
  const blocks: Array<ContentBlockParam> = []
  content.forEach((part, j) => {
    const param = `${at}.content[${j}]`
    switch (part.type) {
      case "text":
        blocks.push({ type: "text", text: part.text, ...cacheControlOf(part) })
        return
      case "image_url": {
        const detail = part.image_url.detail
        if (detail != null && detail !== "auto") guard.unsupported(`${param}.image_url.detail`, "Anthropic has no image detail setting")
        blocks.push({ ...imageBlock(guard, `${param}.image_url.url`, part.image_url.url), ...cacheControlOf(part) })
        return
      }
      case "input_audio":
        guard.unsupported(`${param}.input_audio`, "Anthropic takes no audio input")
        return
      case "file": {
        if (part.file.file_data == null) {
          guard.unsupported(`${param}.file.file_id`, "Anthropic cannot read OpenAI file ids: send file_data")
          return
        }
        const data = parseDataUrl(part.file.file_data)
        if (data === undefined) return guard.invalid(`${param}.file.file_data`, `${param}.file.file_data must be a base64 data: URL`)
        blocks.push({
          type: "document",
          source: { type: "base64", media_type: data.mediaType, data: data.data },
          ...(part.file.filename != null ? { title: part.file.filename } : {}),
          ...cacheControlOf(part)
        })
        return
      }
    }
  })
  return blocks
}

const assistantBlocks = (
  guard: ParamGuard,
  at: string,
  message: Extract<ChatCompletionRequest["messages"][number], { role: "assistant" }>
): Array<ContentBlockParam> => {
  const blocks: Array<ContentBlockParam> = [...asThinkingBlocks((message as { thinking_blocks?: unknown }).thinking_blocks)]
  if (message.audio != null) guard.unsupported(`${at}.audio`, "Anthropic has no audio output")
  if (message.function_call != null) guard.unsupported(`${at}.function_call`, "deprecated: use tool_calls")
  const content = message.content
  if (typeof content === "string") {
    if (content.length > 0) blocks.push({ type: "text", text: content })
  } else if (content != null) {
    for (const part of content) {
      const text = part.type === "text" ? part.text : part.refusal
      if (text.length > 0) blocks.push({ type: "text", text, ...cacheControlOf(part) })
    }
  }
  if ((content == null || content.length === 0) && message.refusal != null && message.refusal.length > 0) {
    blocks.push({ type: "text", text: message.refusal })
  }
  message.tool_calls?.forEach((call, k) => {
    if (call.type !== "function") {
      guard.unsupported(`${at}.tool_calls[${k}]`, "Anthropic has no custom tools")
      return
    }
    blocks.push({
      type: "tool_use",
      id: call.id,
      name: call.function.name,
      input: toolArguments(guard, `${at}.tool_calls[${k}].function.arguments`, call.function.arguments)
    })
  })
  return blocks
}

const toolNameOf = (tool: Record<string, unknown>): string | undefined => {
  const fn = tool.function
  if (typeof fn === "object" && fn !== null && typeof (fn as { name?: unknown }).name === "string") {
    return (fn as { name: string }).name
  }
  return typeof tool.name === "string" ? tool.name : undefined
}

/**
 * Translates a chat completion request into an Anthropic Messages request.
 * Fails with `UnsupportedParameter` (naming the parameter) for anything
 * Anthropic cannot honour, unless the options drop it, and with
 * `InvalidRequest` for requests that are wrong whatever the vendor.
 */
export const toAnthropicRequest = (
  request: ChatCompletionRequest,
  model: string,
  options: TranslationOptions = defaultTranslationOptions,
  vendor = "anthropic"
): Either.Either<AnthropicCall, GatewayError> =>
  ParamGuard.run(() => {
    const guard = new ParamGuard(vendor, options.dropUnsupportedParams)
    const r = request
    guard.unknownFields(r)
    if (r.n != null && r.n > 1) guard.unsupported("n", "Anthropic answers one choice per call (the gateway fans out n > 1)")
    if (r.audio != null) guard.unsupported("audio", "Anthropic has no audio output")
    if (r.modalities != null && r.modalities.includes("audio")) guard.unsupported("modalities", "Anthropic has no audio output")
    if (r.prediction != null) guard.unsupported("prediction", "Anthropic has no predicted outputs")
    if (r.logit_bias != null && Object.keys(r.logit_bias).length > 0) guard.unsupported("logit_bias", "Anthropic has no logit bias")
    if (r.logprobs === true) guard.unsupported("logprobs", "Anthropic returns no log probabilities")
    if (r.top_logprobs != null && r.top_logprobs > 0) guard.unsupported("top_logprobs", "Anthropic returns no log probabilities")
    if (r.frequency_penalty != null && r.frequency_penalty !== 0) guard.unsupported("frequency_penalty", "Anthropic has no frequency penalty")
    if (r.presence_penalty != null && r.presence_penalty !== 0) guard.unsupported("presence_penalty", "Anthropic has no presence penalty")
    if (r.seed != null) guard.unsupported("seed", "Anthropic has no seed")
    if (r.store === true) guard.unsupported("store", "Anthropic does not store completions")
    if (r.functions != null) guard.unsupported("functions", "deprecated: use tools")
    if (r.function_call != null) guard.unsupported("function_call", "deprecated: use tool_choice")

    // Messages: system and developer messages go to `system`; the rest become
    // blocks, consecutive turns of one role merged (tool results are user turns).
    const system: Array<TextBlockParam> = []
    const messages: Array<MutableMessage> = []
    const push = (role: MutableMessage["role"], blocks: Array<ContentBlockParam>) => {
      if (blocks.length === 0) return
      const last = messages[messages.length - 1]
      if (last !== undefined && last.role === role) last.content.push(...blocks)
      else messages.push({ role, content: blocks })
    }
    r.messages.forEach((message, i) => {
      const at = `messages[${i}]`
      if ("name" in message && message.name != null) guard.unsupported(`${at}.name`, "Anthropic has no participant names")
      switch (message.role) {
        case "system":
        case "developer":
          if (typeof message.content === "string") system.push({ type: "text", text: message.content })
          else for (const part of message.content) system.push({ type: "text", text: part.text, ...cacheControlOf(part) })
          return
        case "user":
          push("user", userBlocks(guard, at, message.content))
          return
        case "assistant":
          push("assistant", assistantBlocks(guard, at, message))
          return
        case "tool":
          push("user", [{
            type: "tool_result",
            tool_use_id: message.tool_call_id,
            content: typeof message.content === "string"
              ? message.content
              : textParts(message.content).map((text) => ({ type: "text" as const, text }))
          }])
          return
        case "function":
          guard.unsupported(at, "function messages are deprecated: use tool messages")
          return
      }
    })

    // Tools.
    let tools: Array<ToolParam> | undefined
    let toolChoice: ToolChoiceParam | undefined
    if (r.tools != null && r.tools.length > 0) {
      tools = []
      r.tools.forEach((tool, i) => {
        if (tool.type !== "function") {
          guard.unsupported(`tools[${i}].custom`, "Anthropic has no custom (free-text) tools")
          return
        }
        const fn = tool.function
        tools!.push({
          name: fn.name,
          ...(fn.description != null ? { description: fn.description } : {}),
          input_schema: fn.parameters ?? { type: "object", properties: {} },
          ...cacheControlOf(tool)
        })
      })
    }
    const choice = r.tool_choice
    if (choice != null) {
      if (choice === "auto") toolChoice = { type: "auto" }
      else if (choice === "none") toolChoice = { type: "none" }
      else if (choice === "required") toolChoice = { type: "any" }
      else if (choice.type === "function") toolChoice = { type: "tool", name: choice.function.name }
      else if (choice.type === "allowed_tools") {
        const allowed = new Set(choice.allowed_tools.tools.map(toolNameOf).filter((name) => name !== undefined))
        tools = tools?.filter((tool) => allowed.has(tool.name))
        toolChoice = { type: choice.allowed_tools.mode === "required" ? "any" : "auto" }
      } else guard.unsupported("tool_choice", "Anthropic has no custom tools")
    }

    // Structured output: a tool the model must call, whose input is the answer.
    let jsonTool: string | undefined
    const format = r.response_format
    if (format != null && format.type !== "text") {
      if (choice != null && choice !== "auto") {
        guard.unsupported("response_format", "on Anthropic it forces a tool, so it cannot be combined with this tool_choice")
      } else {
        const schema = format.type === "json_schema" ? format.json_schema : undefined
        jsonTool = schema?.name ?? "json_response"
        if (tools?.some((tool) => tool.name === jsonTool)) {
          guard.invalid("response_format", `response_format's name \`${jsonTool}\` is also the name of a tool`)
        }
        ;(tools ??= []).push({
          name: jsonTool,
          description: schema?.description ?? "Answer by calling this tool: its input is your response, as JSON.",
          input_schema: schema?.schema ?? { type: "object" }
        })
        toolChoice = { type: "tool", name: jsonTool }
      }
    }
    if (r.parallel_tool_calls === false && tools !== undefined && tools.length > 0) {
      if (toolChoice === undefined) toolChoice = { type: "auto", disable_parallel_tool_use: true }
      else if (toolChoice.type !== "none") toolChoice = { ...toolChoice, disable_parallel_tool_use: true }
    }

    // Sampling and limits.
    let temperature = r.temperature ?? undefined
    if (temperature !== undefined && temperature > 1) {
      if (options.clampTemperature) temperature = 1
      else {
        guard.unsupported("temperature", "Anthropic accepts 0 to 1")
        temperature = undefined
      }
    }
    const requested = r.max_completion_tokens ?? r.max_tokens ?? undefined
    let maxTokens = requested ?? options.defaultMaxTokens
    let thinking: MessagesRequest["thinking"]
    const effort = r.reasoning_effort
    if (effort != null && effort !== "none") {
      let budget = options.thinkingBudgets[effort]
      if (budget === undefined) {
        guard.unsupported(
          "reasoning_effort",
          `unknown value \`${effort}\`; use one of none, ${Object.keys(options.thinkingBudgets).join(", ")}`
        )
      } else if (jsonTool !== undefined) {
        guard.unsupported("reasoning_effort", "Anthropic cannot think while response_format forces a tool")
      } else {
        if (requested !== undefined) {
          budget = Math.min(budget, requested - 1)
          if (budget < MIN_THINKING_BUDGET) {
            guard.unsupported(
              "reasoning_effort",
              `Anthropic needs a thinking budget of at least ${MIN_THINKING_BUDGET} tokens below max_completion_tokens`
            )
          }
        } else maxTokens = options.defaultMaxTokens + budget
        if (budget >= MIN_THINKING_BUDGET) thinking = { type: "enabled", budget_tokens: budget }
      }
    }

    // Metadata: Anthropic keeps only a user id.
    let userId = r.user ?? undefined
    if (r.metadata != null) {
      for (const key of Object.keys(r.metadata)) {
        if (key === "user_id") userId ??= r.metadata[key]
        else guard.unsupported(`metadata.${key}`, "Anthropic's metadata holds only user_id")
      }
    }

    const stop = stopList(r.stop)
    const body: MessagesRequest = {
      model,
      max_tokens: maxTokens,
      messages,
      ...(system.length > 0 ? { system } : {}),
      ...(stop !== undefined && stop.length > 0 ? { stop_sequences: stop } : {}),
      ...(temperature !== undefined ? { temperature } : {}),
      ...(r.top_p != null ? { top_p: r.top_p } : {}),
      ...(r.top_k != null ? { top_k: r.top_k } : {}),
      ...(tools !== undefined && tools.length > 0 ? { tools } : {}),
      ...(toolChoice !== undefined && (tools?.length ?? 0) > 0 ? { tool_choice: toolChoice } : {}),
      ...(thinking !== undefined ? { thinking } : {}),
      ...(userId !== undefined ? { metadata: { user_id: userId } } : {})
    }
    return { body, jsonTool }
  })

// ---------------------------------------------------------------------------
// Response: Anthropic → OpenAI
// ---------------------------------------------------------------------------

/** Anthropic's `stop_reason` as an OpenAI `finish_reason`. */
export const finishReasonOf = (stopReason: string | null | undefined): FinishReason => {
  switch (stopReason) {
    case "max_tokens":
    case "model_context_window_exceeded":
      return "length"
    case "tool_use":
      return "tool_calls"
    case "refusal":
      return "content_filter"
    default:
      // end_turn, stop_sequence, pause_turn
      return "stop"
  }
}

/** Anthropic's usage as OpenAI's: cache reads and writes count as prompt tokens, reads as cached ones. */
export const usageOf = (usage: Partial<Usage>): CompletionUsage => {
  const cacheRead = usage.cache_read_input_tokens ?? 0
  const prompt = (usage.input_tokens ?? 0) + cacheRead + (usage.cache_creation_input_tokens ?? 0)
  const completion = usage.output_tokens ?? 0
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: cacheRead }
  }
}

/** What reading an answer needs besides the answer. */
export interface ResponseContext {
  /** The completion's `created` (seconds): Anthropic does not say. */
  readonly created: number
  /** The tool that carries a `response_format`, if any. */
  readonly jsonTool: string | undefined
}

/**
 * An Anthropic message as a chat completion: text blocks joined into the
 * content, tool calls with their ids, thinking as `reasoning_content` (and
 * `thinking_blocks`, to send back with tool results), the finish reason and
 * the usage mapped.
 */
export const fromAnthropicMessage = (message: Message, context: ResponseContext): ChatCompletion => {
  let content = ""
  let hasContent = false
  let reasoning: string | undefined
  let structured = false
  const toolCalls: Array<ChatCompletionMessageToolCall> = []
  const thinkingBlocks: Array<ThinkingBlock | RedactedThinkingBlock> = []
  for (const block of message.content) {
    if (isText(block)) {
      content += block.text
      hasContent = true
    } else if (isToolUse(block)) {
      const args = JSON.stringify(block.input ?? {})
      if (block.name === context.jsonTool) {
        content += args
        hasContent = true
        structured = true
      } else toolCalls.push({ id: block.id, type: "function", function: { name: block.name, arguments: args } })
    } else if (isThinking(block)) {
      if (block.thinking.length > 0) reasoning = (reasoning ?? "") + block.thinking
      thinkingBlocks.push({ type: "thinking", thinking: block.thinking, signature: block.signature })
    } else if (isRedacted(block)) {
      thinkingBlocks.push({ type: "redacted_thinking", data: block.data })
    }
  }
  const finish = finishReasonOf(message.stop_reason)
  return {
    id: message.id,
    object: "chat.completion",
    created: context.created,
    model: message.model,
    choices: [{
      index: 0,
      finish_reason: structured && finish === "tool_calls" ? "stop" : finish,
      logprobs: null,
      message: {
        role: "assistant",
        content: hasContent ? content : toolCalls.length > 0 ? null : "",
        refusal: null,
        ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
        ...(reasoning !== undefined ? { reasoning_content: reasoning } : {}),
        ...(thinkingBlocks.length > 0 ? { thinking_blocks: thinkingBlocks } : {})
      }
    }],
    usage: usageOf(message.usage)
  }
}

const isText = (block: ContentBlock): block is { readonly type: "text"; readonly text: string } =>
  block.type === "text" && typeof (block as { text?: unknown }).text === "string"
const isToolUse = (
  block: ContentBlock
): block is { readonly type: "tool_use"; readonly id: string; readonly name: string; readonly input: unknown } =>
  block.type === "tool_use" && typeof (block as { id?: unknown }).id === "string"
const isThinking = (block: ContentBlock): block is ThinkingBlock =>
  block.type === "thinking" && typeof (block as { thinking?: unknown }).thinking === "string"
const isRedacted = (block: ContentBlock): block is RedactedThinkingBlock =>
  block.type === "redacted_thinking" && typeof (block as { data?: unknown }).data === "string"

// ---------------------------------------------------------------------------
// Stream: Anthropic events → OpenAI chunks
// ---------------------------------------------------------------------------

type BlockState =
  | { readonly kind: "text" }
  | { readonly kind: "json" }
  | { readonly kind: "tool"; readonly index: number }
  | { readonly kind: "thinking"; thinking: string; signature: string }
  | { readonly kind: "other" }

const OTHER: BlockState = { kind: "other" }

/** Options of a stream translation. */
export interface StreamContext extends ResponseContext {
  readonly vendor: string
  /** The model asked for, until `message_start` names the one that answers. */
  readonly model: string
  /** End with a usage chunk (`stream_options.include_usage`). */
  readonly includeUsage: boolean
}

type AnyRecord = Record<string, unknown>
const isRecord = (u: unknown): u is AnyRecord => typeof u === "object" && u !== null

/**
 * Translates Anthropic's streamed events into OpenAI chunks, statefully and
 * synchronously: the role first (with the first content block, as OpenAI
 * sends it: `content: ""` before text, `content: null` with a first tool
 * call), text, tool calls by index with their ids and argument pieces,
 * thinking as `reasoning_content`,
 * the finish reason (at `message_delta`), and a usage chunk at
 * `message_stop` when asked. An `error` event ends the stream with its typed
 * error. Pair it with an `Sse.SseDecoder`: `AnthropicStreamParser` does.
 */
export class AnthropicStreamTranslator {
  private base: ChunkBase
  private readonly blocks = new Map<number, BlockState>()
  private readonly thinkingBlocks: Array<ThinkingBlock | RedactedThinkingBlock> = []
  private tools = 0
  private usage: Partial<Usage> = {}
  private finished = false
  private stopped = false
  private roleSent = false
  private contentSet = false
  private structured = false

  constructor(readonly context: StreamContext) {
    this.base = { id: "", object: "chat.completion.chunk", created: context.created, model: context.model }
  }

  /** Whether the message has reported its stop reason. */
  get sawFinish(): boolean {
    return this.finished
  }

  /** Whether `message_stop` arrived. */
  get complete(): boolean {
    return this.stopped
  }

  /**
   * Translates one event (its parsed `data`), appending chunks to `out`;
   * returns a typed error if the event is one, or is not what it should be.
   */
  event(data: unknown, out: Array<ChatCompletionChunk>): GatewayError | undefined {
    if (!isRecord(data)) return this.bad("an event that is not an object", data)
    switch (data.type) {
      case "message_start": {
        const message = data.message
        if (!isRecord(message) || typeof message.id !== "string") return this.bad("a message_start without a message", data)
        this.base = {
          ...this.base,
          id: message.id,
          model: typeof message.model === "string" ? message.model : this.context.model
        }
        if (isRecord(message.usage)) this.usage = { ...(message.usage as Partial<Usage>) }
        return undefined
      }
      case "content_block_start": {
        const block = data.content_block
        const index = data.index
        if (!isRecord(block) || typeof index !== "number") return this.bad("a content_block_start without a block", data)
        switch (block.type) {
          case "text":
            this.blocks.set(index, { kind: "text" })
            this.openContent(out)
            if (typeof block.text === "string" && block.text.length > 0) out.push(choiceChunk(this.base, 0, { content: block.text }))
            return undefined
          case "tool_use": {
            if (typeof block.id !== "string" || typeof block.name !== "string") return this.bad("a tool_use block without id or name", data)
            if (block.name === this.context.jsonTool) {
              this.blocks.set(index, { kind: "json" })
              this.structured = true
              this.openContent(out)
              return undefined
            }
            const tool = this.tools++
            this.blocks.set(index, { kind: "tool", index: tool })
            const call = { index: tool, id: block.id, type: "function" as const, function: { name: block.name, arguments: "" } }
            // Like OpenAI: a first chunk that is a tool call carries the role, and no content.
            out.push(choiceChunk(this.base, 0, this.roleSent ? { tool_calls: [call] } : { role: "assistant", content: null, tool_calls: [call] }))
            this.roleSent = true
            return undefined
          }
          case "thinking": {
            const thinking = typeof block.thinking === "string" ? block.thinking : ""
            this.blocks.set(index, { kind: "thinking", thinking, signature: typeof block.signature === "string" ? block.signature : "" })
            this.openRole(out)
            if (thinking.length > 0) out.push(choiceChunk(this.base, 0, extraDelta("reasoning_content", thinking)))
            return undefined
          }
          case "redacted_thinking":
            this.blocks.set(index, OTHER)
            this.openRole(out)
            if (typeof block.data === "string") {
              this.thinkingBlocks.push({ type: "redacted_thinking", data: block.data })
              out.push(choiceChunk(this.base, 0, extraDelta("thinking_blocks", [...this.thinkingBlocks])))
            }
            return undefined
          default:
            // Server tool blocks and future kinds: nothing an OpenAI client can read.
            this.blocks.set(index, OTHER)
            return undefined
        }
      }
      case "content_block_delta": {
        const delta = data.delta
        const block = this.blocks.get(data.index as number)
        if (!isRecord(delta) || block === undefined) return this.bad("a content_block_delta of no open block", data)
        switch (delta.type) {
          case "text_delta":
            if (typeof delta.text === "string" && delta.text.length > 0) out.push(choiceChunk(this.base, 0, { content: delta.text }))
            return undefined
          case "input_json_delta": {
            const piece = typeof delta.partial_json === "string" ? delta.partial_json : ""
            if (piece.length === 0) return undefined
            if (block.kind === "json") out.push(choiceChunk(this.base, 0, { content: piece }))
            else if (block.kind === "tool") {
              out.push(choiceChunk(this.base, 0, { tool_calls: [{ index: block.index, function: { arguments: piece } }] }))
            }
            return undefined
          }
          case "thinking_delta":
            if (block.kind === "thinking" && typeof delta.thinking === "string" && delta.thinking.length > 0) {
              block.thinking += delta.thinking
              out.push(choiceChunk(this.base, 0, extraDelta("reasoning_content", delta.thinking)))
            }
            return undefined
          case "signature_delta":
            if (block.kind === "thinking" && typeof delta.signature === "string") block.signature += delta.signature
            return undefined
          default:
            // citations_delta and future kinds.
            return undefined
        }
      }
      case "content_block_stop": {
        const block = this.blocks.get(data.index as number)
        if (block?.kind === "thinking") {
          this.thinkingBlocks.push({ type: "thinking", thinking: block.thinking, signature: block.signature })
          // The whole list so far: an aggregator that keeps the last value ends with all of them.
          out.push(choiceChunk(this.base, 0, extraDelta("thinking_blocks", [...this.thinkingBlocks])))
        }
        return undefined
      }
      case "message_delta": {
        if (isRecord(data.usage)) this.usage = { ...this.usage, ...(data.usage as Partial<Usage>) }
        const delta = data.delta
        if (isRecord(delta) && typeof delta.stop_reason === "string") {
          this.finished = true
          // An answer with neither text nor tool calls has the content "", as when not streamed.
          if (!this.contentSet && this.tools === 0) this.openContent(out)
          const finish = finishReasonOf(delta.stop_reason)
          out.push(choiceChunk(this.base, 0, {}, this.structured && finish === "tool_calls" ? "stop" : finish))
        }
        return undefined
      }
      case "message_stop":
        this.stopped = true
        this.usageChunk(out)
        return undefined
      case "error":
        return fromStreamError(this.context.vendor, isRecord(data.error) ? data.error : data)
      default:
        // ping, and event types added later (Anthropic's versioning policy says to ignore them).
        return undefined
    }
  }

  /** The role chunk, if not sent yet: before thinking, without content (a tool call may follow). */
  private openRole(out: Array<ChatCompletionChunk>): void {
    if (this.roleSent) return
    this.roleSent = true
    out.push(choiceChunk(this.base, 0, { role: "assistant" }))
  }

  /** Marks the answer as having content: the role chunk with `content: ""`, or an empty content delta after a role-only one. */
  private openContent(out: Array<ChatCompletionChunk>): void {
    if (this.contentSet) return
    this.contentSet = true
    out.push(choiceChunk(this.base, 0, this.roleSent ? { content: "" } : { role: "assistant", content: "" }))
    this.roleSent = true
  }

  /** The usage chunk, if asked for. */
  usageChunk(out: Array<ChatCompletionChunk>): void {
    if (this.context.includeUsage) out.push({ ...this.base, choices: [], usage: usageOf(this.usage) })
  }

  private bad(what: string, data: unknown): UpstreamBadResponse {
    return badUpstream(this.context.vendor, what, data)
  }
}

const NO_CHUNKS: Array<ChatCompletionChunk> = []

/** Anthropic's SSE body → chunks: an `SseDecoder` and an `AnthropicStreamTranslator`. */
export class AnthropicStreamParser implements StreamParser {
  private readonly sse = new Sse.SseDecoder({ maxBufferSize: 16 * 1024 * 1024 })
  readonly translator: AnthropicStreamTranslator

  constructor(context: StreamContext) {
    this.translator = new AnthropicStreamTranslator(context)
  }

  push = (bytes: Uint8Array): Step => this.handle(this.sse.push(bytes))

  end = (): Step => {
    const step = this.handle(this.sse.end())
    if (step.error !== undefined || step.done) return step
    const vendor = this.translator.context.vendor
    if (this.translator.sawFinish) {
      // The stop reason came but not `message_stop`: the answer is whole, only the end is missing.
      const chunks = [...step.chunks]
      this.translator.usageChunk(chunks)
      return { chunks, done: true, error: undefined }
    }
    return {
      chunks: step.chunks,
      done: false,
      error: new UpstreamUnavailable({ vendor, message: `Upstream \`${vendor}\` ended the stream before it was complete` })
    }
  }

  private handle(events: ReadonlyArray<Sse.SseEvent>): Step {
    if (this.sse.error !== undefined) {
      return { chunks: NO_CHUNKS, done: false, error: this.bad(`an oversized SSE event (${this.sse.error})`, "") }
    }
    if (events.length === 0) return { chunks: NO_CHUNKS, done: false, error: undefined }
    const chunks: Array<ChatCompletionChunk> = []
    for (const event of events) {
      if (event.data.length === 0) continue
      let json: unknown
      try {
        json = JSON.parse(event.data)
      } catch {
        return { chunks, done: false, error: this.bad("an event that is not JSON", event.data) }
      }
      // The `event:` name and the data's `type` agree; the data is what carries the fields.
      if (isRecord(json) && json.type === undefined && event.event !== undefined) json = { ...json, type: event.event }
      const error = this.translator.event(json, chunks)
      if (error !== undefined) return { chunks, done: false, error }
      if (this.translator.complete) return { chunks, done: true, error: undefined }
    }
    return { chunks, done: false, error: undefined }
  }

  private bad(what: string, data: string): UpstreamBadResponse {
    const vendor = this.translator.context.vendor
    return badUpstream(vendor, what, data)
  }
}

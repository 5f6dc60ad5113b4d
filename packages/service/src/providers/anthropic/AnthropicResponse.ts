/**
 * Answers, Anthropic → OpenAI: a Messages API response as a chat completion,
 * and the finish reasons and usage that streamed answers share.
 */
import type {
  ChatCompletion,
  ChatCompletionMessageToolCall,
  CompletionUsage,
  FinishReason
} from "@switchyard/core"
import type { ContentBlock, Message, RedactedThinkingBlock, ThinkingBlock, Usage } from "./AnthropicSchemas.js"

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


/**
 * Answers, Gemini → OpenAI: a `generateContent` response as a chat
 * completion, and the finish reasons, usage, log probabilities and tool calls
 * that streamed answers share.
 */
import {
  type ChatCompletion,
  type ChatCompletionChoice,
  type ChatCompletionMessageFunctionToolCall,
  type ChatCompletionMessageToolCall,
  type ChatCompletionTokenLogprob,
  type ChoiceLogprobs,
  type CompletionUsage,
  ContentFiltered,
  type FinishReason,
  type GatewayError,
  UpstreamBadResponse
} from "@switchyard/core"
import { Either } from "effect"
import { randomId } from "../VendorTranslation.js"
import type { FunctionCall, GenerateContentResponse, LogprobsResult, Part, UsageMetadata } from "./GeminiSchemas.js"

/** Gemini's `finishReason` as an OpenAI `finish_reason` (a `STOP` after function calls is `tool_calls`). */
export const finishReasonOf = (finishReason: string | undefined, calledTools: boolean): FinishReason => {
  switch (finishReason) {
    case "MAX_TOKENS":
      return "length"
    case "SAFETY":
    case "RECITATION":
    case "BLOCKLIST":
    case "PROHIBITED_CONTENT":
    case "SPII":
    case "IMAGE_SAFETY":
    case "LANGUAGE":
      return "content_filter"
    default:
      // STOP, MALFORMED_FUNCTION_CALL, OTHER, FINISH_REASON_UNSPECIFIED, …
      return calledTools ? "tool_calls" : "stop"
  }
}

/** Gemini's usage as OpenAI's: thoughts count as (reasoning) completion tokens, cached content as cached prompt tokens. */
export const usageOf = (usage: UsageMetadata): CompletionUsage => {
  const prompt = (usage.promptTokenCount ?? 0) + (usage.toolUsePromptTokenCount ?? 0)
  const completion = (usage.candidatesTokenCount ?? 0) + (usage.thoughtsTokenCount ?? 0)
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: usage.cachedContentTokenCount ?? 0 },
    completion_tokens_details: { reasoning_tokens: usage.thoughtsTokenCount ?? 0 }
  }
}

const encoder = new TextEncoder()

/** Gemini's log probabilities as OpenAI's, token by token. */
export const logprobsOf = (result: LogprobsResult | undefined): ChoiceLogprobs | null => {
  const chosen = result?.chosenCandidates
  if (chosen === undefined) return null
  const content: Array<ChatCompletionTokenLogprob> = chosen.map((candidate, i) => {
    const token = candidate.token ?? ""
    return {
      token,
      bytes: Array.from(encoder.encode(token)),
      logprob: candidate.logProbability ?? 0,
      top_logprobs: (result?.topCandidates?.[i]?.candidates ?? []).map((top) => ({
        token: top.token ?? "",
        bytes: Array.from(encoder.encode(top.token ?? "")),
        logprob: top.logProbability ?? 0
      }))
    }
  })
  return { content, refusal: null }
}

/** A function call of Gemini's as an OpenAI tool call (with a generated id when Gemini gives none). */
export const toolCallOf = (part: Part & { readonly functionCall: typeof FunctionCall.Type }): ChatCompletionMessageFunctionToolCall => ({
  id: part.functionCall.id ?? randomId("call_"),
  type: "function",
  function: { name: part.functionCall.name, arguments: JSON.stringify(part.functionCall.args ?? {}) },
  ...(part.thoughtSignature !== undefined ? { extra_content: { google: { thought_signature: part.thoughtSignature } } } : {})
})

/** What reading an answer needs besides the answer. */
export interface ResponseContext {
  readonly vendor: string
  /** The model asked for, when the answer does not name its version. */
  readonly model: string
  /** The completion's `created` (seconds): Gemini does not say. */
  readonly created: number
}

/** The error of a prompt Gemini blocked before any candidate. */
export const promptBlocked = (vendor: string, reason: string): ContentFiltered =>
  new ContentFiltered({ vendor, message: `Upstream \`${vendor}\` blocked the prompt (${reason}).` })

/**
 * A Gemini response as a chat completion: each candidate a choice (its index
 * kept), text parts joined, thoughts as `reasoning_content`, function calls
 * as tool calls with generated ids, the finish reason, log probabilities and
 * usage mapped. A prompt blocked before any candidate is `ContentFiltered`.
 */
export const fromGeminiResponse = (
  response: GenerateContentResponse,
  context: ResponseContext
): Either.Either<ChatCompletion, GatewayError> => {
  const candidates = response.candidates ?? []
  if (candidates.length === 0) {
    const reason = response.promptFeedback?.blockReason
    return Either.left(
      reason !== undefined
        ? promptBlocked(context.vendor, reason)
        : new UpstreamBadResponse({ vendor: context.vendor, message: `Upstream \`${context.vendor}\` answered without a candidate` })
    )
  }
  const choices = candidates.map((candidate, i): ChatCompletionChoice => {
    let content: string | undefined
    let reasoning: string | undefined
    const toolCalls: Array<ChatCompletionMessageToolCall> = []
    for (const part of candidate.content?.parts ?? []) {
      if (part.functionCall !== undefined) toolCalls.push(toolCallOf(part as Parameters<typeof toolCallOf>[0]))
      else if (part.text !== undefined) {
        if (part.thought === true) {
          if (part.text.length > 0) reasoning = (reasoning ?? "") + part.text
        }
        else content = (content ?? "") + part.text
      }
    }
    return {
      index: candidate.index ?? i,
      finish_reason: finishReasonOf(candidate.finishReason, toolCalls.length > 0),
      logprobs: logprobsOf(candidate.logprobsResult),
      message: {
        role: "assistant",
        content: content ?? (toolCalls.length > 0 ? null : ""),
        refusal: null,
        ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
        ...(reasoning !== undefined ? { reasoning_content: reasoning } : {})
      }
    }
  })
  return Either.right({
    id: response.responseId ?? randomId("chatcmpl-"),
    object: "chat.completion",
    created: context.created,
    model: response.modelVersion ?? context.model,
    choices,
    ...(response.usageMetadata !== undefined ? { usage: usageOf(response.usageMetadata) } : {})
  })
}


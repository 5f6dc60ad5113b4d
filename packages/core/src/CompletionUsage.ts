import { Schema } from "effect"
import { keepUnknownKeys, nullable } from "./internal/fields.js"

/** Breakdown of tokens used in a completion. */
export const CompletionTokensDetails = Schema.Struct({
  accepted_prediction_tokens: nullable(Schema.Int),
  audio_tokens: nullable(Schema.Int),
  reasoning_tokens: nullable(Schema.Int),
  rejected_prediction_tokens: nullable(Schema.Int)
}).annotations({
  identifier: "CompletionTokensDetails",
  description: "Breakdown of tokens used in a completion.",
  ...keepUnknownKeys
})
export interface CompletionTokensDetails extends Schema.Schema.Type<typeof CompletionTokensDetails> {}

/** Breakdown of tokens used in the prompt. */
export const PromptTokensDetails = Schema.Struct({
  audio_tokens: nullable(Schema.Int),
  cached_tokens: nullable(Schema.Int)
}).annotations({
  identifier: "PromptTokensDetails",
  description: "Breakdown of tokens used in the prompt.",
  ...keepUnknownKeys
})
export interface PromptTokensDetails extends Schema.Schema.Type<typeof PromptTokensDetails> {}

/** Usage statistics for the completion request. */
export const CompletionUsage = Schema.Struct({
  completion_tokens: Schema.Int,
  prompt_tokens: Schema.Int,
  total_tokens: Schema.Int,
  completion_tokens_details: nullable(CompletionTokensDetails),
  prompt_tokens_details: nullable(PromptTokensDetails)
}).annotations({
  identifier: "CompletionUsage",
  description: "Usage statistics for the completion request.",
  ...keepUnknownKeys
})
export interface CompletionUsage extends Schema.Schema.Type<typeof CompletionUsage> {}

const addOptional = (a: number | null | undefined, b: number | null | undefined): number | undefined =>
  a == null && b == null ? undefined : (a ?? 0) + (b ?? 0)

const addDetails = <K extends string>(
  keys: ReadonlyArray<K>,
  a: Partial<Record<K, number | null>> | null | undefined,
  b: Partial<Record<K, number | null>> | null | undefined
): Partial<Record<K, number>> | undefined => {
  if (a == null && b == null) return undefined
  const out: Partial<Record<K, number>> = {}
  for (const key of keys) {
    const sum = addOptional(a?.[key], b?.[key])
    if (sum !== undefined) out[key] = sum
  }
  return out
}

/** Adds two usages, field by field (for fan-out and aggregation). */
export const addUsage = (a: CompletionUsage, b: CompletionUsage): CompletionUsage => {
  const completionDetails = addDetails(
    ["accepted_prediction_tokens", "audio_tokens", "reasoning_tokens", "rejected_prediction_tokens"],
    a.completion_tokens_details,
    b.completion_tokens_details
  )
  const promptDetails = addDetails(["audio_tokens", "cached_tokens"], a.prompt_tokens_details, b.prompt_tokens_details)
  return {
    completion_tokens: a.completion_tokens + b.completion_tokens,
    prompt_tokens: a.prompt_tokens + b.prompt_tokens,
    total_tokens: a.total_tokens + b.total_tokens,
    ...(completionDetails ? { completion_tokens_details: completionDetails } : {}),
    ...(promptDetails ? { prompt_tokens_details: promptDetails } : {})
  }
}

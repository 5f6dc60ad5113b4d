import { Schema } from "effect"
import { keepUnknownKeys, nullable } from "./internal/fields.js"

/** One of the most likely tokens at a position. */
export const TopLogprob = Schema.Struct({
  token: Schema.String,
  bytes: nullable(Schema.Array(Schema.Int)),
  logprob: Schema.Number
}).annotations({ identifier: "TopLogprob", ...keepUnknownKeys })
export interface TopLogprob extends Schema.Schema.Type<typeof TopLogprob> {}

/** A token with its log probability and the most likely alternatives. */
export const ChatCompletionTokenLogprob = Schema.Struct({
  token: Schema.String,
  bytes: nullable(Schema.Array(Schema.Int)),
  logprob: Schema.Number,
  top_logprobs: Schema.Array(TopLogprob)
}).annotations({ identifier: "ChatCompletionTokenLogprob", ...keepUnknownKeys })
export interface ChatCompletionTokenLogprob extends Schema.Schema.Type<typeof ChatCompletionTokenLogprob> {}

/** Log probability information for the choice. */
export const ChoiceLogprobs = Schema.Struct({
  content: nullable(Schema.Array(ChatCompletionTokenLogprob)),
  refusal: nullable(Schema.Array(ChatCompletionTokenLogprob))
}).annotations({
  identifier: "ChoiceLogprobs",
  description: "Log probability information for the choice.",
  ...keepUnknownKeys
})
export interface ChoiceLogprobs extends Schema.Schema.Type<typeof ChoiceLogprobs> {}

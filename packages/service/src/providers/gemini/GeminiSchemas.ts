/**
 * The wire format of the Gemini API (`models/{model}:generateContent` and
 * `:streamGenerateContent?alt=sse`), as far as the gateway writes and reads
 * it, and the options of its translation.
 */
import { Schema } from "effect"

const JsonObject = Schema.Record({ key: Schema.String, value: Schema.Unknown })

/** Inline data: base64 bytes with their MIME type. */
export const Blob = Schema.Struct({ mimeType: Schema.String, data: Schema.String })

/** A call of a function the model made. */
export const FunctionCall = Schema.Struct({
  id: Schema.optional(Schema.String),
  name: Schema.String,
  args: Schema.optional(JsonObject)
})

/** The result of a function call, sent back by the client. */
export const FunctionResponse = Schema.Struct({
  id: Schema.optional(Schema.String),
  name: Schema.String,
  response: JsonObject
})

/** One part of a turn: text (maybe a thought), inline data, a function call or response. */
export const Part = Schema.Struct({
  text: Schema.optional(Schema.String),
  thought: Schema.optional(Schema.Boolean),
  thoughtSignature: Schema.optional(Schema.String),
  inlineData: Schema.optional(Blob),
  fileData: Schema.optional(Schema.Struct({ mimeType: Schema.optional(Schema.String), fileUri: Schema.String })),
  functionCall: Schema.optional(FunctionCall),
  functionResponse: Schema.optional(FunctionResponse)
})
export interface Part extends Schema.Schema.Type<typeof Part> {}

/** A turn: its role (`user` or `model`) and parts. */
export const Content = Schema.Struct({
  role: Schema.optional(Schema.String),
  parts: Schema.optional(Schema.Array(Part))
})
export interface Content extends Schema.Schema.Type<typeof Content> {}

/** A function the model may call, its parameters as JSON Schema. */
export const FunctionDeclaration = Schema.Struct({
  name: Schema.String,
  description: Schema.optional(Schema.String),
  parametersJsonSchema: Schema.optional(Schema.Unknown)
})
export interface FunctionDeclaration extends Schema.Schema.Type<typeof FunctionDeclaration> {}

/** Tools: function declarations. */
export const Tool = Schema.Struct({ functionDeclarations: Schema.Array(FunctionDeclaration) })

/** How the model calls functions. */
export const ToolConfig = Schema.Struct({
  functionCallingConfig: Schema.Struct({
    mode: Schema.Literal("AUTO", "ANY", "NONE", "VALIDATED"),
    allowedFunctionNames: Schema.optional(Schema.Array(Schema.String))
  })
})
export interface ToolConfig extends Schema.Schema.Type<typeof ToolConfig> {}

/** Sampling, limits and output format. */
export const GenerationConfig = Schema.Struct({
  temperature: Schema.optional(Schema.Number),
  topP: Schema.optional(Schema.Number),
  topK: Schema.optional(Schema.Int),
  maxOutputTokens: Schema.optional(Schema.Int),
  stopSequences: Schema.optional(Schema.Array(Schema.String)),
  candidateCount: Schema.optional(Schema.Int),
  seed: Schema.optional(Schema.Int),
  presencePenalty: Schema.optional(Schema.Number),
  frequencyPenalty: Schema.optional(Schema.Number),
  responseMimeType: Schema.optional(Schema.String),
  responseJsonSchema: Schema.optional(Schema.Unknown),
  responseLogprobs: Schema.optional(Schema.Boolean),
  logprobs: Schema.optional(Schema.Int),
  thinkingConfig: Schema.optional(Schema.Struct({
    thinkingBudget: Schema.optional(Schema.Int),
    includeThoughts: Schema.optional(Schema.Boolean)
  }))
})
export interface GenerationConfig extends Schema.Schema.Type<typeof GenerationConfig> {}

/** The body of `generateContent` and `streamGenerateContent`. */
export const GenerateContentRequest = Schema.Struct({
  contents: Schema.Array(Content),
  systemInstruction: Schema.optional(Content),
  tools: Schema.optional(Schema.Array(Tool)),
  toolConfig: Schema.optional(ToolConfig),
  generationConfig: Schema.optional(GenerationConfig)
}).annotations({ identifier: "GeminiGenerateContentRequest" })
export interface GenerateContentRequest extends Schema.Schema.Type<typeof GenerateContentRequest> {}

const LogprobsCandidate = Schema.Struct({
  token: Schema.optional(Schema.String),
  tokenId: Schema.optional(Schema.Number),
  logProbability: Schema.optional(Schema.Number)
})

/** Log probabilities of the chosen tokens and of the most likely ones at each step. */
export const LogprobsResult = Schema.Struct({
  topCandidates: Schema.optional(Schema.Array(Schema.Struct({ candidates: Schema.optional(Schema.Array(LogprobsCandidate)) }))),
  chosenCandidates: Schema.optional(Schema.Array(LogprobsCandidate))
})
export interface LogprobsResult extends Schema.Schema.Type<typeof LogprobsResult> {}

/** One answer. */
export const Candidate = Schema.Struct({
  index: Schema.optional(Schema.Int),
  content: Schema.optional(Content),
  finishReason: Schema.optional(Schema.String),
  logprobsResult: Schema.optional(LogprobsResult)
})
export interface Candidate extends Schema.Schema.Type<typeof Candidate> {}

/** Token counts. */
export const UsageMetadata = Schema.Struct({
  promptTokenCount: Schema.optional(Schema.Number),
  candidatesTokenCount: Schema.optional(Schema.Number),
  totalTokenCount: Schema.optional(Schema.Number),
  cachedContentTokenCount: Schema.optional(Schema.Number),
  thoughtsTokenCount: Schema.optional(Schema.Number),
  toolUsePromptTokenCount: Schema.optional(Schema.Number)
})
export interface UsageMetadata extends Schema.Schema.Type<typeof UsageMetadata> {}

/** A response of `generateContent`, and each event of `streamGenerateContent`. */
export const GenerateContentResponse = Schema.Struct({
  candidates: Schema.optional(Schema.Array(Candidate)),
  promptFeedback: Schema.optional(Schema.Struct({ blockReason: Schema.optional(Schema.String) })),
  usageMetadata: Schema.optional(UsageMetadata),
  modelVersion: Schema.optional(Schema.String),
  responseId: Schema.optional(Schema.String)
}).annotations({ identifier: "GeminiGenerateContentResponse" })
export interface GenerateContentResponse extends Schema.Schema.Type<typeof GenerateContentResponse> {}

/** An error body: `{"error":{"code":429,"message":"...","status":"RESOURCE_EXHAUSTED","details":[...]}}`. */
export const ErrorBody = Schema.Struct({
  error: Schema.Struct({
    code: Schema.Number,
    message: Schema.String,
    status: Schema.String,
    details: Schema.optional(Schema.Array(Schema.Unknown))
  })
})

/** How requests are translated for Gemini. A value: compare it, log it. */
export const TranslationOptions = Schema.Struct({
  /** The `thinkingBudget` for each `reasoning_effort` (0 turns thinking off where the model allows it). */
  thinkingBudgets: Schema.Record({ key: Schema.String, value: Schema.Int.pipe(Schema.nonNegative()) }),
  /** Unsupported parameters to drop rather than reject (`drop_unsupported_params`). */
  dropUnsupportedParams: Schema.Union(Schema.Boolean, Schema.Array(Schema.String))
}).annotations({ identifier: "GeminiTranslationOptions" })
export interface TranslationOptions extends Schema.Schema.Type<typeof TranslationOptions> {}

/** The defaults: budgets none 0, minimal 512, low 1024, medium 8192, high 24576; nothing dropped. */
export const defaultTranslationOptions: TranslationOptions = {
  thinkingBudgets: { none: 0, minimal: 512, low: 1024, medium: 8192, high: 24576 },
  dropUnsupportedParams: false
}


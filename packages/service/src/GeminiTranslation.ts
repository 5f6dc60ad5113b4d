import {
  type ChatCompletion,
  type ChatCompletionChoice,
  type ChatCompletionChunk,
  type ChatCompletionMessageFunctionToolCall,
  type ChatCompletionMessageToolCall,
  type ChatCompletionRequest,
  type ChatCompletionTokenLogprob,
  type ChoiceLogprobs,
  type CompletionUsage,
  ContentFiltered,
  type FinishReason,
  type GatewayError,
  Sse,
  UpstreamBadResponse,
  UpstreamUnavailable
} from "@switchyard/core"
import { Either, Schema } from "effect"
import type { Step, StreamParser } from "./ChunkStream.js"
import { fromStreamError } from "./UpstreamErrors.js"
import {
  type ChunkBase,
  choiceChunk,
  extraDelta,
  ParamGuard,
  parseDataUrl,
  randomId,
  stopList,
  textParts,
  toolArguments,
  badUpstream
} from "./VendorTranslation.js"

// ---------------------------------------------------------------------------
// The wire format of the Gemini API (`models/{model}:generateContent` and
// `:streamGenerateContent?alt=sse`), as far as the gateway writes and reads it.
// ---------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------
// Request: OpenAI → Gemini
// ---------------------------------------------------------------------------

type MutableContent = { role: "user" | "model"; parts: Array<Part> }

const isPlainObject = (u: unknown): u is Record<string, unknown> =>
  typeof u === "object" && u !== null && !Array.isArray(u)

/**
 * A tool message's content as a `functionResponse.response` (which must be an
 * object): the JSON object itself when the content is exactly one, otherwise
 * `{"content": <text>}`. Both read back to the same text.
 */
export const functionResponseOf = (text: string): Record<string, unknown> => {
  if (text.startsWith("{")) {
    try {
      const value: unknown = JSON.parse(text)
      if (isPlainObject(value) && JSON.stringify(value) === text) {
        const keys = Object.keys(value)
        if (!(keys.length === 1 && keys[0] === "content" && typeof value.content === "string")) return value
      }
    } catch {
      // Not JSON: wrapped below.
    }
  }
  return { content: text }
}

const AUDIO_TYPES: Record<string, string> = { wav: "audio/wav", mp3: "audio/mp3" }

const userParts = (
  guard: ParamGuard,
  at: string,
  content: Extract<ChatCompletionRequest["messages"][number], { role: "user" }>["content"]
): Array<Part> => {
  if (typeof content === "string") return [{ text: content }]
  const parts: Array<Part> = []
  content.forEach((part, j) => {
    const param = `${at}.content[${j}]`
    switch (part.type) {
      case "text":
        parts.push({ text: part.text })
        return
      case "image_url": {
        const detail = part.image_url.detail
        if (detail != null && detail !== "auto") guard.unsupported(`${param}.image_url.detail`, "Gemini has no per-image detail setting")
        const data = parseDataUrl(part.image_url.url)
        if (data === undefined) {
          guard.unsupported(`${param}.image_url.url`, "Gemini takes images inline: send a base64 data: URL")
          return
        }
        parts.push({ inlineData: { mimeType: data.mediaType, data: data.data } })
        return
      }
      case "input_audio":
        parts.push({ inlineData: { mimeType: AUDIO_TYPES[part.input_audio.format]!, data: part.input_audio.data } })
        return
      case "file": {
        if (part.file.file_data == null) {
          guard.unsupported(`${param}.file.file_id`, "Gemini cannot read OpenAI file ids: send file_data")
          return
        }
        const data = parseDataUrl(part.file.file_data)
        if (data === undefined) return guard.invalid(`${param}.file.file_data`, `${param}.file.file_data must be a base64 data: URL`)
        parts.push({ inlineData: { mimeType: data.mediaType, data: data.data } })
        return
      }
    }
  })
  return parts
}

/** The thought signature Gemini attached to a function call, where OpenAI clients keep it (as Google's own compatibility layer does). */
const thoughtSignatureOf = (call: object): string | undefined => {
  const extra = (call as { extra_content?: { google?: { thought_signature?: unknown } } }).extra_content
  const signature = extra?.google?.thought_signature
  return typeof signature === "string" ? signature : undefined
}

/**
 * Translates a chat completion request into a Gemini `generateContent`
 * request (the model goes in the URL). Fails with `UnsupportedParameter`
 * (naming the parameter) for anything Gemini cannot honour, unless the
 * options drop it, and with `InvalidRequest` for requests that are wrong
 * whatever the vendor.
 */
export const toGeminiRequest = (
  request: ChatCompletionRequest,
  options: TranslationOptions = defaultTranslationOptions,
  vendor = "gemini"
): Either.Either<GenerateContentRequest, GatewayError> =>
  ParamGuard.run(() => {
    const guard = new ParamGuard(vendor, options.dropUnsupportedParams)
    const r = request
    guard.unknownFields(r)
    if (r.audio != null) guard.unsupported("audio", "the gateway does not translate Gemini's audio output")
    if (r.modalities != null && r.modalities.includes("audio")) guard.unsupported("modalities", "the gateway does not translate Gemini's audio output")
    if (r.prediction != null) guard.unsupported("prediction", "Gemini has no predicted outputs")
    if (r.logit_bias != null && Object.keys(r.logit_bias).length > 0) guard.unsupported("logit_bias", "Gemini has no logit bias")
    if (r.store === true) guard.unsupported("store", "Gemini does not store completions")
    if (r.user != null) guard.unsupported("user", "Gemini has no end-user id")
    if (r.metadata != null && Object.keys(r.metadata).length > 0) guard.unsupported("metadata", "Gemini has no request metadata")
    if (r.functions != null) guard.unsupported("functions", "deprecated: use tools")
    if (r.function_call != null) guard.unsupported("function_call", "deprecated: use tool_choice")

    const system: Array<Part> = []
    const contents: Array<MutableContent> = []
    const callNames = new Map<string, string>()
    const push = (role: MutableContent["role"], parts: Array<Part>) => {
      if (parts.length === 0) return
      const last = contents[contents.length - 1]
      if (last !== undefined && last.role === role) last.parts.push(...parts)
      else contents.push({ role, parts })
    }
    r.messages.forEach((message, i) => {
      const at = `messages[${i}]`
      if ("name" in message && message.name != null) guard.unsupported(`${at}.name`, "Gemini has no participant names")
      switch (message.role) {
        case "system":
        case "developer":
          for (const text of textParts(message.content)) system.push({ text })
          return
        case "user":
          push("user", userParts(guard, at, message.content))
          return
        case "assistant": {
          if (message.audio != null) guard.unsupported(`${at}.audio`, "the gateway does not translate Gemini's audio output")
          if (message.function_call != null) guard.unsupported(`${at}.function_call`, "deprecated: use tool_calls")
          const parts: Array<Part> = []
          const content = message.content
          if (typeof content === "string") {
            if (content.length > 0) parts.push({ text: content })
          } else if (content != null) {
            for (const part of content) {
              const text = part.type === "text" ? part.text : part.refusal
              if (text.length > 0) parts.push({ text })
            }
          }
          if ((content == null || content.length === 0) && message.refusal != null && message.refusal.length > 0) {
            parts.push({ text: message.refusal })
          }
          message.tool_calls?.forEach((call, k) => {
            if (call.type !== "function") {
              guard.unsupported(`${at}.tool_calls[${k}]`, "Gemini has no custom tools")
              return
            }
            callNames.set(call.id, call.function.name)
            const signature = thoughtSignatureOf(call)
            parts.push({
              functionCall: {
                name: call.function.name,
                args: toolArguments(guard, `${at}.tool_calls[${k}].function.arguments`, call.function.arguments)
              },
              ...(signature !== undefined ? { thoughtSignature: signature } : {})
            })
          })
          push("model", parts)
          return
        }
        case "tool": {
          const name = callNames.get(message.tool_call_id)
          if (name === undefined) {
            return guard.invalid(
              `${at}.tool_call_id`,
              `${at}.tool_call_id \`${message.tool_call_id}\` answers no tool call of an earlier assistant message`
            )
          }
          push("user", [{ functionResponse: { name, response: functionResponseOf(textParts(message.content).join("")) } }])
          return
        }
        case "function":
          guard.unsupported(at, "function messages are deprecated: use tool messages")
          return
      }
    })

    // Tools.
    let declarations: Array<FunctionDeclaration> | undefined
    let toolConfig: ToolConfig | undefined
    if (r.tools != null && r.tools.length > 0) {
      declarations = []
      r.tools.forEach((tool, i) => {
        if (tool.type !== "function") {
          guard.unsupported(`tools[${i}].custom`, "Gemini has no custom (free-text) tools")
          return
        }
        const fn = tool.function
        declarations!.push({
          name: fn.name,
          ...(fn.description != null ? { description: fn.description } : {}),
          ...(fn.parameters != null ? { parametersJsonSchema: fn.parameters } : {})
        })
      })
    }
    const choice = r.tool_choice
    if (choice != null) {
      const mode = (mode: ToolConfig["functionCallingConfig"]["mode"], names?: Array<string>): ToolConfig => ({
        functionCallingConfig: { mode, ...(names !== undefined ? { allowedFunctionNames: names } : {}) }
      })
      if (choice === "auto") toolConfig = mode("AUTO")
      else if (choice === "none") toolConfig = mode("NONE")
      else if (choice === "required") toolConfig = mode("ANY")
      else if (choice.type === "function") toolConfig = mode("ANY", [choice.function.name])
      else if (choice.type === "allowed_tools") {
        const allowed = new Set(choice.allowed_tools.tools.flatMap((tool) => {
          const fn = tool.function
          const name = typeof fn === "object" && fn !== null ? (fn as { name?: unknown }).name : tool.name
          return typeof name === "string" ? [name] : []
        }))
        declarations = declarations?.filter((declaration) => allowed.has(declaration.name))
        toolConfig = mode(choice.allowed_tools.mode === "required" ? "ANY" : "AUTO")
      } else guard.unsupported("tool_choice", "Gemini has no custom tools")
    }
    if (r.parallel_tool_calls === false && declarations !== undefined && declarations.length > 0) {
      guard.unsupported("parallel_tool_calls", "Gemini cannot be told to call one function at a time")
    }

    // Generation config.
    const config: { -readonly [K in keyof GenerationConfig]?: GenerationConfig[K] } = {}
    if (r.temperature != null) config.temperature = r.temperature
    if (r.top_p != null) config.topP = r.top_p
    if (r.top_k != null) config.topK = r.top_k
    const maxTokens = r.max_completion_tokens ?? r.max_tokens
    if (maxTokens != null) config.maxOutputTokens = maxTokens
    const stop = stopList(r.stop)
    if (stop !== undefined && stop.length > 0) config.stopSequences = stop
    if (r.n != null && r.n > 1) config.candidateCount = r.n
    if (r.seed != null) config.seed = r.seed
    if (r.presence_penalty != null) config.presencePenalty = r.presence_penalty
    if (r.frequency_penalty != null) config.frequencyPenalty = r.frequency_penalty
    const format = r.response_format
    if (format != null && format.type !== "text") {
      config.responseMimeType = "application/json"
      if (format.type === "json_schema" && format.json_schema.schema != null) config.responseJsonSchema = format.json_schema.schema
    }
    if (r.logprobs === true) {
      config.responseLogprobs = true
      if (r.top_logprobs != null && r.top_logprobs > 0) config.logprobs = r.top_logprobs
    } else if (r.top_logprobs != null && r.top_logprobs > 0) {
      guard.invalid("top_logprobs", "top_logprobs requires logprobs: true")
    }
    const effort = r.reasoning_effort
    if (effort != null) {
      const budget = options.thinkingBudgets[effort]
      if (budget === undefined) {
        guard.unsupported("reasoning_effort", `unknown value \`${effort}\`; use one of ${Object.keys(options.thinkingBudgets).join(", ")}`)
      } else {
        config.thinkingConfig = budget > 0 ? { thinkingBudget: budget, includeThoughts: true } : { thinkingBudget: 0 }
      }
    }

    return {
      contents,
      ...(system.length > 0 ? { systemInstruction: { parts: system } } : {}),
      ...(declarations !== undefined && declarations.length > 0 ? { tools: [{ functionDeclarations: declarations }] } : {}),
      ...(toolConfig !== undefined && (declarations?.length ?? 0) > 0 ? { toolConfig } : {}),
      ...(Object.keys(config).length > 0 ? { generationConfig: config } : {})
    }
  })

// ---------------------------------------------------------------------------
// Response: Gemini → OpenAI
// ---------------------------------------------------------------------------

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

const toolCallOf = (part: Part & { readonly functionCall: typeof FunctionCall.Type }): ChatCompletionMessageFunctionToolCall => ({
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

const blocked = (vendor: string, reason: string) =>
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
        ? blocked(context.vendor, reason)
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

// ---------------------------------------------------------------------------
// Stream: Gemini events → OpenAI chunks
// ---------------------------------------------------------------------------

interface CandidateState {
  tools: number
  finished: boolean
  roleSent: boolean
  contentSet: boolean
}

/** The role chunk of a candidate, if not sent yet: before thoughts, without content (a function call may follow). */
const openRole = (base: ChunkBase, index: number, state: CandidateState, out: Array<ChatCompletionChunk>): void => {
  if (state.roleSent) return
  state.roleSent = true
  out.push(choiceChunk(base, index, { role: "assistant" }))
}

/** Marks a candidate as having content: the role chunk with `content: ""`, or an empty content delta after a role-only one. */
const openContent = (base: ChunkBase, index: number, state: CandidateState, out: Array<ChatCompletionChunk>): void => {
  if (state.contentSet) return
  state.contentSet = true
  out.push(choiceChunk(base, index, state.roleSent ? { content: "" } : { role: "assistant", content: "" }))
  state.roleSent = true
}

/** Options of a stream translation. */
export interface StreamContext extends ResponseContext {
  /** End with a usage chunk (`stream_options.include_usage`). */
  readonly includeUsage: boolean
}

/**
 * Translates the events of `streamGenerateContent` (each a partial
 * `GenerateContentResponse`) into OpenAI chunks, statefully: per candidate
 * the role first (as OpenAI sends it: `content: ""` before text,
 * `content: null` with a first tool call), then its text, thoughts and
 * function calls (each call whole, with a generated id), then its finish
 * reason; a usage chunk when the body ends, if asked for.
 */
export class GeminiStreamTranslator {
  private base: ChunkBase | undefined
  private readonly candidates = new Map<number, CandidateState>()
  private usage: UsageMetadata | undefined

  constructor(readonly context: StreamContext) {}

  /** Translates one event, appending chunks to `out`; returns a typed error if the event is one. */
  event(data: unknown, out: Array<ChatCompletionChunk>): GatewayError | undefined {
    if (!isPlainObject(data)) return this.bad("an event that is not an object", data)
    if (data.error !== undefined) return fromStreamError(this.context.vendor, data.error)
    const response = data as GenerateContentResponse
    const base = this.base ??= {
      id: typeof response.responseId === "string" ? response.responseId : randomId("chatcmpl-"),
      object: "chat.completion.chunk",
      created: this.context.created,
      model: typeof response.modelVersion === "string" ? response.modelVersion : this.context.model
    }
    if (response.usageMetadata !== undefined) this.usage = response.usageMetadata
    const candidates = response.candidates
    if (candidates === undefined || candidates.length === 0) {
      const reason = response.promptFeedback?.blockReason
      return reason !== undefined ? blocked(this.context.vendor, reason) : undefined
    }
    for (let i = 0; i < candidates.length; i++) {
      const candidate = candidates[i]!
      const index = candidate.index ?? i
      let state = this.candidates.get(index)
      if (state === undefined) {
        state = { tools: 0, finished: false, roleSent: false, contentSet: false }
        this.candidates.set(index, state)
      }
      let logprobs = logprobsOf(candidate.logprobsResult)
      for (const part of candidate.content?.parts ?? []) {
        if (part.functionCall !== undefined) {
          const call = { index: state.tools++, ...toolCallOf(part as Parameters<typeof toolCallOf>[0]) }
          // Like OpenAI: a first chunk that is a tool call carries the role, and no content.
          out.push(choiceChunk(base, index, state.roleSent ? { tool_calls: [call] } : { role: "assistant", content: null, tool_calls: [call] }))
          state.roleSent = true
        } else if (part.text !== undefined) {
          if (part.thought === true) {
            openRole(base, index, state, out)
            if (part.text.length > 0) out.push(choiceChunk(base, index, extraDelta("reasoning_content", part.text)))
          } else {
            openContent(base, index, state, out)
            if (part.text.length > 0) {
              out.push(choiceChunk(base, index, { content: part.text }, null, logprobs))
              logprobs = null
            }
          }
        }
      }
      if (candidate.finishReason !== undefined && !state.finished) {
        state.finished = true
        // A candidate with neither text nor function calls has the content "", as when not streamed.
        if (!state.contentSet && state.tools === 0) openContent(base, index, state, out)
        out.push(choiceChunk(base, index, {}, finishReasonOf(candidate.finishReason, state.tools > 0)))
      }
    }
    return undefined
  }

  /** The end of the body: complete if every candidate finished; then the usage chunk, if asked for. */
  end(out: Array<ChatCompletionChunk>): GatewayError | undefined {
    let finished = this.candidates.size > 0
    for (const state of this.candidates.values()) finished &&= state.finished
    if (!finished) {
      const vendor = this.context.vendor
      return new UpstreamUnavailable({ vendor, message: `Upstream \`${vendor}\` ended the stream before it was complete` })
    }
    if (this.context.includeUsage && this.usage !== undefined && this.base !== undefined) {
      out.push({ ...this.base, choices: [], usage: usageOf(this.usage) })
    }
    return undefined
  }

  private bad(what: string, data: unknown): UpstreamBadResponse {
    return badUpstream(this.context.vendor, what, data)
  }
}

const NO_CHUNKS: Array<ChatCompletionChunk> = []

/** Gemini's SSE body (`alt=sse`) → chunks: an `SseDecoder` and a `GeminiStreamTranslator`. */
export class GeminiStreamParser implements StreamParser {
  private readonly sse = new Sse.SseDecoder({ maxBufferSize: 16 * 1024 * 1024 })
  readonly translator: GeminiStreamTranslator

  constructor(context: StreamContext) {
    this.translator = new GeminiStreamTranslator(context)
  }

  push = (bytes: Uint8Array): Step => this.handle(this.sse.push(bytes))

  end = (): Step => {
    const step = this.handle(this.sse.end())
    if (step.error !== undefined || step.done) return step
    const chunks = [...step.chunks]
    const error = this.translator.end(chunks)
    return { chunks, done: error === undefined, error }
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
      const error = this.translator.event(json, chunks)
      if (error !== undefined) return { chunks, done: false, error }
    }
    return { chunks, done: false, error: undefined }
  }

  private bad(what: string, data: string): UpstreamBadResponse {
    const vendor = this.translator.context.vendor
    return badUpstream(vendor, what, data)
  }
}

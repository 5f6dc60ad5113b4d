/**
 * Streams, Gemini → OpenAI: the events of `streamGenerateContent` (each a
 * partial response) as chat completion chunks.
 */
import type { ChatCompletionChunk, GatewayError } from "@switchyard/core"
import { type EventTranslator, SseStreamParser } from "../../transport/ChunkStream.js"
import { badUpstream, fromStreamError, streamCutShort } from "../../transport/UpstreamErrors.js"
import {
  type ChoiceOpening,
  type ChunkBase,
  choiceChunk,
  extraDelta,
  isJsonObject,
  openContent,
  openRole,
  openToolCall,
  randomId
} from "../VendorTranslation.js"
import {
  finishReasonOf,
  logprobsOf,
  promptBlocked,
  type ResponseContext,
  toolCallOf,
  usageOf
} from "./GeminiResponse.js"
import type { GenerateContentResponse, UsageMetadata } from "./GeminiSchemas.js"

interface CandidateState extends ChoiceOpening {
  tools: number
  finished: boolean
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
 * reason; a usage chunk when the body ends, if asked for. `GeminiStreamParser`
 * feeds it an SSE body.
 */
export class GeminiStreamTranslator implements EventTranslator {
  private base: ChunkBase | undefined
  private readonly candidates = new Map<number, CandidateState>()
  private usage: UsageMetadata | undefined
  /** Gemini marks no end in the stream: the end of the body is the end of the answer. */
  readonly complete = false

  constructor(readonly context: StreamContext) {}

  /** Translates one event, appending chunks to `out`; returns a typed error if the event is one. */
  event(data: unknown, out: Array<ChatCompletionChunk>): GatewayError | undefined {
    if (!isJsonObject(data)) return badUpstream(this.context.vendor, "an event that is not an object", data)
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
      return reason !== undefined ? promptBlocked(this.context.vendor, reason) : undefined
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
          openToolCall(base, index, state, { index: state.tools++, ...toolCallOf(part as Parameters<typeof toolCallOf>[0]) }, out)
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
      return streamCutShort(this.context.vendor)
    }
    if (this.context.includeUsage && this.usage !== undefined && this.base !== undefined) {
      out.push({ ...this.base, choices: [], usage: usageOf(this.usage) })
    }
    return undefined
  }
}

/** Gemini's SSE body (`alt=sse`) → chunks: an SSE decoder and a `GeminiStreamTranslator`. */
export class GeminiStreamParser extends SseStreamParser {
  declare readonly translator: GeminiStreamTranslator

  constructor(context: StreamContext) {
    super(context.vendor, new GeminiStreamTranslator(context))
  }
}

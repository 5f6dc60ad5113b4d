/**
 * Streams, Anthropic → OpenAI: the events of a streamed message as chat
 * completion chunks.
 */
import type { ChatCompletionChunk, GatewayError, Sse } from "@switchyard/core"
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
  openToolCall
} from "../VendorTranslation.js"
import type { RedactedThinkingBlock, ThinkingBlock, Usage } from "./AnthropicSchemas.js"
import { finishReasonOf, type ResponseContext, usageOf } from "./AnthropicResponse.js"

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

/**
 * Translates Anthropic's streamed events into OpenAI chunks, statefully and
 * synchronously: the role first (with the first content block, as OpenAI
 * sends it: `content: ""` before text, `content: null` with a first tool
 * call), text, tool calls by index with their ids and argument pieces,
 * thinking as `reasoning_content`,
 * the finish reason (at `message_delta`), and a usage chunk at
 * `message_stop` when asked. An `error` event ends the stream with its typed
 * error. `AnthropicStreamParser` feeds it an SSE body.
 */
export class AnthropicStreamTranslator implements EventTranslator {
  private base: ChunkBase
  private readonly blocks = new Map<number, BlockState>()
  private readonly thinkingBlocks: Array<ThinkingBlock | RedactedThinkingBlock> = []
  private tools = 0
  private usage: Partial<Usage> = {}
  private finished = false
  private stopped = false
  private readonly choice: ChoiceOpening = { roleSent: false, contentSet: false }
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
   * The SSE `event:` name stands in for a `type` the data leaves out.
   */
  event(json: unknown, out: Array<ChatCompletionChunk>, sse?: Sse.SseEvent): GatewayError | undefined {
    if (!isJsonObject(json)) return badUpstream(this.context.vendor, "an event that is not an object", json)
    const data = json.type === undefined && sse?.event !== undefined ? { ...json, type: sse.event } : json
    switch (data.type) {
      case "message_start": {
        const message = data.message
        if (!isJsonObject(message) || typeof message.id !== "string") return badUpstream(this.context.vendor, "a message_start without a message", data)
        this.base = {
          ...this.base,
          id: message.id,
          model: typeof message.model === "string" ? message.model : this.context.model
        }
        if (isJsonObject(message.usage)) this.usage = { ...(message.usage as Partial<Usage>) }
        return undefined
      }
      case "content_block_start": {
        const block = data.content_block
        const index = data.index
        if (!isJsonObject(block) || typeof index !== "number") return badUpstream(this.context.vendor, "a content_block_start without a block", data)
        switch (block.type) {
          case "text":
            this.blocks.set(index, { kind: "text" })
            openContent(this.base, 0, this.choice, out)
            if (typeof block.text === "string" && block.text.length > 0) out.push(choiceChunk(this.base, 0, { content: block.text }))
            return undefined
          case "tool_use": {
            if (typeof block.id !== "string" || typeof block.name !== "string") return badUpstream(this.context.vendor, "a tool_use block without id or name", data)
            if (block.name === this.context.jsonTool) {
              this.blocks.set(index, { kind: "json" })
              this.structured = true
              openContent(this.base, 0, this.choice, out)
              return undefined
            }
            const tool = this.tools++
            this.blocks.set(index, { kind: "tool", index: tool })
            const call = { index: tool, id: block.id, type: "function" as const, function: { name: block.name, arguments: "" } }
            openToolCall(this.base, 0, this.choice, call, out)
            return undefined
          }
          case "thinking": {
            const thinking = typeof block.thinking === "string" ? block.thinking : ""
            this.blocks.set(index, { kind: "thinking", thinking, signature: typeof block.signature === "string" ? block.signature : "" })
            openRole(this.base, 0, this.choice, out)
            if (thinking.length > 0) out.push(choiceChunk(this.base, 0, extraDelta("reasoning_content", thinking)))
            return undefined
          }
          case "redacted_thinking":
            this.blocks.set(index, OTHER)
            openRole(this.base, 0, this.choice, out)
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
        if (!isJsonObject(delta) || block === undefined) return badUpstream(this.context.vendor, "a content_block_delta of no open block", data)
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
        if (isJsonObject(data.usage)) this.usage = { ...this.usage, ...(data.usage as Partial<Usage>) }
        const delta = data.delta
        if (isJsonObject(delta) && typeof delta.stop_reason === "string") {
          this.finished = true
          // An answer with neither text nor tool calls has the content "", as when not streamed.
          if (!this.choice.contentSet && this.tools === 0) openContent(this.base, 0, this.choice, out)
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
        return fromStreamError(this.context.vendor, isJsonObject(data.error) ? data.error : data)
      default:
        // ping, and event types added later (Anthropic's versioning policy says to ignore them).
        return undefined
    }
  }

  /**
   * The end of the body before `message_stop`: if the stop reason came, the
   * answer is whole (only its end is missing) and the usage chunk follows;
   * otherwise the stream was cut short.
   */
  end(out: Array<ChatCompletionChunk>): GatewayError | undefined {
    if (!this.finished) return streamCutShort(this.context.vendor)
    this.usageChunk(out)
    return undefined
  }

  /** The usage chunk, if asked for. */
  usageChunk(out: Array<ChatCompletionChunk>): void {
    if (this.context.includeUsage) out.push({ ...this.base, choices: [], usage: usageOf(this.usage) })
  }
}

/** Anthropic's SSE body → chunks: an SSE decoder and an `AnthropicStreamTranslator`. */
export class AnthropicStreamParser extends SseStreamParser {
  declare readonly translator: AnthropicStreamTranslator

  constructor(context: StreamContext) {
    super(context.vendor, new AnthropicStreamTranslator(context))
  }
}

import {
  type ChatCompletionChunk,
  type GatewayError,
  looksLikeChunk,
  Sse,
  UpstreamBadResponse,
  UpstreamUnavailable
} from "@switchyard/core"
import { Chunk, Effect, Option, type Scope, Stream } from "effect"
import type { ChunkPull } from "./Provider.js"
import { excerpt, fromStreamError } from "./UpstreamErrors.js"

/** The outcome of feeding some bytes to a stream parser. */
export interface Step {
  readonly chunks: Array<ChatCompletionChunk>
  readonly error: GatewayError | undefined
  /** The stream is complete: the rest of the body, if any, is not read. */
  readonly done: boolean
}

/**
 * A synchronous, stateful parser of a vendor's streamed body into chat
 * completion chunks: OpenAI's SSE here, Anthropic's and Gemini's events in
 * their providers. One per stream.
 */
export interface StreamParser {
  /** Feeds bytes. */
  readonly push: (bytes: Uint8Array) => Step
  /** Ends the body: whatever is still buffered is handled, and a stream cut before its end is an error. */
  readonly end: () => Step
}

/**
 * Turns an OpenAI-style SSE body into chunks: stops at `data: [DONE]`, turns
 * in-band `{"error":...}` events into typed errors, and anything that is not
 * a chunk into a bad-response error. Plain and synchronous, for the hot path.
 */
export class ChunkStreamParser implements StreamParser {
  private readonly sse = new Sse.SseDecoder({ maxBufferSize: 16 * 1024 * 1024 })
  private finished = false

  constructor(readonly vendor: string) {}

  /** Whether a choice has reported its finish reason (a clean end without `[DONE]` is then acceptable). */
  get sawFinish(): boolean {
    return this.finished
  }

  /** Feeds bytes. */
  push(bytes: Uint8Array): Step {
    return this.handle(this.sse.push(bytes))
  }

  /** Ends the body: a complete last event is still handled; a stream cut before its end is an error. */
  end(): Step {
    const step = this.handle(this.sse.end())
    if (step.error !== undefined || step.done || this.finished) return step
    return {
      chunks: step.chunks,
      done: false,
      error: new UpstreamUnavailable({
        vendor: this.vendor,
        message: `Upstream \`${this.vendor}\` ended the stream before it was complete`
      })
    }
  }

  private handle(events: ReadonlyArray<Sse.SseEvent>): Step {
    const chunks: Array<ChatCompletionChunk> = []
    if (this.sse.error !== undefined) {
      return { chunks, done: false, error: this.bad(`an oversized SSE event (${this.sse.error})`, "") }
    }
    for (const event of events) {
      const data = event.data
      if (data === "[DONE]") return { chunks, done: true, error: undefined }
      if (data.length === 0) continue
      let json: unknown
      try {
        json = JSON.parse(data)
      } catch {
        return { chunks, done: false, error: this.bad("an event that is not JSON", data) }
      }
      if (looksLikeChunk(json)) {
        for (const choice of json.choices) {
          if (choice.finish_reason != null) this.finished = true
        }
        chunks.push(json)
        continue
      }
      if (event.event === "error" || (typeof json === "object" && json !== null && "error" in json)) {
        const error = (json as { error?: unknown }).error ?? json
        return { chunks, done: false, error: fromStreamError(this.vendor, error) }
      }
      return { chunks, done: false, error: this.bad("an event that is not a chat.completion.chunk", data) }
    }
    return { chunks, done: false, error: undefined }
  }

  private bad(what: string, data: string): UpstreamBadResponse {
    return new UpstreamBadResponse({
      vendor: this.vendor,
      message: `Upstream \`${this.vendor}\` sent ${what}`,
      excerpt: excerpt(data)
    })
  }
}

/**
 * Decodes a streamed body with a parser, as a pull over a source of body pieces
 * (`null` at the end of the body): each pull reads until it has chunks to
 * return, `null` once the stream is complete. A failure after some chunks is
 * held back until those chunks have been returned.
 */
export const pullWith = (
  parser: StreamParser,
  next: Effect.Effect<Uint8Array | null, GatewayError>
): ChunkPull => {
  let finished = false
  let pending: GatewayError | undefined
  const pull: ChunkPull = Effect.suspend(() => {
    if (pending !== undefined) {
      const error = pending
      pending = undefined
      finished = true
      return Effect.fail(error)
    }
    if (finished) return Effect.succeed(null)
    return Effect.flatMap(next, (bytes) => {
      const step = bytes === null ? parser.end() : parser.push(bytes)
      if (bytes === null || step.done) finished = true
      if (step.error !== undefined) {
        if (step.chunks.length === 0) {
          finished = true
          return Effect.fail(step.error)
        }
        pending = step.error
        return Effect.succeed(step.chunks)
      }
      if (step.chunks.length > 0) return Effect.succeed(step.chunks)
      return finished ? Effect.succeed(null) : pull
    })
  })
  return pull
}

/** A pull that returns `chunks` once, then ends. */
export const pullOf = (chunks: ReadonlyArray<ChatCompletionChunk>): ChunkPull => {
  let sent = chunks.length === 0
  return Effect.sync(() => {
    if (sent) return null
    sent = true
    return chunks
  })
}

/** The stream of an opened pull: for library users of `Provider.stream`, built once per call. */
export const toStream = (
  opened: Effect.Effect<ChunkPull, GatewayError, Scope.Scope>
): Stream.Stream<ChatCompletionChunk, GatewayError> =>
  Stream.unwrapScoped(Effect.map(opened, (pull) =>
    Stream.repeatEffectChunkOption(
      Effect.matchEffect(pull, {
        onFailure: (error) => Effect.fail(Option.some(error)),
        onSuccess: (batch) => batch === null ? Effect.fail(Option.none()) : Effect.succeed(Chunk.unsafeFromArray(batch))
      })
    )))

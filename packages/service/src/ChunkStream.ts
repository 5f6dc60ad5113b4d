import {
  type ChatCompletionChunk,
  type GatewayError,
  looksLikeChunk,
  Sse,
  UpstreamBadResponse,
  UpstreamUnavailable
} from "@switchyard/core"
import { Channel, Chunk, Stream } from "effect"
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

const emit = (chunks: Array<ChatCompletionChunk>) =>
  chunks.length === 0 ? Channel.void : Channel.write(Chunk.unsafeFromArray(chunks))

/**
 * Runs a byte stream through a fresh parser: one channel step per batch of
 * bytes, no fiber or Effect per chunk. The stream ends when the parser says it
 * is done, fails with the parser's error after the chunks before it, and
 * otherwise asks the parser at the end of the body whether it was complete.
 */
export const decodeWith = (makeParser: () => StreamParser) =>
<E, R>(bytes: Stream.Stream<Uint8Array, E, R>): Stream.Stream<ChatCompletionChunk, E | GatewayError, R> =>
  Stream.suspend(() => {
    const parser = makeParser()
    const finish = (step: Step) =>
      step.error !== undefined ? Channel.zipRight(emit(step.chunks), Channel.fail(step.error)) : emit(step.chunks)
    const loop: Channel.Channel<
      Chunk.Chunk<ChatCompletionChunk>,
      Chunk.Chunk<Uint8Array>,
      E | GatewayError,
      E,
      void,
      unknown
    > = Channel.readWithCause({
      onInput: (input: Chunk.Chunk<Uint8Array>) => {
        let chunks: Array<ChatCompletionChunk> = []
        for (const bytes of input) {
          const step = parser.push(bytes)
          chunks = chunks.length === 0 ? step.chunks : chunks.concat(step.chunks)
          if (step.error !== undefined) return finish({ ...step, chunks })
          // The stream ends when the parser says so, whether or not the upstream ends the body.
          if (step.done) return emit(chunks)
        }
        return Channel.zipRight(emit(chunks), loop)
      },
      onFailure: (cause) => Channel.failCause(cause),
      onDone: () => finish(parser.end())
    })
    return bytes.pipe(Stream.pipeThroughChannelOrFail(loop))
  })

/** Decodes an OpenAI-style SSE byte stream into chat completion chunks. */
export const decodeChunkStream = (vendor: string) => decodeWith(() => new ChunkStreamParser(vendor))

/**
 * Streamed answers, from bytes to chunks: the `StreamParser` of a vendor's
 * body (an SSE decoder and the vendor's event translator), the `ChunkPull`
 * over it that the hot path relays, and the one place where a pull becomes an
 * Effect `Stream` (and back). Plain and synchronous per chunk: no Effect step
 * per event.
 */
import { type ChatCompletionChunk, type GatewayError, looksLikeChunk, Sse } from "@switchyard/core"
import { Chunk, Effect, Option, type Scope, Stream } from "effect"
import type { ChunkPull } from "../Provider.js"
import { badUpstream, fromStreamError, streamCutShort } from "./UpstreamErrors.js"

/** The outcome of feeding some bytes to a stream parser. */
export interface Step {
  readonly chunks: Array<ChatCompletionChunk>
  readonly error: GatewayError | undefined
  /** The stream is complete: the rest of the body, if any, is not read. */
  readonly done: boolean
}

/** A synchronous, stateful parser of a vendor's streamed body into chat completion chunks. One per stream. */
export interface StreamParser {
  /** Feeds bytes. */
  readonly push: (bytes: Uint8Array) => Step
  /** Ends the body: whatever is still buffered is handled, and a stream cut before its end is an error. */
  readonly end: () => Step
}

/**
 * What a vendor fills in to read its stream: the translation of one event
 * (the JSON `data` of an SSE event) into chunks, and of the end of the body.
 */
export interface EventTranslator {
  /**
   * Appends the chunks of one event (`data`: its parsed JSON; `sse`: the
   * event itself, its name and raw data) to `out`. A returned error (an
   * in-band error event, or a malformed one) ends the stream.
   */
  readonly event: (data: unknown, out: Array<ChatCompletionChunk>, sse?: Sse.SseEvent) => GatewayError | undefined
  /** Whether the answer is complete (the rest of the body is not read). */
  readonly complete: boolean
  /** The body ended before `complete`: appends any last chunks, or returns the error of a cut-short stream. */
  readonly end: (out: Array<ChatCompletionChunk>) => GatewayError | undefined
  /**
   * For a translator that relays chunks as they came: the `data` each chunk of
   * the batch just read was parsed from (by index in `out`), taken once per
   * batch (see `Sse.keepBatchData`).
   */
  readonly takeData?: () => Array<string | undefined> | undefined
}

const NO_CHUNKS: Array<ChatCompletionChunk> = []

/**
 * An SSE body read by an `EventTranslator`: events are decoded (an oversized
 * one, or one that is not JSON, is a bad response), an optional end marker
 * (`[DONE]`) completes the stream, and the body's end is the translator's.
 */
export class SseStreamParser implements StreamParser {
  private readonly sse = new Sse.SseDecoder({ maxBufferSize: 16 * 1024 * 1024 })

  constructor(
    readonly vendor: string,
    readonly translator: EventTranslator,
    /** The `data` of the event that ends the stream, if the vendor sends one (OpenAI's `[DONE]`). */
    private readonly endMarker?: string
  ) {}

  /** Feeds bytes. */
  push(bytes: Uint8Array): Step {
    return this.handle(this.sse.push(bytes))
  }

  /** Ends the body: a complete last event is still handled; then the translator judges the end. */
  end(): Step {
    const step = this.handle(this.sse.end())
    if (step.error !== undefined || step.done) return step
    const chunks = step.chunks === NO_CHUNKS ? [] : step.chunks
    const error = this.translator.end(chunks)
    return { chunks, done: error === undefined, error }
  }

  private handle(events: ReadonlyArray<Sse.SseEvent>): Step {
    if (this.sse.error !== undefined) {
      return { chunks: NO_CHUNKS, done: false, error: badUpstream(this.vendor, `an oversized SSE event (${this.sse.error})`, "") }
    }
    if (events.length === 0) return { chunks: NO_CHUNKS, done: false, error: undefined }
    const chunks: Array<ChatCompletionChunk> = []
    const step = this.translate(events, chunks)
    const data = this.translator.takeData?.()
    if (data !== undefined && chunks.length > 0) Sse.keepBatchData(chunks, data)
    return step
  }

  private translate(events: ReadonlyArray<Sse.SseEvent>, chunks: Array<ChatCompletionChunk>): Step {
    for (const event of events) {
      const data = event.data
      if (data.length === 0) continue
      if (data === this.endMarker) return { chunks, done: true, error: undefined }
      let json: unknown
      try {
        json = JSON.parse(data)
      } catch {
        return { chunks, done: false, error: badUpstream(this.vendor, "an event that is not JSON", data) }
      }
      const error = this.translator.event(json, chunks, event)
      if (error !== undefined) return { chunks, done: false, error }
      if (this.translator.complete) return { chunks, done: true, error: undefined }
    }
    return { chunks, done: false, error: undefined }
  }
}

/**
 * Events of OpenAI's wire format, which is also the contract's own: each a
 * `chat.completion.chunk`, checked and relayed as it is (its bytes too: see
 * `Sse.keepBatchData`); `{"error":...}` events are
 * typed errors; anything else is a bad response. A stream that ends without
 * `[DONE]` is complete if a choice reported its finish reason.
 */
class ChunkEvents implements EventTranslator {
  finished = false
  readonly complete = false
  private data: Array<string | undefined> | undefined

  takeData(): Array<string | undefined> | undefined {
    const data = this.data
    this.data = undefined
    return data
  }

  constructor(readonly vendor: string) {}

  event(json: unknown, out: Array<ChatCompletionChunk>, sse?: Sse.SseEvent): GatewayError | undefined {
    if (looksLikeChunk(json)) {
      for (const choice of json.choices) {
        if (choice.finish_reason != null) this.finished = true
      }
      // Relayed as it came, unless something rewrites it (a new batch then).
      if (sse !== undefined) (this.data ??= [])[out.length] = sse.data
      out.push(json)
      return undefined
    }
    if (sse?.event === "error" || (typeof json === "object" && json !== null && "error" in json)) {
      return fromStreamError(this.vendor, (json as { error?: unknown }).error ?? json)
    }
    return badUpstream(this.vendor, "an event that is not a chat.completion.chunk", sse?.data ?? json)
  }

  end(): GatewayError | undefined {
    return this.finished ? undefined : streamCutShort(this.vendor)
  }
}

/**
 * Turns an OpenAI-style SSE body into chunks: stops at `data: [DONE]`, turns
 * in-band `{"error":...}` events into typed errors, and anything that is not
 * a chunk into a bad-response error.
 */
export class ChunkStreamParser extends SseStreamParser {
  constructor(vendor: string) {
    super(vendor, new ChunkEvents(vendor), "[DONE]")
  }

  /** Whether a choice has reported its finish reason (a clean end without `[DONE]` is then acceptable). */
  get sawFinish(): boolean {
    return (this.translator as ChunkEvents).finished
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

/** A pull that returns `first` (a non-empty batch already read), then the batches of `rest`. */
export const pullAfter = (first: ReadonlyArray<ChatCompletionChunk>, rest: ChunkPull): ChunkPull => {
  let sent = false
  const head = Effect.sync(() => {
    sent = true
    return first
  })
  return Effect.suspend(() => sent ? rest : head)
}

/**
 * Scripted chunks on the Effect clock (so `TestClock` drives them): a pause
 * of `latencyMs` before the first, of `delayMs` before each later one (one
 * chunk per pull when paced, all at once otherwise), then `end` (by default
 * the end of the stream; a failure, or `Effect.never` for a stall).
 */
export const pullPaced = (
  chunks: ReadonlyArray<ChatCompletionChunk>,
  options: { readonly latencyMs?: number | undefined; readonly delayMs?: number | undefined },
  end: ChunkPull = Effect.succeed(null)
): ChunkPull => {
  const latency = options.latencyMs ?? 0
  const delay = options.delayMs ?? 0
  let next = 0
  const take: ChunkPull = Effect.suspend(() => {
    if (next >= chunks.length) return end
    if (delay <= 0) {
      const batch = next === 0 ? chunks : chunks.slice(next)
      next = chunks.length
      return Effect.succeed(batch)
    }
    const chunk = chunks[next++]!
    return next === 1 ? Effect.succeed([chunk]) : Effect.as(Effect.sleep(delay), [chunk])
  })
  let started = latency <= 0
  return Effect.suspend(() => {
    if (started) return take
    started = true
    return Effect.zipRight(Effect.sleep(latency), take)
  })
}

/**
 * The Effect `Stream` of an opened pull, for library users (`Provider.stream`,
 * `ChatCompletions.stream`): the only place a pull becomes a stream.
 */
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

/**
 * A pull over an Effect `Stream`, living in the scope: for sources that are
 * streams (a provider written with `Stream`, the service's fan-out of `n`
 * calls). The only place a stream becomes a pull.
 */
export const fromStream = <E>(
  stream: Stream.Stream<ChatCompletionChunk, E>
): Effect.Effect<Effect.Effect<ReadonlyArray<ChatCompletionChunk> | null, E>, never, Scope.Scope> =>
  Effect.map(Stream.toPull(stream), (pull) => {
    const next: Effect.Effect<ReadonlyArray<ChatCompletionChunk> | null, E> = Effect.matchEffect(pull, {
      onFailure: (error) => Option.isSome(error) ? Effect.fail(error.value) : Effect.succeed(null),
      onSuccess: (batch) => Chunk.isEmpty(batch) ? next : Effect.succeed(Chunk.toReadonlyArray(batch))
    })
    return next
  })

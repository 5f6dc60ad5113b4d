import { Chunk, Effect, Stream } from "effect"
import { createParser, type EventSourceMessage, type EventSourceParser } from "eventsource-parser"
import type { ChatCompletionChunk } from "./ChatCompletionChunk.js"
import { type GatewayError, toErrorEnvelope } from "./GatewayError.js"

/** One server-sent event. */
export interface SseEvent {
  /** The `event:` field, when present. */
  readonly event?: string | undefined
  /** The `id:` field, when present. */
  readonly id?: string | undefined
  /** The `data:` lines, joined with `\n`. */
  readonly data: string
}

/** The terminating event of an OpenAI stream. */
export const DONE = "data: [DONE]\n\n"

const encoder = new TextEncoder()

/** The upstream's own `data` of chunks parsed from it (`keepData`), by chunk object. */
const upstreamData = new WeakMap<ChatCompletionChunk, string>()

/**
 * Notes that `chunk` was parsed, unchanged, from the one-line JSON `data` of
 * an upstream event: `encodeChunk` then writes those bytes as they came rather
 * than serializing the object again. A chunk that is rewritten (a stored
 * call's id, a fan-out's index, a translation) is a new object, without them.
 */
export const keepData = (chunk: ChatCompletionChunk, data: string): void => {
  if (data.indexOf("\n") === -1 && data.indexOf("\r") === -1) upstreamData.set(chunk, data)
}

/** `data: <json>\n\n` for one chunk: the upstream's own JSON when it was kept, else the chunk serialized. */
export const encodeChunk = (chunk: ChatCompletionChunk): string => {
  const data = upstreamData.get(chunk)
  return `data: ${data ?? JSON.stringify(chunk)}\n\n`
}

/** The upstream's own `data` of the chunks of a batch parsed from it (`keepBatchData`), by batch, by index. */
const batchData = new WeakMap<ReadonlyArray<ChatCompletionChunk>, ReadonlyArray<string | undefined>>()

/**
 * `keepData` for a whole batch at once (one note per batch, not per chunk:
 * on the hot path, a weak map entry per chunk cost more than parsing it):
 * `data[i]` is the one-line JSON `batch[i]` was parsed from, unchanged, or
 * undefined. `encodeBatch` writes those bytes as they came; a batch that is
 * rewritten is a new array, without them.
 */
export const keepBatchData = (batch: ReadonlyArray<ChatCompletionChunk>, data: Array<string | undefined>): void => {
  for (let index = 0; index < data.length; index++) {
    const text = data[index]
    if (text !== undefined && (text.indexOf("\n") !== -1 || text.indexOf("\r") !== -1)) data[index] = undefined
  }
  batchData.set(batch, data)
}

/**
 * The SSE events of a batch: each chunk as `encodeChunk` writes it, or as
 * the upstream sent it when the batch was kept (`keepBatchData`). `rewrite`
 * may replace a chunk (a new object: serialized) or drop it (`undefined`).
 */
export const encodeBatch = (
  batch: ReadonlyArray<ChatCompletionChunk>,
  rewrite?: (chunk: ChatCompletionChunk) => ChatCompletionChunk | undefined
): string => {
  const data = batchData.get(batch)
  let text = ""
  for (let index = 0; index < batch.length; index++) {
    const chunk = batch[index]!
    const written = rewrite === undefined ? chunk : rewrite(chunk)
    if (written === undefined) continue
    const kept = written === chunk ? data?.[index] : undefined
    text += kept !== undefined ? `data: ${kept}\n\n` : encodeChunk(written)
  }
  return text
}

/** `data: {"error":{...}}\n\n`: an error reported in-band, after the stream has started. */
export const encodeError = (error: GatewayError): string => `data: ${JSON.stringify(toErrorEnvelope(error))}\n\n`

/** A comment line that keeps idle connections open. */
export const KEEP_ALIVE = ": keep-alive\n\n"

/**
 * Encodes a stream of chunks as an OpenAI SSE body: one `data:` event per
 * chunk, then `data: [DONE]`. A failure becomes an in-band error event and the
 * body ends without `[DONE]`, so clients see an error, not a truncated answer.
 */
export const encodeStream = <E extends GatewayError, R>(
  chunks: Stream.Stream<ChatCompletionChunk, E, R>
): Stream.Stream<Uint8Array, never, R> =>
  chunks.pipe(
    Stream.mapChunks((batch) => Chunk.of(encoder.encode(encodeBatch(Chunk.toReadonlyArray(batch))))),
    Stream.concat(Stream.sync(() => encoder.encode(DONE))),
    Stream.catchAll((error) => Stream.succeed(encoder.encode(encodeError(error))))
  )

/**
 * An incremental SSE decoder: feed it bytes as they arrive, split anywhere
 * (even inside a multi-byte UTF-8 character), and it returns the complete
 * events so far. Handles LF and CRLF, multi-line `data:`, comments and
 * `event:` fields.
 */
export class SseDecoder {
  /** The streaming decoder, made once a piece ends inside a character (or starts with a BOM): most streams never need one. */
  private text: InstanceType<typeof TextDecoder> | undefined
  private readonly parser: EventSourceParser
  private pending: Array<SseEvent> = []
  private failure: string | undefined
  private lineComplete = true
  private fresh = true

  constructor(options: { readonly maxBufferSize?: number } = {}) {
    this.parser = createParser({
      onEvent: (message: EventSourceMessage) => {
        this.pending.push(
          message.event === undefined && message.id === undefined
            ? { data: message.data }
            : { event: message.event, id: message.id, data: message.data }
        )
      },
      onError: (error) => {
        if (error.type === "max-buffer-size-exceeded") this.failure = error.message
      },
      ...(options.maxBufferSize !== undefined ? { maxBufferSize: options.maxBufferSize } : {})
    })
  }

  /** Feeds bytes; returns the events they completed. */
  push(bytes: Uint8Array): Array<SseEvent> {
    if (this.text === undefined && (!endsOnCharacter(bytes) || (this.fresh && startsWithBom(bytes)))) {
      this.text = new TextDecoder("utf-8")
    }
    this.fresh = false
    const text = this.text === undefined ? wholeText.decode(bytes) : this.text.decode(bytes, { stream: true })
    if (text.length > 0) this.feed(text)
    return this.drain()
  }

  /** Feeds already-decoded text; returns the events it completed. */
  pushText(text: string): Array<SseEvent> {
    if (text.length > 0) this.feed(text)
    return this.drain()
  }

  /**
   * Ends the stream. An event whose lines all arrived but whose closing blank
   * line did not is still dispatched; a line cut in the middle is dropped.
   */
  end(): Array<SseEvent> {
    const rest = this.text === undefined ? "" : this.text.decode()
    if (rest.length > 0) this.feed(rest)
    // Two newlines: the first completes a line that ended with a lone CR (the parser waits to see if LF follows).
    if (this.lineComplete && this.failure === undefined) this.parser.feed("\n\n")
    return this.drain()
  }

  /** Set when the decoder gave up (a line or event larger than the buffer limit). */
  get error(): string | undefined {
    return this.failure
  }

  private feed(text: string): void {
    // The parser throws on every feed once it has given up; the decoder reports `error` and ignores the rest.
    if (this.failure !== undefined) return
    const last = text.charCodeAt(text.length - 1)
    this.lineComplete = last === 10 || last === 13
    this.parser.feed(text)
  }

  private drain(): Array<SseEvent> {
    if (this.pending.length === 0) return EMPTY
    const events = this.pending
    this.pending = []
    return events
  }
}

const EMPTY: Array<SseEvent> = []

/** Decodes pieces that hold whole characters (stateless; a BOM inside the stream is kept, as a streaming decoder keeps it). */
const wholeText = new TextDecoder("utf-8", { ignoreBOM: true })

/** Whether `bytes` ends on a complete UTF-8 character (a piece that does not needs a streaming decoder). */
const endsOnCharacter = (bytes: Uint8Array): boolean => {
  const length = bytes.length
  if (length === 0 || bytes[length - 1]! < 0x80) return true
  let start = length - 1
  while (start > 0 && length - start < 4 && (bytes[start]! & 0xc0) === 0x80) start--
  const lead = bytes[start]!
  const size = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1
  return length - start >= size
}

const startsWithBom = (bytes: Uint8Array): boolean => bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf

/** Decodes an SSE byte stream into its events. */
export const decodeStream = <E, R>(bytes: Stream.Stream<Uint8Array, E, R>): Stream.Stream<SseEvent, E, R> =>
  Stream.suspend(() => {
    const decoder = new SseDecoder()
    return bytes.pipe(
      Stream.mapChunks((batch) => {
        if (batch.length === 1) return Chunk.unsafeFromArray(decoder.push(Chunk.unsafeGet(batch, 0)))
        const out: Array<SseEvent> = []
        for (const b of batch) out.push(...decoder.push(b))
        return Chunk.unsafeFromArray(out)
      }),
      Stream.concat(Stream.suspend(() => Stream.fromIterable(decoder.end())))
    )
  })

/** Collects a whole SSE body's events (for tests and small bodies). */
export const decodeAll = (body: Uint8Array | string): Array<SseEvent> => {
  const decoder = new SseDecoder()
  const events = typeof body === "string" ? decoder.pushText(body) : decoder.push(body)
  return [...events, ...decoder.end()]
}

/** Runs a byte stream through the decoder and collects its events. */
export const collectEvents = <E, R>(bytes: Stream.Stream<Uint8Array, E, R>): Effect.Effect<Array<SseEvent>, E, R> =>
  Stream.runCollect(decodeStream(bytes)).pipe(Effect.map(Chunk.toArray))

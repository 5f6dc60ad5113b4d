import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, FastCheck as fc, Stream } from "effect"
import {
  type ChatCompletionChunk,
  Sse,
  toErrorEnvelope,
  UpstreamTimeout,
  UpstreamUnavailable
} from "../src/index.js"
import { recordedDataLines, recordedStream } from "./fixtures/openai-stream.js"
import { PROPERTY_TIMEOUT } from "./support/json.js"

const utf8 = new TextEncoder()
const expected: ReadonlyArray<Sse.SseEvent> = recordedDataLines.map((data) => ({ data }))

/** Feeds the pieces one by one, then ends the stream; returns every event. */
const decodePieces = (pieces: ReadonlyArray<Uint8Array>): Array<Sse.SseEvent> => {
  const decoder = new Sse.SseDecoder()
  const events: Array<Sse.SseEvent> = []
  for (const piece of pieces) events.push(...decoder.push(piece))
  events.push(...decoder.end())
  return events
}

/** The bytes cut at the given (sorted) offsets. */
const cut = (bytes: Uint8Array, offsets: ReadonlyArray<number>): Array<Uint8Array> => {
  const pieces: Array<Uint8Array> = []
  let start = 0
  for (const offset of offsets) {
    pieces.push(bytes.subarray(start, offset))
    start = offset
  }
  pieces.push(bytes.subarray(start))
  return pieces
}

const variants = {
  LF: recordedStream,
  CRLF: recordedStream.replaceAll("\n", "\r\n"),
  CR: recordedStream.replaceAll("\n", "\r")
} as const

describe("SseDecoder on a recorded OpenAI stream", () => {
  it("the fixture really contains multi-byte UTF-8 (2, 3 and 4 bytes per character)", () => {
    const bytes = utf8.encode(recordedStream)
    expect(bytes.length).toBeGreaterThan(recordedStream.length)
    expect(recordedStream).toContain("é")
    expect(recordedStream).toContain("日本")
    expect(utf8.encode("👋").length).toBe(4)
    expect(recordedStream).toContain("👋")
  })

  for (const [name, body] of Object.entries(variants)) {
    const bytes = utf8.encode(body)

    it(`${name}: decodes the whole body into its data events, the comment ignored`, () => {
      expect(decodePieces([bytes])).toStrictEqual(expected)
      expect(Sse.decodeAll(bytes)).toStrictEqual(expected)
      expect(Sse.decodeAll(body)).toStrictEqual(expected)
    })

    it(`${name}: split at every byte boundary, yields exactly the same events`, () => {
      for (let offset = 0; offset <= bytes.length; offset++) {
        expect(decodePieces(cut(bytes, [offset])), `split at byte ${offset}`).toStrictEqual(expected)
      }
    }, PROPERTY_TIMEOUT)

    it(`${name}: fed one byte at a time, yields exactly the same events`, () => {
      const offsets = Array.from({ length: bytes.length - 1 }, (_, i) => i + 1)
      expect(decodePieces(cut(bytes, offsets))).toStrictEqual(expected)
    })

    it.prop(`${name}: fed in random pieces, yields exactly the same events`, [
      fc.uniqueArray(fc.integer({ min: 1, max: bytes.length - 1 }), { maxLength: 60 })
    ], ([offsets]) => {
      expect(decodePieces(cut(bytes, [...offsets].sort((a, b) => a - b)))).toStrictEqual(expected)
    }, { timeout: PROPERTY_TIMEOUT, fastCheck: { numRuns: 200 } })
  }

  it("events come out as soon as they are complete, not at the end", () => {
    const decoder = new Sse.SseDecoder()
    const first = recordedStream.indexOf("\n\n") + 2
    const bytes = utf8.encode(recordedStream)
    const firstBytes = utf8.encode(recordedStream.slice(0, first)).length
    expect(decoder.push(bytes.subarray(0, firstBytes - 1))).toStrictEqual([])
    expect(decoder.push(bytes.subarray(firstBytes - 1, firstBytes))).toStrictEqual([expected[0]])
  })
})

describe("SseDecoder on the fine points of the format", () => {
  it("joins multi-line data with \\n", () => {
    expect(Sse.decodeAll("data: {\"a\":\ndata: 1}\n\n")).toStrictEqual([{ data: "{\"a\":\n1}" }])
    expect(Sse.decodeAll("data: one\r\ndata: two\r\ndata: three\r\n\r\n")).toStrictEqual([{ data: "one\ntwo\nthree" }])
  })

  it("takes `data:` without a space, and `data` alone as an empty line of data", () => {
    expect(Sse.decodeAll("data:tight\n\ndata\n\n")).toStrictEqual([{ data: "tight" }, { data: "" }])
  })

  it("ignores comment lines, alone or inside an event", () => {
    expect(Sse.decodeAll(": keep-alive\n\n:another\ndata: x\n: in between\ndata: y\n\n")).toStrictEqual([
      { data: "x\ny" }
    ])
    expect(Sse.decodeAll(Sse.KEEP_ALIVE)).toStrictEqual([])
  })

  it("exposes the `event:` and `id:` fields", () => {
    expect(Sse.decodeAll("event: error\ndata: {\"error\":{}}\n\n")).toEqual([
      { event: "error", id: undefined, data: "{\"error\":{}}" }
    ])
    expect(Sse.decodeAll("id: 7\ndata: x\n\n")).toEqual([{ event: undefined, id: "7", data: "x" }])
    expect(Sse.decodeAll("data: plain\n\n")[0]).toStrictEqual({ data: "plain" })
  })

  it("does not dispatch an event without data", () => {
    expect(Sse.decodeAll("event: ping\n\nretry: 1000\n\n")).toStrictEqual([])
  })

  for (const [name, eol] of [["LF", "\n"], ["CRLF", "\r\n"], ["CR", "\r"]] as const) {
    it(`${name}: dispatches a final event whose line is complete but whose blank line never came`, () => {
      const body = `data: first${eol}${eol}data: last${eol}`
      expect(Sse.decodeAll(body)).toStrictEqual([{ data: "first" }, { data: "last" }])
      expect(Sse.decodeAll(utf8.encode(body))).toStrictEqual([{ data: "first" }, { data: "last" }])
    })

    it(`${name}: drops a line cut in the middle at the end of the stream`, () => {
      expect(Sse.decodeAll(`data: first${eol}${eol}data: {"id":"chatcmpl-1","cho`)).toStrictEqual([{ data: "first" }])
      expect(Sse.decodeAll(`data: first${eol}${eol}data: one${eol}data: tw`)).toStrictEqual([{ data: "first" }])
    })
  }

  it("drops a final line cut inside a multi-byte character", () => {
    const bytes = utf8.encode("data: ok\n\ndata: 日本")
    expect(Sse.decodeAll(bytes.subarray(0, bytes.length - 1))).toStrictEqual([{ data: "ok" }])
  })

  it("skips a UTF-8 byte-order mark at the start", () => {
    expect(Sse.decodeAll(new Uint8Array([0xef, 0xbb, 0xbf, ...utf8.encode("data: x\n\n")]))).toStrictEqual([
      { data: "x" }
    ])
  })

  it("gives up on an over-long line: error is set, further input is ignored, nothing throws", () => {
    const decoder = new Sse.SseDecoder({ maxBufferSize: 64 })
    expect(decoder.pushText("data: ok\n\n")).toStrictEqual([{ data: "ok" }])
    expect(decoder.error).toBeUndefined()
    expect(decoder.pushText(`data: ${"x".repeat(100)}`)).toStrictEqual([])
    expect(decoder.error).toMatch(/max buffer size of 64/)
    expect(decoder.pushText("\n\ndata: later\n\n")).toStrictEqual([])
    expect(decoder.push(utf8.encode("data: later\n\n"))).toStrictEqual([])
    expect(decoder.end()).toStrictEqual([])
  })
})

describe("decodeStream", () => {
  const bytes = utf8.encode(recordedStream)
  const pieces = cut(bytes, Array.from({ length: Math.floor(bytes.length / 37) }, (_, i) => (i + 1) * 37))

  it.effect("decodes a byte stream whose chunks hold many pieces", () =>
    Effect.gen(function*() {
      const events = yield* Stream.runCollect(Sse.decodeStream(Stream.fromIterable(pieces)))
      expect(Chunk.toReadonlyArray(events)).toStrictEqual(expected)
    }))

  it.effect("decodes a byte stream of one piece per chunk", () =>
    Effect.gen(function*() {
      const events = yield* Sse.collectEvents(Stream.fromIterable(pieces).pipe(Stream.rechunk(1)))
      expect(events).toStrictEqual(expected)
    }))

  it.effect("dispatches the final event at the end of the byte stream", () =>
    Effect.gen(function*() {
      const events = yield* Sse.collectEvents(Stream.make(utf8.encode("data: a\n\ndata: b\n")))
      expect(events).toStrictEqual([{ data: "a" }, { data: "b" }])
    }))

  it.effect("passes the byte stream's failure on", () =>
    Effect.gen(function*() {
      const failure = new UpstreamUnavailable({ vendor: "openai", message: "socket hang up" })
      const result = yield* Sse.collectEvents(
        Stream.make(utf8.encode("data: a\n\n")).pipe(Stream.concat(Stream.fail(failure)))
      ).pipe(Effect.flip)
      expect(result).toBe(failure)
    }))

  it.effect("can be decoded twice: the decoder is made per run", () =>
    Effect.gen(function*() {
      const stream = Sse.decodeStream(Stream.make(utf8.encode("data: a\n\ndata: b")))
      expect(Chunk.toReadonlyArray(yield* Stream.runCollect(stream))).toStrictEqual([{ data: "a" }])
      expect(Chunk.toReadonlyArray(yield* Stream.runCollect(stream))).toStrictEqual([{ data: "a" }])
    }))
})

const chunk = (content: string, i: number): ChatCompletionChunk => ({
  id: "chatcmpl-1",
  object: "chat.completion.chunk",
  created: 1732527000,
  model: "gpt-4o",
  choices: [{ index: 0, delta: i === 0 ? { role: "assistant", content } : { content }, finish_reason: null }]
})

const textOf = (parts: Chunk.Chunk<Uint8Array>): string => {
  const decoder = new TextDecoder()
  let text = ""
  for (const part of parts) text += decoder.decode(part, { stream: true })
  return text + decoder.decode()
}

describe("encodeChunk of a chunk parsed from an upstream's data (keepData)", () => {
  const data = '{ "id":"c", "object":"chat.completion.chunk", "created":1, "model":"m", "choices":[{"index":0,"delta":{"content":"caf\\u00e9"}}], "extra": 1.0 }'

  it("writes the upstream's bytes as they came, not the object serialized again", () => {
    const parsed = JSON.parse(data) as ChatCompletionChunk
    Sse.keepData(parsed, data)
    expect(Sse.encodeChunk(parsed)).toBe(`data: ${data}\n\n`)
  })

  it("a rewritten copy of the chunk is serialized: its own content, not the upstream's bytes", () => {
    const parsed = JSON.parse(data) as ChatCompletionChunk
    Sse.keepData(parsed, data)
    const copy = { ...parsed, id: "chatcmpl-gateway" }
    expect(Sse.encodeChunk(copy)).toBe(`data: ${JSON.stringify(copy)}\n\n`)
  })

  it("data on several lines is not kept: one line of JSON goes out", () => {
    const lines = data.replace(", ", ",\n")
    const parsed = JSON.parse(lines) as ChatCompletionChunk
    Sse.keepData(parsed, lines)
    expect(Sse.encodeChunk(parsed)).toBe(`data: ${JSON.stringify(parsed)}\n\n`)
  })
})

describe("encodeBatch of a batch parsed from an upstream's events (keepBatchData)", () => {
  const first = '{ "id":"c", "object":"chat.completion.chunk", "created":1, "model":"m", "choices":[{"index":0,"delta":{"content":"caf\\u00e9"}}] }'
  const second = '{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{}}],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}'
  const parsed = () => {
    const batch = [JSON.parse(first), JSON.parse(second)] as Array<ChatCompletionChunk>
    Sse.keepBatchData(batch, [first, second])
    return batch
  }

  it("writes each chunk's bytes as the upstream sent them", () => {
    expect(Sse.encodeBatch(parsed())).toBe(`data: ${first}\n\ndata: ${second}\n\n`)
  })

  it("a chunk that is rewritten or dropped is serialized or left out; the others keep their bytes", () => {
    const batch = parsed()
    const text = Sse.encodeBatch(batch, (chunk) => chunk.usage != null ? { ...chunk, usage: null } : chunk)
    expect(text).toBe(`data: ${first}\n\ndata: ${JSON.stringify({ ...batch[1]!, usage: null })}\n\n`)
    expect(Sse.encodeBatch(batch, (chunk) => chunk.usage != null ? undefined : chunk)).toBe(`data: ${first}\n\n`)
  })

  it("a new batch of the same chunks (a copy) is serialized, and data on several lines is never kept", () => {
    const batch = parsed()
    expect(Sse.encodeBatch([...batch])).toBe(batch.map((chunk) => `data: ${JSON.stringify(chunk)}\n\n`).join(""))
    const lines = first.replace(", ", ",\n")
    const multi = [JSON.parse(lines)] as Array<ChatCompletionChunk>
    Sse.keepBatchData(multi, [lines])
    expect(Sse.encodeBatch(multi)).toBe(`data: ${JSON.stringify(multi[0])}\n\n`)
  })
})

describe("encodeStream", () => {
  const chunks = ["Hel", "lo ", "👋"].map(chunk)
  const timeout = new UpstreamTimeout({ vendor: "openai", phase: "idle", timeoutMs: 30_000 })
  const errorEvent = `data: ${JSON.stringify(toErrorEnvelope(timeout))}\n\n`

  it("encodes one chunk as a data event, and an error as an in-band error event", () => {
    expect(Sse.encodeChunk(chunks[0]!)).toBe(`data: ${JSON.stringify(chunks[0])}\n\n`)
    expect(Sse.encodeError(timeout)).toBe(errorEvent)
    expect(JSON.parse(errorEvent.slice(6))).toStrictEqual({
      error: { message: timeout.message, type: "timeout_error", param: null, code: "upstream_timeout_idle" }
    })
  })

  it.effect("a successful stream: one event per chunk, then data: [DONE]", () =>
    Effect.gen(function*() {
      const text = textOf(yield* Stream.runCollect(Sse.encodeStream(Stream.fromIterable(chunks))))
      expect(text).toBe(chunks.map(Sse.encodeChunk).join("") + "data: [DONE]\n\n")
      expect(text.endsWith("data: [DONE]\n\n")).toBe(true)
    }))

  it.effect("an empty stream is just data: [DONE]", () =>
    Effect.gen(function*() {
      expect(textOf(yield* Stream.runCollect(Sse.encodeStream(Stream.empty)))).toBe(Sse.DONE)
    }))

  it.effect("a failure after some chunks: those chunks, then the error event, and no [DONE]", () =>
    Effect.gen(function*() {
      const failing = Stream.fromIterable(chunks).pipe(Stream.concat(Stream.fail(timeout)))
      const text = textOf(yield* Stream.runCollect(Sse.encodeStream(failing)))
      expect(text).toBe(chunks.map(Sse.encodeChunk).join("") + errorEvent)
      expect(text).not.toContain("[DONE]")
    }))

  it.effect("a failure before the first chunk: only the error event", () =>
    Effect.gen(function*() {
      const text = textOf(yield* Stream.runCollect(Sse.encodeStream(Stream.fail(timeout))))
      expect(text).toBe(errorEvent)
    }))

  it.effect("a failure between single-chunk batches keeps every chunk before it", () =>
    Effect.gen(function*() {
      const failing = Stream.fromIterable(chunks).pipe(Stream.rechunk(1), Stream.concat(Stream.fail(timeout)))
      const events = Sse.decodeAll(textOf(yield* Stream.runCollect(Sse.encodeStream(failing))))
      expect(events.map((e) => JSON.parse(e.data))).toStrictEqual([...chunks, toErrorEnvelope(timeout)])
    }))

  it.effect.prop("what it encodes, SseDecoder decodes back into the same chunks", [
    fc.array(fc.string({ unit: "binary" }), { maxLength: 20 })
  ], ([contents]) =>
    Effect.gen(function*() {
      const sent = contents.map(chunk)
      const bytes = yield* Stream.runCollect(Sse.encodeStream(Stream.fromIterable(sent)))
      const events = decodePieces(Chunk.toArray(bytes))
      expect(events.map((e) => e.data)).toStrictEqual([...sent.map((c) => JSON.stringify(c)), "[DONE]"])
      expect(events.slice(0, -1).map((e) => JSON.parse(e.data))).toStrictEqual(sent)
    }), { timeout: PROPERTY_TIMEOUT })
})

/**
 * Benchmarks of @switchyard/core's hot paths, on this machine:
 *
 *   npm run bench -w @switchyard/core
 *
 * Each measurement warms up, then times several rounds and reports the
 * median. Set BENCH_STRICT=1 to exit with status 1 when a target is missed.
 */
import { Schema } from "effect"
import { cpus } from "node:os"
import {
  aggregateChunks,
  type ChatCompletionChunk,
  ChatCompletionChunk as ChatCompletionChunkSchema,
  ChatCompletionRequest,
  looksLikeChunk,
  Sse
} from "../src/index.js"

// ---------------------------------------------------------------------------
// Timing
// ---------------------------------------------------------------------------

interface Options {
  /** Calls before timing starts. */
  readonly warmup: number
  /** Timed rounds; the result is the median round. */
  readonly rounds: number
  /** Calls per round. */
  readonly iterations: number
}

let sink = 0

/** The median time of one call of `f`, in nanoseconds. */
const measure = (f: () => unknown, { iterations, rounds, warmup }: Options): number => {
  for (let i = 0; i < warmup; i++) if (f() !== undefined) sink++
  const perCall: Array<number> = []
  for (let r = 0; r < rounds; r++) {
    const start = process.hrtime.bigint()
    for (let i = 0; i < iterations; i++) if (f() !== undefined) sink++
    perCall.push(Number(process.hrtime.bigint() - start) / iterations)
  }
  perCall.sort((a, b) => a - b)
  const mid = Math.floor(perCall.length / 2)
  return perCall.length % 2 === 1 ? perCall[mid]! : (perCall[mid - 1]! + perCall[mid]!) / 2
}

// ---------------------------------------------------------------------------
// Inputs
// ---------------------------------------------------------------------------

const sentence = (i: number) =>
  `Question ${i}: what is the weather like in Paris today, and should I take an umbrella to the café?`

const weatherTool = (name: string) => ({
  type: "function",
  function: {
    name,
    description: "Get the current weather for a city, in the unit the user prefers.",
    parameters: {
      type: "object",
      properties: {
        city: { type: "string", description: "The city, e.g. Paris" },
        unit: { type: "string", enum: ["celsius", "fahrenheit"] }
      },
      required: ["city"],
      additionalProperties: false
    },
    strict: true
  }
})

/** A typical request: a system prompt, four exchanges, a final multi-part user message, two tools. */
const typicalRequest = {
  model: "openai/gpt-4o",
  messages: [
    { role: "system", content: "You are a helpful assistant that answers questions about the weather concisely." },
    ...Array.from({ length: 4 }, (_, i) => [
      { role: "user", content: sentence(i) },
      {
        role: "assistant",
        content: `It is sunny in Paris with a high of ${20 + i} °C and a light westerly breeze; no umbrella needed.`
      }
    ]).flat(),
    { role: "user", content: [{ type: "text", text: "And tomorrow in Lyon? Use a tool if you need one." }] }
  ],
  tools: [weatherTool("get_current_weather"), weatherTool("get_forecast")],
  tool_choice: "auto",
  temperature: 0.7,
  max_completion_tokens: 512,
  stream: true,
  stream_options: { include_usage: true },
  user: "user-1234"
}

/** A large request: a long conversation of ~200 KB. */
const largeRequest = {
  ...typicalRequest,
  messages: [
    typicalRequest.messages[0],
    ...Array.from({ length: 200 }, (_, i) => ({
      role: i % 2 === 0 ? "user" : "assistant",
      content: `${sentence(i)} `.repeat(9)
    }))
  ]
}

const words = ["Hello", " there", "!", " The", " weather", " in", " Paris", " is", " sunny", ",", " 21", " °C", " —", " café", " 日本", " 👋"]

/** A recorded-style OpenAI stream of `n` chunks: role, content tokens, finish, usage, [DONE]. */
const makeStream = (n: number): { readonly body: Uint8Array; readonly chunks: Array<ChatCompletionChunk> } => {
  const head = {
    id: "chatcmpl-AXf3kq1BenchmarkStream",
    object: "chat.completion.chunk" as const,
    created: 1732527000,
    model: "gpt-4o-2024-08-06",
    system_fingerprint: "fp_7f6be3efb0"
  }
  const chunks: Array<ChatCompletionChunk> = [
    { ...head, choices: [{ index: 0, delta: { role: "assistant", content: "", refusal: null }, logprobs: null, finish_reason: null }], usage: null }
  ]
  for (let i = 1; i < n - 2; i++) {
    chunks.push({
      ...head,
      choices: [{ index: 0, delta: { content: words[i % words.length]! }, logprobs: null, finish_reason: null }],
      usage: null
    })
  }
  chunks.push({ ...head, choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: "stop" }], usage: null })
  chunks.push({ ...head, choices: [], usage: { prompt_tokens: 1200, completion_tokens: n - 3, total_tokens: 1200 + n - 3 } })
  const text = chunks.map((chunk) => `data: ${JSON.stringify(chunk)}\n\n`).join("") + "data: [DONE]\n\n"
  return { body: new TextEncoder().encode(text), chunks }
}

const pieces = (bytes: Uint8Array, size: number): Array<Uint8Array> => {
  const out: Array<Uint8Array> = []
  for (let at = 0; at < bytes.length; at += size) out.push(bytes.subarray(at, at + size))
  return out
}

// ---------------------------------------------------------------------------
// Benchmarks
// ---------------------------------------------------------------------------

const decodeRequest = Schema.decodeUnknownSync(ChatCompletionRequest, { errors: "all" })
const isChunk = Schema.is(ChatCompletionChunkSchema)

const typicalText = JSON.stringify(typicalRequest)
const largeText = JSON.stringify(largeRequest)
decodeRequest(JSON.parse(typicalText))
decodeRequest(JSON.parse(largeText))

const CHUNKS = 10_000
const PIECE = 16 * 1024
const stream = makeStream(CHUNKS)
const streamPieces = pieces(stream.body, PIECE)

const decodeSse = (): number => {
  const decoder = new Sse.SseDecoder()
  let events = 0
  for (const piece of streamPieces) events += decoder.push(piece).length
  return events + decoder.end().length
}

const decodeSseAndParse = (): number => {
  const decoder = new Sse.SseDecoder()
  let chunks = 0
  const take = (events: Array<Sse.SseEvent>) => {
    for (const event of events) {
      if (event.data === "[DONE]") continue
      if (looksLikeChunk(JSON.parse(event.data))) chunks++
    }
  }
  for (const piece of streamPieces) take(decoder.push(piece))
  take(decoder.end())
  return chunks
}

if (decodeSse() !== CHUNKS + 1) throw new Error(`expected ${CHUNKS + 1} events, got ${decodeSse()}`)
if (decodeSseAndParse() !== CHUNKS) throw new Error("the stream did not decode into its chunks")
if (!stream.chunks.every(isChunk)) throw new Error("the benchmark's chunks are not valid chunks")

const typicalNs = measure(() => decodeRequest(JSON.parse(typicalText)), { warmup: 3000, rounds: 21, iterations: 1000 })
const largeNs = measure(() => decodeRequest(JSON.parse(largeText)), { warmup: 30, rounds: 15, iterations: 20 })
const parseOnlyNs = measure(() => JSON.parse(typicalText), { warmup: 3000, rounds: 21, iterations: 1000 })
const sseNs = measure(decodeSse, { warmup: 5, rounds: 15, iterations: 1 })
const sseParseNs = measure(decodeSseAndParse, { warmup: 5, rounds: 15, iterations: 1 })
const aggregateNs = measure(() => aggregateChunks(stream.chunks), { warmup: 10, rounds: 15, iterations: 2 })
// Per-chunk checks on chunks in cache, as in the pipeline (each chunk is checked right after JSON.parse):
// over all 10,000 objects the time would be dominated by cache misses, not by the check.
const hot = [...stream.chunks.slice(0, 30), ...stream.chunks.slice(-2)].map((chunk) => JSON.parse(JSON.stringify(chunk)))
const looksNs = measure(() => {
  let n = 0
  for (const chunk of hot) if (looksLikeChunk(chunk)) n++
  return n
}, { warmup: 20_000, rounds: 21, iterations: 2_000 }) / hot.length
const isNs = measure(() => {
  let n = 0
  for (const chunk of hot) if (isChunk(chunk)) n++
  return n
}, { warmup: 200, rounds: 15, iterations: 30 }) / hot.length
const decodeSseAndCheck = (): number => {
  const decoder = new Sse.SseDecoder()
  let chunks = 0
  const take = (events: Array<Sse.SseEvent>) => {
    for (const event of events) {
      if (event.data === "[DONE]") continue
      if (isChunk(JSON.parse(event.data))) chunks++
    }
  }
  for (const piece of streamPieces) take(decoder.push(piece))
  take(decoder.end())
  return chunks
}
const sseCheckNs = measure(decodeSseAndCheck, { warmup: 2, rounds: 7, iterations: 1 })

// ---------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------

const us = (ns: number) => (ns / 1000).toFixed(ns < 10_000 ? 2 : 1)
const perSecond = (ns: number, per = 1) => Math.round((per * 1e9) / ns).toLocaleString("en-US")
const kb = (text: string) => `${(Buffer.byteLength(text) / 1024).toFixed(1)} KiB`
const mbPerSecond = (bytes: number, ns: number) => ((bytes / 1e6) / (ns / 1e9)).toFixed(1)

const rows: Array<[string, string, string]> = [
  [`request decode, typical (${kb(typicalText)}, 10 messages, 2 tools)`, `${us(typicalNs)} µs median`, `${perSecond(typicalNs)} ops/s`],
  [`  of which JSON.parse alone`, `${us(parseOnlyNs)} µs median`, `${perSecond(parseOnlyNs)} ops/s`],
  [`request decode, large (${kb(largeText)}, ${largeRequest.messages.length} messages)`, `${us(largeNs)} µs median`, `${perSecond(largeNs)} ops/s`],
  [
    `SSE decode, ${CHUNKS.toLocaleString("en-US")} chunks (${(stream.body.length / 1e6).toFixed(2)} MB) in 16 KiB pieces`,
    `${perSecond(sseNs, CHUNKS)} chunks/s`,
    `${mbPerSecond(stream.body.length, sseNs)} MB/s`
  ],
  [
    `SSE decode + JSON.parse + looksLikeChunk`,
    `${perSecond(sseParseNs, CHUNKS)} chunks/s`,
    `${mbPerSecond(stream.body.length, sseParseNs)} MB/s`
  ],
  [
    `SSE decode + JSON.parse + Schema.is(ChatCompletionChunk)`,
    `${perSecond(sseCheckNs, CHUNKS)} chunks/s`,
    `${mbPerSecond(stream.body.length, sseCheckNs)} MB/s`
  ],
  [`aggregation (aggregateChunks)`, `${perSecond(aggregateNs, CHUNKS)} chunks/s`, `${us(aggregateNs)} µs per stream`],
  [`looksLikeChunk, per chunk (in cache)`, `${looksNs.toFixed(1)} ns`, `${perSecond(looksNs)} /s`],
  [
    `Schema.is(ChatCompletionChunk), per chunk (in cache)`,
    `${isNs.toFixed(1)} ns`,
    `${(isNs / looksNs).toFixed(0)}× looksLikeChunk`
  ]
]

const targets = [
  { name: "typical request decode < 50 µs median", pass: typicalNs < 50_000, actual: `${us(typicalNs)} µs` },
  {
    name: "SSE decode > 200,000 chunks/s",
    pass: (CHUNKS * 1e9) / sseNs > 200_000,
    actual: `${perSecond(sseNs, CHUNKS)} chunks/s`
  }
]

const widths = [0, 1, 2].map((i) => Math.max(...rows.map((row) => row[i]!.length)))
const line = (cells: ReadonlyArray<string>) => cells.map((cell, i) => cell.padEnd(widths[i]!)).join("  │  ")

const cpu = cpus()
console.log(`@switchyard/core benchmarks — node ${process.version}, ${cpu[0]?.model.trim() ?? "unknown CPU"} × ${cpu.length}`)
console.log(`medians over repeated rounds after warm-up\n`)
console.log(line(["benchmark", "result", ""]))
console.log(widths.map((w) => "─".repeat(w)).join("──┼──"))
for (const row of rows) console.log(line(row))
console.log("\ntargets")
for (const target of targets) console.log(`  ${target.pass ? "PASS" : "FAIL"}  ${target.name}  (measured ${target.actual})`)
if (sink < 0) console.log(sink)

if (process.env["BENCH_STRICT"] === "1" && targets.some((target) => !target.pass)) process.exitCode = 1

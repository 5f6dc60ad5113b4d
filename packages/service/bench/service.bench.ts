/**
 * The service benchmark: `npm run bench -w @switchyard/service`.
 *
 * (a) Streaming relay throughput: a fake upstream in a child process streams
 *     pre-serialised chunk events as fast as it can; they go through the
 *     OpenAI-compatible provider and `ChatCompletions.stream`, drained with
 *     `Stream.runDrain`. Chunks per second (wall clock, median of the runs)
 *     and the relay's CPU per chunk.
 * (b) CPU per non-streaming request (`process.cpuUsage` of this process only:
 *     the upstream's CPU is not counted), sequential and 64 at a time, through
 *     the provider (`provider.create`) and through the whole service
 *     (`ChatCompletions.create`: routing, retry, timeout, provider) vs a bare
 *     relay on `undici.request` (serialise the body, read and parse the JSON).
 * (c) For choosing the outbound HTTP client by measuring: the same exchange
 *     (serialise, send, read, parse; no Schema decoding) through `UpstreamHttp`
 *     and through @effect/platform's `HttpClient` (`NodeHttpClient.layerUndici`),
 *     and the least an Effect can wrap (`Effect.async` around one promise).
 *
 * Each request measure is the median of BENCH_ROUNDS interleaved rounds (the
 * machine may be shared). Environment: BENCH_CHUNKS (200000), BENCH_REQUESTS
 * (5000), BENCH_CONCURRENCY (64), BENCH_ROUNDS (3).
 */
import { HttpClient, HttpClientRequest } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { ChatCompletionRequest } from "@switchyard/core"
import { Context, Effect, Layer, ManagedRuntime, Redacted, Schema, Stream } from "effect"
import { type ChildProcess, fork } from "node:child_process"
import { EventEmitter } from "node:events"
import * as Os from "node:os"
import { fileURLToPath } from "node:url"
import { Agent, request } from "undici"
import {
  ChatCompletions,
  makeContext,
  OpenAiCompatibleProvider,
  type Provider,
  ProviderRegistry,
  UpstreamHttp
} from "../src/index.js"

const CHUNKS = Number(process.env.BENCH_CHUNKS ?? 200_000)
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 5_000)
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 64)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const STREAM_RUNS = 5

const TARGET_CHUNKS_PER_S = 100_000
const TARGET_CPU_RATIO = 2

// ---------------------------------------------------------------- upstream

const startUpstream = (): Promise<{ child: ChildProcess; baseUrl: string }> =>
  new Promise((resolve, reject) => {
    // The child inherits tsx's loader from this process's execArgv.
    const child = fork(fileURLToPath(new URL("./upstream.ts", import.meta.url)), [], { stdio: "inherit" })
    child.once("error", reject)
    child.once("exit", (code) => reject(new Error(`the upstream exited (${code})`)))
    child.once("message", (message) => {
      const { port } = message as { port: number }
      resolve({ child, baseUrl: `http://127.0.0.1:${port}/v1` })
    })
  })

// ---------------------------------------------------------------- helpers

const decode = Schema.decodeUnknownSync(ChatCompletionRequest)
const messages = [
  { role: "system", content: "You are a helpful assistant." },
  { role: "user", content: "Write one sentence about foxes." }
]
const createRequest = decode({ model: "openai/bench-model", messages, temperature: 0.7, max_completion_tokens: 64 })
const streamRequest = (chunks: number) =>
  decode({ model: "openai/bench-model", messages, stream: true, bench_chunks: chunks })
/** What a relay sends upstream: the request re-serialised with the vendor's model name. */
const upstreamRequest = { model: "bench-model", messages, temperature: 0.7, max_completion_tokens: 64 }
const headers = { "content-type": "application/json", accept: "application/json", authorization: "Bearer sk-bench" }

interface Measure {
  readonly cpuUsPerRequest: number
  readonly requestsPerS: number
}

/** Runs `total` calls with `concurrency` workers (Promise side). */
const pool = async (total: number, concurrency: number, call: () => Promise<unknown>) => {
  let started = 0
  const worker = async () => {
    while (started < total) {
      started++
      await call()
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker))
}

/** CPU (user + system, this process) and wall time of `run(total)`, after a warm-up. */
const measure = async (run: (count: number) => Promise<unknown>, total: number): Promise<Measure> => {
  await run(Math.min(500, total))
  const cpu = process.cpuUsage()
  const start = performance.now()
  await run(total)
  const elapsed = performance.now() - start
  const used = process.cpuUsage(cpu)
  return { cpuUsPerRequest: (used.user + used.system) / total, requestsPerS: total / (elapsed / 1000) }
}

const median = (values: ReadonlyArray<number>) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!

const fmt = (n: number, digits = 0) =>
  n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits })

type Row = readonly [measure: string, result: string, target: string, verdict: boolean | undefined]

const printTable = (rows: ReadonlyArray<Row>) => {
  const header = ["measure", "result", "target"] as const
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map(([a, b, c]) => [a, b, c][i]!.length)))
  const line = (cells: ReadonlyArray<string>, verdict: string) =>
    console.log(`${cells.map((cell, i) => cell.padEnd(widths[i]!)).join(" | ")} | ${verdict}`)
  line(header, "verdict")
  console.log(`${widths.map((w) => "-".repeat(w)).join("-|-")}-|--------`)
  for (const [a, b, c, ok] of rows) line([a, b, c], ok === undefined ? "" : ok ? "PASS" : "FAIL")
}

// ---------------------------------------------------------------- main

const main = async () => {
  const { baseUrl, child } = await startUpstream()
  const load = Os.loadavg()[0]!
  console.log(`fake upstream: child process ${child.pid} at ${baseUrl}`)
  console.log(
    `node ${process.version}, ${Os.cpus().length} CPUs, load average ${fmt(load, 2)} at start; ` +
      `${CHUNKS} chunks per stream, ${REQUESTS} requests per measure, concurrency ${CONCURRENCY}, ${ROUNDS} rounds\n`
  )

  const vendor = { name: "openai", baseUrl, apiKey: Redacted.make("sk-bench") }
  const ServiceLive = ChatCompletions.layer().pipe(
    Layer.provideMerge(
      Layer.effect(
        ProviderRegistry,
        Effect.map(OpenAiCompatibleProvider.make(vendor), (openai) => ProviderRegistry.make({ openai }))
      )
    ),
    Layer.provideMerge(UpstreamHttp.layer())
  )
  const runtime = ManagedRuntime.make(ServiceLive)
  const platform = ManagedRuntime.make(NodeHttpClient.layerUndici)
  const agent = new Agent({ keepAliveTimeout: 30_000 })

  try {
    const context = (await runtime.runtime()).context
    const service = Context.get(context, ChatCompletions)
    const provider: Provider = Context.get(context, ProviderRegistry).provider("openai")!
    const http = Context.get(context, UpstreamHttp)

    // (a) streaming relay throughput
    const counted = await runtime.runPromise(Stream.runCount(service.stream(streamRequest(20_000), makeContext())))
    if (counted !== 20_000) throw new Error(`expected 20000 chunks, got ${counted}`)
    const rates: Array<number> = []
    const cpuPerChunk: Array<number> = []
    for (let run = 0; run < STREAM_RUNS; run++) {
      const cpu = process.cpuUsage()
      const start = performance.now()
      await runtime.runPromise(Stream.runDrain(service.stream(streamRequest(CHUNKS), makeContext())))
      const elapsed = performance.now() - start
      const used = process.cpuUsage(cpu)
      rates.push(CHUNKS / (elapsed / 1000))
      cpuPerChunk.push((used.user + used.system) / CHUNKS)
    }
    // The transport alone: the same body read with undici, no parsing.
    const bareStream = async () => {
      const start = performance.now()
      const { body } = await request(`${baseUrl}/chat/completions`, {
        dispatcher: agent,
        method: "POST",
        headers,
        body: JSON.stringify({ ...upstreamRequest, stream: true, bench_chunks: CHUNKS })
      })
      for await (const _ of body) {
        // read and drop
      }
      return CHUNKS / ((performance.now() - start) / 1000)
    }
    await bareStream()
    const transportRate = median([await bareStream(), await bareStream(), await bareStream()])

    // (b) and (c): CPU per non-streaming request
    const bare = (count: number, concurrency: number) =>
      pool(count, concurrency, async () => {
        const { body } = await request(`${baseUrl}/chat/completions`, {
          dispatcher: agent,
          method: "POST",
          headers,
          body: JSON.stringify({ ...upstreamRequest })
        })
        JSON.parse(await body.text())
      })
    const inService = (one: () => Effect.Effect<unknown, unknown>) => (count: number, concurrency: number) =>
      runtime.runPromise(Effect.forEach(Array.from({ length: count }), one, { concurrency, discard: true }))
    const inPlatform =
      (one: () => Effect.Effect<unknown, unknown, HttpClient.HttpClient>) => (count: number, concurrency: number) =>
        platform.runPromise(Effect.forEach(Array.from({ length: count }), one, { concurrency, discard: true }))
    const call = { request: createRequest, vendor: "openai", model: "bench-model", context: makeContext() }
    const viaUpstreamHttp = () =>
      Effect.map(
        http.exchange({
          vendor: "openai",
          url: `${baseUrl}/chat/completions`,
          headers,
          body: JSON.stringify({ ...upstreamRequest })
        }),
        (exchange) => JSON.parse(exchange.text) as unknown
      )
    // The least an Effect can wrap: one promise (send, read, parse), interruption aborting it through
    // an EventEmitter (undici accepts one as its `signal`; an AbortSignal costs more).
    const viaMinimalEffect = () =>
      Effect.async<unknown, Error>((resume) => {
        const signal = new EventEmitter()
        request(`${baseUrl}/chat/completions`, {
          dispatcher: agent,
          method: "POST",
          headers,
          body: JSON.stringify({ ...upstreamRequest }),
          signal
        })
          .then((response) => response.body.text())
          .then(
            (text) => resume(Effect.succeed(JSON.parse(text) as unknown)),
            (error: unknown) => resume(Effect.fail(error instanceof Error ? error : new Error(String(error))))
          )
        return Effect.sync(() => signal.emit("abort"))
      })
    const viaPlatform = () =>
      Effect.flatMap(HttpClient.HttpClient, (client) =>
        client.execute(
          HttpClientRequest.post(`${baseUrl}/chat/completions`).pipe(
            HttpClientRequest.setHeaders(headers),
            HttpClientRequest.bodyUnsafeJson({ ...upstreamRequest })
          )
        ).pipe(Effect.flatMap((response) => response.json)))

    const variants = {
      bare,
      service: inService(() => service.create(createRequest, makeContext())),
      provider: inService(() => provider.create(call)),
      upstreamHttp: inService(viaUpstreamHttp),
      minimal: inService(viaMinimalEffect),
      platform: inPlatform(viaPlatform)
    }
    type Variant = keyof typeof variants
    const names = Object.keys(variants) as Array<Variant>
    const results: Array<{ mode: string; measures: Record<Variant, Measure> }> = []
    for (const [mode, concurrency] of [["sequential", 1], [`${CONCURRENCY} concurrent`, CONCURRENCY]] as const) {
      const samples = Object.fromEntries(names.map((name) => [name, [] as Array<Measure>])) as Record<
        Variant,
        Array<Measure>
      >
      for (let round = 0; round < ROUNDS; round++) {
        for (const name of names) samples[name].push(await measure((n) => variants[name](n, concurrency), REQUESTS))
      }
      const measures = Object.fromEntries(names.map((name) => [name, {
        cpuUsPerRequest: median(samples[name].map((m) => m.cpuUsPerRequest)),
        requestsPerS: median(samples[name].map((m) => m.requestsPerS))
      }])) as Record<Variant, Measure>
      results.push({ mode, measures })
    }

    // ---------------------------------------------------------------- report
    const rate = median(rates)
    const cpuChunk = median(cpuPerChunk)
    const rows: Array<Row> = [
      [
        "(a) stream relay: provider → ChatCompletions.stream → runDrain",
        `${fmt(rate)} chunks/s (runs: ${rates.map((r) => fmt(r)).join(", ")})`,
        `≥ ${fmt(TARGET_CHUNKS_PER_S)} chunks/s`,
        rate >= TARGET_CHUNKS_PER_S
      ],
      ["    relay CPU per chunk", `${fmt(cpuChunk, 2)} µs (${fmt(1e6 / cpuChunk)} chunks per CPU-second)`, "", undefined],
      ["    transport alone (undici read, no parsing)", `${fmt(transportRate)} chunks/s`, "", undefined]
    ]
    for (const { measures, mode } of results) {
      const base = measures.bare.cpuUsPerRequest
      const cell = (m: Measure) =>
        `${fmt(m.cpuUsPerRequest)} µs CPU/req (${fmt(m.cpuUsPerRequest / base, 2)}× bare), ${fmt(m.requestsPerS)} req/s`
      rows.push(
        [`(b) ${mode}: bare undici.request relay`, cell(measures.bare), "baseline", undefined],
        [
          `(b) ${mode}: provider.create`,
          cell(measures.provider),
          `< ${TARGET_CPU_RATIO}× bare`,
          measures.provider.cpuUsPerRequest / base < TARGET_CPU_RATIO
        ],
        [
          `(b) ${mode}: ChatCompletions.create`,
          cell(measures.service),
          `< ${TARGET_CPU_RATIO}× bare`,
          measures.service.cpuUsPerRequest / base < TARGET_CPU_RATIO
        ],
        [`(c) ${mode}: UpstreamHttp exchange`, cell(measures.upstreamHttp), "compare", undefined],
        [`(c) ${mode}: @effect/platform HttpClient exchange`, cell(measures.platform), "compare", undefined],
        [`(c) ${mode}: Effect.async over undici, one promise`, cell(measures.minimal), "compare", undefined]
      )
    }
    printTable(rows)
    const failed = rows.filter(([, , , ok]) => ok === false).length
    console.log(
      failed === 0
        ? "\nAll targets met."
        : `\n${failed} target(s) missed. Profile with bench/profile.ts (see its header).`
    )
    console.log(`load average ${fmt(Os.loadavg()[0]!, 2)} at the end`)
  } finally {
    await agent.close()
    await platform.dispose()
    await runtime.dispose()
    child.disconnect()
  }
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})

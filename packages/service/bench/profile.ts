/**
 * One hot path in a loop, to profile it:
 *
 *   cd packages/service
 *   PROFILE=create node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx --conditions=@switchyard/source bench/profile.ts
 *
 * PROFILE is `stream` (ChatCompletions.stream of BENCH_CHUNKS chunks, 5 times),
 * `open` (N short streams of BENCH_CHUNKS chunks, 2 by default, through
 * `ChatCompletions.open` and its pull, as the gateway relays them: the cost of
 * setting up a stream),
 * `create` (ChatCompletions.create, N times), `provider` (the provider's
 * create alone), `timeout` / `retry` (the provider's create with only the
 * service's timeout or retry added). The upstream runs in a child process
 * (it writes its own profile too: take the parent's, the larger file).
 */
import { ChatCompletionRequest } from "@switchyard/core"
import { Context, Effect, Layer, ManagedRuntime, Redacted, Schema, Stream } from "effect"
import { fork } from "node:child_process"
import { fileURLToPath } from "node:url"
import {
  ChatCompletions,
  defaultPolicy,
  makeContext,
  OpenAiCompatibleProvider,
  ProviderRegistry,
  retrySchedule,
  UpstreamHttp
} from "../src/index.js"

const mode = process.env.PROFILE ?? "create"
const n = Number(process.env.N ?? 5_000)
const chunks = Number(process.env.BENCH_CHUNKS ?? (mode === "open" ? 2 : 200_000))

const child = fork(fileURLToPath(new URL("./upstream.ts", import.meta.url)), [], { stdio: "inherit" })
const port = await new Promise<number>((resolve) => child.once("message", (m) => resolve((m as { port: number }).port)))
const vendor = { name: "openai", baseUrl: `http://127.0.0.1:${port}/v1`, apiKey: Redacted.make("sk-bench") }
const runtime = ManagedRuntime.make(ChatCompletions.layer().pipe(
  Layer.provideMerge(
    Layer.effect(
      ProviderRegistry,
      Effect.map(OpenAiCompatibleProvider.make(vendor), (openai) => ProviderRegistry.make({ openai }))
    )
  ),
  Layer.provide(UpstreamHttp.layer())
))
const context = (await runtime.runtime()).context
const service = Context.get(context, ChatCompletions)
const provider = Context.get(context, ProviderRegistry).provider("openai")!

const decode = Schema.decodeUnknownSync(ChatCompletionRequest)
const request = decode({ model: "openai/bench-model", messages: [{ role: "user", content: "Hi" }] })
const call = { request, vendor: "openai", model: "bench-model", context: makeContext() }
const schedule = retrySchedule(defaultPolicy)

const one: () => Effect.Effect<unknown, unknown> = mode === "create"
  ? () => service.create(request, makeContext())
  : mode === "timeout"
  ? () => provider.create(call).pipe(Effect.timeoutFail({ duration: 600_000, onTimeout: () => "timeout" }))
  : mode === "retry"
  ? () => provider.create(call).pipe(Effect.retry(schedule))
  : () => provider.create(call)

if (mode === "open") {
  const streamed = decode({ model: "openai/bench-model", messages: [{ role: "user", content: "Hi" }], stream: true, bench_chunks: chunks })
  const drain = (pull: Effect.Effect<ReadonlyArray<unknown> | null, unknown>): Effect.Effect<void, unknown> =>
    Effect.flatMap(pull, (batch) => batch === null ? Effect.void : drain(pull))
  const opened = () => Effect.scoped(Effect.flatMap(service.open(streamed, makeContext()), ({ pull }) => drain(pull)))
  await runtime.runPromise(Effect.forEach(Array.from({ length: 1_000 }), opened, { discard: true }))
  for (let run = 0; run < 3; run++) {
    const cpu = process.cpuUsage()
    await runtime.runPromise(Effect.forEach(Array.from({ length: n }), opened, { discard: true, concurrency: Number(process.env.CONCURRENCY ?? 1) }))
    const used = process.cpuUsage(cpu)
    console.log(`open: ${((used.user + used.system) / n).toFixed(0)} µs CPU/stream`)
  }
} else if (mode === "stream") {
  const streamed = decode({ model: "openai/bench-model", messages: [{ role: "user", content: "Hi" }], stream: true, bench_chunks: chunks })
  for (let run = 0; run < 6; run++) {
    const cpu = process.cpuUsage()
    await runtime.runPromise(Stream.runDrain(service.stream(streamed, makeContext())))
    const used = process.cpuUsage(cpu)
    if (run > 0) console.log(`stream: ${((used.user + used.system) / chunks).toFixed(2)} µs CPU/chunk`)
  }
} else {
  await runtime.runPromise(Effect.forEach(Array.from({ length: 1_000 }), one, { discard: true }))
  const cpu = process.cpuUsage()
  await runtime.runPromise(Effect.forEach(Array.from({ length: n }), one, { discard: true, concurrency: Number(process.env.CONCURRENCY ?? 1) }))
  const used = process.cpuUsage(cpu)
  console.log(`${mode}: ${((used.user + used.system) / n).toFixed(0)} µs CPU/request`)
}
await runtime.dispose()
child.disconnect()

/**
 * The direct CPU cost of observability per request, in this process: what the
 * listener adds to a non-streaming completion with one upstream attempt
 * (`RequestTelemetry.begin`/`end`, the call record's trace, the attempt's
 * `traceparent` header), with metrics off, metrics on, and tracing at 100%
 * sampling exporting over OTLP/HTTP to a collector in a child process (so its
 * CPU is not counted; the exporter's serialization and HTTP client are).
 * Steadier than the whole-gateway comparison on a busy machine: each figure is
 * the least of several runs of many requests.
 */
import { ChatCompletionRequest } from "@switchyard/core"
import {
  attemptTraceparent,
  ChatCompletions,
  finishAttempt,
  makeCallRecord,
  settleAttempts,
  startAttempt,
  TestProvider
} from "@switchyard/service"
import { ConfigProvider, Context, Effect, Layer, Schema } from "effect"
import { spawn } from "node:child_process"
import type { IncomingMessage } from "node:http"
import { Gateway, loadConfig } from "../../src/config/GatewayConfig.js"
import type { Exchange } from "../../src/http/Respond.js"
import * as OtlpTracing from "../../src/telemetry/OtlpTracing.js"
import * as RequestTelemetry from "../../src/telemetry/RequestTelemetry.js"

const SINK = `require("node:http").createServer((q, s) => { q.resume(); q.on("end", () => { s.writeHead(200, { "content-type": q.headers["content-type"] }); s.end(q.headers["content-type"] === "application/json" ? "{}" : "") }) }).listen(0, "127.0.0.1", function () { console.log(this.address().port) })`

const request = Schema.decodeUnknownSync(ChatCompletionRequest)({
  model: "openai/gpt-4o",
  messages: [{ role: "system", content: "Be brief." }, { role: "user", content: "What is a switchyard?" }],
  temperature: 0.2,
  max_tokens: 256
})
const completion = {
  id: "chatcmpl-bench",
  object: "chat.completion" as const,
  created: 1_700_000_000,
  model: "gpt-4o-2024-08-06",
  choices: [{
    index: 0,
    message: { role: "assistant" as const, content: "A railway yard.", refusal: null },
    finish_reason: "stop" as const,
    logprobs: null
  }],
  usage: { prompt_tokens: 20, completion_tokens: 9, total_tokens: 29 }
}
const req = {
  method: "POST",
  httpVersion: "1.1",
  headers: { "user-agent": "OpenAI/JS 6.0.0", "content-type": "application/json" },
  socket: { localPort: 8080, remoteAddress: "127.0.0.1" }
} as unknown as IncomingMessage
const headers = { authorization: "Bearer sk", "content-type": "application/json", accept: "application/json" }

type Telemetry = Context.Tag.Service<typeof RequestTelemetry.RequestTelemetry>

const oneRequest = (telemetry: Telemetry, sink: boolean) => {
  const exchange: Exchange = { requestId: "req_bench", started: performance.now(), keyId: "key_1", account: "default" }
  telemetry.begin(req, exchange, "/v5/chat/completions")
  const record = exchange.call = makeCallRecord(exchange.trace)
  exchange.model = request.model
  exchange.stream = false
  exchange.request = request
  const attempt = startAttempt(record, "openai/gpt-4o", "openai", "first")
  if (sink && record.trace !== undefined) {
    attempt.url = "https://api.openai.com/v1/chat/completions"
    void ({ ...headers, traceparent: attemptTraceparent(record.trace, attempt) })
  }
  finishAttempt(record, attempt, "ok")
  exchange.usage = completion.usage
  exchange.completion = completion
  exchange.status = 200
  settleAttempts(record)
  return telemetry.end(req, exchange, "/v5/chat/completions", performance.now())
}

const measure = async (telemetry: Telemetry, sink: boolean): Promise<number> => {
  const batch = async (n: number) => {
    for (let i = 0; i < n; i += 200) {
      for (let j = 0; j < 200; j++) oneRequest(telemetry, sink)
      await new Promise((resolve) => setImmediate(resolve))
    }
  }
  await batch(20_000)
  const runs: Array<number> = []
  for (let round = 0; round < 5; round++) {
    const n = 20_000
    const before = process.cpuUsage()
    await batch(n)
    // Let the last batch of spans go out: the export is part of the cost.
    await new Promise((resolve) => setTimeout(resolve, 300))
    const used = process.cpuUsage(before)
    runs.push((used.user + used.system) / n)
  }
  return Math.min(...runs)
}

const telemetryWith = (env: Record<string, string>) =>
  Effect.gen(function*() {
    const config = yield* loadConfig({}).pipe(
      Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)), { pathDelim: "_" }))
    )
    const context = yield* Layer.build(
      RequestTelemetry.layer.pipe(
        Layer.provide(Layer.succeed(Gateway, config)),
        Layer.provide(ChatCompletions.layer().pipe(Layer.provide(TestProvider.layer({ vendors: ["openai"], script: [] })))),
        Layer.provide(OtlpTracing.layer(config.tracing))
      )
    )
    return Context.get(context, RequestTelemetry.RequestTelemetry)
  })

/** µs of CPU per request the listener's telemetry costs: metrics off, metrics on, tracing (protobuf, JSON). */
export const telemetryCost = async (): Promise<{ off: number; metrics: number; tracing: number; tracingJson: number }> => {
  const sink = spawn(process.execPath, ["-e", SINK], { stdio: ["ignore", "pipe", "inherit"] })
  const port = await new Promise<number>((resolve) => sink.stdout!.once("data", (data) => resolve(Number(String(data).trim()))))
  const tracingEnv = (protocol: string) => ({
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
    OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
    OTEL_TRACES_SAMPLER: "always_on",
    OTEL_BSP_SCHEDULE_DELAY: "1000"
  })
  try {
    return await Effect.runPromise(Effect.scoped(Effect.gen(function*() {
      const off = yield* telemetryWith({ SWITCHYARD_METRICS_ENABLED: "false" })
      const metrics = yield* telemetryWith({})
      const tracing = yield* telemetryWith(tracingEnv("http/protobuf"))
      const tracingJson = yield* telemetryWith(tracingEnv("http/json"))
      return {
        off: yield* Effect.promise(() => measure(off, false)),
        metrics: yield* Effect.promise(() => measure(metrics, false)),
        tracing: yield* Effect.promise(() => measure(tracing, true)),
        tracingJson: yield* Effect.promise(() => measure(tracingJson, true))
      }
    })))
  } finally {
    sink.kill()
  }
}

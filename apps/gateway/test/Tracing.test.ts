import { describe, expect, it } from "@effect/vitest"
import { FakeUpstream } from "@switchyard/service/testing"
import { Effect, Redacted } from "effect"
import { TRACING_OFF, type TracingConfig } from "../src/config/TelemetryConfig.js"
import * as OtlpTracing from "../src/telemetry/OtlpTracing.js"
import * as FakeCollector from "./support/FakeCollector.js"
import {
  completionBody,
  openStream,
  postJson,
  request,
  startGateway,
  type TestGateway,
  textChunks,
  usageChunk,
  waitUntil
} from "./support/Harness.js"

const TIMEOUT = 30_000
const SERVER = 2
const CLIENT = 3

const tracing = (overrides: Partial<TracingConfig>) =>
  OtlpTracing.layer({ ...TRACING_OFF, protocol: "http/json", scheduleDelayMs: 20, ...overrides })

const chat = (extra: Record<string, unknown> = {}) => ({
  model: "openai/gpt-4o",
  messages: [{ role: "user", content: "What is a switchyard?" }],
  temperature: 0.2,
  max_tokens: 64,
  ...extra
})

const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
const PARENT_ID = "00f067aa0ba902b7"

/** Waits until the collector has a span with this name, then returns every span of its trace. */
const traceOf = (collector: FakeCollector.FakeCollector, name: string, count: number) =>
  Effect.promise(() =>
    waitUntil(() => {
      const root = collector.spans().find((span) => span.name === name)
      const trace = root === undefined ? [] : collector.spans().filter((span) => span.traceId === root.traceId)
      return trace.length >= count ? trace : undefined
    }, 10_000, () => `spans so far: ${JSON.stringify(collector.spans().map((span) => span.name))}`)
  )

const traceparentOf = (gateway: TestGateway, index: number) => {
  const header = gateway.upstream.requests[index]?.headers.traceparent
  expect(typeof header).toBe("string")
  const [version, traceId, spanId, flags] = (header as string).split("-")
  return { version, traceId, spanId, flags }
}

describe("OpenTelemetry traces (OTLP/HTTP)", () => {
  it.scopedLive("a SERVER span per request continues the caller's traceparent; a GenAI CLIENT span per attempt sends its own to the vendor", () =>
    Effect.gen(function*() {
      const collector = yield* FakeCollector.scoped()
      const gateway = yield* startGateway({
        gateway: { apiKeys: ["sk-team:acct_a"] },
        tracing: tracing({ endpoint: collector.url, serviceName: "switchyard-test" })
      })
      const response = yield* Effect.promise(() =>
        postJson(`${gateway.url}/v5/chat/completions`, chat(), {
          "x-api-key": "sk-team",
          traceparent: `00-${TRACE_ID}-${PARENT_ID}-01`
        })
      )
      expect(response.status).toBe(200)
      const spans = yield* traceOf(collector, "POST /v5/chat/completions", 2)
      const server = spans.find((span) => span.name === "POST /v5/chat/completions")!
      const attempt = spans.find((span) => span.name === "chat gpt-4o")!
      // The request's span covers the service call: no span of the service's own methods in between.
      expect(spans).toHaveLength(2)

      expect(server.kind).toBe(SERVER)
      expect(server.traceId).toBe(TRACE_ID)
      expect(server.parentSpanId).toBe(PARENT_ID)
      expect(server.resource["service.name"]).toBe("switchyard-test")
      expect(server.attributes).toMatchObject({
        "http.request.method": "POST",
        "http.route": "/v5/chat/completions",
        "url.path": "/v5/chat/completions",
        "http.response.status_code": 200,
        "switchyard.account": "acct_a",
        "switchyard.request_id": response.headers["x-request-id"]
      })
      expect(attempt.kind).toBe(CLIENT)
      expect(attempt.parentSpanId).toBe(server.spanId)
      expect(attempt.attributes).toEqual(expect.objectContaining({
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o",
        "gen_ai.request.temperature": 0.2,
        "gen_ai.request.max_tokens": 64,
        "gen_ai.response.model": "gpt-4o",
        "gen_ai.response.id": "chatcmpl-upstream",
        "gen_ai.response.finish_reasons": ["stop"],
        "gen_ai.usage.input_tokens": 9,
        "gen_ai.usage.output_tokens": 4,
        "server.address": "127.0.0.1",
        "server.port": gateway.upstream.port,
        "switchyard.attempt.kind": "first"
      }))
      expect(attempt.attributes).not.toHaveProperty("error.type")
      // Prompts and completions stay out unless capture is on.
      expect(JSON.stringify(spans)).not.toContain("What is a switchyard?")
      expect(JSON.stringify(spans)).not.toContain("Hello from upstream")

      const sent = traceparentOf(gateway, 0)
      expect(sent).toEqual({ version: "00", traceId: TRACE_ID, spanId: attempt.spanId, flags: "01" })
    }), TIMEOUT)

  it.scopedLive("retries are separate CLIENT spans under the same parent, the failed one with error.type; each sends its traceparent", () =>
    Effect.gen(function*() {
      const collector = yield* FakeCollector.scoped()
      const gateway = yield* startGateway({
        tracing: tracing({ endpoint: collector.url }),
        service: { retry: { max_retries: 2, initial_delay_ms: 1, max_delay_ms: 5 } },
        upstream: (_req, res, index) =>
          index === 0
            ? FakeUpstream.sendJson(res, 429, { error: { message: "slow down" } }, { "retry-after-ms": "5" })
            : FakeUpstream.sendJson(res, 200, completionBody("Hello"))
      })
      const response = yield* Effect.promise(() => postJson(`${gateway.url}/v5/chat/completions`, chat()))
      expect(response.status).toBe(200)
      const spans = yield* traceOf(collector, "POST /v5/chat/completions", 3)
      const server = spans.find((span) => span.kind === SERVER)!
      expect(server.parentSpanId).toBeUndefined()
      const attempts = spans.filter((span) => span.name === "chat gpt-4o")
      expect(attempts).toHaveLength(2)
      const [first, retry] = [
        attempts.find((span) => span.attributes["switchyard.attempt.kind"] === "first")!,
        attempts.find((span) => span.attributes["switchyard.attempt.kind"] === "retry")!
      ]
      for (const attempt of [first, retry]) expect(attempt.parentSpanId).toBe(server.spanId)
      expect(first.attributes["error.type"]).toBe("rate_limited")
      expect(first.status.code).toBe(2)
      expect(retry.attributes).not.toHaveProperty("error.type")
      expect(traceparentOf(gateway, 0)).toMatchObject({ traceId: server.traceId, spanId: first.spanId })
      expect(traceparentOf(gateway, 1)).toMatchObject({ traceId: server.traceId, spanId: retry.spanId })
    }), TIMEOUT)

  it.scopedLive("a stream's attempt span lasts until its end and reports finish reasons and usage; content is captured when asked", () =>
    Effect.gen(function*() {
      const collector = yield* FakeCollector.scoped()
      const gateway = yield* startGateway({
        tracing: tracing({ endpoint: collector.url, captureContent: true }),
        upstream: (_req, res) => FakeUpstream.sendSse(res, [...textChunks("one two three"), usageChunk()], { delayMs: 10 })
      })
      const stream = yield* Effect.promise(() =>
        openStream(`${gateway.url}/v1/chat/completions`, chat({ stream: true, stream_options: { include_usage: true } }))
      )
      expect((yield* Effect.promise(() => stream.closed)).complete).toBe(true)
      const spans = yield* traceOf(collector, "POST /v1/chat/completions", 2)
      const server = spans.find((span) => span.kind === SERVER)!
      const attempt = spans.find((span) => span.kind === CLIENT)!
      expect(spans).toHaveLength(2)
      expect(attempt.parentSpanId).toBe(server.spanId)
      expect(attempt.attributes).toMatchObject({
        "gen_ai.request.stream": true,
        "gen_ai.response.finish_reasons": ["stop"],
        "gen_ai.usage.input_tokens": 9,
        "gen_ai.usage.output_tokens": 3
      })
      expect(JSON.parse(attempt.attributes["gen_ai.input.messages"] as string)).toEqual([
        { role: "user", parts: [{ type: "text", content: "What is a switchyard?" }] }
      ])
      expect(JSON.parse(attempt.attributes["gen_ai.output.messages"] as string)).toEqual([
        { role: "assistant", parts: [{ type: "text", content: "one two three" }], finish_reason: "stop" }
      ])
      expect(traceparentOf(gateway, 0)).toMatchObject({ traceId: server.traceId, spanId: attempt.spanId })
    }), TIMEOUT)

  it.scopedLive("http/protobuf is the default protocol, and OTEL_EXPORTER_OTLP_HEADERS reach the collector", () =>
    Effect.gen(function*() {
      const collector = yield* FakeCollector.scoped()
      const gateway = yield* startGateway({
        tracing: tracing({
          endpoint: collector.url,
          protocol: "http/protobuf",
          headers: [["authorization", Redacted.make("Bearer collector-token")]]
        })
      })
      expect((yield* Effect.promise(() => postJson(`${gateway.url}/v5/chat/completions`, chat()))).status).toBe(200)
      const exported = yield* Effect.promise(() =>
        waitUntil(() => collector.requests.find((request) => request.body.includes("chat gpt-4o")), 10_000, () => "no export")
      )
      expect(exported.contentType).toBe("application/x-protobuf")
      expect(exported.headers.authorization).toBe("Bearer collector-token")
    }), TIMEOUT)

  it.scopedLive("a collector that is down or stuck neither fails nor slows requests, and shutdown does not wait on it for long", () =>
    Effect.gen(function*() {
      for (const endpoint of [yield* FakeCollector.downUrl(), (yield* FakeCollector.scoped({ hang: true })).url]) {
        const gateway = yield* startGateway({ tracing: tracing({ endpoint, exportTimeoutMs: 30_000 }) })
        const latencies: Array<number> = []
        for (let i = 0; i < 20; i++) {
          const started = performance.now()
          const response = yield* Effect.promise(() => postJson(`${gateway.url}/v5/chat/completions`, chat()))
          expect(response.status).toBe(200)
          latencies.push(performance.now() - started)
          yield* Effect.sleep("5 millis")
        }
        latencies.sort((a, b) => a - b)
        expect(latencies[10]).toBeLessThan(100)
        expect(latencies[19]).toBeLessThan(1_000)
        const started = performance.now()
        yield* gateway.shutdown
        expect(performance.now() - started).toBeLessThan(5_000)
      }
    }), TIMEOUT)

  it.scopedLive("an invalid incoming traceparent starts a new trace", () =>
    Effect.gen(function*() {
      const collector = yield* FakeCollector.scoped()
      const gateway = yield* startGateway({ tracing: tracing({ endpoint: collector.url }) })
      yield* Effect.promise(() =>
        postJson(`${gateway.url}/v5/chat/completions`, chat(), { traceparent: `00-${"0".repeat(32)}-${PARENT_ID}-01` })
      )
      const spans = yield* traceOf(collector, "POST /v5/chat/completions", 2)
      const server = spans.find((span) => span.kind === SERVER)!
      expect(server.parentSpanId).toBeUndefined()
      expect(server.traceId).not.toBe("0".repeat(32))
      expect(traceparentOf(gateway, 0).traceId).toBe(server.traceId)
    }), TIMEOUT)

  it.scopedLive("requests served by the HttpApi get the same SERVER span (and no second one from the platform)", () =>
    Effect.gen(function*() {
      const collector = yield* FakeCollector.scoped()
      const gateway = yield* startGateway({ tracing: tracing({ endpoint: collector.url }) })
      expect((yield* Effect.promise(() => request(`${gateway.url}/v5/models`))).status).toBe(200)
      expect((yield* Effect.promise(() => request(`${gateway.url}/nowhere`))).status).toBe(404)
      const [models] = yield* traceOf(collector, "GET /v5/models", 1)
      const [unknown] = yield* traceOf(collector, "GET", 1)
      expect(models!.kind).toBe(SERVER)
      expect(models!.attributes).toMatchObject({ "http.route": "/v5/models", "http.response.status_code": 200 })
      expect(unknown!.attributes).toMatchObject({ "url.path": "/nowhere", "http.response.status_code": 404 })
      expect(unknown!.attributes).not.toHaveProperty("http.route")
      expect(collector.spans().filter((span) => span.name.startsWith("http.server"))).toEqual([])
    }), TIMEOUT)

  it.scopedLive("a trace the sampler leaves out exports nothing, and the vendor is told so (flag 00); the caller's flag decides by default", () =>
    Effect.gen(function*() {
      const collector = yield* FakeCollector.scoped()
      const off = yield* startGateway({ tracing: tracing({ endpoint: collector.url, sampler: "always_off" }) })
      expect((yield* Effect.promise(() => postJson(`${off.url}/v5/chat/completions`, chat()))).status).toBe(200)
      expect(traceparentOf(off, 0).flags).toBe("00")
      const byParent = yield* startGateway({ tracing: tracing({ endpoint: collector.url }) })
      yield* Effect.promise(() =>
        postJson(`${byParent.url}/v5/chat/completions`, chat(), { traceparent: `00-${TRACE_ID}-${PARENT_ID}-00` })
      )
      expect(traceparentOf(byParent, 0)).toMatchObject({ traceId: TRACE_ID, flags: "00" })
      yield* off.shutdown
      yield* byParent.shutdown
      expect(collector.spans()).toEqual([])
    }), TIMEOUT)

  it.scopedLive("without an endpoint nothing is traced and no traceparent goes to the vendor", () =>
    Effect.gen(function*() {
      const gateway = yield* startGateway({ tracing: tracing({ endpoint: undefined }) })
      expect((yield* Effect.promise(() => postJson(`${gateway.url}/v5/chat/completions`, chat()))).status).toBe(200)
      expect(gateway.upstream.requests[0]!.headers.traceparent).toBeUndefined()
    }), TIMEOUT)
})

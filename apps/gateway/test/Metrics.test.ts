import { describe, expect, it } from "@effect/vitest"
import { FakeUpstream } from "@switchyard/service/testing"
import { Effect } from "effect"
import {
  answerText,
  completionBody,
  openStream,
  postJson,
  request,
  sleep,
  startGateway,
  type TestGateway,
  textChunks,
  usageChunk,
  waitUntil
} from "./support/Harness.js"
import { type Exposition, parseExposition } from "./support/Prometheus.js"

const TIMEOUT = 30_000

const scrape = (gateway: TestGateway, headers: Record<string, string> = {}) =>
  Effect.promise(async () => {
    const response = await request(`${gateway.url}/metrics`, { headers })
    expect(response.status).toBe(200)
    expect(response.headers["content-type"]).toBe("text/plain; version=0.0.4; charset=utf-8")
    return parseExposition(response.text)
  })

/** How much a series grew between two scrapes (a series that did not exist counts as 0). */
const delta = (before: Exposition, after: Exposition, name: string, labels: Record<string, string>) =>
  (after.value(name, labels) ?? 0) - (before.value(name, labels) ?? 0)

const chat = (model = "openai/gpt-4o", extra: Record<string, unknown> = {}) => ({
  model,
  messages: [{ role: "user", content: "Hi" }],
  ...extra
})

const completion = { endpoint: "chat_completions", model: "openai/gpt-4o", vendor: "openai" }

const failWith = (status: number): FakeUpstream.FakeHandler => (_request, response) =>
  FakeUpstream.sendJson(response, status, { error: { message: "down", type: "server_error" } })

/** A gateway whose custom vendors are fake upstreams, with routes (no retries). */
const routed = (vendors: Readonly<Record<string, FakeUpstream.FakeUpstream>>, routing: Record<string, unknown>) =>
  startGateway({
    service: {
      retry: { max_retries: 0 },
      vendors: Object.fromEntries(Object.entries(vendors).map(([name, upstream]) => [name, { base_url: upstream.baseUrl }])),
      ...routing
    }
  })

const targets = (...models: ReadonlyArray<string>) => ({ targets: models.map((model) => ({ model })) })

describe("GET /metrics", () => {
  it.scopedLive("counts a plain completion: request, attempt, tokens, GenAI usage, durations; nothing left in flight", () =>
    Effect.gen(function*() {
      const gateway = yield* startGateway()
      const before = yield* scrape(gateway)
      const response = yield* Effect.promise(() => postJson(`${gateway.url}/v5/chat/completions`, chat()))
      expect(response.status).toBe(200)
      yield* gateway.log.line((line) => line.includes("POST /v5/chat/completions"))
      const after = yield* scrape(gateway)

      expect(delta(before, after, "switchyard_requests_total", { ...completion, status: "200", stream: "false" })).toBe(1)
      expect(delta(before, after, "switchyard_upstream_attempts_total", { vendor: "openai", model: "openai/gpt-4o", outcome: "ok" }))
        .toBe(1)
      expect(delta(before, after, "switchyard_tokens_total", { vendor: "openai", model: "openai/gpt-4o", type: "input" })).toBe(9)
      expect(delta(before, after, "switchyard_tokens_total", { vendor: "openai", model: "openai/gpt-4o", type: "output" })).toBe(4)
      const genAi = { gen_ai_operation_name: "chat", gen_ai_provider_name: "openai", gen_ai_request_model: "gpt-4o" }
      expect(delta(before, after, "gen_ai_client_token_usage_count", { ...genAi, gen_ai_token_type: "input" })).toBe(1)
      expect(delta(before, after, "gen_ai_client_token_usage_sum", { ...genAi, gen_ai_token_type: "input" })).toBe(9)
      expect(delta(before, after, "gen_ai_client_token_usage_sum", { ...genAi, gen_ai_token_type: "output" })).toBe(4)
      // The semantic conventions' buckets: 9 tokens fall in le=16, not in le=4.
      expect(delta(before, after, "gen_ai_client_token_usage_bucket", { ...genAi, gen_ai_token_type: "input", le: "16" })).toBe(1)
      expect(delta(before, after, "gen_ai_client_token_usage_bucket", { ...genAi, gen_ai_token_type: "input", le: "4" })).toBe(0)
      expect(delta(before, after, "gen_ai_client_operation_duration_seconds_count", { ...genAi, error_type: "" })).toBe(1)
      expect(delta(before, after, "switchyard_request_duration_seconds_count", { ...completion, stream: "false" })).toBe(1)
      expect(delta(before, after, "switchyard_overhead_seconds_count", { endpoint: "chat_completions" })).toBe(1)
      expect(delta(before, after, "switchyard_retries_total", { vendor: "openai", model: "openai/gpt-4o" })).toBe(0)
      expect(after.value("switchyard_in_flight_requests", { endpoint: "chat_completions" })).toBe(0)
      expect(after.value("switchyard_open_streams")).toBe(0)
      // The previous scrape was answered and counted too.
      expect(delta(before, after, "switchyard_requests_total", {
        endpoint: "metrics",
        model: "",
        vendor: "",
        status: "200",
        stream: "false"
      })).toBe(1)
    }), TIMEOUT)

  it.scopedLive("counts a stream: stream label, time to first chunk, usage tokens; open streams and in-flight while it runs", () =>
    Effect.gen(function*() {
      const gateway = yield* startGateway({
        upstream: (_req, res) => FakeUpstream.sendSse(res, [...textChunks("one two three"), usageChunk()], { delayMs: 150 })
      })
      const before = yield* scrape(gateway)
      const stream = yield* Effect.promise(() =>
        openStream(`${gateway.url}/v5/chat/completions`, chat("openai/gpt-4o", { stream: true, stream_options: { include_usage: true } }))
      )
      yield* Effect.promise(() => stream.until((text) => text.includes("one")))
      const during = yield* scrape(gateway)
      expect(during.value("switchyard_open_streams")).toBe(1)
      expect(during.value("switchyard_in_flight_requests", { endpoint: "chat_completions" })).toBe(1)
      expect(during.value("switchyard_in_flight_requests", { endpoint: "metrics" })).toBe(1)
      expect((yield* Effect.promise(() => stream.closed)).complete).toBe(true)
      yield* gateway.log.line((line) => line.includes(" stream"))
      const after = yield* scrape(gateway)

      expect(delta(before, after, "switchyard_requests_total", { ...completion, status: "200", stream: "true" })).toBe(1)
      expect(delta(before, after, "switchyard_time_to_first_chunk_seconds_count", { model: "openai/gpt-4o", vendor: "openai" }))
        .toBe(1)
      expect(delta(before, after, "switchyard_tokens_total", { vendor: "openai", model: "openai/gpt-4o", type: "output" })).toBe(3)
      expect(after.value("switchyard_open_streams")).toBe(0)
      expect(after.value("switchyard_in_flight_requests", { endpoint: "chat_completions" })).toBe(0)
      // The stream took ≥ 5 × 150 ms, nearly all of it waiting on the vendor: the gateway's own share stays small.
      const duration = delta(before, after, "switchyard_request_duration_seconds_sum", { ...completion, stream: "true" })
      const overhead = delta(before, after, "switchyard_overhead_seconds_sum", { endpoint: "chat_completions" })
      expect(duration).toBeGreaterThan(0.6)
      expect(overhead).toBeLessThan(duration / 4)
    }), TIMEOUT)

  it.scopedLive("an upstream 429 retried: one rate_limited attempt, one ok, one retry, one answered request", () =>
    Effect.gen(function*() {
      const gateway = yield* startGateway({
        service: { retry: { max_retries: 2, initial_delay_ms: 1, max_delay_ms: 5 } },
        upstream: (_req, res, index) =>
          index === 0
            ? FakeUpstream.sendJson(res, 429, { error: { message: "slow down", type: "rate_limit" } }, { "retry-after-ms": "5" })
            : FakeUpstream.sendJson(res, 200, completionBody("Hello"))
      })
      const before = yield* scrape(gateway)
      const response = yield* Effect.promise(() => postJson(`${gateway.url}/v5/chat/completions`, chat()))
      expect(response.status).toBe(200)
      yield* gateway.log.line((line) => line.includes("POST /v5/chat/completions"))
      const after = yield* scrape(gateway)
      const target = { vendor: "openai", model: "openai/gpt-4o" }
      expect(delta(before, after, "switchyard_upstream_attempts_total", { ...target, outcome: "rate_limited" })).toBe(1)
      expect(delta(before, after, "switchyard_upstream_attempts_total", { ...target, outcome: "ok" })).toBe(1)
      expect(delta(before, after, "switchyard_retries_total", target)).toBe(1)
      expect(delta(before, after, "switchyard_requests_total", { ...completion, status: "200", stream: "false" })).toBe(1)
      const genAi = { gen_ai_operation_name: "chat", gen_ai_provider_name: "openai", gen_ai_request_model: "gpt-4o" }
      expect(delta(before, after, "gen_ai_client_operation_duration_seconds_count", { ...genAi, error_type: "rate_limited" })).toBe(1)
      expect(delta(before, after, "gen_ai_client_operation_duration_seconds_count", { ...genAi, error_type: "" })).toBe(1)
    }), TIMEOUT)

  it.scopedLive("a failure: the upstream's 500 counts as an unavailable attempt and a 502 answer, no tokens", () =>
    Effect.gen(function*() {
      const gateway = yield* startGateway({
        upstream: (_req, res) => FakeUpstream.sendJson(res, 500, { error: { message: "boom" } })
      })
      const before = yield* scrape(gateway)
      const response = yield* Effect.promise(() => postJson(`${gateway.url}/v5/chat/completions`, chat()))
      expect(response.status).toBe(502)
      yield* gateway.log.line((line) => line.includes("POST /v5/chat/completions"))
      const after = yield* scrape(gateway)
      expect(delta(before, after, "switchyard_requests_total", { ...completion, status: "502", stream: "false" })).toBe(1)
      expect(delta(before, after, "switchyard_upstream_attempts_total", { vendor: "openai", model: "openai/gpt-4o", outcome: "unavailable" }))
        .toBe(1)
      expect(delta(before, after, "switchyard_tokens_total", { vendor: "openai", model: "openai/gpt-4o", type: "input" })).toBe(0)
    }), TIMEOUT)

  it.scopedLive("unknown models and vendors land in `other`; the names a client sent never become label values", () =>
    Effect.gen(function*() {
      const gateway = yield* startGateway()
      const before = yield* scrape(gateway)
      const unknownModel = yield* Effect.promise(() => postJson(`${gateway.url}/v5/chat/completions`, chat("openai/gpt-imaginary-9")))
      expect(unknownModel.status).toBe(200)
      const unknownVendor = yield* Effect.promise(() => postJson(`${gateway.url}/v5/chat/completions`, chat("nowhere/some-model")))
      expect(unknownVendor.status).toBe(404)
      yield* Effect.promise(() =>
        waitUntil(() => gateway.log.text().split("\n").filter((line) => line.includes("POST /v5")).length >= 2 ? true : undefined, 5_000, () =>
          gateway.log.text())
      )
      const after = yield* scrape(gateway)
      expect(delta(before, after, "switchyard_requests_total", {
        endpoint: "chat_completions",
        model: "other",
        vendor: "openai",
        status: "200",
        stream: "false"
      })).toBe(1)
      expect(delta(before, after, "switchyard_upstream_attempts_total", { vendor: "openai", model: "other", outcome: "ok" })).toBe(1)
      expect(delta(before, after, "switchyard_tokens_total", { vendor: "openai", model: "other", type: "input" })).toBe(9)
      expect(delta(before, after, "switchyard_requests_total", {
        endpoint: "chat_completions",
        model: "other",
        vendor: "other",
        status: "404",
        stream: "false"
      })).toBe(1)
      const values = after.samples.flatMap((sample) => Object.values(sample.labels))
      expect(values).not.toContain("openai/gpt-imaginary-9")
      expect(values).not.toContain("gpt-imaginary-9")
      expect(values.some((value) => value.includes("nowhere"))).toBe(false)
    }), TIMEOUT)

  it.scopedLive("other endpoints and unknown paths are counted by route; process metrics are there", () =>
    Effect.gen(function*() {
      const gateway = yield* startGateway()
      const before = yield* scrape(gateway)
      expect((yield* Effect.promise(() => request(`${gateway.url}/health`))).status).toBe(200)
      expect((yield* Effect.promise(() => request(`${gateway.url}/no/such/path`))).status).toBe(404)
      yield* gateway.log.line((line) => line.includes("/no/such/path"))
      const after = yield* scrape(gateway)
      const none = { model: "", vendor: "", stream: "false" }
      expect(delta(before, after, "switchyard_requests_total", { endpoint: "health", status: "200", ...none })).toBe(1)
      expect(delta(before, after, "switchyard_requests_total", { endpoint: "other", status: "404", ...none })).toBe(1)
      expect(after.types.get("switchyard_requests_total")).toBe("counter")
      expect(after.types.get("switchyard_request_duration_seconds")).toBe("histogram")
      expect(after.types.get("switchyard_open_streams")).toBe("gauge")
      expect(after.value("process_resident_memory_bytes")).toBeGreaterThan(10_000_000)
      expect(after.value("nodejs_heap_size_used_bytes")).toBeGreaterThan(0)
      expect(after.value("process_open_fds")).toBeGreaterThan(2)
      expect(after.value("process_cpu_seconds_total")).toBeGreaterThan(0)
      expect(after.value("nodejs_eventloop_lag_seconds")).toBeGreaterThanOrEqual(0)
    }), TIMEOUT)

  it.scopedLive("the Responses API is counted as `responses`, its upstream attempts and tokens too; its stream carries Server-Timing", () =>
    Effect.gen(function*() {
      const gateway = yield* startGateway()
      const before = yield* scrape(gateway)
      const created = yield* Effect.promise(() => postJson(`${gateway.url}/v5/responses`, { model: "openai/gpt-4o", input: "Hi" }))
      expect(created.status).toBe(200)
      expect(timings(created.headers["server-timing"])).toHaveProperty("upstream")
      const id = (JSON.parse(created.text) as { id: string }).id
      expect((yield* Effect.promise(() => request(`${gateway.url}/v5/responses/${id}`))).status).toBe(200)
      const stream = yield* Effect.promise(() =>
        openStream(`${gateway.url}/v1/responses`, { model: "openai/gpt-4o", input: "Hi", stream: true })
      )
      expect(Object.keys(timings(stream.headers["server-timing"]))).toEqual(["gateway", "upstream", "ttfc"])
      expect((yield* Effect.promise(() => stream.closed)).complete).toBe(true)
      yield* Effect.promise(() =>
        waitUntil(() => gateway.log.text().split("\n").filter((line) => line.includes("responses")).length >= 3 ? true : undefined, 5_000, () =>
          gateway.log.text())
      )
      const after = yield* scrape(gateway)
      const labels = { endpoint: "responses", model: "openai/gpt-4o", vendor: "openai", status: "200" }
      expect(delta(before, after, "switchyard_requests_total", { ...labels, stream: "false" })).toBe(1)
      expect(delta(before, after, "switchyard_requests_total", { ...labels, stream: "true" })).toBe(1)
      expect(delta(before, after, "switchyard_requests_total", {
        endpoint: "responses_retrieve",
        model: "",
        vendor: "",
        status: "200",
        stream: "false"
      })).toBe(1)
      expect(delta(before, after, "switchyard_upstream_attempts_total", { vendor: "openai", model: "openai/gpt-4o", outcome: "ok" }))
        .toBe(2)
      // Both calls report usage (the facade asks the vendor for it when streaming): 9 input tokens each.
      expect(delta(before, after, "switchyard_tokens_total", { vendor: "openai", model: "openai/gpt-4o", type: "input" })).toBe(18)
      expect(after.value("switchyard_open_streams")).toBe(0)
    }), TIMEOUT)

  it.scopedLive("a route's fallback and a hedge are counted from the call record; a breaker that opened shows in the gauge", () =>
    Effect.gen(function*() {
      const down = yield* FakeUpstream.scoped(failWith(500))
      const up = yield* FakeUpstream.scoped(answerText("from the second target"))
      const slow = yield* FakeUpstream.scoped((_request, response) => {
        response.writeHead(200, { "content-type": "text/event-stream" })
        response.flushHeaders()
      })
      const gateway = yield* routed({ down, up, slow }, {
        routes: { smart: targets("down/m", "up/m"), hedged: { ...targets("slow/m", "up/m"), hedge_after_ms: 100 } },
        circuit_breaker: { failure_threshold: 2, cooldown_ms: 60_000 }
      })
      const before = yield* scrape(gateway)
      for (let i = 0; i < 2; i++) {
        const response = yield* Effect.promise(() => postJson(`${gateway.url}/v5/chat/completions`, chat("smart")))
        expect(response.status).toBe(200)
        expect(response.headers["x-switchyard-target"]).toBe("up/m")
      }
      const hedged = yield* Effect.promise(() =>
        openStream(`${gateway.url}/v5/chat/completions`, chat("hedged", { stream: true }))
      )
      yield* Effect.promise(() => hedged.closed)
      yield* Effect.promise(() =>
        waitUntil(() => gateway.log.text().split("\n").filter((line) => line.includes("POST /v5")).length >= 3 ? true : undefined, 5_000, () =>
          gateway.log.text())
      )
      const after = yield* scrape(gateway)
      expect(delta(before, after, "switchyard_fallbacks_total", { route: "smart", from: "down/m", to: "up/m" })).toBe(2)
      expect(delta(before, after, "switchyard_upstream_attempts_total", { vendor: "down", model: "down/m", outcome: "unavailable" }))
        .toBe(2)
      expect(delta(before, after, "switchyard_requests_total", {
        endpoint: "chat_completions",
        model: "smart",
        vendor: "up",
        status: "200",
        stream: "false"
      })).toBe(2)
      expect(delta(before, after, "switchyard_hedges_total", { route: "hedged", winner: "hedge" })).toBe(1)
      expect(delta(before, after, "switchyard_upstream_attempts_total", { vendor: "slow", model: "slow/m", outcome: "cancelled" }))
        .toBe(1)
      // Two failures in a row opened the first target's breaker; the others never failed.
      expect(after.value("switchyard_circuit_open", { target: "down/m" })).toBe(1)
      expect(after.value("switchyard_circuit_open", { target: "up/m" })).toBeUndefined()
    }), TIMEOUT)

  it.scopedLive("cost from the price catalogue: the configured price times the tokens; a model without a price adds nothing", () =>
    Effect.gen(function*() {
      const gateway = yield* startGateway({ prices: { "openai/gpt-4o": { input_per_mtok: 2.5, output_per_mtok: 10 } } })
      const before = yield* scrape(gateway)
      expect((yield* Effect.promise(() => postJson(`${gateway.url}/v5/chat/completions`, chat()))).status).toBe(200)
      expect((yield* Effect.promise(() => postJson(`${gateway.url}/v5/chat/completions`, chat("openai/gpt-4o-mini")))).status)
        .toBe(200)
      yield* Effect.promise(() =>
        waitUntil(() => gateway.log.text().split("\n").filter((line) => line.includes("POST /v5")).length >= 2 ? true : undefined, 5_000, () =>
          gateway.log.text())
      )
      const after = yield* scrape(gateway)
      // 9 input tokens at $2.50 and 4 output tokens at $10 per million.
      expect(delta(before, after, "switchyard_cost_usd_total", { vendor: "openai", model: "openai/gpt-4o" })).toBeCloseTo(
        (9 * 2.5 + 4 * 10) / 1e6,
        12
      )
      expect(after.value("switchyard_cost_usd_total", { vendor: "openai", model: "openai/gpt-4o-mini" })).toBeUndefined()
      expect(delta(before, after, "switchyard_tokens_total", { vendor: "openai", model: "openai/gpt-4o-mini", type: "input" })).toBe(9)
    }), TIMEOUT)

  it.scopedLive("metrics.require_key: 401 without a key, 403 with a key that is not an admin's, 200 with an admin key", () =>
    Effect.gen(function*() {
      const gateway = yield* startGateway({
        gateway: { apiKeys: ["sk-user"], adminKeys: ["sk-admin"], metrics: { requireKey: true } }
      })
      expect((yield* Effect.promise(() => request(`${gateway.url}/metrics`))).status).toBe(401)
      const user = yield* Effect.promise(() => request(`${gateway.url}/metrics`, { headers: { "x-api-key": "sk-user" } }))
      expect(user.status).toBe(403)
      expect(JSON.parse(user.text).error.message).toContain("admin")
      const admin = yield* scrape(gateway, { authorization: "Bearer sk-admin" })
      expect(admin.types.get("switchyard_requests_total")).toBe("counter")
    }), TIMEOUT)

  it.scopedLive("open by default even when keys are configured; 404 when metrics are disabled", () =>
    Effect.gen(function*() {
      const open = yield* startGateway({ gateway: { apiKeys: ["sk-user"] } })
      expect((yield* Effect.promise(() => request(`${open.url}/metrics`))).status).toBe(200)
      const disabled = yield* startGateway({ gateway: { metrics: { enabled: false } } })
      const response = yield* Effect.promise(() => request(`${disabled.url}/metrics`))
      expect(response.status).toBe(404)
      expect(JSON.parse(response.text).error.type).toBeDefined()
    }), TIMEOUT)
})

const timings = (header: string | string[] | undefined): Record<string, number> => {
  expect(typeof header).toBe("string")
  return Object.fromEntries((header as string).split(",").map((entry) => {
    const match = /^\s*(\w+);dur=(\d+(?:\.\d+)?)\s*$/.exec(entry)
    expect(match, entry).not.toBeNull()
    return [match![1]!, Number(match![2])]
  }))
}

describe("Server-Timing", () => {
  it.scopedLive("a completion says the gateway's share and the vendor's; the access log says the same", () =>
    Effect.gen(function*() {
      const gateway = yield* startGateway({
        upstream: async (_req, res) => {
          await sleep(120)
          FakeUpstream.sendJson(res, 200, completionBody("Hello"))
        }
      })
      const started = performance.now()
      const response = yield* Effect.promise(() => postJson(`${gateway.url}/v5/chat/completions`, chat()))
      const elapsed = performance.now() - started
      expect(response.status).toBe(200)
      const timing = timings(response.headers["server-timing"])
      expect(Object.keys(timing)).toEqual(["gateway", "upstream"])
      expect(timing.upstream).toBeGreaterThanOrEqual(115)
      expect(timing.upstream! + timing.gateway!).toBeLessThanOrEqual(elapsed + 1)
      expect(timing.gateway).toBeLessThan(timing.upstream!)
      const line = yield* gateway.log.line((line) => line.includes("POST /v5/chat/completions"))
      expect(line).toMatch(/ gateway=\d+\.\dms upstream=\d+\.\dms/)
      expect(Number(/upstream=(\d+\.\d)ms/.exec(line)![1])).toBeGreaterThanOrEqual(115)
    }), TIMEOUT)

  it.scopedLive("a stream sends it with its first byte, with the time to the first chunk; errors carry it too", () =>
    Effect.gen(function*() {
      const gateway = yield* startGateway({ upstream: answerText("Hello from a stream", { delayMs: 20 }) })
      const stream = yield* Effect.promise(() => openStream(`${gateway.url}/v5/chat/completions`, chat("openai/gpt-4o", { stream: true })))
      const timing = timings(stream.headers["server-timing"])
      expect(Object.keys(timing)).toEqual(["gateway", "upstream", "ttfc"])
      expect(timing.ttfc).toBeGreaterThanOrEqual(timing.upstream!)
      yield* Effect.promise(() => stream.closed)
      const line = yield* gateway.log.line((line) => line.includes(" stream"))
      expect(line).toMatch(/ gateway=\d+\.\dms upstream=\d+\.\dms ttfc=\d+\.\dms/)

      const invalid = yield* Effect.promise(() => postJson(`${gateway.url}/v5/chat/completions`, { model: "openai/gpt-4o" }))
      expect(invalid.status).toBe(422)
      expect(timings(invalid.headers["server-timing"]).upstream).toBe(0)
      const health = yield* Effect.promise(() => request(`${gateway.url}/health`))
      expect(health.headers["server-timing"]).toBeUndefined()
    }), TIMEOUT)
})

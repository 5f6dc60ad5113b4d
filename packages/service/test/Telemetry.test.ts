import { describe, expect, it } from "@effect/vitest"
import { Context, DefaultServices, Effect, Fiber, Layer, Metric, TestClock, Tracer } from "effect"
import {
  ChatCompletions,
  finishAttempt,
  makeCallRecord,
  makeContext,
  makeMetricLabels,
  randomId,
  recordCall,
  startAttempt,
  upstreamWindowMs
} from "../src/index.js"
import { FakeUpstream } from "../src/testing/index.js"
import { awaitBackoff, completion, fakeVendor, request, vendorLayer, withUpstream } from "./support.js"

const unavailable = (res: Parameters<FakeUpstream.FakeHandler>[1]) =>
  FakeUpstream.sendJson(res, 503, { error: { message: "The server is overloaded", type: "server_error" } })

/** A series' value in Effect's metric registry (0 when it does not exist). */
const valueOf = (name: string, labels: Record<string, string>): number => {
  for (const { metricKey, metricState } of Metric.unsafeSnapshot()) {
    if (metricKey.name !== name) continue
    const tags = Object.fromEntries(metricKey.tags.map((tag) => [tag.key, tag.value]))
    const keys = Object.keys(labels)
    if (keys.length !== Object.keys(tags).length || keys.some((key) => tags[key] !== labels[key])) continue
    return "count" in metricState ? Number(metricState.count) : "value" in metricState ? Number(metricState.value) : NaN
  }
  return 0
}

describe("traceparent to the vendor", () => {
  it.scoped("a traced call record: each attempt gets a span id, and the vendor that attempt's traceparent", () =>
    Effect.gen(function*() {
      const { fake, service } = yield* withUpstream((_, res, index) =>
        index === 0 ? unavailable(res) : FakeUpstream.sendJson(res, 200, completion("ok"))
      )
      const trace = { traceId: randomId(16), parentSpanId: randomId(), sampled: true }
      const record = makeCallRecord(trace)
      const fiber = yield* Effect.fork(service.create(request(), makeContext({ record })))
      yield* TestClock.adjust(yield* awaitBackoff(8_000))
      yield* Fiber.join(fiber)
      const [first, retry] = record.attempts
      expect(first!.spanId).toMatch(/^[0-9a-f]{16}$/)
      expect(retry!.spanId).not.toBe(first!.spanId)
      expect(fake.requests.map((received) => received.headers.traceparent)).toEqual([
        `00-${trace.traceId}-${first!.spanId}-01`,
        `00-${trace.traceId}-${retry!.spanId}-01`
      ])
      expect(first!.url).toBe(`${fake.baseUrl}/chat/completions`)
    }))

  it.scoped("an untraced record or none: no traceparent, no span ids", () =>
    Effect.gen(function*() {
      const { fake, service } = yield* withUpstream((_, res) => FakeUpstream.sendJson(res, 200, completion("ok")))
      const record = makeCallRecord()
      yield* service.create(request(), makeContext({ record }))
      yield* service.create(request(), makeContext())
      expect(record.attempts[0]!.spanId).toBeUndefined()
      expect(fake.requests.map((received) => received.headers.traceparent)).toEqual([undefined, undefined])
    }))

  it.scoped("with an Effect tracer where the service is built, the vendor gets the attempt span's context", () =>
    Effect.gen(function*() {
      const builtIn = Context.get(DefaultServices.liveServices, Tracer.Tracer)
      const spans: Array<Tracer.Span> = []
      const tracer = Tracer.make({
        span: (...args) => {
          const span = builtIn.span(...args)
          spans.push(span)
          return span
        },
        context: builtIn.context
      })
      const fake = yield* FakeUpstream.scoped((_, res) => FakeUpstream.sendJson(res, 200, completion("ok")))
      const context = yield* Layer.build(vendorLayer(fakeVendor(fake)).pipe(Layer.provide(Layer.setTracer(tracer))))
      yield* Context.get(context, ChatCompletions).create(request(), makeContext())
      const attempt = spans.find((span) => span.kind === "client")!
      expect(attempt.name).toBe("chat gpt-4o-mini")
      expect(attempt.attributes.get("server.address")).toBe("127.0.0.1")
      expect(attempt.attributes.get("server.port")).toBe(fake.port)
      expect(fake.requests[0]!.headers.traceparent).toBe(`00-${attempt.traceId}-${attempt.spanId}-01`)
    }))
})

describe("metrics of a call record", () => {
  it("counts attempts, retries, fallbacks and hedges; tokens and cost of the answer; unknown names as `other`", () => {
    const labels = makeMetricLabels({ vendors: ["a", "b"], models: ["a/m", "b/m"], routes: ["smart"] })
    const record = makeCallRecord()
    record.route = "smart"
    const finish = (target: string, kind: "first" | "retry" | "fallback" | "hedge", outcome: "ok" | "timeout" | "cancelled") => {
      const attempt = startAttempt(record, target, target.split("/")[0]!, kind)
      finishAttempt(record, attempt, outcome)
    }
    finish("a/m", "first", "timeout")
    finish("a/m", "retry", "timeout")
    finish("b/m", "fallback", "cancelled")
    finish("b/m", "hedge", "ok")
    const before = {
      attemptsTimeout: valueOf("switchyard_upstream_attempts_total", { vendor: "a", model: "a/m", outcome: "timeout" }),
      retries: valueOf("switchyard_retries_total", { vendor: "a", model: "a/m" }),
      fallbacks: valueOf("switchyard_fallbacks_total", { route: "smart", from: "a/m", to: "b/m" }),
      hedges: valueOf("switchyard_hedges_total", { route: "smart", winner: "hedge" }),
      cost: valueOf("switchyard_cost_usd_total", { vendor: "b", model: "b/m" }),
      reasoning: valueOf("switchyard_tokens_total", { vendor: "b", model: "b/m", type: "reasoning" })
    }
    recordCall(labels, {
      record,
      usage: {
        prompt_tokens: 10,
        completion_tokens: 5,
        total_tokens: 15,
        completion_tokens_details: { reasoning_tokens: 2 }
      },
      endedAt: performance.now(),
      stream: false,
      costUsd: 0.25
    })
    expect(valueOf("switchyard_upstream_attempts_total", { vendor: "a", model: "a/m", outcome: "timeout" }) - before.attemptsTimeout)
      .toBe(2)
    expect(valueOf("switchyard_retries_total", { vendor: "a", model: "a/m" }) - before.retries).toBe(1)
    expect(valueOf("switchyard_fallbacks_total", { route: "smart", from: "a/m", to: "b/m" }) - before.fallbacks).toBe(1)
    expect(valueOf("switchyard_hedges_total", { route: "smart", winner: "hedge" }) - before.hedges).toBe(1)
    expect(valueOf("switchyard_cost_usd_total", { vendor: "b", model: "b/m" }) - before.cost).toBeCloseTo(0.25, 12)
    expect(valueOf("switchyard_tokens_total", { vendor: "b", model: "b/m", type: "reasoning" }) - before.reasoning).toBe(2)

    expect(labels.model("a/m")).toBe("a/m")
    expect(labels.model("a/typo")).toBe("other")
    expect(labels.vendor("c")).toBe("other")
    expect(labels.route(undefined)).toBe("")
  })

  it("the upstream window runs from the first attempt's start to the last one's end: backoffs in, overlaps once", () => {
    const record = makeCallRecord()
    const at = (startedAt: number, durationMs: number) =>
      record.attempts.push({
        target: "a/m",
        vendor: "a",
        kind: "first",
        startedAt,
        durationMs,
        outcome: "ok",
        error: undefined,
        spanId: undefined,
        url: undefined
      })
    at(100, 50)
    at(400, 100)
    at(420, 30)
    expect(upstreamWindowMs(record)).toBe(400)
    expect(upstreamWindowMs(makeCallRecord())).toBe(0)
  })
})

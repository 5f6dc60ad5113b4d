import { describe, expect, it } from "@effect/vitest"
import type { LimitsSection } from "@switchyard/service"
import { tcpProxy, testRedisUrl } from "@switchyard/store/testing"
import { Effect } from "effect"
import { randomBytes } from "node:crypto"
import { parseExposition } from "./support/Prometheus.js"
import { postJson, request, type StartOptions, startGateway, waitUntil } from "./support/Harness.js"
import { manualClock } from "./support/ManualClock.js"

const messages = [{ role: "user" as const, content: "Hello" }]
const call = <A>(f: () => Promise<A>) => Effect.promise(f)

if (testRedisUrl === undefined) {
  console.warn("SWITCHYARD_TEST_REDIS_URL is not set: the limits' Redis tests are skipped (.ci/run sets it to redis://127.0.0.1:6379).")
}

/** A key and an account of this test's own, so tests sharing the Redis never share counters. */
const fresh = () => {
  const tag = randomBytes(6).toString("hex")
  return { key: `sk-redis-${tag}`, account: `acct_${tag}` }
}

const replica = (redisUrl: string, who: { key: string; account: string }, limits: LimitsSection, options: StartOptions = {}) =>
  startGateway({ ...options, gateway: { apiKeys: [`${who.key}:${who.account}`], limits, redisUrl } })

/** Tries until `accept` holds (at most `tries` times, `delayMs` apart); the last answer. */
const retryUntil = async <A>(attempt: () => Promise<A>, accept: (a: A) => boolean, tries = 100, delayMs = 50): Promise<A> => {
  let last = await attempt()
  for (let i = 1; i < tries && !accept(last); i++) {
    await new Promise((resolve) => setTimeout(resolve, delayMs))
    last = await attempt()
  }
  return last
}

const chat = (url: string, key: string, body: object = {}) =>
  postJson(`${url}/v5/chat/completions`, { model: "openai/gpt-4o", messages, ...body }, { "x-api-key": key })

describe.skipIf(testRedisUrl === undefined)("limits in Redis", () => {
  it.scopedLive("requests per minute are exact at the boundary, with the time left in the window, and pass once it allows", () =>
    Effect.gen(function*() {
      const who = fresh()
      const clock = manualClock()
      const gateway = yield* replica(testRedisUrl!, who, { default: { requests_per_minute: 7 } }, { limitsClock: clock })
      for (let i = 0; i < 7; i++) {
        const answer = yield* call(() => chat(gateway.url, who.key))
        expect(answer.status).toBe(200)
        expect(answer.headers["x-ratelimit-remaining-requests"]).toBe(String(6 - i))
      }
      clock.advance(20_000)
      const refused = yield* call(() => chat(gateway.url, who.key))
      expect(refused.status).toBe(429)
      expect(refused.headers["retry-after-ms"]).toBe("40000")
      expect(refused.headers["retry-after"]).toBe("40")
      clock.advance(40_000)
      expect((yield* call(() => chat(gateway.url, who.key))).status).toBe(200)
      expect(gateway.upstream.requests).toHaveLength(8)
    }))

  it.scopedLive("two gateway replicas sharing one Redis enforce one limit between them", () =>
    Effect.gen(function*() {
      const who = fresh()
      const limits: LimitsSection = { accounts: { [who.account]: { requests_per_minute: 5, tokens_per_minute: 100_000 } } }
      const a = yield* replica(testRedisUrl!, who, limits)
      const b = yield* replica(testRedisUrl!, who, limits)
      const statuses: Array<number> = []
      for (let i = 0; i < 6; i++) statuses.push((yield* call(() => chat(i % 2 === 0 ? a.url : b.url, who.key))).status)
      expect(statuses).toEqual([200, 200, 200, 200, 200, 429])
      expect((yield* call(() => chat(a.url, who.key))).status).toBe(429)
      expect(a.upstream.requests.length + b.upstream.requests.length).toBe(5)
      // Each sees the other's use.
      const status = yield* call(() => request(`${a.url}/v5/limits`, { headers: { "x-api-key": who.key } }))
      expect(JSON.parse(status.text).data).toContainEqual(expect.objectContaining({ type: "requests", used: 5, remaining: 0 }))
    }))

  it.scopedLive("two replicas share concurrency slots and token reservations, settled after each call", () =>
    Effect.gen(function*() {
      const who = fresh()
      let release: () => void = () => undefined
      const held = new Promise<void>((resolve) => (release = resolve))
      const limits: LimitsSection = { default: { concurrent_requests: 1, tokens_per_minute: 10_000 } }
      const slow = async (_req: unknown, res: import("node:http").ServerResponse) => {
        await held
        res.writeHead(200, { "content-type": "application/json" })
        res.end(JSON.stringify({
          id: "x",
          object: "chat.completion",
          created: 1,
          model: "gpt-4o",
          choices: [{ index: 0, message: { role: "assistant", content: "ok", refusal: null }, finish_reason: "stop", logprobs: null }],
          usage: { prompt_tokens: 100, completion_tokens: 900, total_tokens: 1000 }
        }))
      }
      const a = yield* replica(testRedisUrl!, who, limits, { upstream: slow })
      const b = yield* replica(testRedisUrl!, who, limits, { upstream: slow })
      const first = chat(a.url, who.key, { max_tokens: 50 })
      yield* call(() => waitUntil(() => (a.upstream.requests.length === 1 ? true : undefined), 5_000, () => "the first call upstream"))
      const second = yield* call(() => chat(b.url, who.key))
      expect(second.status).toBe(429)
      expect(JSON.parse(second.text).error.type).toBe("concurrency")
      release()
      const answered = yield* call(() => first)
      expect(answered.status).toBe(200)
      const reserved = 10_000 - Number(answered.headers["x-ratelimit-remaining-tokens"])
      // Settled in the background after the answer: 1000 tokens used, not the reservation.
      expect(reserved).toBeGreaterThan(50)
      // Settled in the background once the answer is out: 1000 tokens used, not the reservation, as the other replica sees.
      const tokensUsed = (text: string) =>
        (JSON.parse(text) as { data: Array<{ type: string; used: number }> }).data.find((limit) => limit.type === "tokens")?.used
      const seen = yield* call(() =>
        retryUntil(() => request(`${b.url}/v5/limits`, { headers: { "x-api-key": who.key } }), (r) => tokensUsed(r.text) === 1_000)
      )
      expect(tokensUsed(seen.text)).toBe(1_000)
      const next = yield* call(() => chat(b.url, who.key, { max_tokens: 50 }))
      expect(next.status).toBe(200)
      expect(Number(next.headers["x-ratelimit-remaining-tokens"])).toBe(10_000 - 1_000 - reserved)
    }), 30_000)

  it.scopedLive("Redis unreachable mid-test: on_store_error allow lets requests through (counted), deny answers 503", () =>
    Effect.gen(function*() {
      const target = new URL(testRedisUrl!)
      const proxy = yield* tcpProxy({ host: target.hostname, port: Number(target.port || 6379) })
      const viaProxy = new URL(testRedisUrl!)
      viaProxy.host = `127.0.0.1:${proxy.port}`
      const who = fresh()
      const allow = yield* replica(viaProxy.toString(), who, { default: { requests_per_minute: 2 }, on_store_error: "allow" })
      const deny = yield* replica(viaProxy.toString(), who, { default: { requests_per_minute: 2 }, on_store_error: "deny" })
      expect((yield* call(() => chat(allow.url, who.key))).status).toBe(200)
      expect((yield* call(() => chat(deny.url, who.key))).status).toBe(200)
      expect((yield* call(() => chat(deny.url, who.key))).status).toBe(429)

      yield* call(() => proxy.stop())
      const started = Date.now()
      const passed = yield* call(() => chat(allow.url, who.key))
      expect(passed.status).toBe(200)
      expect(passed.headers["x-ratelimit-limit-requests"]).toBeUndefined()
      const denied = yield* call(() => chat(deny.url, who.key))
      expect(denied.status).toBe(503)
      expect(JSON.parse(denied.text).error.code).toBe("store_unavailable")
      // No request waits for Redis to come back.
      expect(Date.now() - started).toBeLessThan(3_000)
      const metrics = parseExposition((yield* call(() => request(`${allow.url}/metrics`))).text)
      expect(metrics.value("switchyard_limit_store_errors_total", { store: "redis", action: "allowed" })).toBeGreaterThanOrEqual(1)

      // Back: limits apply again (the window was kept in Redis).
      yield* call(() => proxy.start())
      const back = yield* call(() => retryUntil(() => chat(deny.url, who.key), (r) => r.status !== 503))
      expect(back.status).toBe(429)
    }), 30_000)
})

import { describe, expect, it } from "@effect/vitest"
import { type LimitsSection, keyDigest } from "@switchyard/service"
import { FakeUpstream } from "@switchyard/service/testing"
import { Effect, Layer } from "effect"
import * as Http from "node:http"
import OpenAI from "openai"
import {
  answerText,
  authenticatorLayer,
  completionBody,
  gatewayConfig,
  memoryStore,
  postJson,
  request,
  type StartOptions,
  startGateway,
  waitUntil
} from "./support/Harness.js"
import { manualClock } from "./support/ManualClock.js"
import { storeBackends } from "./support/Stores.js"

const KEY = "sk-limits-member"
const ACCOUNT = "acct_limits"
const ADMIN = "sk-limits-admin"
const keyId = (key: string) => `key_${keyDigest(key).toString("hex").slice(0, 12)}`
const messages = [{ role: "user" as const, content: "Hello" }]
const call = <A>(f: () => Promise<A>) => Effect.promise(f)

const limitedGateway = (limits: LimitsSection, options: StartOptions = {}) =>
  startGateway({ ...options, gateway: { apiKeys: [`${KEY}:${ACCOUNT}`], adminKeys: [ADMIN], limits, ...options.gateway } })

const chat = (url: string, body: object = {}, headers: Record<string, string> = {}) =>
  postJson(`${url}/v5/chat/completions`, { model: "openai/gpt-4o", messages, ...body }, { "x-api-key": KEY, ...headers })

/** A request whose client can go away before the answer. */
const abortable = (url: string, body: object) => {
  const payload = JSON.stringify(body)
  const req = Http.request(url, {
    method: "POST",
    agent: false,
    headers: { "content-type": "application/json", "content-length": Buffer.byteLength(payload), "x-api-key": KEY }
  })
  req.on("error", () => undefined)
  req.end(payload)
  return { abort: () => req.destroy() }
}

const json = (text: string) => JSON.parse(text) as { error: { message: string; type: string; code: string | null } }

/** An upstream answer with this usage. */
const answerWithUsage = (prompt: number, completion: number): FakeUpstream.FakeHandler => (_request, response) =>
  FakeUpstream.sendJson(response, 200, {
    ...completionBody("A long answer"),
    usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion }
  })

describe("limits (in memory)", () => {
  it.scopedLive("requests per minute: the Nth passes, the N+1th gets 429 with the time left in the window, and passes once it allows", () =>
    Effect.gen(function*() {
      const clock = manualClock()
      const gateway = yield* limitedGateway({ default: { requests_per_minute: 3 } }, { limitsClock: clock })
      const passed = []
      for (let i = 0; i < 3; i++) {
        passed.push(yield* call(() => chat(gateway.url)))
        clock.advance(5_000)
      }
      expect(passed.map((r) => r.status)).toEqual([200, 200, 200])
      expect(passed.map((r) => r.headers["x-ratelimit-remaining-requests"])).toEqual(["2", "1", "0"])
      expect(passed.map((r) => r.headers["x-ratelimit-limit-requests"])).toEqual(["3", "3", "3"])
      expect(passed.map((r) => r.headers["x-ratelimit-reset-requests"])).toEqual(["1m0s", "55s", "50s"])

      // 15 s into the window: 45 s left.
      const refused = yield* call(() => chat(gateway.url))
      expect(refused.status).toBe(429)
      expect(refused.headers["retry-after"]).toBe("45")
      expect(refused.headers["retry-after-ms"]).toBe("45000")
      expect(refused.headers["x-ratelimit-remaining-requests"]).toBe("0")
      const body = json(refused.text)
      expect(body.error).toMatchObject({ type: "requests", code: "rate_limit_exceeded" })
      expect(body.error.message).toContain(`key \`${keyId(KEY)}\``)
      expect(body.error.message).toContain("requests per minute (RPM): limit 3")
      expect(gateway.upstream.requests).toHaveLength(3)

      clock.advance(44_999)
      expect((yield* call(() => chat(gateway.url))).status).toBe(429)
      clock.advance(1)
      const again = yield* call(() => chat(gateway.url))
      expect(again.status).toBe(200)
      expect(again.headers["x-ratelimit-remaining-requests"]).toBe("2")
      expect(gateway.upstream.requests).toHaveLength(4)
    }))

  it.scopedLive("an account's limit counts every key acting for it, and a request it refuses does not count against the key", () =>
    Effect.gen(function*() {
      const other = "sk-limits-other"
      const gateway = yield* startGateway({
        gateway: {
          apiKeys: [`${KEY}:${ACCOUNT}`, `${other}:${ACCOUNT}`],
          limits: { default: { requests_per_minute: 3 }, accounts: { [ACCOUNT]: { requests_per_minute: 4 } } }
        }
      })
      for (const key of [KEY, KEY, other, other]) expect((yield* call(() => chat(gateway.url, {}, { "x-api-key": key }))).status).toBe(200)
      const refused = yield* call(() => chat(gateway.url, {}, { "x-api-key": KEY }))
      expect(refused.status).toBe(429)
      expect(json(refused.text).error.message).toContain(`account \`${ACCOUNT}\` on requests per minute (RPM): limit 4`)
      // The key's own window still holds 2 of 3: the refused request took nothing.
      const own = yield* call(() => request(`${gateway.url}/v5/limits`, { headers: { "x-api-key": KEY } }))
      const status = JSON.parse(own.text) as { data: Array<{ scope: string; type: string; used: number; remaining: number }> }
      expect(status.data).toContainEqual(expect.objectContaining({ scope: "key", type: "requests", used: 2, remaining: 1 }))
      expect(status.data).toContainEqual(expect.objectContaining({ scope: "account", type: "requests", used: 4, remaining: 0 }))
    }))

  it.scopedLive("tokens per minute: the reservation (prompt + max_tokens) is settled with the real usage after a long answer", () =>
    Effect.gen(function*() {
      const gateway = yield* limitedGateway({ default: { tokens_per_minute: 300 } }, { upstream: answerWithUsage(9, 150) })
      const first = yield* call(() => chat(gateway.url, { max_tokens: 20 }))
      expect(first.status).toBe(200)
      const reserved = 300 - Number(first.headers["x-ratelimit-remaining-tokens"])
      // The prompt ("Hello" and its message overhead) plus max_tokens.
      expect(reserved).toBeGreaterThan(20)
      expect(reserved).toBeLessThan(40)
      expect(first.headers["x-ratelimit-limit-tokens"]).toBe("300")
      // The answer used 159 tokens, not the reservation: the next request sees them.
      const second = yield* call(() => chat(gateway.url, { max_tokens: 20 }))
      expect(second.status).toBe(200)
      expect(Number(second.headers["x-ratelimit-remaining-tokens"])).toBe(300 - 159 - reserved)
      // 318 used, so a third reservation does not fit.
      const third = yield* call(() => chat(gateway.url, { max_tokens: 20 }))
      expect(third.status).toBe(429)
      expect(json(third.text).error).toMatchObject({ type: "tokens", code: "rate_limit_exceeded" })
      expect(gateway.upstream.requests).toHaveLength(2)
    }))

  it.scopedLive("tokens per minute: a short answer gives back what it did not use, so the limit is not enforced early", () =>
    Effect.gen(function*() {
      const gateway = yield* limitedGateway({ default: { tokens_per_minute: 1_000 } }, { upstream: answerWithUsage(9, 4) })
      const statuses = []
      // Each reserves ~510 (max_tokens 500): two would not fit together, but each settles to 13.
      for (let i = 0; i < 10; i++) statuses.push((yield* call(() => chat(gateway.url, { max_tokens: 500 }))).status)
      expect(statuses).toEqual(Array(10).fill(200))
      const tooBig = yield* call(() => chat(gateway.url, { max_tokens: 2_000 }))
      expect(tooBig.status).toBe(429)
      expect(json(tooBig.text).error.message).toContain("This request alone reserves")
    }))

  it.scopedLive("concurrency: requests beyond the limit get 429 while others run; a slot is freed when a call ends or its client goes away", () =>
    Effect.gen(function*() {
      let release: () => void = () => undefined
      let held = new Promise<void>((resolve) => (release = resolve))
      const gateway = yield* limitedGateway({ default: { concurrent_requests: 2 } }, {
        upstream: async (req, res) => {
          await held
          return answerText("slow")(req, res, 0)
        }
      })
      const upstreamCalls = (n: number) =>
        call(() => waitUntil(() => (gateway.upstream.requests.length >= n ? true : undefined), 5_000, () => `${n} upstream calls`))
      const a = chat(gateway.url)
      const b = chat(gateway.url, { stream: true })
      yield* upstreamCalls(2)
      const refused = yield* call(() => chat(gateway.url))
      expect(refused.status).toBe(429)
      expect(json(refused.text).error).toMatchObject({ type: "concurrency", code: "rate_limit_exceeded" })
      expect(json(refused.text).error.message).toContain("concurrent requests: limit 2")
      release()
      expect((yield* call(() => a)).status).toBe(200)
      expect((yield* call(() => b)).status).toBe(200)
      expect((yield* call(() => chat(gateway.url))).status).toBe(200)

      // A client that goes away frees its slot.
      held = new Promise<void>((resolve) => (release = resolve))
      const leaving = abortable(`${gateway.url}/v5/chat/completions`, { model: "openai/gpt-4o", messages })
      const staying = chat(gateway.url)
      yield* upstreamCalls(5)
      expect((yield* call(() => chat(gateway.url))).status).toBe(429)
      leaving.abort()
      yield* call(() => waitUntil(() => (gateway.inFlight() === 1 ? true : undefined), 5_000, () => "the abandoned request over"))
      const next = chat(gateway.url)
      yield* upstreamCalls(6)
      release()
      expect((yield* call(() => next)).status).toBe(200)
      expect((yield* call(() => staying)).status).toBe(200)
    }))

  it.scopedLive("a budget in tokens: spent from the usage ledger, refused with insufficient_quota once spent, and still spent after a restart", () =>
    Effect.gen(function*() {
      const store = yield* Layer.build(memoryStore)
      const keys = [`${KEY}:${ACCOUNT}`]
      const storage = Layer.merge(Layer.succeedContext(store), authenticatorLayer(gatewayConfig({ apiKeys: keys })))
      const limits: LimitsSection = { accounts: { [ACCOUNT]: { budget: { tokens: 30, period: "day" } } } }
      const first = yield* startGateway({ gateway: { apiKeys: keys, limits }, storage })
      // 13 tokens a call: 0, 13 and 26 are under 30; 39 is not.
      for (let i = 0; i < 3; i++) expect((yield* call(() => chat(first.url))).status).toBe(200)
      const spent = yield* call(() => chat(first.url))
      expect(spent.status).toBe(429)
      expect(spent.headers["x-should-retry"]).toBe("false")
      expect(json(spent.text).error).toMatchObject({ type: "insufficient_quota", code: "insufficient_quota" })
      expect(json(spent.text).error.message).toContain(`daily budget of account \`${ACCOUNT}\` (30 tokens)`)
      expect(first.upstream.requests).toHaveLength(3)
      yield* first.shutdown

      // A new gateway over the same ledger: the budget is read from it, not from memory.
      const second = yield* startGateway({ gateway: { apiKeys: keys, limits }, storage })
      expect((yield* call(() => chat(second.url))).status).toBe(429)
      expect(second.upstream.requests).toHaveLength(0)
      const status = yield* call(() => request(`${second.url}/v5/limits`, { headers: { "x-api-key": KEY } }))
      expect(JSON.parse(status.text)).toMatchObject({
        object: "limits",
        account_id: ACCOUNT,
        data: [{ scope: "account", subject: ACCOUNT, type: "budget_tokens", limit: 30, used: 39, remaining: 0, period: "day" }]
      })
    }))

  it.scopedLive("a budget in USD: priced from the catalogue, per key", () =>
    Effect.gen(function*() {
      // 1 USD a token: 13 USD a call.
      const gateway = yield* limitedGateway({ default: { budget: { usd: 20, period: "month" } } }, {
        prices: { "openai/gpt-4o": { input_per_mtok: 1_000_000, output_per_mtok: 1_000_000 } }
      })
      expect((yield* call(() => chat(gateway.url))).status).toBe(200)
      expect((yield* call(() => chat(gateway.url))).status).toBe(200)
      const spent = yield* call(() => chat(gateway.url))
      expect(spent.status).toBe(429)
      expect(json(spent.text).error.message).toContain(`monthly budget of key \`${keyId(KEY)}\` (20 USD)`)
      const status = yield* call(() => request(`${gateway.url}/v5/limits`, { headers: { "x-api-key": KEY } }))
      expect(JSON.parse(status.text).data).toEqual([
        expect.objectContaining({ scope: "key", type: "budget_usd", limit: 20, used: 26, remaining: 0, period: "month" })
      ])
    }))

  it.scopedLive("the openai SDK surfaces a rate limit as RateLimitError, and does not retry insufficient_quota", () =>
    Effect.gen(function*() {
      const gateway = yield* limitedGateway({
        default: { requests_per_minute: 1 },
        accounts: { acct_poor: { budget: { tokens: 1, period: "week" } } }
      }, { gateway: { apiKeys: [`${KEY}:${ACCOUNT}|acct_poor`] } })
      const client = new OpenAI({ baseURL: `${gateway.url}/v5`, apiKey: KEY, maxRetries: 0 })
      yield* call(() => client.chat.completions.create({ model: "openai/gpt-4o", messages }))
      const limited = yield* call(() => client.chat.completions.create({ model: "openai/gpt-4o", messages }).then(() => undefined, (e: unknown) => e))
      expect(limited).toBeInstanceOf(OpenAI.RateLimitError)
      expect((limited as InstanceType<typeof OpenAI.RateLimitError>).code).toBe("rate_limit_exceeded")

      // The poor account has spent its budget with one call (on another key's window: the default applies per key).
      const poor = new OpenAI({
        baseURL: `${gateway.url}/v5`,
        apiKey: ADMIN,
        maxRetries: 3,
        defaultHeaders: { "x-selected-account-id": "acct_poor" }
      })
      yield* call(() => poor.chat.completions.create({ model: "openai/gpt-4o", messages }))
      const upstreamBefore = gateway.upstream.requests.length
      // The access log is written every 50 ms.
      yield* Effect.sleep("200 millis")
      const logBefore = gateway.log.text().split("\n").filter((line) => line.includes("/v5/chat/completions")).length
      const quota = yield* call(() => poor.chat.completions.create({ model: "openai/gpt-4o", messages }).then(() => undefined, (e: unknown) => e))
      expect(quota).toBeInstanceOf(OpenAI.RateLimitError)
      expect((quota as InstanceType<typeof OpenAI.RateLimitError>).code).toBe("insufficient_quota")
      yield* Effect.sleep("200 millis")
      const logAfter = gateway.log.text().split("\n").filter((line) => line.includes("/v5/chat/completions")).length
      // One gateway hit (no retry), none upstream.
      expect(logAfter - logBefore).toBe(1)
      expect(gateway.upstream.requests.length).toBe(upstreamBefore)
    }))

  it.scopedLive("the Responses API is limited too, with the same headers and 429", () =>
    Effect.gen(function*() {
      const gateway = yield* limitedGateway({ default: { requests_per_minute: 2, tokens_per_minute: 100_000 } })
      const body = { model: "openai/gpt-4o", input: "Hello" }
      const headers = { "x-api-key": KEY }
      const first = yield* call(() => postJson(`${gateway.url}/v5/responses`, body, headers))
      expect(first.status).toBe(200)
      expect(first.headers).toMatchObject({
        "x-ratelimit-limit-requests": "2",
        "x-ratelimit-remaining-requests": "1",
        "x-ratelimit-limit-tokens": "100000"
      })
      const streamed = yield* call(() => postJson(`${gateway.url}/v5/responses`, { ...body, stream: true }, headers))
      expect(streamed.status).toBe(200)
      expect(streamed.headers["x-ratelimit-remaining-requests"]).toBe("0")
      const refused = yield* call(() => postJson(`${gateway.url}/v5/responses`, body, headers))
      expect(refused.status).toBe(429)
      expect(json(refused.text).error.code).toBe("rate_limit_exceeded")
    }))

  it.scopedLive("headers on every completion answer to a limited caller, streamed or not, and none for a caller without limits", () =>
    Effect.gen(function*() {
      const other = "sk-limits-free"
      const gateway = yield* startGateway({
        gateway: {
          apiKeys: [`${KEY}:${ACCOUNT}`, `${other}:acct_free`],
          limits: { keys: { [keyId(KEY)]: { requests_per_minute: 10, tokens_per_minute: 10_000 } } }
        }
      })
      const plain = yield* call(() => chat(gateway.url))
      const streamed = yield* call(() => chat(gateway.url, { stream: true }))
      const invalid = yield* call(() => chat(gateway.url, { temperature: 9 }))
      for (const answer of [plain, streamed]) {
        expect(answer.status).toBe(200)
        for (const kind of ["requests", "tokens"]) {
          for (const field of ["limit", "remaining", "reset"]) expect(answer.headers[`x-ratelimit-${field}-${kind}`]).toBeDefined()
        }
      }
      expect(streamed.headers["x-ratelimit-remaining-requests"]).toBe("8")
      expect(invalid.status).toBe(422)
      const free = yield* call(() => chat(gateway.url, {}, { "x-api-key": other }))
      expect(free.status).toBe(200)
      expect(Object.keys(free.headers).filter((name) => name.startsWith("x-ratelimit"))).toEqual([])
    }))

  it.scopedLive("GET /v5/admin/limits shows an account's limits to an admin key; a member key gets 403", () =>
    Effect.gen(function*() {
      const gateway = yield* limitedGateway({ accounts: { [ACCOUNT]: { requests_per_minute: 5, concurrent_requests: 3 } } })
      yield* call(() => chat(gateway.url))
      const admin = yield* call(() => request(`${gateway.url}/v5/admin/limits?account=${ACCOUNT}`, { headers: { "x-api-key": ADMIN } }))
      expect(admin.status).toBe(200)
      expect(JSON.parse(admin.text)).toEqual({
        object: "limits",
        key_id: null,
        account_id: ACCOUNT,
        data: [
          expect.objectContaining({ scope: "account", type: "requests", limit: 5, used: 1, remaining: 4 }),
          expect.objectContaining({ scope: "account", type: "concurrency", limit: 3, used: 0, remaining: 3 })
        ]
      })
      const member = yield* call(() => request(`${gateway.url}/v5/admin/limits?account=${ACCOUNT}`, { headers: { "x-api-key": KEY } }))
      expect(member.status).toBe(403)
      const missing = yield* call(() => request(`${gateway.url}/v5/admin/limits`, { headers: { "x-api-key": ADMIN } }))
      expect(missing.status).toBe(422)
    }))
})

for (const backend of storeBackends) {
  describe(`a database key's own limits (${backend.name})`, () => {
    it.scopedLive("created over the admin API with `limits`, listed with them, and enforced; the configuration's entry for the key wins", () =>
      Effect.gen(function*() {
        const store = yield* backend.make({ adminKeys: [ADMIN] })
        const gateway = yield* startGateway({
          gateway: { adminKeys: [ADMIN], limits: { default: { requests_per_minute: 100 }, keys: { "named-bot": { requests_per_minute: 1 } } } },
          storage: store.layer
        })
        const create = (body: object) => call(() => postJson(`${gateway.url}/v5/admin/keys`, body, { "x-api-key": ADMIN }))
        const own = yield* create({ account_ids: ["acct_db"], limits: { requests_per_minute: 2, budget: { usd: 5 } } })
        expect(own.status, own.text).toBe(200)
        const key = JSON.parse(own.text) as { id: string; secret: string; limits: unknown }
        expect(key.limits).toEqual({ requests_per_minute: 2, budget: { usd: 5, period: "month" } })
        const named = JSON.parse((yield* create({ name: "named-bot", account_ids: ["acct_db"], limits: { requests_per_minute: 50 } })).text) as {
          secret: string
        }
        const listed = yield* call(() => request(`${gateway.url}/v5/admin/keys`, { headers: { "x-api-key": ADMIN } }))
        expect(JSON.parse(listed.text).data).toContainEqual(expect.objectContaining({ id: key.id, limits: key.limits }))

        // The key cache refreshes within 2 s.
        const statuses = (secret: string, n: number) =>
          Effect.forEach(Array.from({ length: n }), () => Effect.map(call(() => chat(gateway.url, {}, { "x-api-key": secret })), (r) => r.status))
        const known = (secret: string) =>
          Effect.gen(function*() {
            let first = yield* statuses(secret, 1)
            for (let i = 0; i < 50 && first[0] === 401; i++) {
              yield* Effect.sleep("100 millis")
              first = yield* statuses(secret, 1)
            }
            return first
          })
        expect([...(yield* known(key.secret)), ...(yield* statuses(key.secret, 2))]).toEqual([200, 200, 429])
        // `limits.keys["named-bot"]` (1 a minute) over the key's own 50.
        expect([...(yield* known(named.secret)), ...(yield* statuses(named.secret, 1))]).toEqual([200, 429])
      }), 30_000)
  })
}

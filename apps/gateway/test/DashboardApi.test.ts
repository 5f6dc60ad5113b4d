import { describe, expect, it } from "@effect/vitest"
import { StoreHealth } from "@switchyard/service"
import { Context, Effect } from "effect"
import * as Fs from "node:fs"
import * as Path from "node:path"
import * as Zlib from "node:zlib"
import { dashboardDir } from "../src/http/DashboardPageHttp.js"
import { postJson, request, startGateway, type TestGateway } from "./support/Harness.js"
import { type BuiltStore, storeBackends } from "./support/Stores.js"

const TIMEOUT = 60_000
const ALICE = "sy-alice-key"
const BOB = "sy-bob-key"
const ADMIN = "sy-admin-key"
const keys = { apiKeys: [`${ALICE}:acct_alice`, `${BOB}:acct_bob|acct_shared`], adminKeys: [ADMIN] }

const get = (gateway: TestGateway, path: string, key: string, headers: Record<string, string> = {}) =>
  Effect.promise(() => request(`${gateway.url}${path}`, { headers: { authorization: `Bearer ${key}`, ...headers } }))

const json = <A = any>(response: { readonly text: string }): A => JSON.parse(response.text) as A

/** Stores a completion through the gateway; its id. */
const store = (gateway: TestGateway, key: string, metadata: Record<string, string>, extra: Record<string, unknown> = {}) =>
  Effect.promise(async () => {
    const response = await postJson(`${gateway.url}/v5/chat/completions`, {
      model: "openai/gpt-4o",
      store: true,
      metadata,
      messages: [{ role: "user", content: `question ${JSON.stringify(metadata)}` }],
      ...extra
    }, { authorization: `Bearer ${key}` })
    expect(response.status).toBe(200)
    return (JSON.parse(response.text) as { id: string }).id
  })

/** Waits until the admin's list holds `count` rows (a completion is recorded when its call ends). */
const listed = (gateway: TestGateway, built: BuiltStore, count: number) =>
  Effect.gen(function*() {
    for (let i = 0; i < 200; i++) {
      yield* Context.get(built.context, StoreHealth).flush
      const page = json<{ data: Array<unknown> }>(yield* get(gateway, "/v5/dashboard/completions?limit=100", ADMIN))
      if (page.data.length >= count) return
      yield* Effect.sleep("25 millis")
    }
    return yield* Effect.dieMessage(`never listed ${count} completions`)
  })

const ids = (response: { readonly text: string }) => json<{ data: Array<{ id: string }> }>(response).data.map((row) => row.id)

for (const backend of storeBackends) {
  describe(`dashboard API (${backend.name})`, () => {
    it.scopedLive("who am I, and each key sees its own accounts' rows (all of them for an admin)", () =>
      Effect.gen(function*() {
        const built = yield* backend.make(keys)
        const gateway = yield* startGateway({ gateway: keys, storage: built.layer })
        const a = yield* store(gateway, ALICE, { user: "ada" })
        const b = yield* store(gateway, BOB, { user: "ada" })
        const shared = yield* Effect.promise(() =>
          postJson(`${gateway.url}/v5/chat/completions`, {
            model: "openai/gpt-4o",
            store: true,
            messages: [{ role: "user", content: "shared" }]
          }, { authorization: `Bearer ${BOB}`, "x-selected-account-id": "acct_shared" })
        ).pipe(Effect.map((r) => json<{ id: string }>(r).id))
        yield* listed(gateway, built, 3)

        expect(json(yield* get(gateway, "/v5/me", BOB))).toStrictEqual({
          object: "principal",
          key_id: expect.any(String),
          name: null,
          admin: false,
          account_ids: ["acct_bob", "acct_shared"],
          default_account_id: "acct_bob",
          selected_account_id: "acct_bob"
        })
        expect(json(yield* get(gateway, "/v5/me", ADMIN, { "x-selected-account-id": "anything" }))).toMatchObject({
          admin: true,
          selected_account_id: "anything"
        })

        expect(ids(yield* get(gateway, "/v5/dashboard/completions", BOB))).toStrictEqual([shared, b])
        expect(ids(yield* get(gateway, "/v5/dashboard/completions", BOB, { "x-selected-account-id": "acct_shared" }))).toStrictEqual([shared])
        expect(ids(yield* get(gateway, "/v5/dashboard/completions?account=acct_bob", BOB))).toStrictEqual([b])
        expect(ids(yield* get(gateway, "/v5/dashboard/completions", ALICE))).toStrictEqual([a])
        expect(ids(yield* get(gateway, "/v5/dashboard/completions", ADMIN))).toStrictEqual([shared, b, a])
        expect(ids(yield* get(gateway, "/v5/dashboard/completions?account=acct_alice", ADMIN))).toStrictEqual([a])

        const foreign = yield* get(gateway, "/v5/dashboard/completions?account=acct_alice", BOB)
        expect(foreign.status).toBe(403)
        expect(json(foreign).error.code).toBe("account_forbidden")
        expect((yield* get(gateway, `/v5/dashboard/completions/${a}`, BOB)).status).toBe(404)
        expect((yield* get(gateway, `/v5/dashboard/completions/${a}`, ADMIN)).status).toBe(200)
        expect((yield* get(gateway, "/v5/dashboard/completions", "wrong-key")).status).toBe(401)
      }), TIMEOUT)

    it.scopedLive("filters, cursors, bad input, detail, metadata edit, delete and export", () =>
      Effect.gen(function*() {
        const built = yield* backend.make(keys)
        const gateway = yield* startGateway({ gateway: keys, storage: built.layer })
        const prod = yield* store(gateway, ALICE, { user: "ada", env: "prod" })
        const dev = yield* store(gateway, ALICE, { user: "ada", env: "dev" })
        const bob = yield* store(gateway, ALICE, { user: "bob", env: "prod" })
        yield* listed(gateway, built, 3)

        const list = (query: string) => get(gateway, `/v5/dashboard/completions?${query}`, ALICE)
        expect(ids(yield* list("metadata=user%3Dada&metadata=env%3Dprod"))).toStrictEqual([prod])
        expect(ids(yield* list("metadata=env%3Dprod"))).toStrictEqual([bob, prod])
        expect(ids(yield* list("model=openai%2Fgpt-4o&status=completed"))).toStrictEqual([bob, dev, prod])
        expect(ids(yield* list("model=openai%2Fother"))).toStrictEqual([])
        // Text in the answer or the request, any case.
        expect(ids(yield* list("q=HELLO%20FROM%20upstream"))).toStrictEqual([bob, dev, prod])
        expect(ids(yield* list("q=no%20such%20words"))).toStrictEqual([])
        const first = json<{ data: Array<{ id: string }>; has_more: boolean; next_cursor: string | null }>(yield* list("limit=2"))
        expect(first.data.map((r) => r.id)).toStrictEqual([bob, dev])
        expect(first.has_more).toBe(true)
        expect(ids(yield* list(`limit=2&after=${first.next_cursor}`))).toStrictEqual([prod])
        expect(json(yield* list("limit=1")).data[0]).toMatchObject({
          id: bob,
          account_id: "acct_alice",
          model: "openai/gpt-4o",
          target: "openai/gpt-4o",
          status: "completed",
          metadata: { user: "bob", env: "prod" }
        })
        expect(json(yield* list("limit=1")).data[0]).not.toHaveProperty("request")

        expect((yield* list("limit=0")).status).toBe(422)
        expect((yield* list("status=exploded")).status).toBe(422)
        const badPair = yield* list("metadata=novalue")
        expect(badPair.status).toBe(400)
        expect(json(badPair).error.param).toBe("metadata")
        expect((yield* list("after=not-a-cursor")).status).toBe(400)

        const detail = json(yield* get(gateway, `/v5/dashboard/completions/${prod}`, ALICE))
        expect(detail).toMatchObject({ object: "dashboard.completion", id: prod, metadata: { user: "ada", env: "prod" } })
        expect(detail.request.messages).toStrictEqual([{ role: "user", content: "question {\"user\":\"ada\",\"env\":\"prod\"}" }])
        expect(detail.completion.choices[0].message.role).toBe("assistant")

        const patched = yield* Effect.promise(() =>
          request(`${gateway.url}/v5/dashboard/completions/${prod}`, {
            method: "PATCH",
            headers: { authorization: `Bearer ${ALICE}`, "content-type": "application/json" },
            body: JSON.stringify({ metadata: { user: "ada", env: "staging" } })
          })
        )
        expect(patched.status).toBe(200)
        expect(json(patched).metadata).toStrictEqual({ user: "ada", env: "staging" })
        expect(ids(yield* list("metadata=user%3Dada&metadata=env%3Dprod"))).toStrictEqual([])
        expect(ids(yield* list("metadata=env%3Dstaging"))).toStrictEqual([prod])

        const csv = yield* get(gateway, "/v5/dashboard/export?format=csv&metadata=env%3Dprod", ALICE)
        expect(csv.status).toBe(200)
        expect(csv.headers["content-type"]).toContain("text/csv")
        const lines = csv.text.trim().split("\r\n")
        expect(lines[0]).toBe("id,created_at,account_id,key_id,request_id,model,target,status,stream,prompt_tokens,completion_tokens,cost_usd,latency_ms,first_chunk_ms,metadata")
        expect(lines.slice(1).map((line) => line.split(",")[0])).toStrictEqual([bob])
        const jsonl = yield* get(gateway, "/v5/dashboard/export?format=jsonl&metadata=user%3Dada", ALICE)
        const records = jsonl.text.trim().split("\n").map((line) => JSON.parse(line))
        expect(records.map((r) => r.id)).toStrictEqual([dev, prod])
        expect(records[0].request.messages).toHaveLength(1)
        expect((yield* get(gateway, "/v5/dashboard/export?format=xml", ALICE)).status).toBe(422)

        const removed = yield* Effect.promise(() =>
          request(`${gateway.url}/v5/dashboard/completions/${dev}`, { method: "DELETE", headers: { authorization: `Bearer ${ALICE}` } })
        )
        expect(json(removed)).toStrictEqual({ id: dev, object: "chat.completion.deleted", deleted: true })
        expect((yield* get(gateway, `/v5/dashboard/completions/${dev}`, ALICE)).status).toBe(404)
        expect(ids(yield* list(""))).toStrictEqual([bob, prod])
      }), TIMEOUT)

    it.scopedLive("usage: totals, error rate and latency percentiles from the ledger, stored or not", () =>
      Effect.gen(function*() {
        const built = yield* backend.make(keys)
        const gateway = yield* startGateway({ gateway: keys, storage: built.layer })
        yield* store(gateway, ALICE, { user: "ada" })
        yield* store(gateway, ALICE, {}, { store: false })
        yield* store(gateway, BOB, {})
        for (let i = 0; i < 200; i++) {
          yield* Context.get(built.context, StoreHealth).flush
          const usage = json(yield* get(gateway, "/v5/dashboard/usage", ADMIN))
          if (usage.totals.requests >= 3) break
          yield* Effect.sleep("25 millis")
        }
        const mine = json(yield* get(gateway, "/v5/dashboard/usage?group_by=account", ALICE))
        expect(mine).toMatchObject({ object: "dashboard.usage", group_by: "account", interval: null })
        expect(mine.data).toHaveLength(1)
        expect(mine.data[0]).toMatchObject({ group: "acct_alice", requests: 2, errors: 0, error_rate: 0 })
        expect(mine.data[0].latency_p50_ms).toBeGreaterThanOrEqual(0)
        expect(mine.data[0].latency_p95_ms).toBeGreaterThanOrEqual(mine.data[0].latency_p50_ms)
        expect(mine.totals.requests).toBe(2)
        expect(mine.totals.total_tokens).toBe(mine.totals.prompt_tokens + mine.totals.completion_tokens)
        const all = json(yield* get(gateway, "/v5/dashboard/usage?group_by=account&interval=hour", ADMIN))
        expect(all.totals.requests).toBe(3)
        expect(all.data.map((row: { group: string }) => row.group).sort()).toStrictEqual(["acct_alice", "acct_bob"])
        expect((yield* get(gateway, "/v5/dashboard/usage?start=10&end=5", ADMIN)).status).toBe(400)
      }), TIMEOUT)
  })
}

const built = dashboardDir()
const hasBuild = built !== undefined && Fs.existsSync(Path.join(built, "index.html"))
if (!hasBuild) console.warn("Skipping the dashboard page tests: the dashboard is not built (npm run build).")

describe.skipIf(!hasBuild)("the dashboard page", () => {
  it.scopedLive("is served without a key, precompressed, with its assets and a content security policy", () =>
    Effect.gen(function*() {
      const gateway = yield* startGateway({ gateway: keys })
      const brotli = yield* Effect.promise(() => request(`${gateway.url}/dashboard`, { headers: { "accept-encoding": "gzip, br" } }))
      expect(brotli.status).toBe(200)
      expect(brotli.headers["content-encoding"]).toBe("br")
      expect(brotli.headers["content-type"]).toContain("text/html")
      expect(brotli.headers["content-security-policy"]).toContain("default-src 'self'")
      const html = Zlib.brotliDecompressSync(brotli.body).toString("utf8")
      const gzip = yield* Effect.promise(() => request(`${gateway.url}/dashboard`, { headers: { "accept-encoding": "gzip" } }))
      expect(gzip.headers["content-encoding"]).toBe("gzip")
      expect(Zlib.gunzipSync(gzip.body).toString("utf8")).toBe(html)
      const plain = yield* Effect.promise(() => request(`${gateway.url}/dashboard`))
      expect(plain.headers["content-encoding"]).toBeUndefined()
      expect(plain.text).toBe(html)

      const assets = [...html.matchAll(/\/dashboard\/assets\/[^"]+/g)].map((m) => m[0])
      expect(assets.length).toBeGreaterThanOrEqual(2)
      let compressed = gzip.body.length
      for (const asset of assets) {
        const response = yield* Effect.promise(() => request(`${gateway.url}${asset}`, { headers: { "accept-encoding": "gzip" } }))
        expect(response.status).toBe(200)
        expect(response.headers["cache-control"]).toContain("immutable")
        compressed += response.body.length
      }
      // The first load: under 300 KB compressed.
      expect(compressed).toBeLessThan(300 * 1024)
      const missing = yield* Effect.promise(() => request(`${gateway.url}/dashboard/assets/nothing.js`))
      expect(missing.status).toBe(404)
      expect(JSON.parse(missing.text).error.code).toBe("not_found")
      expect((yield* Effect.promise(() => request(`${gateway.url}/dashboard/assets/../package.json`))).status).not.toBe(200)
    }), TIMEOUT)
})

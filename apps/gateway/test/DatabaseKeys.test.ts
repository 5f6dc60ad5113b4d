import { describe, expect, it } from "@effect/vitest"
import { ApiKeys, layerMemoryStore } from "@switchyard/service"
import { Context, Effect, Layer, Redacted } from "effect"
import OpenAI from "openai"
import { postJson, request, startGateway, type TestGateway } from "./support/Harness.js"
import { compose } from "../src/store/GatewayStore.js"
import { buildStore, storeBackends, testPrices } from "./support/Stores.js"

const TIMEOUT = 60_000
const ADMIN = "sy-admin-key"
const MEMBER = "sy-member-key:acct_member"
const messages = [{ role: "user" as const, content: "hi" }]

const call = <A>(f: () => Promise<A>) => Effect.promise(f)

const api = (gateway: TestGateway, key: string) => ({
  get: (path: string) => call(() => request(`${gateway.url}${path}`, { headers: { "x-api-key": key } })),
  post: (path: string, body: unknown) => call(() => postJson(`${gateway.url}${path}`, body, { "x-api-key": key })),
  del: (path: string) => call(() => request(`${gateway.url}${path}`, { method: "DELETE", headers: { "x-api-key": key } }))
})

/** Posts a completion with a key until it gets `expected` (or 5 s pass): the status and how long it took. */
const accepted = (gateway: TestGateway, key: string, expected: number) =>
  Effect.gen(function*() {
    const started = Date.now()
    for (;;) {
      const headers: Record<string, string> = key === "" ? {} : { "x-api-key": key }
      const response = yield* call(() => postJson(`${gateway.url}/v5/chat/completions`, { model: "echo/echo", messages }, headers))
      if (response.status === expected || Date.now() - started > 5_000) return { status: response.status, afterMs: Date.now() - started }
      yield* Effect.sleep("100 millis")
    }
  })

for (const backend of storeBackends) {
  describe(`database keys (${backend.name})`, () => {
    it.scopedLive("an admin creates a key over HTTP (secret shown once); it works within 5 s; lists never show it; revoked, it is refused within 5 s", () =>
      Effect.gen(function*() {
        const store = yield* backend.make({ apiKeys: [MEMBER], adminKeys: [ADMIN] })
        const gateway = yield* startGateway({ gateway: { apiKeys: [MEMBER], adminKeys: [ADMIN] }, storage: store.layer })
        const admin = api(gateway, ADMIN)
        const created = yield* admin.post("/v5/admin/keys", { name: "ci-bot", account_ids: ["acct_ci", "acct_other"] })
        expect(created.status, created.text).toBe(200)
        const key = JSON.parse(created.text) as Record<string, unknown> & { secret: string; id: string }
        expect(key).toEqual({
          id: expect.stringMatching(/^key_/),
          object: "api_key",
          name: "ci-bot",
          account_ids: ["acct_ci", "acct_other"],
          default_account_id: "acct_ci",
          prefix: key.secret.slice(0, 10),
          last4: key.secret.slice(-4),
          created_at: expect.any(Number),
          last_used_at: null,
          secret: expect.stringMatching(/^sk-sy-[0-9A-Za-z]{40}$/)
        })

        const works = yield* accepted(gateway, key.secret, 200)
        expect(works.status).toBe(200)
        expect(works.afterMs).toBeLessThan(5_000)
        const asKey = new OpenAI({ baseURL: `${gateway.url}/v5`, apiKey: key.secret, maxRetries: 0, defaultHeaders: { "x-selected-account-id": "acct_other" } })
        const stored = yield* call(() => asKey.chat.completions.create({ model: "echo/echo", messages, store: true }))
        const forbidden = yield* call(() =>
          postJson(`${gateway.url}/v5/chat/completions`, { model: "echo/echo", messages }, { authorization: `Bearer ${key.secret}`, "x-selected-account-id": "acct_member" })
        )
        expect(forbidden.status).toBe(403)
        expect(JSON.parse(forbidden.text).error.code).toBe("account_forbidden")
        expect((yield* call(() => asKey.chat.completions.retrieve(stored.id))).id).toBe(stored.id)

        const listed = yield* admin.get("/v5/admin/keys")
        expect(listed.status).toBe(200)
        expect(listed.text).not.toContain(key.secret)
        expect(listed.text).not.toContain("hash")
        const entry = (JSON.parse(listed.text) as { object: string; data: Array<Record<string, unknown>> }).data.find((k) => k.id === key.id)
        expect(entry).toMatchObject({ object: "api_key", name: "ci-bot", prefix: key.prefix, last4: key.last4 })
        expect(entry).not.toHaveProperty("secret")

        const revoked = yield* admin.del(`/v5/admin/keys/${key.id}`)
        expect(JSON.parse(revoked.text)).toEqual({ id: key.id, object: "api_key.deleted", deleted: true })
        const refused = yield* accepted(gateway, key.secret, 401)
        expect(refused.status).toBe(401)
        expect(refused.afterMs).toBeLessThan(5_000)
        expect((yield* admin.del(`/v5/admin/keys/${key.id}`)).status).toBe(404)
      }), TIMEOUT)

    it.scopedLive("member keys get 403 on the admin endpoints; bad bodies get 422", () =>
      Effect.gen(function*() {
        const store = yield* backend.make({ apiKeys: [MEMBER], adminKeys: [ADMIN] })
        const gateway = yield* startGateway({ gateway: { apiKeys: [MEMBER], adminKeys: [ADMIN] }, storage: store.layer })
        const member = api(gateway, "sy-member-key")
        for (const response of [
          yield* member.get("/v5/admin/keys"),
          yield* member.post("/v5/admin/keys", { account_ids: ["acct_member"] }),
          yield* member.del("/v5/admin/keys/key_x")
        ]) {
          expect(response.status).toBe(403)
          expect(JSON.parse(response.text).error.type).toBe("permission_error")
        }
        expect(yield* Context.get(store.context, ApiKeys).list()).toEqual([])
        const admin = api(gateway, ADMIN)
        expect((yield* admin.post("/v5/admin/keys", { account_ids: [] })).status).toBe(422)
        expect((yield* admin.post("/v5/admin/keys", { name: "x" })).status).toBe(422)
        expect((yield* admin.post("/v5/admin/keys", { account_ids: ["has space"] })).status).toBe(422)
      }), TIMEOUT)
  })
}

describe("database keys and open mode", () => {
  it.scopedLive("a gateway started without any key is open; once a key exists in the database, keys are required", () =>
    Effect.gen(function*() {
      const store = yield* buildStore("memory")
      const gateway = yield* startGateway({ storage: store.layer })
      expect((yield* accepted(gateway, "", 200)).status).toBe(200)
      const created = yield* Context.get(store.context, ApiKeys).create({ accountIds: ["acct_a"] })
      const closed = yield* accepted(gateway, "", 401)
      expect(closed.status).toBe(401)
      expect(closed.afterMs).toBeLessThan(5_000)
      expect((yield* accepted(gateway, Redacted.value(created.secret), 200)).status).toBe(200)
    }), TIMEOUT)

  it.scopedLive("a gateway started with keys never opens, even when every database key is revoked", () =>
    Effect.gen(function*() {
      // The key exists before the gateway (and its authenticator) starts.
      const base = yield* Layer.build(layerMemoryStore.pipe(Layer.provide(testPrices)))
      const keys = Context.get(base, ApiKeys)
      const created = yield* keys.create({ accountIds: ["acct_a"] })
      const store = yield* Layer.build(compose({ apiKeys: [], adminKeys: [] }, Layer.succeedContext(base)).pipe(Layer.provide(testPrices)))
      const gateway = yield* startGateway({ storage: Layer.succeedContext(store) })
      expect((yield* accepted(gateway, Redacted.value(created.secret), 200)).status).toBe(200)
      yield* keys.revoke(created.key.id)
      expect((yield* accepted(gateway, Redacted.value(created.secret), 401)).status).toBe(401)
      yield* Effect.sleep("2500 millis")
      expect((yield* accepted(gateway, "", 401)).status).toBe(401)
    }), TIMEOUT)
})

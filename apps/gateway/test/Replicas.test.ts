import { describe, expect, it } from "@effect/vitest"
import { StoreHealth } from "@switchyard/service"
import { freshPostgres, testDatabaseUrl, throughProxy } from "@switchyard/store/testing"
import { Context, Effect, Redacted } from "effect"
import OpenAI from "openai"
import { postJson, request, startGateway } from "./support/Harness.js"
import { buildStore } from "./support/Stores.js"

const TIMEOUT = 90_000
const ADMIN = "sy-admin-key"
const MEMBER = "sy-member:acct_team"
const messages = [{ role: "user" as const, content: "Shared state" }]
const call = <A>(f: () => Promise<A>) => Effect.promise(f)

const until = <A>(what: string, probe: Effect.Effect<A | undefined>, timeoutMs = 5_000) =>
  Effect.gen(function*() {
    const started = Date.now()
    for (;;) {
      const value = yield* probe
      if (value !== undefined) return { value, afterMs: Date.now() - started }
      if (Date.now() - started > timeoutMs) return yield* Effect.dieMessage(`timed out waiting for ${what}`)
      yield* Effect.sleep("100 millis")
    }
  })

describe.skipIf(testDatabaseUrl === undefined)("two gateway replicas on one PostgreSQL database", () => {
  it.scopedLive("serve the same keys and stored completions; creates and revocations reach the other replica within 5 s", () =>
    Effect.gen(function*() {
      const url = yield* freshPostgres(testDatabaseUrl!)
      const location = { _tag: "postgres", url: Redacted.make(url) } as const
      const keys = { apiKeys: [MEMBER], adminKeys: [ADMIN] }
      // Both start at once on a fresh database: their migrations must not race.
      const [storeA, storeB] = yield* Effect.all([buildStore(location, keys), buildStore(location, keys)], { concurrency: 2 })
      const a = yield* startGateway({ gateway: keys, storage: storeA.layer })
      const b = yield* startGateway({ gateway: keys, storage: storeB.layer })

      const created = yield* call(() =>
        postJson(`${a.url}/v5/admin/keys`, { name: "shared", account_ids: ["acct_team"] }, { "x-api-key": ADMIN })
      )
      const key = JSON.parse(created.text) as { id: string; secret: string }
      const onB = yield* until("the new key on replica B", Effect.map(
        call(() => postJson(`${b.url}/v5/chat/completions`, { model: "echo/echo", messages }, { "x-api-key": key.secret })),
        (r) => (r.status === 200 ? r : undefined)
      ))
      expect(onB.afterMs).toBeLessThan(5_000)

      const viaA = new OpenAI({ baseURL: `${a.url}/v5`, apiKey: key.secret, maxRetries: 0 })
      const viaB = new OpenAI({ baseURL: `${b.url}/v1`, apiKey: "sy-member", maxRetries: 0 })
      const stored = yield* call(() => viaA.chat.completions.create({ model: "echo/echo", messages, store: true, metadata: { from: "a" } }))
      yield* Context.get(storeA.context, StoreHealth).flush
      const fromB = yield* call(() => viaB.chat.completions.retrieve(stored.id))
      expect(fromB).toMatchObject({ id: stored.id, metadata: { from: "a" } })
      yield* call(() => viaB.chat.completions.update(stored.id, { metadata: { from: "b" } }))
      const listedOnA = yield* call(() => viaA.chat.completions.list({ metadata: { from: "b" } }))
      expect(listedOnA.data.map((c) => c.id)).toEqual([stored.id])

      yield* call(() => request(`${b.url}/v5/admin/keys/${key.id}`, { method: "DELETE", headers: { "x-api-key": ADMIN } }))
      const refusedOnA = yield* until("the revoked key refused on replica A", Effect.map(
        call(() => postJson(`${a.url}/v5/chat/completions`, { model: "echo/echo", messages }, { "x-api-key": key.secret })),
        (r) => (r.status === 401 ? r : undefined)
      ))
      expect(refusedOnA.afterMs).toBeLessThan(5_000)
    }), TIMEOUT)

  it.scopedLive("with the database down, answers are still served; their rows arrive once it is back", () =>
    Effect.gen(function*() {
      const url = yield* freshPostgres(testDatabaseUrl!)
      const { location, proxy } = yield* throughProxy(url)
      const store = yield* buildStore(location, { apiKeys: [MEMBER] })
      const gateway = yield* startGateway({ gateway: { apiKeys: [MEMBER] }, storage: store.layer })
      const client = new OpenAI({ baseURL: `${gateway.url}/v5`, apiKey: "sy-member", maxRetries: 0 })
      yield* call(() => proxy.stop())
      const ids: Array<string> = []
      for (let i = 0; i < 5; i++) {
        const completion = yield* call(() => client.chat.completions.create({ model: "echo/echo", messages, store: true }))
        expect(completion.choices[0]?.message.content).toBe("Shared state")
        ids.push(completion.id)
      }
      // Readable by id from the queue while the database is away.
      expect((yield* call(() => client.chat.completions.retrieve(ids[2]!))).id).toBe(ids[2])
      const ready = yield* until("/ready to report the outage", Effect.map(call(() => request(`${gateway.url}/ready`)), (r) => {
        const body = JSON.parse(r.text) as { store: { healthy: boolean; queue_depth: number } }
        return body.store.healthy === false ? { status: r.status, body } : undefined
      }))
      expect(ready.value.status).toBe(200)
      expect(ready.value.body.store.queue_depth).toBeGreaterThan(0)

      yield* call(() => proxy.start())
      yield* Context.get(store.context, StoreHealth).flush.pipe(Effect.timeout("30 seconds"))
      const listed = yield* call(() => client.chat.completions.list({ limit: 10 }))
      expect(listed.data.map((c) => c.id)).toEqual(ids)
      const healthy = JSON.parse((yield* call(() => request(`${gateway.url}/ready`))).text) as { store: unknown }
      expect(healthy.store).toMatchObject({ healthy: true, queue_depth: 0, dropped: 0 })
    }), TIMEOUT)
})

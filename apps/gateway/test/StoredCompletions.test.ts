import { describe, expect, it } from "@effect/vitest"
import type { ChatCompletionChunk } from "@switchyard/core"
import { StoredCompletions, StoreHealth } from "@switchyard/service"
import { FakeUpstream } from "@switchyard/service/testing"
import { Context, Effect, Option } from "effect"
import OpenAI from "openai"
import { chunk, openStream, postJson, request, startGateway, type TestGateway, usageChunk } from "./support/Harness.js"
import { type BuiltStore, storeBackends } from "./support/Stores.js"

const TIMEOUT = 60_000
const ALICE = "sy-alice-key"
const BOB = "sy-bob-key"
const ADMIN = "sy-admin-key"
const keys = { apiKeys: [`${ALICE}:acct_alice`, `${BOB}:acct_bob|acct_shared`], adminKeys: [ADMIN] }
const messages = [{ role: "user" as const, content: "Remember this" }]

const sdk = (gateway: TestGateway, key: string, headers: Record<string, string> = {}) =>
  new OpenAI({ baseURL: `${gateway.url}/v5`, apiKey: key, maxRetries: 0, defaultHeaders: headers })

const call = <A>(f: () => Promise<A>) => Effect.promise(f)

/** Runs a call that must fail with an OpenAI API error; returns it. */
const rejection = (f: () => Promise<unknown>) =>
  Effect.promise(() =>
    f().then(
      (value) => {
        throw new Error(`expected a failure, got ${JSON.stringify(value)}`)
      },
      (error: unknown) => error as InstanceType<typeof OpenAI.APIError>
    )
  )

const flushed = (store: BuiltStore) => Context.get(store.context, StoreHealth).flush

/** Waits until the ledger holds `count` calls in all (a call is recorded when it ends, after its answer). */
const usageEventually = (
  store: BuiltStore,
  read: () => Effect.Effect<{ readonly data: ReadonlyArray<{ readonly requests: number }> }>,
  count: number
) =>
  Effect.gen(function*() {
    for (let i = 0; i < 400; i++) {
      yield* flushed(store)
      const total = (yield* read()).data.reduce((sum, b) => sum + b.requests, 0)
      if (total >= count) return
      yield* Effect.sleep("25 millis")
    }
    return yield* Effect.dieMessage(`the ledger never held ${count} calls`)
  })

/** A stored completion, once it is there (the recording happens when the call ends). */
const storedEventually = (store: BuiltStore, accountId: string, id: string) =>
  Effect.gen(function*() {
    const completions = Context.get(store.context, StoredCompletions)
    for (let i = 0; i < 400; i++) {
      const found = yield* completions.get(accountId, id)
      if (Option.isSome(found)) return found.value
      yield* Effect.sleep("25 millis")
    }
    return yield* Effect.dieMessage(`${id} was never stored`)
  })

/** A streamed answer that calls a tool, in pieces, with usage. */
const toolChunks: ReadonlyArray<ChatCompletionChunk> = [
  chunk({ role: "assistant", content: null, tool_calls: [{ index: 0, id: "call_1", type: "function", function: { name: "get_weather", arguments: "" } }] }),
  chunk({ tool_calls: [{ index: 0, function: { arguments: "{\"city\":" } }] }),
  chunk({ tool_calls: [{ index: 0, function: { arguments: "\"Paris\"}" } }] }),
  chunk({}, "tool_calls"),
  usageChunk({ prompt_tokens: 20, completion_tokens: 7, total_tokens: 27 })
]

for (const backend of storeBackends) {
  describe(`stored completions through the gateway (${backend.name})`, () => {
    it.scopedLive("store: true is kept under the id the client received; store and metadata never reach the vendor", () =>
      Effect.gen(function*() {
        const store = yield* backend.make(keys)
        const gateway = yield* startGateway({ gateway: keys, storage: store.layer })
        const alice = sdk(gateway, ALICE)
        const stored = yield* call(() =>
          alice.chat.completions.create({ model: "openai/gpt-4o", messages, store: true, metadata: { topic: "memory" } })
        )
        expect(stored.id).toMatch(/^chatcmpl-sy/)
        const plain = yield* call(() => alice.chat.completions.create({ model: "openai/gpt-4o", messages }))
        expect(plain.id).toBe("chatcmpl-upstream")
        for (const upstream of gateway.upstream.requests) {
          expect(upstream.json).not.toHaveProperty("store")
          expect(upstream.json).not.toHaveProperty("metadata")
        }
        // Retrievable at once, before the write queue has reached the database.
        const retrieved = yield* call(() => alice.chat.completions.retrieve(stored.id))
        expect(retrieved).toMatchObject({
          id: stored.id,
          object: "chat.completion",
          model: stored.model,
          choices: [{ message: { role: "assistant", content: "Hello from upstream" } }],
          usage: { prompt_tokens: 9, completion_tokens: 4, total_tokens: 13 },
          metadata: { topic: "memory" },
          request_id: expect.stringMatching(/^req_/)
        })
        yield* flushed(store)
        const list = yield* call(() => alice.chat.completions.list())
        expect(list.data.map((c) => c.id)).toEqual([stored.id])
        const history = yield* call(() => alice.chat.completions.messages.list(stored.id))
        expect(history.data).toEqual([{ id: `${stored.id}-0`, role: "user", content: "Remember this" }])
      }), TIMEOUT)

    it.scopedLive("a streamed answer with a tool call is stored as its aggregate, under the id every chunk carried", () =>
      Effect.gen(function*() {
        const store = yield* backend.make(keys)
        const gateway = yield* startGateway({
          gateway: keys,
          storage: store.layer,
          upstream: (_request, response) => FakeUpstream.sendSse(response, toolChunks)
        })
        const stream = yield* call(() =>
          sdk(gateway, ALICE).chat.completions.create({
            model: "openai/gpt-4o",
            messages,
            stream: true,
            stream_options: { include_usage: true },
            store: true
          })
        )
        const ids = new Set<string>()
        yield* call(async () => {
          for await (const part of stream) ids.add(part.id)
        })
        expect(ids.size).toBe(1)
        const [id] = [...ids]
        expect(id).toMatch(/^chatcmpl-sy/)
        const retrieved = yield* call(() => sdk(gateway, ALICE).chat.completions.retrieve(id!))
        expect(retrieved.choices[0]).toMatchObject({
          finish_reason: "tool_calls",
          message: {
            role: "assistant",
            tool_calls: [{ id: "call_1", type: "function", function: { name: "get_weather", arguments: "{\"city\":\"Paris\"}" } }]
          }
        })
        expect(retrieved.usage).toMatchObject({ prompt_tokens: 20, completion_tokens: 7, total_tokens: 27 })
        const record = Option.getOrThrow(yield* Context.get(store.context, StoredCompletions).get("acct_alice", id!))
        expect(record).toMatchObject({ status: "completed", stream: true, firstChunkMs: expect.any(Number) })
      }), TIMEOUT)

    it.scopedLive("a stream the client abandons is stored as far as it got, marked incomplete", () =>
      Effect.gen(function*() {
        const store = yield* backend.make(keys)
        const gateway = yield* startGateway({
          gateway: keys,
          storage: store.layer,
          upstream: (_request, response) =>
            FakeUpstream.sendSse(response, [chunk({ role: "assistant", content: "" }), chunk({ content: "Half an" }), chunk({ content: " answer" })], {
              stallAfter: 2
            })
        })
        const open = yield* call(() =>
          openStream(`${gateway.url}/v5/chat/completions`, { model: "openai/gpt-4o", messages, stream: true, store: true }, {
            "x-api-key": ALICE
          })
        )
        yield* call(() => open.until((text) => text.includes("Half an")))
        const id = /"id":"(chatcmpl-sy[^"]+)"/.exec(open.text())![1]!
        open.abort()
        expect(yield* storedEventually(store, "acct_alice", id)).toMatchObject({
          status: "incomplete",
          completion: { choices: [{ message: { content: "Half an" } }] }
        })
      }), TIMEOUT)

    it.scopedLive("lists page with the SDK's auto-pagination; metadata pairs combine with AND; model and order filter", () =>
      Effect.gen(function*() {
        const store = yield* backend.make(keys)
        const gateway = yield* startGateway({ gateway: keys, storage: store.layer })
        const alice = sdk(gateway, ALICE)
        const created: Array<{ id: string; team: string; env: string; model: string }> = []
        for (let i = 0; i < 7; i++) {
          const team = i % 2 === 0 ? "red" : "blue"
          const env = i < 4 ? "prod" : "dev"
          const model = i === 5 ? "echo/echo" : "openai/gpt-4o"
          const c = yield* call(() => alice.chat.completions.create({ model, messages, store: true, metadata: { team, env } }))
          created.push({ id: c.id, team, env, model })
        }
        yield* flushed(store)
        const all = async (query: OpenAI.Chat.Completions.ChatCompletionListParams) => {
          const ids: Array<string> = []
          for await (const c of alice.chat.completions.list(query)) ids.push(c.id)
          return ids
        }
        expect(yield* call(() => all({ limit: 2 }))).toEqual(created.map((c) => c.id))
        expect(yield* call(() => all({ limit: 3, order: "desc" }))).toEqual(created.map((c) => c.id).reverse())
        expect(yield* call(() => all({ limit: 2, metadata: { team: "red" } }))).toEqual(
          created.filter((c) => c.team === "red").map((c) => c.id)
        )
        expect(yield* call(() => all({ limit: 2, metadata: { team: "red", env: "prod" } }))).toEqual(
          created.filter((c) => c.team === "red" && c.env === "prod").map((c) => c.id)
        )
        expect(yield* call(() => all({ model: "echo/echo" }))).toEqual([created[5]!.id])
        const page = yield* call(() => alice.chat.completions.list({ limit: 7 }))
        expect(page.has_more).toBe(false)
        expect(page.data).toHaveLength(7)
        const tooMany = yield* call(() => request(`${gateway.url}/v5/chat/completions?limit=101`, { headers: { "x-api-key": ALICE } }))
        expect(tooMany.status).toBe(422)
        expect(JSON.parse(tooMany.text).detail[0].loc).toContain("limit")
        const zero = yield* call(() => request(`${gateway.url}/v1/chat/completions?limit=0`, { headers: { "x-api-key": ALICE } }))
        expect(zero.status).toBe(422)
      }), TIMEOUT)

    it.scopedLive("update changes only the metadata (anything else is a 400 naming it); delete removes; both under /v1 too", () =>
      Effect.gen(function*() {
        const store = yield* backend.make(keys)
        const gateway = yield* startGateway({ gateway: keys, storage: store.layer })
        const alice = sdk(gateway, ALICE)
        const c = yield* call(() => alice.chat.completions.create({ model: "openai/gpt-4o", messages, store: true, metadata: { stage: "draft" } }))
        const updated = yield* call(() => alice.chat.completions.update(c.id, { metadata: { stage: "final", reviewer: "ada" } }))
        expect((updated as unknown as { metadata: unknown }).metadata).toEqual({ stage: "final", reviewer: "ada" })
        yield* flushed(store)
        expect((yield* call(() => alice.chat.completions.list({ metadata: { stage: "final" } }))).data.map((x) => x.id)).toEqual([c.id])
        expect((yield* call(() => alice.chat.completions.list({ metadata: { stage: "draft" } }))).data).toEqual([])
        const extra = yield* call(() =>
          postJson(`${gateway.url}/v5/chat/completions/${c.id}`, { metadata: {}, model: "openai/gpt-4o" }, { "x-api-key": ALICE })
        )
        expect(extra.status).toBe(400)
        expect(JSON.parse(extra.text).error).toMatchObject({ param: "model", type: "invalid_request_error" })
        const v1 = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: ALICE, maxRetries: 0 })
        expect(yield* call(() => v1.chat.completions.delete(c.id))).toEqual({ id: c.id, object: "chat.completion.deleted", deleted: true })
        const gone = yield* rejection(() => alice.chat.completions.retrieve(c.id))
        expect(gone.status).toBe(404)
        expect(gone.code).toBe("not_found")
        expect((yield* rejection(() => alice.chat.completions.delete(c.id))).status).toBe(404)
      }), TIMEOUT)

    it.scopedLive("accounts are isolated: 403 for a foreign account before anything is forwarded, 404 for another's id, lists never mix", () =>
      Effect.gen(function*() {
        const store = yield* backend.make(keys)
        const gateway = yield* startGateway({ gateway: keys, storage: store.layer })
        const mine = yield* call(() => sdk(gateway, ALICE).chat.completions.create({ model: "openai/gpt-4o", messages, store: true }))
        const shared = yield* call(() =>
          sdk(gateway, BOB, { "x-selected-account-id": "acct_shared" }).chat.completions.create({ model: "openai/gpt-4o", messages, store: true })
        )
        const forwardedBefore = gateway.upstream.requests.length
        const foreign = yield* rejection(() =>
          sdk(gateway, ALICE, { "x-selected-account-id": "acct_bob" }).chat.completions.create({ model: "openai/gpt-4o", messages, store: true })
        )
        expect(foreign.status).toBe(403)
        expect(foreign.code).toBe("account_forbidden")
        expect(gateway.upstream.requests.length).toBe(forwardedBefore)
        yield* flushed(store)
        for (const id of [shared.id]) {
          const hidden = yield* rejection(() => sdk(gateway, ALICE).chat.completions.retrieve(id))
          expect(hidden.status).toBe(404)
          expect((yield* rejection(() => sdk(gateway, ALICE).chat.completions.update(id, { metadata: { x: "y" } }))).status).toBe(404)
          expect((yield* rejection(() => sdk(gateway, ALICE).chat.completions.delete(id))).status).toBe(404)
          expect((yield* rejection(() => sdk(gateway, ALICE).chat.completions.messages.list(id))).status).toBe(404)
        }
        expect((yield* rejection(() => sdk(gateway, BOB).chat.completions.retrieve(mine.id))).status).toBe(404)
        expect((yield* call(() => sdk(gateway, ALICE).chat.completions.list())).data.map((c) => c.id)).toEqual([mine.id])
        expect((yield* call(() => sdk(gateway, BOB).chat.completions.list())).data).toEqual([])
        expect(
          (yield* call(() => sdk(gateway, BOB, { "x-selected-account-id": "acct_shared" }).chat.completions.list())).data.map((c) => c.id)
        ).toEqual([shared.id])
        // An admin acts for any account it selects.
        expect(
          (yield* call(() => sdk(gateway, ADMIN, { "x-selected-account-id": "acct_alice" }).chat.completions.retrieve(mine.id))).id
        ).toBe(mine.id)
      }), TIMEOUT)

    it.scopedLive("usage counts every completion, stored or not, for the caller's accounts (all for an admin)", () =>
      Effect.gen(function*() {
        const store = yield* backend.make(keys)
        const gateway = yield* startGateway({ gateway: keys, storage: store.layer })
        yield* call(() => sdk(gateway, ALICE).chat.completions.create({ model: "openai/gpt-4o", messages, store: true }))
        yield* call(() => sdk(gateway, ALICE).chat.completions.create({ model: "openai/gpt-4o", messages }))
        yield* call(() => sdk(gateway, BOB).chat.completions.create({ model: "echo/echo", messages }))
        yield* rejection(() => sdk(gateway, BOB).chat.completions.create({ model: "nope/gpt", messages, stream: true }))
        const usage = (key: string, query = "") =>
          Effect.map(call(() => request(`${gateway.url}/v5/usage${query}`, { headers: { "x-api-key": key } })), (r) => {
            expect(r.status, r.text).toBe(200)
            return JSON.parse(r.text) as { data: Array<{ group: Record<string, string>; requests: number; prompt_tokens: number; total_tokens: number; cost_usd: number; errors: number; start: number; end: number }> }
          })
        yield* usageEventually(store, () => usage(ADMIN), 4)
        const aliceUsage = yield* usage(ALICE)
        expect(aliceUsage.data).toEqual([{
          start: expect.any(Number),
          end: expect.any(Number),
          group: { model: "openai/gpt-4o" },
          requests: 2,
          errors: 0,
          prompt_tokens: 18,
          completion_tokens: 8,
          total_tokens: 26,
          cost_usd: (18 * 2.5 + 8 * 10) / 1e6
        }])
        expect(aliceUsage.data[0]!.end - aliceUsage.data[0]!.start).toBe(86_400)
        const byAccount = yield* usage(ADMIN, "?group_by=account&interval=hour")
        const accounts: Record<string, number> = {}
        for (const b of byAccount.data) accounts[b.group.account!] = (accounts[b.group.account!] ?? 0) + b.requests
        expect(accounts).toEqual({ acct_alice: 2, acct_bob: 2 })
        expect(byAccount.data.every((b) => b.end - b.start === 3_600)).toBe(true)
        const bobErrors = (yield* usage(BOB, "?group_by=key")).data
        expect(bobErrors.map((b) => [b.requests, b.errors])).toEqual([[2, 1]])
        const bad = yield* call(() => request(`${gateway.url}/v5/usage?group_by=colour`, { headers: { "x-api-key": ALICE } }))
        expect(bad.status).toBe(422)
      }), TIMEOUT)
  })
}

describe("stored completions: answers that are not stored", () => {
  it.scopedLive("a completion that failed stores nothing, but the ledger counts it as an error", () =>
    Effect.gen(function*() {
      const store = yield* storeBackends[0]!.make(keys)
      const gateway = yield* startGateway({
        gateway: keys,
        storage: store.layer,
        upstream: (_request, response) => FakeUpstream.sendJson(response, 400, { error: { message: "bad", type: "invalid_request_error" } })
      })
      const failed = yield* rejection(() => sdk(gateway, ALICE).chat.completions.create({ model: "openai/gpt-4o", messages, store: true }))
      expect(failed.status).toBe(400)
      expect((yield* call(() => sdk(gateway, ALICE).chat.completions.list())).data).toEqual([])
      const read = () =>
        Effect.map(call(() => request(`${gateway.url}/v5/usage`, { headers: { "x-api-key": ALICE } })), (r) =>
          JSON.parse(r.text) as { data: Array<{ requests: number; errors: number }> })
      yield* usageEventually(store, read, 1)
      expect((yield* read()).data).toMatchObject([{ requests: 1, errors: 1 }])
    }), TIMEOUT)
  it.scopedLive("a stream whose client did not ask for usage still counts its tokens; the client gets no usage chunk", () =>
    Effect.gen(function*() {
      const store = yield* storeBackends[0]!.make(keys)
      const gateway = yield* startGateway({
        gateway: keys,
        storage: store.layer,
        // As OpenAI does: the usage chunk only when the request asks for it.
        upstream: (request, response) => {
          const asked = (request.json as { stream_options?: { include_usage?: boolean } }).stream_options?.include_usage === true
          const usage = { prompt_tokens: 20, completion_tokens: 7, total_tokens: 27 }
          return FakeUpstream.sendSse(response, [
            chunk({ role: "assistant", content: "Hi" }),
            chunk({}, "stop"),
            ...(asked ? [usageChunk(usage)] : [])
          ])
        }
      })
      const open = yield* call(() =>
        openStream(`${gateway.url}/v5/chat/completions`, { model: "openai/gpt-4o", messages, stream: true }, { "x-api-key": ALICE })
      )
      yield* call(() => open.closed)
      expect(open.text()).toContain("data: [DONE]")
      expect(open.text()).toContain("\"content\":\"Hi\"")
      expect(open.text()).not.toContain("prompt_tokens")
      expect(gateway.upstream.requests[0]?.json).toMatchObject({ stream_options: { include_usage: true } })
      const read = () =>
        Effect.map(call(() => request(`${gateway.url}/v5/usage`, { headers: { "x-api-key": ALICE } })), (r) =>
          JSON.parse(r.text) as { data: Array<{ requests: number; prompt_tokens: number; completion_tokens: number }> })
      yield* usageEventually(store, read, 1)
      expect((yield* read()).data).toMatchObject([{ requests: 1, prompt_tokens: 20, completion_tokens: 7 }])
    }), TIMEOUT)
})

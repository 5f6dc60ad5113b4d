import { describe, expect, it, layer } from "@effect/vitest"
import type { ResponseItem, ResponseObject } from "@switchyard/core"
import { pageItems, ResponseInput, ResponsesStore, type StoredResponse, StoreHealth } from "@switchyard/service"
import { Context, Effect, Exit, Layer, Option, Scope } from "effect"
import { layer as storeLayer, Retention, type StoreOptions } from "../src/index.js"
import { throughProxy } from "../src/testing/index.js"
import { backends, freshPostgres, newAccount, sqlLocations, testDatabaseUrl, testPrices } from "./support.js"

const T0 = Math.floor(Date.UTC(2026, 0, 1) / 1000)

let counter = 0
const unique = (prefix: string) => `${prefix}_${Date.now().toString(36)}${(++counter).toString(36)}${Math.random().toString(36).slice(2, 6)}`

const userMessage = (text: string, id = unique("msg")): ResponseItem => ({
  id,
  type: "message",
  role: "user",
  status: "completed",
  content: [{ type: "input_text", text }]
})

/** A stored response with several input items and output of every kind. */
const response = (
  options: {
    readonly accountId: string | undefined
    readonly input?: ReadonlyArray<ResponseItem>
    readonly createdAt?: number
    readonly previous?: string
  }
): StoredResponse => {
  const id = unique("resp")
  const base = ResponseInput.responseBase(
    {
      model: "openai/gpt-test",
      input: "x",
      instructions: "Be brief.",
      metadata: { topic: "weather" },
      ...(options.previous !== undefined ? { previous_response_id: options.previous } : {})
    },
    id,
    options.createdAt ?? T0
  )
  const output: ResponseObject["output"] = [
    { id: unique("rs"), type: "reasoning", summary: [{ type: "summary_text", text: "Thinking about Paris." }] },
    {
      id: unique("msg"),
      type: "message",
      role: "assistant",
      status: "completed",
      content: [{ type: "output_text", text: `answer of ${id} — ünïcödé, "quotes" and \u0000`, annotations: [] }]
    },
    { id: unique("fc"), type: "function_call", call_id: "call_1", name: "get_weather", arguments: "{\"city\":\"Paris\"}", status: "completed" }
  ]
  return {
    response: {
      ...base,
      status: "completed",
      completed_at: (options.createdAt ?? T0) + 1,
      error: null,
      incomplete_details: null,
      usage: {
        input_tokens: 12,
        input_tokens_details: { cached_tokens: 2 },
        output_tokens: 7,
        output_tokens_details: { reasoning_tokens: 3 },
        total_tokens: 19
      },
      output
    },
    input: options.input ?? [
      userMessage("What's the weather in Paris?"),
      { id: unique("fco"), type: "function_call_output", call_id: "call_0", output: "sunny", status: "completed" }
    ],
    accountId: options.accountId
  }
}

const flush = Effect.flatMap(StoreHealth, (health) => health.flush)

for (const backend of backends) {
  describe(`ResponsesStore on ${backend.name}`, () => {
    layer(backend.layer(), { excludeTestServices: true })((it) => {
      it.effect("a saved response is readable at once by its account and no other; once written, exactly as saved", () =>
        Effect.gen(function*() {
          const store = yield* ResponsesStore
          const account = newAccount()
          const saved = response({ accountId: account })
          const id = saved.response.id
          yield* store.save(saved)
          expect(Option.getOrThrow(yield* store.get(id, account))).toStrictEqual(saved)
          expect(Option.isNone(yield* store.get(id, newAccount()))).toBe(true)
          expect(Option.isNone(yield* store.get(id, undefined))).toBe(true)
          yield* flush
          expect(Option.getOrThrow(yield* store.get(id, account))).toStrictEqual(saved)
          expect(Option.isNone(yield* store.get(id, newAccount()))).toBe(true)
          expect(Option.isNone(yield* store.get(unique("resp"), account))).toBe(true)
        }))

      it.effect("conversation: the whole chain, newest first, past what one query reads; a queued head; a missing link named", () =>
        Effect.gen(function*() {
          const store = yield* ResponsesStore
          const account = newAccount()
          const chain: Array<StoredResponse> = []
          let previous: string | undefined
          for (let i = 0; i < 1_100; i++) {
            const next = response({ accountId: account, ...(previous !== undefined ? { previous } : {}) })
            chain.push(next)
            previous = next.response.id
          }
          yield* Effect.forEach(chain, (r) => store.save(r), { concurrency: 50, discard: true })
          yield* flush
          const last = chain[chain.length - 1]!
          const whole = yield* store.conversation(last.response.id, account)
          expect(whole.missing).toBeUndefined()
          expect(whole.responses.map((r) => r.response.id)).toStrictEqual([...chain].reverse().map((r) => r.response.id))
          expect(whole.responses[0]).toStrictEqual(last)
          expect(whole.responses[700]).toStrictEqual(chain[chain.length - 1 - 700])

          // A head still in the queue, on top of written links.
          const head = response({ accountId: account, previous: last.response.id })
          yield* store.save(head)
          const withHead = yield* store.conversation(head.response.id, account)
          expect(withHead.responses.length).toBe(1_101)
          expect(withHead.responses[0]).toStrictEqual(head)

          expect(yield* store.delete(chain[600]!.response.id, account)).toBe(true)
          const cut = yield* store.conversation(last.response.id, account)
          expect(cut.missing).toBe(chain[600]!.response.id)
          expect(cut.responses.map((r) => r.response.id)).toStrictEqual(chain.slice(601).reverse().map((r) => r.response.id))

          expect(yield* store.conversation(last.response.id, newAccount())).toStrictEqual({ responses: [], missing: last.response.id })
          expect(yield* store.conversation(chain[5]!.response.id, account)).toMatchObject({ missing: undefined })
        }), 60_000)

      it.effect("every input and output item is found by id, in its account only", () =>
        Effect.gen(function*() {
          const store = yield* ResponsesStore
          const account = newAccount()
          const saved = response({ accountId: account })
          yield* store.save(saved)
          for (const written of [false, true]) {
            if (written) yield* flush
            for (const item of [...saved.input, ...saved.response.output]) {
              expect(Option.getOrThrow(yield* store.getItem(item.id, account))).toStrictEqual(item)
              expect(Option.isNone(yield* store.getItem(item.id, newAccount()))).toBe(true)
            }
          }
          expect(Option.isNone(yield* store.getItem(unique("msg"), account))).toBe(true)
        }))

      it.effect("no account is an owner of its own, apart from every named account", () =>
        Effect.gen(function*() {
          const store = yield* ResponsesStore
          const saved = response({ accountId: undefined })
          yield* store.save(saved)
          yield* flush
          expect(Option.getOrThrow(yield* store.get(saved.response.id, undefined))).toStrictEqual(saved)
          expect(Option.isNone(yield* store.get(saved.response.id, "default"))).toBe(true)
          expect(Option.isSome(yield* store.getItem(saved.input[0]!.id, undefined))).toBe(true)
          expect(Option.isNone(yield* store.getItem(saved.input[0]!.id, "default"))).toBe(true)
        }))

      it.effect("an item held by two responses resolves until both are deleted, whichever goes first", () =>
        Effect.gen(function*() {
          const store = yield* ResponsesStore
          const account = newAccount()
          for (const deleteNewerFirst of [true, false]) {
            const older = response({ accountId: account })
            const shared = older.response.output[1]!
            // The newer one holds the same item (an `item_reference`, or an output sent back as input).
            const newer = response({ accountId: account, input: [shared, userMessage("and tomorrow?")] })
            yield* store.save(older)
            yield* store.save(newer)
            yield* flush
            const [first, second] = deleteNewerFirst ? [newer, older] : [older, newer]
            expect(yield* store.delete(first.response.id, account)).toBe(true)
            expect(Option.getOrThrow(yield* store.getItem(shared.id, account))).toStrictEqual(shared)
            expect(Option.getOrThrow(yield* store.get(second.response.id, account))).toStrictEqual(second)
            expect(yield* store.delete(second.response.id, account)).toBe(true)
            expect(Option.isNone(yield* store.getItem(shared.id, account))).toBe(true)
          }
        }))

      it.effect("the same item id in two accounts: each account sees its own", () =>
        Effect.gen(function*() {
          const store = yield* ResponsesStore
          const [a, b] = [newAccount(), newAccount()]
          const id = unique("msg")
          const mine = response({ accountId: a, input: [userMessage("mine", id)] })
          const theirs = response({ accountId: b, input: [userMessage("theirs", id)] })
          yield* store.save(mine)
          yield* store.save(theirs)
          yield* flush
          expect(Option.getOrThrow(yield* store.getItem(id, a))).toStrictEqual(mine.input[0])
          expect(Option.getOrThrow(yield* store.getItem(id, b))).toStrictEqual(theirs.input[0])
          expect(yield* store.delete(theirs.response.id, b)).toBe(true)
          expect(Option.getOrThrow(yield* store.getItem(id, a))).toStrictEqual(mine.input[0])
        }))

      it.effect("input items page in order (desc by default), with cursors, limits and has_more, as OpenAI's", () =>
        Effect.gen(function*() {
          const store = yield* ResponsesStore
          const account = newAccount()
          const input = Array.from({ length: 7 }, (_, i) => userMessage(`turn ${i}`))
          const saved = response({ accountId: account, input })
          yield* store.save(saved)
          const pages = [
            {},
            { order: "asc" as const },
            { limit: 3 },
            { limit: 3, after: input[4]!.id },
            { limit: 3, after: input[2]!.id, order: "asc" as const },
            { limit: 2, after: input[1]!.id },
            { after: input[0]!.id },
            { after: input[6]!.id, order: "asc" as const },
            { limit: 7 },
            { limit: 1, order: "asc" as const },
            { after: "msg_not_in_this_response" },
            { limit: 500 },
            { limit: 0 }
          ]
          for (const written of [false, true]) {
            if (written) yield* flush
            for (const page of pages) {
              const got = Option.getOrThrow(yield* store.inputItems(saved.response.id, account, page))
              expect(got, JSON.stringify(page)).toStrictEqual(pageItems(input, page))
            }
          }
          const first = Option.getOrThrow(yield* store.inputItems(saved.response.id, account, { limit: 3 }))
          expect(first).toMatchObject({ object: "list", first_id: input[6]!.id, last_id: input[4]!.id, has_more: true })
          expect(Option.isNone(yield* store.inputItems(saved.response.id, newAccount(), {}))).toBe(true)
          expect(Option.isNone(yield* store.inputItems(unique("resp"), account, {}))).toBe(true)
        }))

      it.effect("delete: only by the owner; afterwards nothing of it is found, and a second delete is false", () =>
        Effect.gen(function*() {
          const store = yield* ResponsesStore
          const account = newAccount()
          const saved = response({ accountId: account })
          const id = saved.response.id
          yield* store.save(saved)
          yield* flush
          expect(yield* store.delete(id, newAccount())).toBe(false)
          expect(Option.isSome(yield* store.get(id, account))).toBe(true)
          expect(yield* store.delete(id, account)).toBe(true)
          expect(Option.isNone(yield* store.get(id, account))).toBe(true)
          expect(Option.isNone(yield* store.inputItems(id, account, {}))).toBe(true)
          for (const item of [...saved.input, ...saved.response.output]) {
            expect(Option.isNone(yield* store.getItem(item.id, account))).toBe(true)
          }
          expect(yield* store.delete(id, account)).toBe(false)
        }))

      it.effect("a response deleted the moment it was saved (still waiting to be written) stays deleted", () =>
        Effect.gen(function*() {
          const store = yield* ResponsesStore
          const account = newAccount()
          const saved = response({ accountId: account })
          yield* store.save(saved)
          expect(yield* store.delete(saved.response.id, account)).toBe(true)
          yield* flush
          expect(Option.isNone(yield* store.get(saved.response.id, account))).toBe(true)
          expect(Option.isNone(yield* store.getItem(saved.input[0]!.id, account))).toBe(true)
        }))
    })
  })
}

/** A store over a database, in a scope of its own (a replica, or a process that stops and starts again). */
const openStore = (options: StoreOptions) =>
  Effect.gen(function*() {
    const scope = yield* Scope.make()
    const context = yield* Layer.buildWithScope(storeLayer(options).pipe(Layer.provide(testPrices)), scope)
    return { store: Context.get(context, ResponsesStore), context, close: Scope.close(scope, Exit.void) }
  })

for (const { location: freshLocation, name } of sqlLocations) {
  describe(`ResponsesStore on ${name}: what other processes see`, () => {
    it.scopedLive("once save returns, another store on the same database reads the response and its items", () =>
      Effect.gen(function*() {
        const database = yield* freshLocation
        // A long linger: were the response left to wait for it, the other store could not see it yet.
        const a = yield* openStore({ database, writeLinger: "10 seconds" })
        const b = yield* openStore({ database })
        const account = newAccount()
        for (let i = 0; i < 3; i++) {
          const saved = response({ accountId: account })
          yield* a.store.save(saved)
          expect(Option.getOrThrow(yield* b.store.get(saved.response.id, account))).toStrictEqual(saved)
          expect(Option.getOrThrow(yield* b.store.getItem(saved.response.output[1]!.id, account))).toStrictEqual(
            saved.response.output[1]
          )
        }
        yield* a.close
        yield* b.close
      }))

    it.scopedLive("a store started again on the database reads what the previous one stored", () =>
      Effect.gen(function*() {
        const database = yield* freshLocation
        const account = newAccount()
        const first = yield* openStore({ database })
        const saved = response({ accountId: account })
        yield* first.store.save(saved)
        yield* first.close
        const second = yield* openStore({ database })
        expect(Option.getOrThrow(yield* second.store.get(saved.response.id, account))).toStrictEqual(saved)
        yield* second.close
      }))

    it.scopedLive("retention deletes responses older than retention_days with their items, and nothing newer", () =>
      Effect.gen(function*() {
        const database = yield* freshLocation
        const { close, context, store } = yield* openStore({ database, retentionDays: 30 })
        const account = newAccount()
        const now = Math.floor(Date.now() / 1000)
        const old = response({ accountId: account, createdAt: now - 31 * 86_400 })
        const recent = response({ accountId: account, createdAt: now - 29 * 86_400, input: [old.input[0]!] })
        yield* store.save(old)
        yield* store.save(recent)
        yield* Context.get(context, StoreHealth).flush
        expect(yield* Context.get(context, Retention).purge).toBe(1)
        expect(Option.isNone(yield* store.get(old.response.id, account))).toBe(true)
        expect(Option.isNone(yield* store.getItem(old.response.output[1]!.id, account))).toBe(true)
        // The item the recent response shares with the old one is still the recent one's.
        expect(Option.getOrThrow(yield* store.getItem(old.input[0]!.id, account))).toStrictEqual(old.input[0])
        expect(Option.getOrThrow(yield* store.get(recent.response.id, account))).toStrictEqual(recent)
        expect(yield* Context.get(context, Retention).purge).toBe(0)
        yield* close
      }))
  })
}

describe.skipIf(testDatabaseUrl === undefined)("ResponsesStore while PostgreSQL is down", () => {
  it.live("saving never waits past the bound, chaining works in this process, and the rows arrive once it is back", () =>
    Effect.scoped(Effect.gen(function*() {
      const { location, proxy } = yield* throughProxy(yield* freshPostgres(testDatabaseUrl!))
      const a = yield* openStore({ database: location, responseWriteWait: "1 second" })
      const account = newAccount()
      yield* Effect.promise(() => proxy.stop())
      const saved = Array.from({ length: 5 }, () => response({ accountId: account }))
      const took: Array<number> = []
      for (const s of saved) {
        const started = Date.now()
        yield* a.store.save(s)
        took.push(Date.now() - started)
        // Readable (and chainable) here at once.
        expect(Option.getOrThrow(yield* a.store.get(s.response.id, account))).toStrictEqual(s)
      }
      // At most the first waits (until the write fails); once the store knows the database is down, none does.
      expect(took[0]!).toBeLessThan(1_500)
      expect(Math.max(...took.slice(1))).toBeLessThan(100)
      expect(Option.getOrThrow(yield* a.store.getItem(saved[3]!.response.output[1]!.id, account))).toStrictEqual(
        saved[3]!.response.output[1]
      )

      yield* Effect.promise(() => proxy.start())
      yield* Context.get(a.context, StoreHealth).flush.pipe(Effect.timeoutFail({ duration: "20 seconds", onTimeout: () => "flush timed out" }))
      const b = yield* openStore({ database: location })
      for (const s of saved) expect(Option.getOrThrow(yield* b.store.get(s.response.id, account))).toStrictEqual(s)
      yield* b.close
      yield* a.close
    })), 60_000)
})

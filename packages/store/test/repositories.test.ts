import { describe, expect, layer } from "@effect/vitest"
import {
  ApiKeys,
  type CompletionSearch,
  hashSecret,
  type StoredCompletion,
  type StoredCompletionQuery,
  StoredCompletions,
  StoreHealth,
  UsageLedger
} from "@switchyard/service"
import { Effect, Option, Redacted } from "effect"
import { Retention } from "../src/index.js"
import { backends, newAccount, record, usage } from "./support.js"

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0)

/** Saves records and waits until the store has written them. */
const saveAll = (records: ReadonlyArray<Parameters<StoredCompletions["Type"]["save"]>[0]>) =>
  Effect.gen(function*() {
    const store = yield* StoredCompletions
    for (const r of records) yield* store.save(r)
    yield* (yield* StoreHealth).flush
  })

const ids = (page: { readonly data: ReadonlyArray<StoredCompletion> }) => page.data.map((c) => c.id)

const list = (query: Partial<StoredCompletionQuery> & { readonly accountId: string }) =>
  Effect.flatMap(StoredCompletions, (store) => store.list({ limit: 20, order: "asc", ...query }))

/** Every page of a list, following `after` cursors. */
const allPages = (query: Partial<StoredCompletionQuery> & { readonly accountId: string }) =>
  Effect.gen(function*() {
    const pages: Array<ReadonlyArray<string>> = []
    let after: string | undefined
    for (let i = 0; i < 50; i++) {
      const page = yield* list({ ...query, after })
      pages.push(ids(page))
      if (!page.hasMore) break
      after = page.data[page.data.length - 1]!.id
    }
    return pages
  })

for (const backend of backends) {
  describe(`store on ${backend.name}`, () => {
    layer(backend.layer(), { excludeTestServices: true })((it) => {
      describe("stored completions", () => {
        it.effect("a saved completion is readable at once by its account, and by no other", () =>
          Effect.gen(function*() {
            const store = yield* StoredCompletions
            const account = newAccount()
            const r = record({ accountId: account, createdAt: T0, metadata: { user: "ada" } })
            yield* store.save(r)
            // No flush: the read must see the queued record.
            const got = yield* store.get(account, r.id)
            expect(Option.getOrThrow(got)).toMatchObject({ id: r.id, accountId: account, metadata: { user: "ada" } })
            expect(Option.getOrThrow(yield* store.request(account, r.id)).messages).toHaveLength(2)
            expect(Option.isNone(yield* store.get(newAccount(), r.id))).toBe(true)
            expect(Option.isNone(yield* store.request(newAccount(), r.id))).toBe(true)

            yield* (yield* StoreHealth).flush
            const stored = Option.getOrThrow(yield* store.get(account, r.id))
            const { request: _request, ...expected } = r
            expect(stored).toStrictEqual(expected)
            expect(Option.isNone(yield* store.get(newAccount(), r.id))).toBe(true)
          }))

        it.effect("lists in creation order, asc and desc, never another account's rows", () =>
          Effect.gen(function*() {
            const account = newAccount()
            const other = newAccount()
            const mine = [3, 1, 2].map((i) => record({ accountId: account, createdAt: T0 + i * 1000 }))
            yield* saveAll([...mine, record({ accountId: other, createdAt: T0 + 1500 })])
            const sorted = [...mine].sort((a, b) => a.createdAt - b.createdAt).map((r) => r.id)
            expect(ids(yield* list({ accountId: account }))).toEqual(sorted)
            expect(ids(yield* list({ accountId: account, order: "desc" }))).toEqual([...sorted].reverse())
            const page = yield* list({ accountId: account })
            expect(page.hasMore).toBe(false)
            expect(page.data[0]!.completion.choices[0]!.message.content).toBe(`answer ${sorted[0]}`)
            expect(ids(yield* list({ accountId: newAccount() }))).toEqual([])
          }))

        it.effect("rows created in the same millisecond are ordered by id, consistently across pages", () =>
          Effect.gen(function*() {
            const account = newAccount()
            const same = Array.from({ length: 5 }, () => record({ accountId: account, createdAt: T0 }))
            yield* saveAll(same)
            const expected = same.map((r) => r.id).sort()
            expect((yield* allPages({ accountId: account, limit: 2 })).flat()).toEqual(expected)
            expect((yield* allPages({ accountId: account, limit: 2, order: "desc" })).flat()).toEqual([...expected].reverse())
          }))

        it.effect("cursor edges: an exact multiple of the page size ends with has_more false; after the last id, an empty page", () =>
          Effect.gen(function*() {
            const account = newAccount()
            const six = Array.from({ length: 6 }, (_, i) => record({ accountId: account, createdAt: T0 + i }))
            yield* saveAll(six)
            const first = yield* list({ accountId: account, limit: 3 })
            expect(ids(first)).toEqual(six.slice(0, 3).map((r) => r.id))
            expect(first.hasMore).toBe(true)
            const second = yield* list({ accountId: account, limit: 3, after: six[2]!.id })
            expect(ids(second)).toEqual(six.slice(3).map((r) => r.id))
            expect(second.hasMore).toBe(false)
            const empty = yield* list({ accountId: account, limit: 3, after: six[5]!.id })
            expect(empty).toEqual({ data: [], hasMore: false })
            const backwards = yield* list({ accountId: account, limit: 3, order: "desc", after: six[3]!.id })
            expect(ids(backwards)).toEqual([six[2]!.id, six[1]!.id, six[0]!.id])
            expect(backwards.hasMore).toBe(false)
          }))

        it.effect("a deleted cursor keeps its place; an unknown one is an invalid `after`", () =>
          Effect.gen(function*() {
            const store = yield* StoredCompletions
            const account = newAccount()
            const rows = Array.from({ length: 5 }, (_, i) => record({ accountId: account, createdAt: T0 + i * 10 }))
            yield* saveAll(rows)
            expect(yield* store.delete(account, rows[1]!.id)).toBe(true)
            expect(ids(yield* list({ accountId: account, after: rows[1]!.id, limit: 2 }))).toEqual([rows[2]!.id, rows[3]!.id])
            expect(ids(yield* list({ accountId: account, after: rows[1]!.id, order: "desc" }))).toEqual([rows[0]!.id])
            const error = yield* Effect.flip(list({ accountId: account, after: "chatcmpl-not-ours" }))
            expect(error).toMatchObject({ _tag: "InvalidRequest", param: "after", code: "invalid_cursor" })
          }))

        it.effect("limit is clamped to 1..100", () =>
          Effect.gen(function*() {
            const account = newAccount()
            yield* saveAll(Array.from({ length: 105 }, (_, i) => record({ accountId: account, createdAt: T0 + i })))
            const big = yield* list({ accountId: account, limit: 1000 })
            expect(big.data).toHaveLength(100)
            expect(big.hasMore).toBe(true)
            const zero = yield* list({ accountId: account, limit: 0 })
            expect(zero.data).toHaveLength(1)
            expect((yield* allPages({ accountId: account, limit: 100 })).map((p) => p.length)).toEqual([100, 5])
          }))

        it.effect("filters by model and by metadata pairs, combined with AND, across pages", () =>
          Effect.gen(function*() {
            const account = newAccount()
            const rows = Array.from({ length: 24 }, (_, i) =>
              record({
                accountId: account,
                createdAt: T0 + i * 1000,
                model: i % 2 === 0 ? "openai/gpt-test" : "anthropic/claude-test",
                metadata: { env: i % 3 === 0 ? "prod" : "dev", user: `u${i % 4}`, ...(i === 7 ? { rare: "yes" } : {}) }
              }))
            yield* saveAll(rows)
            const expect_ = (predicate: (r: (typeof rows)[number]) => boolean) => rows.filter(predicate).map((r) => r.id)
            const pagesOf = (query: Partial<StoredCompletionQuery>) =>
              Effect.map(allPages({ accountId: account, limit: 2, ...query }), (pages) => pages.flat())

            expect(yield* pagesOf({ model: "anthropic/claude-test" })).toEqual(expect_((r) => r.model === "anthropic/claude-test"))
            expect(yield* pagesOf({ metadata: { env: "prod" } })).toEqual(expect_((r) => r.metadata.env === "prod"))
            expect(yield* pagesOf({ metadata: { env: "prod", user: "u0" } })).toEqual(
              expect_((r) => r.metadata.env === "prod" && r.metadata.user === "u0")
            )
            expect(yield* pagesOf({ metadata: { user: "u1" }, model: "anthropic/claude-test" })).toEqual(
              expect_((r) => r.metadata.user === "u1" && r.model === "anthropic/claude-test")
            )
            expect(yield* pagesOf({ metadata: { env: "dev", rare: "yes" }, model: "anthropic/claude-test" })).toEqual([rows[7]!.id])
            expect(yield* pagesOf({ metadata: { env: "dev" }, order: "desc" })).toEqual(
              expect_((r) => r.metadata.env === "dev").reverse()
            )
            expect(yield* pagesOf({ metadata: { env: "staging" } })).toEqual([])
            expect(yield* pagesOf({ metadata: { env: "prod" }, model: "openai/none" })).toEqual([])
            // Another account with the same metadata sees nothing of these.
            expect(ids(yield* list({ accountId: newAccount(), metadata: { env: "prod" } }))).toEqual([])
          }))

        it.effect("metadata updates replace the pairs the filters see; another account cannot update", () =>
          Effect.gen(function*() {
            const store = yield* StoredCompletions
            const account = newAccount()
            const r = record({ accountId: account, createdAt: T0, metadata: { stage: "draft", team: "a" } })
            yield* store.save(r)
            // Updated straight after saving: the update waits for the row to be written.
            const updated = yield* store.updateMetadata(account, r.id, { stage: "final" })
            expect(Option.getOrThrow(updated).metadata).toStrictEqual({ stage: "final" })
            expect(ids(yield* list({ accountId: account, metadata: { stage: "draft" } }))).toEqual([])
            expect(ids(yield* list({ accountId: account, metadata: { team: "a" } }))).toEqual([])
            expect(ids(yield* list({ accountId: account, metadata: { stage: "final" } }))).toEqual([r.id])
            expect(Option.getOrThrow(yield* store.get(account, r.id)).metadata).toStrictEqual({ stage: "final" })
            expect(Option.isNone(yield* store.updateMetadata(newAccount(), r.id, { stage: "stolen" }))).toBe(true)
            expect(Option.isNone(yield* store.updateMetadata(account, "chatcmpl-missing", {}))).toBe(true)
            const cleared = yield* store.updateMetadata(account, r.id, {})
            expect(Option.getOrThrow(cleared).metadata).toStrictEqual({})
            expect(ids(yield* list({ accountId: account, metadata: { stage: "final" } }))).toEqual([])
          }))

        it.effect("delete removes a completion for its account only", () =>
          Effect.gen(function*() {
            const store = yield* StoredCompletions
            const account = newAccount()
            const r = record({ accountId: account, createdAt: T0, metadata: { k: "v" } })
            yield* store.save(r)
            expect(yield* store.delete(newAccount(), r.id)).toBe(false)
            expect(yield* store.delete(account, r.id)).toBe(true)
            expect(yield* store.delete(account, r.id)).toBe(false)
            expect(Option.isNone(yield* store.get(account, r.id))).toBe(true)
            expect(Option.isNone(yield* store.request(account, r.id))).toBe(true)
            expect(ids(yield* list({ accountId: account, metadata: { k: "v" } }))).toEqual([])
          }))

        it.effect("messages come with ids, in order, paged by cursor", () =>
          Effect.gen(function*() {
            const store = yield* StoredCompletions
            const account = newAccount()
            const messages = Array.from({ length: 5 }, (_, i) => ({ role: "user", content: `m${i}` }))
            const r = record({ accountId: account, createdAt: T0, messages })
            yield* saveAll([r])
            const page = Option.getOrThrow(yield* store.messages(account, r.id, { limit: 2, order: "asc" }))
            expect(page.data.map((m) => m.id)).toEqual([`${r.id}-0`, `${r.id}-1`])
            expect(page.data[1]!.message).toStrictEqual({ role: "user", content: "m1" })
            expect(page.hasMore).toBe(true)
            const rest = Option.getOrThrow(yield* store.messages(account, r.id, { limit: 10, order: "asc", after: `${r.id}-1` }))
            expect(rest.data.map((m) => m.message)).toStrictEqual(messages.slice(2))
            expect(rest.hasMore).toBe(false)
            const desc = Option.getOrThrow(yield* store.messages(account, r.id, { limit: 2, order: "desc" }))
            expect(desc.data.map((m) => m.id)).toEqual([`${r.id}-4`, `${r.id}-3`])
            expect(Option.isNone(yield* store.messages(newAccount(), r.id, { limit: 2, order: "asc" }))).toBe(true)
            const bad = yield* Effect.flip(store.messages(account, r.id, { limit: 2, order: "asc", after: "nope" }))
            expect(bad).toMatchObject({ _tag: "InvalidRequest", param: "after" })
          }))
      })

      describe("dashboard search", () => {
        const search = (query: Partial<CompletionSearch> & { readonly accounts: CompletionSearch["accounts"] }) =>
          Effect.flatMap(StoredCompletions, (store) => store.search({ limit: 20, ...query }))
        const searchIds = (query: Partial<CompletionSearch> & { readonly accounts: CompletionSearch["accounts"] }) =>
          Effect.map(search(query), (page) => page.data.map((row) => row.id))

        it.effect("newest first across the scope's accounts, never outside it; cursors walk the merged order", () =>
          Effect.gen(function*() {
            const [a, b, c] = [newAccount(), newAccount(), newAccount()]
            const rows = [
              record({ accountId: a, createdAt: T0 + 1000 }),
              record({ accountId: b, createdAt: T0 + 2000 }),
              record({ accountId: a, createdAt: T0 + 3000 }),
              record({ accountId: c, createdAt: T0 + 2500 }),
              record({ accountId: b, createdAt: T0 + 4000 }),
              record({ accountId: a, createdAt: T0 + 5000 })
            ]
            yield* saveAll(rows)
            const expected = rows.filter((r) => r.accountId !== c).sort((x, y) => y.createdAt - x.createdAt).map((r) => r.id)
            expect(yield* searchIds({ accounts: [a, b] })).toStrictEqual(expected)
            expect(yield* searchIds({ accounts: [c] })).toStrictEqual([rows[3]!.id])
            expect(yield* searchIds({ accounts: [] })).toStrictEqual([])

            const pages: Array<ReadonlyArray<string>> = []
            let after: string | undefined
            for (let i = 0; i < 10; i++) {
              const page = yield* search({ accounts: [a, b], limit: 2, after })
              pages.push(page.data.map((row) => row.id))
              if (!page.hasMore) break
              after = page.data[page.data.length - 1]!.id
            }
            expect(pages).toStrictEqual([expected.slice(0, 2), expected.slice(2, 4), expected.slice(4)])

            // A row: the call without its request or answer, with the answer's token counts.
            const first = (yield* search({ accounts: [a], limit: 1 })).data[0]!
            expect(first).toMatchObject({ id: rows[5]!.id, accountId: a, model: "openai/gpt-test", latencyMs: 120 })
            expect(first.tokens).toStrictEqual({ promptTokens: 10, completionTokens: 5, cachedTokens: 0, reasoningTokens: 0 })
            expect("completion" in first || "request" in first).toBe(false)
          }))

        it.effect("filters by model, status, time, several metadata pairs and text; all accounts for an admin", () =>
          Effect.gen(function*() {
            const [a, b] = [newAccount(), newAccount()]
            const tag = `run-${a}`
            const failed = { ...record({ accountId: a, createdAt: T0 + 4000, metadata: { run: tag, env: "prod" } }), status: "failed" as const }
            const rows = [
              record({ accountId: a, createdAt: T0 + 1000, metadata: { run: tag, env: "prod", user: "ada" }, content: "The Eiffel Tower" }),
              record({ accountId: a, createdAt: T0 + 2000, metadata: { run: tag, env: "dev", user: "ada" }, model: "anthropic/claude-test" }),
              record({ accountId: b, createdAt: T0 + 3000, metadata: { run: tag, env: "prod", user: "ada" }, messages: [{ role: "user", content: "Where is PARIS?" }] }),
              failed
            ]
            yield* saveAll(rows)
            const [r0, r1, r2] = rows
            expect(yield* searchIds({ accounts: [a], model: "anthropic/claude-test" })).toStrictEqual([r1!.id])
            expect(yield* searchIds({ accounts: [a], status: "failed" })).toStrictEqual([failed.id])
            expect(yield* searchIds({ accounts: [a], since: T0 + 1500, until: T0 + 4000 })).toStrictEqual([r1!.id])
            expect(yield* searchIds({ accounts: [a, b], metadata: { user: "ada", env: "prod" } })).toStrictEqual([r2!.id, r0!.id])
            expect(yield* searchIds({ accounts: [a], metadata: { user: "ada", env: "prod" }, model: "openai/gpt-test" }))
              .toStrictEqual([r0!.id])
            expect(yield* searchIds({ accounts: [a], metadata: { user: "nobody" } })).toStrictEqual([])
            // Text, any case, in the answer or the request's messages.
            expect(yield* searchIds({ accounts: [a, b], text: "eiffel" })).toStrictEqual([r0!.id])
            expect(yield* searchIds({ accounts: [a, b], text: "paris" })).toStrictEqual([r2!.id])
            expect(yield* searchIds({ accounts: [a, b], text: "100%_" })).toStrictEqual([])
            // Every account (an admin key): the tag keeps other tests' rows out.
            expect(yield* searchIds({ accounts: "all", metadata: { run: tag } })).toStrictEqual([failed.id, r2!.id, r1!.id, r0!.id])
            expect(yield* searchIds({ accounts: "all", metadata: { run: tag, env: "prod" }, status: "completed" }))
              .toStrictEqual([r2!.id, r0!.id])
            const page = yield* search({ accounts: "all", metadata: { run: tag }, limit: 3 })
            expect(page.hasMore).toBe(true)
            expect(yield* searchIds({ accounts: "all", metadata: { run: tag }, after: page.data[2]!.id })).toStrictEqual([r0!.id])
          }))

        it.effect("findMany returns records with their requests, in scope only, queued ones too", () =>
          Effect.gen(function*() {
            const store = yield* StoredCompletions
            const [a, b] = [newAccount(), newAccount()]
            const stored = record({ accountId: a, createdAt: T0, metadata: { k: "v" } })
            const other = record({ accountId: b, createdAt: T0 })
            yield* saveAll([stored, other])
            const queued = record({ accountId: a, createdAt: T0 + 1 })
            yield* store.save(queued)
            const found = yield* store.findMany([a], [stored.id, other.id, queued.id, "chatcmpl-missing"])
            expect(found.map((r) => r.id).sort()).toStrictEqual([stored.id, queued.id].sort())
            expect(found.find((r) => r.id === stored.id)).toStrictEqual(stored)
            expect((yield* store.findMany("all", [other.id])).map((r) => r.accountId)).toStrictEqual([b])
            expect(yield* store.findMany([b], [stored.id])).toStrictEqual([])
            yield* (yield* StoreHealth).flush
          }))
      })

      describe("usage ledger", () => {
        it.effect("sums requests, errors and tokens by group and interval, priced per target", () =>
          Effect.gen(function*() {
            const ledger = yield* UsageLedger
            const a = newAccount()
            const b = newAccount()
            const hour = 3_600_000
            const rows = [
              usage({ accountId: a, createdAt: T0 + 1000, promptTokens: 1_000_000, completionTokens: 0 }),
              usage({ accountId: a, createdAt: T0 + 2000, promptTokens: 0, completionTokens: 1_000_000, status: "failed" }),
              usage({ accountId: a, createdAt: T0 + hour + 5, model: "fast", target: "anthropic/claude-test", vendor: "anthropic", promptTokens: 1_000_000, completionTokens: 1_000_000, keyId: "key_other" }),
              usage({ accountId: b, createdAt: T0 + 3000, promptTokens: 2_000_000, cachedTokens: 1_000_000, completionTokens: 0 }),
              usage({ accountId: a, createdAt: T0 - 1, promptTokens: 7 }) // before the range
            ]
            for (const row of rows) yield* ledger.record(row)
            yield* (yield* StoreHealth).flush

            const range = { start: T0, end: T0 + 2 * hour }
            const byModel = yield* ledger.summarize({ ...range, groupBy: "model", accounts: [a] })
            expect(byModel).toStrictEqual([
              { start: T0, end: T0 + 2 * hour, group: "fast", requests: 1, errors: 0, promptTokens: 1_000_000, completionTokens: 1_000_000, cachedTokens: 0, reasoningTokens: 0, costUsd: 18 },
              { start: T0, end: T0 + 2 * hour, group: "openai/gpt-test", requests: 2, errors: 1, promptTokens: 1_000_000, completionTokens: 1_000_000, cachedTokens: 0, reasoningTokens: 0, costUsd: 10 }
            ])

            const hourly = yield* ledger.summarize({ ...range, groupBy: "account", interval: "hour", accounts: [a, b] })
            expect(hourly.map((x) => [x.start, x.end, x.group, x.requests, x.costUsd])).toStrictEqual([
              [T0, T0 + hour, a, 2, 10],
              [T0, T0 + hour, b, 1, 3], // 1M uncached at $2 + 1M cached at $1
              [T0 + hour, T0 + 2 * hour, a, 1, 18]
            ].sort((x, y) => (x[0] as number) - (y[0] as number) || String(x[2]).localeCompare(String(y[2]))))

            const byKey = yield* ledger.summarize({ ...range, groupBy: "key", accounts: [a] })
            expect(byKey.map((x) => [x.group, x.requests])).toStrictEqual([["key_other", 1], ["key_test", 2]])
            const byTarget = yield* ledger.summarize({ ...range, groupBy: "target", interval: "day", accounts: [a, b] })
            expect(byTarget.map((x) => [x.start, x.group, x.requests])).toStrictEqual([
              [Date.UTC(2026, 0, 1), "anthropic/claude-test", 1],
              [Date.UTC(2026, 0, 1), "openai/gpt-test", 3]
            ])
            const all = yield* ledger.summarize({ ...range, groupBy: "account", accounts: "all" })
            expect(all.filter((x) => x.group === a || x.group === b).map((x) => x.requests).sort()).toStrictEqual([1, 3])
            expect(yield* ledger.summarize({ ...range, groupBy: "model", accounts: [] })).toStrictEqual([])
            expect(yield* ledger.summarize({ ...range, groupBy: "model", accounts: [newAccount()] })).toStrictEqual([])
          }))
      })

      describe("usage latencies", () => {
        it.effect("p50 and p95 of latency and time to first chunk by group and bucket", () =>
          Effect.gen(function*() {
            const ledger = yield* UsageLedger
            const a = newAccount()
            const hour = 3_600_000
            const latencies = [10, 20, 30, 40, 50, 60, 70, 80, 90, 1000]
            for (const [i, ms] of latencies.entries()) {
              yield* ledger.record(usage({ accountId: a, createdAt: T0 + i, latencyMs: ms, firstChunkMs: i < 4 ? ms / 10 : null, stream: i < 4 }))
            }
            yield* ledger.record(usage({ accountId: a, createdAt: T0 + hour, model: "other", latencyMs: 5 }))
            yield* (yield* StoreHealth).flush
            const range = { start: T0, end: T0 + 2 * hour, groupBy: "model" as const, accounts: [a] }
            expect(yield* ledger.latencies(range)).toStrictEqual([
              { bucket: T0, group: "openai/gpt-test", latencyP50: 50, latencyP95: 1000, firstChunkP50: 2, firstChunkP95: 4 },
              { bucket: T0, group: "other", latencyP50: 5, latencyP95: 5, firstChunkP50: null, firstChunkP95: null }
            ])
            const hourly = yield* ledger.latencies({ ...range, interval: "hour" })
            expect(hourly.map((l) => [l.bucket, l.group, l.latencyP50])).toStrictEqual([
              [T0, "openai/gpt-test", 50],
              [T0 + hour, "other", 5]
            ])
            expect(yield* ledger.latencies({ ...range, accounts: [] })).toStrictEqual([])
          }))
      })

      describe("API keys", () => {
        it.effect("create returns the secret once; lists show prefix and last four; revoke takes it out of the active set", () =>
          Effect.gen(function*() {
            const keys = yield* ApiKeys
            const name = `ci-${newAccount()}`
            const { key, secret } = yield* keys.create({ name, accountIds: ["acct_a", "acct_b"] })
            const raw = Redacted.value(secret)
            expect(raw).toMatch(/^sk-sy-[0-9A-Za-z]{40}$/)
            expect(key).toMatchObject({ name, accountIds: ["acct_a", "acct_b"], defaultAccountId: "acct_a", revokedAt: null, lastUsedAt: null })
            expect(key.prefix).toBe(raw.slice(0, 10))
            expect(key.last4).toBe(raw.slice(-4))
            expect(JSON.stringify(key)).not.toContain(raw)

            const listed = (yield* keys.list()).find((k) => k.id === key.id)
            expect(listed).toStrictEqual(key)
            expect(JSON.stringify(yield* keys.list())).not.toContain(raw.slice(10, -4))

            const active = (yield* keys.active).find((k) => k.id === key.id)
            expect(active).toStrictEqual({ id: key.id, name, hash: hashSecret(raw), accountIds: ["acct_a", "acct_b"], defaultAccountId: "acct_a" })

            keys.markUsed(key.id, 1_800_000_000_000)
            keys.markUsed(key.id, 1_700_000_000_000) // an older use never moves it back
            expect((yield* keys.list()).find((k) => k.id === key.id)?.lastUsedAt).toBe(1_800_000_000_000)

            expect(yield* keys.revoke(key.id)).toBe(true)
            expect(yield* keys.revoke(key.id)).toBe(false)
            expect(yield* keys.revoke("key_missing")).toBe(false)
            expect((yield* keys.active).some((k) => k.id === key.id)).toBe(false)
            expect((yield* keys.list()).some((k) => k.id === key.id)).toBe(false)
            const revoked = (yield* keys.list({ includeRevoked: true })).find((k) => k.id === key.id)
            expect(revoked?.revokedAt).toEqual(expect.any(Number))
          }))

        it.effect("two keys never share a secret or an id", () =>
          Effect.gen(function*() {
            const keys = yield* ApiKeys
            const created = yield* Effect.all(Array.from({ length: 20 }, () => keys.create({ accountIds: ["acct_x"] })))
            expect(new Set(created.map((c) => Redacted.value(c.secret))).size).toBe(20)
            expect(new Set(created.map((c) => c.key.id)).size).toBe(20)
            expect(created[0]!.key.name).toBeNull()
          }))
      })

      describe("retention", () => {
        it.effect("the purge deletes completions older than the retention and keeps the rest", () =>
          Effect.gen(function*() {
            if (backend.name === "memory") return
            const store = yield* StoredCompletions
            const account = newAccount()
            const old = record({ accountId: account, createdAt: Date.now() - 31 * 86_400_000, metadata: { k: "old" } })
            const recent = record({ accountId: account, createdAt: Date.now() - 86_400_000, metadata: { k: "recent" } })
            yield* saveAll([old, recent])
            expect(yield* (yield* Retention).purge).toBeGreaterThanOrEqual(1)
            expect(Option.isNone(yield* store.get(account, old.id))).toBe(true)
            expect(Option.isSome(yield* store.get(account, recent.id))).toBe(true)
            expect(ids(yield* list({ accountId: account, metadata: { k: "old" } }))).toEqual([])
            expect(ids(yield* list({ accountId: account }))).toEqual([recent.id])
          }))
      })
    })
  })
}

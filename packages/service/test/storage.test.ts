import { describe, expect, it } from "@effect/vitest"
import { StoreUnavailable } from "@switchyard/core"
import { Context, Effect, Layer, Redacted, TestClock } from "effect"
import {
  type ActiveKey,
  ApiKeyCache,
  ApiKeys,
  costOf,
  hashSecret,
  idTime,
  mintCompletionId,
  mintId,
  mintSequentialId,
  PriceCatalogue,
  randomBase62
} from "../src/index.js"

describe("ids", () => {
  it("carry their creation time, sort by it, and never repeat", () => {
    const t = Date.UTC(2026, 5, 1, 12, 30, 15, 123)
    const id = mintCompletionId(t)
    expect(id).toMatch(/^chatcmpl-sy[0-9A-Za-z]{24}$/)
    expect(idTime("chatcmpl-sy", id)).toBe(t)
    expect(idTime("chatcmpl-sy", "chatcmpl-abc")).toBeUndefined()
    expect(idTime("key_", id)).toBeUndefined()
    const later = mintCompletionId(t + 1)
    expect(later > id).toBe(true)
    const many = new Set(Array.from({ length: 10_000 }, () => mintId("x_", t)))
    expect(many.size).toBe(10_000)
    const sequential = Array.from({ length: 10_000 }, () => mintSequentialId("usage_", t))
    expect(new Set(sequential).size).toBe(10_000)
    expect(idTime("usage_", sequential[0]!)).toBe(t)
  })

  it("random base62 is uniform enough: every digit appears, none dominates", () => {
    const sample = randomBase62(62_000)
    expect(sample).toMatch(/^[0-9A-Za-z]+$/)
    const counts = new Map<string, number>()
    for (const c of sample) counts.set(c, (counts.get(c) ?? 0) + 1)
    expect(counts.size).toBe(62)
    for (const n of counts.values()) expect(n).toBeGreaterThan(700) // expected 1000 each
  })
})

describe("PriceCatalogue", () => {
  it.effect("knows catalogue prices by vendor/model, dated snapshots and undated aliases; unknown models cost 0", () =>
    Effect.gen(function*() {
      const prices = yield* PriceCatalogue
      expect(prices.price("openai/gpt-4o")).toStrictEqual({ inputPerMTok: 2.5, outputPerMTok: 10, cachedInputPerMTok: 1.25 })
      expect(prices.price("openai/gpt-4o-2024-08-06")).toStrictEqual(prices.price("openai/gpt-4o"))
      expect(prices.price("anthropic/claude-sonnet-4")).toStrictEqual(prices.price("anthropic/claude-sonnet-4-20250514"))
      expect(prices.price("anthropic/claude-sonnet-4")?.inputPerMTok).toBe(3)
      expect(prices.price("gemini/gemini-2.5-flash")?.inputPerMTok).toEqual(expect.any(Number))
      expect(prices.price("ollama/llama3.2")).toBeUndefined()
      expect(prices.price("openai/no-such-model")).toBeUndefined()
      expect(prices.cost("ollama/llama3.2", { promptTokens: 1e6, cachedTokens: 0, completionTokens: 1e6 })).toBe(0)
      expect(prices.cost("openai/gpt-4o", { promptTokens: 1e6, cachedTokens: 0, completionTokens: 1e6 })).toBeCloseTo(12.5)
    }).pipe(Effect.provide(PriceCatalogue.layer())))

  it.effect("configured prices win over the catalogue and price models it does not know", () =>
    Effect.gen(function*() {
      const prices = yield* PriceCatalogue
      expect(prices.price("openai/gpt-4o")).toStrictEqual({ inputPerMTok: 1, outputPerMTok: 2, cachedInputPerMTok: 1 })
      expect(prices.price("vllm/my-model")).toStrictEqual({ inputPerMTok: 0.1, outputPerMTok: 0.2, cachedInputPerMTok: 0.05 })
    }).pipe(Effect.provide(PriceCatalogue.layer({
      "openai/gpt-4o": { input_per_mtok: 1, output_per_mtok: 2 },
      "vllm/my-model": { input_per_mtok: 0.1, output_per_mtok: 0.2, cached_input_per_mtok: 0.05 }
    }))))

  it("cost: cached prompt tokens at the cached price, the rest at the input price, completion at the output price", () => {
    const price = { inputPerMTok: 2, outputPerMTok: 8, cachedInputPerMTok: 0.5 }
    expect(costOf(price, { promptTokens: 1_000_000, cachedTokens: 400_000, completionTokens: 500_000 })).toBeCloseTo(
      0.6 * 2 + 0.4 * 0.5 + 0.5 * 8
    )
    // More cached than prompt tokens (a vendor's odd report) never gives a negative cost.
    expect(costOf(price, { promptTokens: 10, cachedTokens: 20, completionTokens: 0 })).toBeCloseTo(10 * 0.5 / 1e6)
  })
})

describe("ApiKeyCache", () => {
  const cacheOver = (keys: ApiKeys["Type"]) =>
    ApiKeyCache.layer({ refreshInterval: "2 seconds" }).pipe(Layer.provide(Layer.succeed(ApiKeys, keys)))

  it.scoped("finds a key by its secret; creates and revocations apply at the next refresh (within 2 s)", () =>
    Effect.gen(function*() {
      const keys = yield* ApiKeys
      const first = yield* keys.create({ accountIds: ["a"] })
      const context = yield* Layer.build(cacheOver(keys))
      const cache = Context.get(context, ApiKeyCache)
      expect(cache.lookup(Redacted.value(first.secret))?.id).toBe(first.key.id)
      expect(cache.lookup("sk-sy-wrong")).toBeUndefined()

      const second = yield* keys.create({ accountIds: ["b", "c"] })
      expect(cache.lookup(Redacted.value(second.secret))).toBeUndefined()
      yield* keys.revoke(first.key.id)
      yield* TestClock.adjust("2 seconds")
      yield* Effect.yieldNow()
      expect(cache.lookup(Redacted.value(second.secret))).toMatchObject({ id: second.key.id, defaultAccountId: "b" })
      expect(cache.lookup(Redacted.value(first.secret))).toBeUndefined()
      expect(cache.size()).toBe(1)
    }).pipe(Effect.provide(ApiKeys.layerMemory)))

  it.scoped("a failed refresh keeps the last snapshot", () =>
    Effect.gen(function*() {
      const secret = "sk-sy-known"
      let failing = false
      let reads = 0
      const key: ActiveKey = { id: "key_1", name: null, hash: hashSecret(secret), accountIds: ["a"], defaultAccountId: "a" }
      const keys: ApiKeys["Type"] = {
        create: () => Effect.die("unused"),
        list: () => Effect.succeed([]),
        revoke: () => Effect.succeed(false),
        markUsed: () => undefined,
        active: Effect.suspend(() => {
          reads++
          return failing ? Effect.fail(new StoreUnavailable({ message: "down" })) : Effect.succeed([key])
        })
      }
      const context = yield* Layer.build(cacheOver(keys))
      const cache = Context.get(context, ApiKeyCache)
      expect(cache.lookup(secret)?.id).toBe("key_1")
      failing = true
      yield* TestClock.adjust("2 seconds")
      yield* Effect.yieldNow()
      expect(reads).toBe(2)
      expect(cache.lookup(secret)?.id).toBe("key_1")
    }))
})

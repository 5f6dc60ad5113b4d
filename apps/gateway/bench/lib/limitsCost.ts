/**
 * The direct cost of the limits per request, in this process: what a limited
 * request adds to the fast path (`Limits.applies`, `admit` with a key's rpm,
 * tpm and concurrency and an account's rpm, the `x-ratelimit-*` headers, the
 * reservation estimate, `settle`), with the in-memory store and with Redis;
 * and, for comparison, `@effect/experimental`'s `RateLimiter` on its memory
 * store consuming the same four counters (no concurrency, no settlement).
 * CPU figures are the least of several runs; Redis's are its round trip's
 * wall time (p50) and this process's CPU per request.
 */
import { RateLimiter } from "@effect/experimental"
import { ChatCompletionRequest, type Principal } from "@switchyard/core"
import { LimitStore, Limits, type LimitsSection, PriceCatalogue, UsageLedger } from "@switchyard/service"
import { Context, Effect, Exit, Layer, Redacted, Schema, Scope } from "effect"

const request = Schema.decodeUnknownSync(ChatCompletionRequest)({
  model: "openai/gpt-4o",
  messages: [{ role: "system", content: "Be brief." }, { role: "user", content: "What is a switchyard?" }],
  max_tokens: 256
})
const used = { promptTokens: 20, completionTokens: 9, cachedTokens: 0, model: "openai/gpt-4o" }
const section: LimitsSection = {
  default: { requests_per_minute: 1_000_000_000, tokens_per_minute: 1_000_000_000_000, concurrent_requests: 100_000 },
  accounts: { acct_bench: { requests_per_minute: 1_000_000_000 } }
}
const principal: Principal = { keyId: "key_bench", accountIds: ["acct_bench"], defaultAccountId: "acct_bench", admin: false }
const caller = { principal, accountId: "acct_bench" }
const unlimited = { principal: { ...principal, keyId: "key_free" }, accountId: "acct_free" }

const cpuUs = (start: NodeJS.CpuUsage) => {
  const spent = process.cpuUsage(start)
  return spent.user + spent.system
}

/** Least CPU µs per iteration over `runs` runs of `n`, every iteration in one fiber (as a request's fiber runs it). */
const leastInFiber = (runs: number, n: number, one: () => Effect.Effect<unknown, unknown>): number => {
  let best = Infinity
  for (let r = 0; r < runs; r++) {
    const start = process.cpuUsage()
    Effect.runSync(Effect.gen(function*() {
      for (let i = 0; i < n; i++) yield* one()
    }).pipe(Effect.orDie))
    best = Math.min(best, cpuUs(start) / n)
  }
  return best
}

/** Least CPU µs per iteration over `runs` runs of `n`. */
const leastOf = async (runs: number, n: number, one: () => Promise<void> | void): Promise<number> => {
  let best = Infinity
  for (let r = 0; r < runs; r++) {
    const start = process.cpuUsage()
    for (let i = 0; i < n; i++) {
      const pending = one()
      if (pending !== undefined) await pending
    }
    best = Math.min(best, cpuUs(start) / n)
  }
  return best
}

const build = (store: Layer.Layer<LimitStore>) =>
  Effect.runPromise(Effect.scoped(Effect.gen(function*() {
    const context = yield* Layer.build(
      Limits.layer({ ...section }).pipe(
        Layer.provide(store),
        Layer.provide(UsageLedger.layerMemory),
        Layer.provide(PriceCatalogue.layerStatic({}))
      )
    )
    return Context.get(context, Limits)
  })))

const noHeaders = () => undefined

export interface LimitsCost {
  /** `applies` for a caller without limits (what every request pays once limits exist). */
  readonly off: number
  /** A limited request, memory store: admit + headers + settle. */
  readonly memory: number
  /** The same counters with `@effect/experimental`'s RateLimiter (memory store): four `consume` calls. */
  readonly experimental: number
  /** Redis: CPU µs in this process, and the round trip's p50 (ms); undefined without a Redis. */
  readonly redis?: { readonly cpuUs: number; readonly p50Ms: number; readonly p99Ms: number }
}

export const limitsCost = async (redisUrl: string | undefined): Promise<LimitsCost> => {
  const memory = await build(LimitStore.layerMemory)
  const runs = 5
  const n = 20_000
  const off = await leastOf(runs, n, () => {
    memory.applies(unlimited)
  })
  const limitedOnce = (limits: Limits["Type"]) =>
    Effect.flatMap(limits.admit(caller, () => limits.reserveChat(request), noHeaders), (ticket) =>
      ticket === undefined ? Effect.void : ticket.settle(used))
  const memoryUs = leastInFiber(runs, n, () => (memory.applies(caller) ? limitedOnce(memory) : Effect.void))

  const limiter = Effect.runSync(RateLimiter.make.pipe(Effect.provide(RateLimiter.layerStoreMemory)))
  const consumeAll = Effect.all([
    limiter.consume({ key: "k:rpm", limit: 1_000_000_000, window: "1 minute" }),
    limiter.consume({ key: "k:tpm", limit: 1_000_000_000, window: "1 minute", tokens: 276 }),
    limiter.consume({ key: "a:rpm", limit: 1_000_000_000, window: "1 minute" })
  ])
  const experimental = leastInFiber(runs, n, () => consumeAll)

  let redis: LimitsCost["redis"]
  if (redisUrl !== undefined) {
    const { layer } = await import("@switchyard/store/RedisLimitStore")
    const scope = Effect.runSync(Scope.make())
    try {
      const context = await Effect.runPromise(Layer.buildWithScope(
        Limits.layer(section).pipe(
          Layer.provide(layer({ url: Redacted.make(redisUrl), prefix: `switchyard:bench:${Date.now().toString(36)}:` })),
          Layer.provide(UsageLedger.layerMemory),
          Layer.provide(PriceCatalogue.layerStatic({}))
        ),
        scope
      ))
      const viaRedis = Context.get(context, Limits)
      const times: Array<number> = []
      const cpu = await leastOf(3, 2_000, async () => {
        const started = performance.now()
        await Effect.runPromise(limitedOnce(viaRedis))
        times.push(performance.now() - started)
      })
      times.sort((a, b) => a - b)
      redis = { cpuUs: cpu, p50Ms: times[Math.floor(times.length / 2)]!, p99Ms: times[Math.floor(times.length * 0.99)]! }
    } finally {
      // The last settlements are sent in the background: let them land before the connection closes.
      await new Promise((resolve) => setTimeout(resolve, 200))
      await Effect.runPromise(Scope.close(scope, Exit.void))
    }
  }
  return { off, memory: memoryUs, experimental, ...(redis !== undefined ? { redis } : {}) }
}

/**
 * The limits' counters in Redis, shared by every replica: each request's
 * checks are one Lua script (one round trip), which takes every limit or
 * none, atomically; settling is one more script, sent after the answer.
 */
import { type Admitted, LimitStore, LimitStoreError, type Refused, SLOT_LEASE_MS, type WindowState } from "@switchyard/service"
import { Effect, Layer, Redacted } from "effect"
import { Redis } from "ioredis"

// KEYS: the windows, then the slots. ARGV: now, lease, lease ms, the number of windows, then
// limit, window ms and cost per window, then the limit per slot. A window is a hash {s: start, c: count}
// that expires with the window; a slot set is a sorted set of leases scored by their expiry.
// Returns {1, start1, count1, …} (taken) or {0, index (1-based), retry-after ms, used} (refused; nothing taken).
const ACQUIRE = `
local now = tonumber(ARGV[1])
local lease = ARGV[2]
local leasems = tonumber(ARGV[3])
local nw = tonumber(ARGV[4])
local starts = {}
local counts = {}
for i = 1, nw do
  local limit = tonumber(ARGV[4 + (i - 1) * 3 + 1])
  local win = tonumber(ARGV[4 + (i - 1) * 3 + 2])
  local cost = tonumber(ARGV[4 + (i - 1) * 3 + 3])
  local state = redis.call("HMGET", KEYS[i], "s", "c")
  local s = tonumber(state[1])
  local c = tonumber(state[2])
  if (not s) or now >= s + win then
    s = now
    c = 0
  end
  if c + cost > limit then
    return {0, i, s + win - now, c}
  end
  starts[i] = s
  counts[i] = c + cost
end
local base = 4 + nw * 3
for j = nw + 1, #KEYS do
  local limit = tonumber(ARGV[base + j - nw])
  redis.call("ZREMRANGEBYSCORE", KEYS[j], "-inf", now)
  local held = redis.call("ZCARD", KEYS[j])
  if held + 1 > limit then
    return {0, j, 1000, held}
  end
end
local out = {1}
for i = 1, nw do
  local win = tonumber(ARGV[4 + (i - 1) * 3 + 2])
  redis.call("HSET", KEYS[i], "s", starts[i], "c", counts[i])
  redis.call("PEXPIRE", KEYS[i], starts[i] + win - now)
  out[#out + 1] = starts[i]
  out[#out + 1] = counts[i]
end
for j = nw + 1, #KEYS do
  redis.call("ZADD", KEYS[j], now + leasems, lease)
  redis.call("PEXPIRE", KEYS[j], leasems)
end
return out
`

// KEYS: the windows to adjust, then the slots to release. ARGV: the lease, the number of windows, then start and delta per window.
const SETTLE = `
local lease = ARGV[1]
local nw = tonumber(ARGV[2])
for i = 1, nw do
  local start = ARGV[2 + (i - 1) * 2 + 1]
  local delta = tonumber(ARGV[2 + (i - 1) * 2 + 2])
  if redis.call("HGET", KEYS[i], "s") == start then
    local c = redis.call("HINCRBY", KEYS[i], "c", delta)
    if c < 0 then redis.call("HSET", KEYS[i], "c", 0) end
  end
end
for j = nw + 1, #KEYS do
  redis.call("ZREM", KEYS[j], lease)
end
return 1
`

// KEYS: windows then slots; ARGV: now, the number of windows, then the window ms of each. Read only.
const PEEK = `
local now = tonumber(ARGV[1])
local nw = tonumber(ARGV[2])
local out = {}
for i = 1, nw do
  local win = tonumber(ARGV[2 + i])
  local state = redis.call("HMGET", KEYS[i], "s", "c")
  local s = tonumber(state[1])
  if s and now < s + win then
    out[#out + 1] = s
    out[#out + 1] = tonumber(state[2])
  else
    out[#out + 1] = -1
    out[#out + 1] = 0
  end
end
for j = nw + 1, #KEYS do
  out[#out + 1] = redis.call("ZCOUNT", KEYS[j], now, "+inf")
end
return out
`

interface LimitRedis extends Redis {
  switchyardAcquire(...args: Array<string | number>): Promise<Array<number>>
  switchyardSettle(...args: Array<string | number>): Promise<number>
  switchyardPeek(...args: Array<string | number>): Promise<Array<number>>
}

/** Options of the Redis store. */
export interface RedisLimitStoreOptions {
  readonly url: Redacted.Redacted<string>
  /** Prefix of every key (default `switchyard:limits:`). */
  readonly prefix?: string | undefined
  /** How long a command may take before it counts as a store error (default 500 ms). */
  readonly commandTimeoutMs?: number | undefined
}

const failure = (what: string) => (cause: unknown) =>
  new LimitStoreError({ message: `Redis ${what} failed: ${cause instanceof Error ? cause.message : String(cause)}`, cause })

/**
 * A `LimitStore` on Redis. Commands fail at once while the connection is
 * down (no offline queue: a request is not held waiting for Redis) and
 * after `commandTimeoutMs`; the client reconnects in the background.
 */
export const make = (options: RedisLimitStoreOptions) =>
  Effect.gen(function*() {
    const prefix = options.prefix ?? "switchyard:limits:"
    const redis = yield* Effect.acquireRelease(
      Effect.sync(() => {
        const client = new Redis(Redacted.value(options.url), {
          enableOfflineQueue: false,
          maxRetriesPerRequest: 0,
          commandTimeout: options.commandTimeoutMs ?? 500,
          enableAutoPipelining: true,
          retryStrategy: (times) => Math.min(times * 200, 2_000)
        }) as LimitRedis
        // Errors are reported by the commands that fail; without a listener ioredis would print each reconnection attempt.
        client.on("error", () => undefined)
        client.defineCommand("switchyardAcquire", { lua: ACQUIRE })
        client.defineCommand("switchyardSettle", { lua: SETTLE })
        client.defineCommand("switchyardPeek", { lua: PEEK, readOnly: true })
        return client
      }),
      (client) => Effect.promise(() => client.quit().catch(() => client.disconnect()))
    )
    // Start counting once connected (commands fail at once until then); a Redis still down after
    // 3 s is the store error that `limits.on_store_error` handles, and is reconnected to in the background.
    yield* Effect.async<void>((resume) => {
      if (redis.status === "ready") return resume(Effect.void)
      const ready = () => resume(Effect.void)
      redis.once("ready", ready)
      return Effect.sync(() => redis.off("ready", ready))
    }).pipe(
      Effect.timeoutFail({ duration: "3 seconds", onTimeout: () => "timeout" as const }),
      Effect.catchAll(() => Effect.logWarning("The limits' Redis is not reachable yet; limits.on_store_error applies until it is"))
    )
    return LimitStore.of({
      kind: "redis",
      acquire: (windows, slots, lease, now) =>
        Effect.tryPromise({
          try: () => {
            const args: Array<string | number> = [windows.length + slots.length]
            for (const window of windows) args.push(prefix + window.id)
            for (const slot of slots) args.push(prefix + slot.id)
            args.push(now, lease, SLOT_LEASE_MS, windows.length)
            for (const window of windows) args.push(window.limit, window.windowMs, window.cost)
            for (const slot of slots) args.push(slot.limit)
            return redis.switchyardAcquire(...args)
          },
          catch: failure("acquire")
        }).pipe(Effect.map((reply): Admitted | Refused => {
          if (reply[0] === 0) return { _tag: "Refused", index: reply[1]! - 1, retryAfterMs: reply[2]!, used: reply[3]! }
          const states: Array<WindowState> = []
          for (let i = 0; i < windows.length; i++) states.push({ start: reply[1 + i * 2]!, count: reply[2 + i * 2]! })
          return { _tag: "Admitted", windows: states }
        })),
      settle: (settlement) =>
        Effect.tryPromise({
          try: () => {
            const args: Array<string | number> = [settlement.windows.length + settlement.slots.length]
            for (const window of settlement.windows) args.push(prefix + window.id)
            for (const slot of settlement.slots) args.push(prefix + slot)
            args.push(settlement.lease, settlement.windows.length)
            for (const window of settlement.windows) args.push(window.start, window.delta)
            return redis.switchyardSettle(...args)
          },
          catch: failure("settle")
        }).pipe(Effect.asVoid),
      peek: (windows, slots, now) =>
        Effect.tryPromise({
          try: () => {
            const args: Array<string | number> = [windows.length + slots.length]
            for (const window of windows) args.push(prefix + window.id)
            for (const slot of slots) args.push(prefix + slot)
            args.push(now, windows.length)
            for (const window of windows) args.push(window.windowMs)
            return redis.switchyardPeek(...args)
          },
          catch: failure("peek")
        }).pipe(Effect.map((reply) => ({
          windows: windows.map((_, i) => reply[i * 2]! < 0 ? undefined : { start: reply[i * 2]!, count: reply[i * 2 + 1]! }),
          slots: slots.map((_, j) => reply[windows.length * 2 + j]!)
        })))
    })
  })

/** The Redis store as a layer: connected while the layer is up. */
export const layer = (options: RedisLimitStoreOptions): Layer.Layer<LimitStore> => Layer.scoped(LimitStore, make(options))

import type { Principal } from "@switchyard/core"
import { Context, Duration, Effect, Layer } from "effect"
import type { KeySource } from "../auth/Authenticator.js"
import { type ActiveKey, ApiKeys, hashSecret } from "./ApiKeys.js"

/** Options of the cache. */
export interface ApiKeyCacheOptions {
  /** How often the active keys are re-read (default 2 s, so creates and revocations apply within 5 s). */
  readonly refreshInterval?: Duration.DurationInput | undefined
}

interface Entry {
  readonly key: ActiveKey
  readonly digest: Buffer
  readonly principal: Principal
}

const entryOf = (key: ActiveKey): Entry => ({
  key,
  digest: Buffer.from(key.hash, "hex"),
  principal: {
    keyId: key.id,
    ...(key.name !== null ? { name: key.name } : {}),
    accountIds: key.accountIds,
    defaultAccountId: key.defaultAccountId,
    admin: false,
    ...(key.limits !== undefined ? { limits: key.limits } : {})
  }
})

/**
 * The database keys in memory, for authentication without a query per
 * request: a map from the SHA-256 of a secret to its key, re-read in the
 * background. A failed refresh keeps the last snapshot and is logged. As an
 * `Authenticator` key source, a lookup also notes the key's use (written to
 * `last_used_at` in batches).
 */
export class ApiKeyCache extends Context.Tag("@switchyard/service/ApiKeyCache")<ApiKeyCache, {
  /** The active key with this secret, if any: one hash and one map lookup. */
  readonly lookup: (secret: string) => ActiveKey | undefined
  /** The cache as a source of the `Authenticator`. */
  readonly source: KeySource
  /** Re-reads the active keys now. */
  readonly refresh: Effect.Effect<void>
  /** How many active keys the snapshot holds. */
  readonly size: () => number
}>() {
  /** A cache over `ApiKeys`, refreshed by a fiber living as long as the layer. */
  static readonly layer = (options: ApiKeyCacheOptions = {}): Layer.Layer<ApiKeyCache, never, ApiKeys> =>
    Layer.scoped(ApiKeyCache, make(options))
}

const make = (options: ApiKeyCacheOptions) =>
  Effect.gen(function*() {
    const keys = yield* ApiKeys
    let byHash = new Map<string, Entry>()
    let failing = false
    const refresh = keys.active.pipe(
      Effect.tap((active) =>
        Effect.sync(() => {
          byHash = new Map(active.map((key) => [key.hash, entryOf(key)]))
        })
      ),
      Effect.tap(() => (failing ? Effect.logInfo("API keys are read from the database again") : Effect.void)),
      Effect.tap(() => Effect.sync(() => (failing = false))),
      Effect.catchAll((error) =>
        Effect.zipRight(
          failing ? Effect.void : Effect.logWarning("Could not read the API keys; keeping the last ones", error.message),
          Effect.sync(() => (failing = true))
        )
      ),
      Effect.asVoid
    )
    yield* refresh
    yield* Effect.sleep(options.refreshInterval ?? Duration.seconds(2)).pipe(
      Effect.zipRight(refresh),
      Effect.forever,
      Effect.forkScoped
    )
    const source: KeySource = {
      lookup: (digestHex) => {
        const entry = byHash.get(digestHex)
        if (entry === undefined) return undefined
        keys.markUsed(entry.key.id, Date.now())
        return entry
      },
      size: () => byHash.size
    }
    return {
      lookup: (secret: string) => (byHash.size === 0 ? undefined : byHash.get(hashSecret(secret))?.key),
      source,
      refresh,
      size: () => byHash.size
    }
  })

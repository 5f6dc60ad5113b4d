import { LimitSet, type StoreUnavailable } from "@switchyard/core"
import { createHash } from "node:crypto"
import { Clock, Context, Effect, Layer, Redacted, Schema } from "effect"
import { mintId, randomBase62 } from "./Ids.js"

/** The prefix of every database key's secret. */
export const secretPrefix = "sk-sy-"

/** How many random base62 characters follow the prefix (≈ 238 bits). */
export const secretRandomLength = 40

/** A gateway key kept in the database, as lists show it: never its secret, nor the secret's hash. */
export const ApiKey = Schema.Struct({
  id: Schema.String,
  name: Schema.NullOr(Schema.String),
  /** The accounts the key may act for; the first is its default. */
  accountIds: Schema.NonEmptyArray(Schema.String),
  defaultAccountId: Schema.String,
  /** The secret's first characters (`sk-sy-` and four more) and last four, to recognise it. */
  prefix: Schema.String,
  last4: Schema.String,
  createdAt: Schema.Number,
  lastUsedAt: Schema.NullOr(Schema.Number),
  revokedAt: Schema.NullOr(Schema.Number),
  /** The key's own rate limits and budget (the configuration's `limits.keys` entry for it wins), if any. */
  limits: Schema.optional(LimitSet)
}).annotations({ identifier: "ApiKey" })
export interface ApiKey extends Schema.Schema.Type<typeof ApiKey> {}

/** An active key as the authenticator's cache holds it: looked up by the SHA-256 of the presented secret. */
export interface ActiveKey {
  readonly id: string
  readonly name: string | null
  /** SHA-256 of the secret, lower-case hex. */
  readonly hash: string
  readonly accountIds: readonly [string, ...Array<string>]
  readonly defaultAccountId: string
  readonly limits?: LimitSet | undefined
}

/** What a new key needs. */
export interface NewApiKey {
  readonly name?: string | undefined
  /** At least one account; the first is the default. */
  readonly accountIds: readonly [string, ...Array<string>]
  /** Its own limits. */
  readonly limits?: LimitSet | undefined
}

/** A key just created: the only time its secret is available. */
export interface CreatedApiKey {
  readonly key: ApiKey
  readonly secret: Redacted.Redacted<string>
}

/** A key as the database keeps it: its hash, never its secret. */
export interface StoredApiKey extends ApiKey {
  readonly hash: string
}

/**
 * Gateway keys kept in the database. Only the SHA-256 of a secret is stored;
 * `create` returns the secret once. Authentication does not call this per
 * request: it reads `active` into a cache (`ApiKeyCache`), and reports use
 * with `markUsed`, which implementations write in batches.
 */
export class ApiKeys extends Context.Tag("@switchyard/service/ApiKeys")<ApiKeys, {
  readonly create: (input: NewApiKey) => Effect.Effect<CreatedApiKey, StoreUnavailable>
  /** Every key, newest first; revoked ones too when asked. */
  readonly list: (options?: { readonly includeRevoked?: boolean }) => Effect.Effect<ReadonlyArray<ApiKey>, StoreUnavailable>
  /** Revokes a key; whether an active key by that id existed. */
  readonly revoke: (id: string) => Effect.Effect<boolean, StoreUnavailable>
  /** The active keys with their hashes, for the authenticator's cache. */
  readonly active: Effect.Effect<ReadonlyArray<ActiveKey>, StoreUnavailable>
  /**
   * Notes that a key was used at a time (ms): synchronous and cheap, for the
   * authentication path; implementations write it later, in batches.
   */
  readonly markUsed: (id: string, atMs: number) => void
}>() {
  /** Keys in memory, for tests and library users without a database. */
  static readonly layerMemory: Layer.Layer<ApiKeys> = Layer.sync(ApiKeys, () => makeMemory())
}

/** SHA-256 of a secret, lower-case hex: what is stored and looked up. */
export const hashSecret = (secret: string): string => createHash("sha256").update(secret).digest("hex")

/**
 * A new key: its id, a fresh secret (`sk-sy-` + 40 random base62
 * characters) and the stored form with the secret's hash.
 */
export const newKey = (input: NewApiKey): Effect.Effect<{ readonly stored: StoredApiKey; readonly secret: Redacted.Redacted<string> }> =>
  Effect.map(Clock.currentTimeMillis, (now) => {
    const secret = `${secretPrefix}${randomBase62(secretRandomLength)}`
    const stored: StoredApiKey = {
      id: mintId("key_", now),
      name: input.name ?? null,
      accountIds: input.accountIds,
      defaultAccountId: input.accountIds[0],
      prefix: secret.slice(0, secretPrefix.length + 4),
      last4: secret.slice(-4),
      createdAt: now,
      lastUsedAt: null,
      revokedAt: null,
      ...(input.limits !== undefined ? { limits: input.limits } : {}),
      hash: hashSecret(secret)
    }
    return { stored, secret: Redacted.make(secret) }
  })

/** The public view of a stored key. */
export const publicKey = ({ hash: _hash, ...key }: StoredApiKey): ApiKey => key

/** The cache entry of a stored key. */
export const activeKey = (key: StoredApiKey): ActiveKey => ({
  id: key.id,
  name: key.name,
  hash: key.hash,
  accountIds: key.accountIds,
  defaultAccountId: key.defaultAccountId,
  ...(key.limits !== undefined ? { limits: key.limits } : {})
})

const makeMemory = (): ApiKeys["Type"] => {
  const keys = new Map<string, StoredApiKey>()
  return {
    create: (input) =>
      Effect.map(newKey(input), ({ secret, stored }) => {
        keys.set(stored.id, stored)
        return { key: publicKey(stored), secret }
      }),
    list: (options) =>
      Effect.sync(() =>
        [...keys.values()]
          .filter((k) => options?.includeRevoked === true || k.revokedAt === null)
          .sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1))
          .map(publicKey)
      ),
    revoke: (id) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) =>
        Effect.sync(() => {
          const key = keys.get(id)
          if (key === undefined || key.revokedAt !== null) return false
          keys.set(id, { ...key, revokedAt: now })
          return true
        })),
    active: Effect.sync(() => [...keys.values()].filter((k) => k.revokedAt === null).map(activeKey)),
    markUsed: (id, atMs) => {
      const key = keys.get(id)
      if (key !== undefined && (key.lastUsedAt === null || key.lastUsedAt < atMs)) keys.set(id, { ...key, lastUsedAt: atMs })
    }
  }
}

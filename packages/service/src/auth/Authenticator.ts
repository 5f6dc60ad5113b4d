/** auth/: the `Authenticator` port: a gateway key → its principal (key id, accounts, admin or not), from configured key sources. */
import { anonymousAdmin, DEFAULT_ACCOUNT_ID, type Principal } from "@switchyard/core"
import { Config, type ConfigError, Context, Effect, Layer, Option, Redacted, Schema } from "effect"
import { hash, timingSafeEqual } from "node:crypto"

/** The SHA-256 digest of a key: what sources store and look up, never the key itself. */
export const keyDigest = (key: string): Buffer => hash("sha256", key, "buffer")

/** `keyDigest` as hex, what sources look up: one call, no hash object (the cheapest per request). */
export const keyDigestHex = (key: string): string => hash("sha256", key, "hex")

/**
 * Somewhere keys are kept: an in-memory table from SHA-256 digest (hex) to
 * the principal, looked up synchronously. A source backed by a database keeps
 * such a table as its cache and refreshes it in the background.
 */
export interface KeySource {
  readonly lookup: (digestHex: string) => { readonly digest: Buffer; readonly principal: Principal } | undefined
  /**
   * How many keys it holds now, for a source whose keys change (a database's):
   * while no source holds any key, the gateway stays as open as it started.
   */
  readonly size?: (() => number) | undefined
}

/** A key in the configuration that cannot be used, naming its position (never the key). */
export class KeyConfigError extends Schema.TaggedError<KeyConfigError>()("KeyConfigError", {
  message: Schema.String
}) {}

/** Keys as configured: `key`, `key:account` or `key:account1|account2` (the first account is the default). */
export interface KeyEntries {
  readonly apiKeys?: ReadonlyArray<Redacted.Redacted<string>> | undefined
  /** Admin keys may act for any account. */
  readonly adminKeys?: ReadonlyArray<Redacted.Redacted<string>> | undefined
}

const ACCOUNT = /^[^\s|:,]+$/

/**
 * Parses one key entry: `key`, `key:account` or `key:acct1|acct2`. The split is
 * at the last `:`; a bare key acts for account `default`.
 */
export const parseKeyEntry = (
  entry: string,
  admin: boolean,
  where: string
): { readonly key: string; readonly principal: Omit<Principal, "keyId"> } | KeyConfigError => {
  const colon = entry.lastIndexOf(":")
  const key = (colon === -1 ? entry : entry.slice(0, colon)).trim()
  const accounts = colon === -1 ? [DEFAULT_ACCOUNT_ID] : entry.slice(colon + 1).split("|").map((account) => account.trim())
  if (key.length === 0) return new KeyConfigError({ message: `${where}: the key is empty` })
  const invalid = accounts.find((account) => !ACCOUNT.test(account))
  if (invalid !== undefined) {
    return new KeyConfigError({ message: `${where}: invalid account ${invalid === "" ? "(empty)" : `\`${invalid}\``}` })
  }
  return { key, principal: { accountIds: accounts, defaultAccountId: accounts[0]!, admin } }
}

/**
 * The configured keys as a source. Each key's id is `key_` and the first 12
 * hex digits of its digest: stable across restarts, safe to log. A key listed
 * twice is an error; a key that is also an admin key is an admin.
 */
export const staticSource = (entries: KeyEntries): Effect.Effect<KeySource, KeyConfigError> =>
  Effect.gen(function*() {
    const table = new Map<string, { digest: Buffer; principal: Principal }>()
    const add = (list: ReadonlyArray<Redacted.Redacted<string>>, admin: boolean, name: string) =>
      Effect.forEach(list, (value, index) =>
        Effect.gen(function*() {
          const where = `${name} entry ${index + 1}`
          const parsed = parseKeyEntry(Redacted.value(value), admin, where)
          if (parsed instanceof KeyConfigError) return yield* parsed
          const digest = keyDigest(parsed.key)
          const hex = digest.toString("hex")
          const existing = table.get(hex)
          if (existing !== undefined && existing.principal.admin === admin) {
            return yield* new KeyConfigError({ message: `${where} repeats an earlier key` })
          }
          table.set(hex, { digest, principal: { keyId: `key_${hex.slice(0, 12)}`, ...parsed.principal } })
        }), { discard: true })
    yield* add(entries.apiKeys ?? [], false, "SWITCHYARD_API_KEYS")
    yield* add(entries.adminKeys ?? [], true, "SWITCHYARD_ADMIN_KEYS")
    return { lookup: (digestHex) => table.get(digestHex) }
  })

/**
 * Maps the key a request presents to its principal. Synchronous and cheap, for
 * the hot path: one SHA-256 of the presented key, an in-memory lookup per
 * source, and a constant-time comparison of the digests. With no source (no
 * keys configured) every request acts as an admin of account `default`.
 */
export class Authenticator extends Context.Tag("@switchyard/service/Authenticator")<Authenticator, {
  /** Whether no keys are configured: every request is then {@link anonymousAdmin}. */
  readonly open: boolean
  /** The principal of a presented key, or `undefined` for a missing or unknown key. */
  readonly authenticate: (key: string | undefined) => Principal | undefined
}>() {
  /**
   * An authenticator over sources, consulted in order (the first that knows
   * the key wins). It is open (every request an admin of `default`) when no
   * source holds a key when it is made; it stays open while none does, and
   * requires keys as soon as one does (a key created in the database). One
   * made with keys never opens, even if they are all revoked later.
   */
  static readonly make = (sources: ReadonlyArray<KeySource>): Context.Tag.Service<Authenticator> => {
    const empty = () => sources.every((source) => source.size !== undefined && source.size() === 0)
    if (sources.length === 0) return { open: true, authenticate: () => anonymousAdmin }
    const open = empty()
    return {
      open,
      authenticate: (key) => {
        if (open && empty()) return anonymousAdmin
        if (key === undefined || key.length === 0) return undefined
        const hex = keyDigestHex(key)
        for (const source of sources) {
          const found = source.lookup(hex)
          if (found !== undefined) return timingSafeEqual(found.digest, Buffer.from(hex, "hex")) ? found.principal : undefined
        }
        return undefined
      }
    }
  }

  /** The configured keys (plus any further sources, such as a database's); open when there are none at all. */
  static readonly layer = (entries: KeyEntries, extra: ReadonlyArray<KeySource> = []): Layer.Layer<Authenticator, KeyConfigError> =>
    Layer.effect(
      Authenticator,
      Effect.map(staticSource(entries), (source) =>
        Authenticator.make([
          ...((entries.apiKeys?.length ?? 0) + (entries.adminKeys?.length ?? 0) > 0 ? [source] : []),
          ...extra
        ]))
    )

  /** Keys from `SWITCHYARD_API_KEYS` and `SWITCHYARD_ADMIN_KEYS` (comma-separated). */
  static readonly layerConfig: Layer.Layer<
    Authenticator,
    KeyConfigError | ConfigError.ConfigError
  > = Layer.unwrapEffect(
    Effect.gen(function*() {
      const list = (name: string) =>
        Config.option(Config.redacted(name)).pipe(
          Config.map(Option.match({ onNone: () => [], onSome: (value) => splitKeyList(Redacted.value(value)) }))
        )
      return Authenticator.layer({ apiKeys: yield* list("SWITCHYARD_API_KEYS"), adminKeys: yield* list("SWITCHYARD_ADMIN_KEYS") })
    })
  )
}

/** Splits a comma-separated key list, trimming and dropping empty entries; each entry stays redacted. */
export const splitKeyList = (value: string): Array<Redacted.Redacted<string>> =>
  value.split(",").map((entry) => entry.trim()).filter((entry) => entry.length > 0).map((entry) => Redacted.make(entry))

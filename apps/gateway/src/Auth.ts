import { Redacted } from "effect"
import { createHash, timingSafeEqual } from "node:crypto"
import type { IncomingHttpHeaders } from "node:http"

const digest = (key: string) => createHash("sha256").update(key).digest()

/** The key a request presents: `x-api-key`, or `Authorization: Bearer <key>`. */
export const presentedKey = (headers: IncomingHttpHeaders): string | undefined => {
  const header = headers["x-api-key"]
  if (typeof header === "string" && header.length > 0) return header
  const authorization = headers.authorization
  if (typeof authorization === "string" && authorization.length > 7 && /^bearer /i.test(authorization)) {
    return authorization.slice(7).trim()
  }
  return undefined
}

/**
 * A checker of gateway keys. Keys are compared as SHA-256 digests with
 * `timingSafeEqual`, against every configured key, so the time taken says
 * nothing about how close a guess was. With no keys, every request passes.
 */
export const makeKeyChecker = (keys: ReadonlyArray<Redacted.Redacted<string>>) => {
  const digests = keys.map((key) => digest(Redacted.value(key)))
  return {
    open: digests.length === 0,
    check: (headers: IncomingHttpHeaders): boolean => {
      if (digests.length === 0) return true
      const key = presentedKey(headers)
      if (key === undefined) return false
      const presented = digest(key)
      let ok = false
      for (const expected of digests) ok = timingSafeEqual(presented, expected) || ok
      return ok
    }
  }
}

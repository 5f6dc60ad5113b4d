import { Arbitrary, Either, type FastCheck, Schema } from "effect"
import { ChatCompletionRequest, fromParseIssue, type ValidationError } from "../../src/index.js"

/** Decodes a request body as the gateway does: every problem, not only the first. */
export const decodeRequest = Schema.decodeUnknownEither(ChatCompletionRequest, { errors: "all" })

/** The 422 `detail` for a body, or `undefined` when it is valid. */
export const detailOf = (body: unknown): ReadonlyArray<ValidationError> | undefined => {
  const result = decodeRequest(body)
  return Either.isLeft(result) ? fromParseIssue(result.left.issue).detail : undefined
}

/**
 * Whether a value survives `JSON.stringify` → `JSON.parse` unchanged: no NaN,
 * ±Infinity, -0 or `undefined` (JSON cannot carry them), and no `__proto__`
 * key (JSON.parse makes it an own key, but Effect's record decoding assigns it
 * and so sets the prototype instead). `Arbitrary.make` produces all of these
 * for `Schema.Number` and `Schema.Unknown`; a gateway only ever sees JSON.
 */
export const isJsonStable = (value: unknown): boolean => {
  if (value === null || typeof value === "string" || typeof value === "boolean") return true
  if (typeof value === "number") return Number.isFinite(value) && !Object.is(value, -0)
  if (Array.isArray(value)) return value.every((item) => item !== undefined && isJsonStable(item))
  if (typeof value === "object") {
    if (Object.getPrototypeOf(value) !== Object.prototype && Object.getPrototypeOf(value) !== null) return false
    for (const [key, item] of Object.entries(value)) {
      if (key === "__proto__" || item === undefined || !isJsonStable(item)) return false
    }
    return Object.getOwnPropertySymbols(value).length === 0
  }
  return false
}

/** Whether a value has no `__proto__` own key at any depth. */
export const hasNoProtoKey = (value: unknown): boolean => {
  if (Array.isArray(value)) return value.every(hasNoProtoKey)
  if (typeof value !== "object" || value === null) return true
  return Object.entries(value).every(([key, item]) => key !== "__proto__" && hasNoProtoKey(item))
}

/**
 * `Arbitrary.make(schema)` without `__proto__` keys. fast-check likes to
 * generate that key for records; Effect's record decoding assigns it, which
 * sets the output object's prototype instead of keeping a key, so such a value
 * cannot round-trip. No JSON body a client sends is affected in any other way.
 */
export const schemaArbitrary = <A, I>(schema: Schema.Schema<A, I, never>): FastCheck.Arbitrary<A> =>
  Arbitrary.make(schema).filter(hasNoProtoKey)

/** `Arbitrary.make(schema)` restricted to values a JSON body can carry (see `isJsonStable`). */
export const jsonArbitrary = <A, I>(schema: Schema.Schema<A, I, never>): FastCheck.Arbitrary<A> => {
  const encode = Schema.encodeSync(schema)
  return Arbitrary.make(schema).filter((value) => isJsonStable(value) && isJsonStable(encode(value)))
}

/** The value as it comes out of the other end of a JSON wire. */
export const overTheWire = (value: unknown): unknown => JSON.parse(JSON.stringify(value))

/**
 * The timeout of property tests: generous, because a few hundred generated
 * requests can take seconds on a loaded two-core CI machine.
 */
export const PROPERTY_TIMEOUT = 60_000

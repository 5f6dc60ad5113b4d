import { randomBytes } from "node:crypto"

/** The prefixes of the ids the Responses facade mints, as OpenAI's: responses, messages, function calls, … */
export type IdPrefix = "resp" | "msg" | "fc" | "fco" | "rs" | "call"

/** Makes ids: `resp_…`, `msg_…`, `fc_…`. */
export type IdGenerator = (prefix: IdPrefix) => string

let pool = Buffer.alloc(0)
let offset = 0

/** A random id: the prefix and 48 hex digits (24 random bytes, drawn from a pool refilled 4 KiB at a time). */
export const newId: IdGenerator = (prefix) => {
  if (offset + 24 > pool.length) {
    pool = randomBytes(4096)
    offset = 0
  }
  const id = `${prefix}_${pool.toString("hex", offset, offset + 24)}`
  offset += 24
  return id
}

/** Deterministic ids for tests: `resp_1`, `msg_2`, … */
export const sequentialIds = (): IdGenerator => {
  let n = 0
  return (prefix) => `${prefix}_${++n}`
}

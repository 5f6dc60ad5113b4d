import { randomBytes } from "node:crypto"

/** Base62 digits in ASCII order, so fixed-width base62 strings sort like the numbers they encode. */
const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// Random bytes are drawn from the CSPRNG 4 KiB at a time: one system call per ~100 ids, not one per id.
const POOL_SIZE = 4096
let pool = randomBytes(POOL_SIZE)
let poolAt = 0

const randomByte = (): number => {
  if (poolAt === POOL_SIZE) {
    pool = randomBytes(POOL_SIZE)
    poolAt = 0
  }
  return pool[poolAt++]!
}

/** `length` uniformly random base62 characters from the system's CSPRNG (rejection sampling, no modulo bias). */
export const randomBase62 = (length: number): string => {
  let out = ""
  while (out.length < length) {
    const byte = randomByte()
    // 248 = 62 × 4: bytes at or above it would favour the first digits.
    if (byte < 248) out += BASE62[byte % 62]
  }
  return out
}

const TIME_WIDTH = 8 // 62^8 ms ≈ 6,900 years from 1970

const encodeTime = (ms: number): string => {
  let n = Math.max(0, Math.floor(ms))
  let out = ""
  for (let i = 0; i < TIME_WIDTH; i++) {
    out = BASE62[n % 62] + out
    n = Math.floor(n / 62)
  }
  return out
}

const decodeTime = (text: string): number | undefined => {
  let n = 0
  for (const char of text) {
    const digit = BASE62.indexOf(char)
    if (digit < 0) return undefined
    n = n * 62 + digit
  }
  return n
}

/**
 * A new id `prefix` + 8 base62 characters of the time in ms + 16 random ones:
 * unique across replicas, sortable by creation time, and carrying that time,
 * so a cursor still has a position after its row was deleted.
 */
export const mintId = (prefix: string, nowMs: number): string => `${prefix}${encodeTime(nowMs)}${randomBase62(16)}`

const processTag = randomBase62(10)
let sequence = 0

/**
 * A new id `prefix` + 8 base62 characters of the time + a random tag of this
 * process + a counter: as unique as `mintId` (the tag has ~60 bits) without a
 * call to the CSPRNG, for ids minted on every request (usage rows).
 */
export const mintSequentialId = (prefix: string, nowMs: number): string => {
  sequence = (sequence + 1) % 62 ** 6
  let n = sequence
  let counter = ""
  for (let i = 0; i < 6; i++) {
    counter = BASE62[n % 62] + counter
    n = Math.floor(n / 62)
  }
  return `${prefix}${encodeTime(nowMs)}${processTag}${counter}`
}

/** The creation time (ms) an id minted by `mintId` with this prefix carries; `undefined` for other ids. */
export const idTime = (prefix: string, id: string): number | undefined =>
  id.startsWith(prefix) && id.length === prefix.length + TIME_WIDTH + 16
    ? decodeTime(id.slice(prefix.length, prefix.length + TIME_WIDTH))
    : undefined

/** The prefix of the gateway's own chat completion ids. */
export const completionIdPrefix = "chatcmpl-sy"

/** A new chat completion id of the gateway's own, unique across accounts, vendors and replicas. */
export const mintCompletionId = (nowMs: number): string => mintId(completionIdPrefix, nowMs)

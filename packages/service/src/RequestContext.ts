import type { Redacted } from "effect"
import type { CallRecord } from "./CallRecord.js"

/** What a call carries besides its body: who asks, for whom, and with which key. */
export interface RequestContext {
  /** The request id, for logs and the `x-request-id` header. */
  readonly requestId: string
  /** The account the call acts for (`x-selected-account-id`, else the key's default account). */
  readonly accountId?: string | undefined
  /** The id of the gateway key that authenticated the call (never the key itself). */
  readonly keyId?: string | undefined
  /** A provider key supplied by the caller (`x-openai-api-key`), used instead of the configured one. */
  readonly providerKey?: Redacted.Redacted<string> | undefined
  /** Filled in as the call goes (target, attempts) when the caller provides one: see `CallRecord`. */
  readonly record?: CallRecord | undefined
}

let counter = 0

/** A fresh, unique request id: `req_` + time + counter, cheap enough for every request. */
export const newRequestId = (): string =>
  `req_${Date.now().toString(36)}${(counter++ & 0xffffff).toString(36).padStart(5, "0")}${
    Math.floor(Math.random() * 0xffffff).toString(36)
  }`

/** A context with a fresh request id. */
export const makeContext = (options: Partial<RequestContext> = {}): RequestContext => ({
  requestId: options.requestId ?? newRequestId(),
  ...(options.accountId !== undefined ? { accountId: options.accountId } : {}),
  ...(options.keyId !== undefined ? { keyId: options.keyId } : {}),
  ...(options.providerKey !== undefined ? { providerKey: options.providerKey } : {}),
  ...(options.record !== undefined ? { record: options.record } : {})
})

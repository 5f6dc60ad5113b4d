import type { InternalError, ResponseItem, ResponseObject } from "@switchyard/core"
import { Context, Effect, Layer, Option } from "effect"

/** A response as stored: the response object, its own input items (references resolved, with ids), its owner. */
export interface StoredResponse {
  readonly response: ResponseObject
  /** This request's input items only; `previous_response_id` links to the earlier ones. */
  readonly input: ReadonlyArray<ResponseItem>
  /** The account that created it (`undefined`: no account); only that account can read it. */
  readonly accountId: string | undefined
}

/**
 * Where the Responses facade keeps responses, for `GET /responses/{id}`,
 * `previous_response_id` and `item_reference`. Every read is scoped to an
 * account: another account's response does not exist. Once `save` has
 * succeeded, `get` and `getItem` see the response, whatever the store does
 * behind it (a write queue must serve its pending records), so a client can
 * chain the instant it has the answer.
 */
export class ResponsesStore extends Context.Tag("@switchyard/service/ResponsesStore")<ResponsesStore, {
  /** Saves a response with its input items; visible to `get`/`getItem` when this succeeds. */
  readonly save: (stored: StoredResponse) => Effect.Effect<void, InternalError>
  /** A response of the account, if it exists. */
  readonly get: (id: string, accountId: string | undefined) => Effect.Effect<Option.Option<StoredResponse>, InternalError>
  /** An item (input or output of a stored response of the account) by its id. */
  readonly getItem: (
    id: string,
    accountId: string | undefined
  ) => Effect.Effect<Option.Option<ResponseItem>, InternalError>
  /** Deletes a response and its items; `false` when the account has no such response. */
  readonly delete: (id: string, accountId: string | undefined) => Effect.Effect<boolean, InternalError>
}>() {
  /** A store in this process's memory, holding the latest `maxResponses` responses (default 10,000). */
  static readonly layerMemory = (options: MemoryStoreOptions = {}): Layer.Layer<ResponsesStore> =>
    Layer.sync(ResponsesStore, () => makeMemoryStore(options))

  /** Builds an in-memory store. */
  static readonly makeMemory = (options: MemoryStoreOptions = {}): ResponsesStore["Type"] => makeMemoryStore(options)
}

/** Options of the in-memory store. */
export interface MemoryStoreOptions {
  /** How many responses it keeps; the oldest go first (default 10,000). */
  readonly maxResponses?: number | undefined
}

const owner = (accountId: string | undefined): string => accountId ?? ""

const makeMemoryStore = (options: MemoryStoreOptions): ResponsesStore["Type"] => {
  const max = Math.max(1, options.maxResponses ?? 10_000)
  // Insertion-ordered: the first key is the oldest response.
  const responses = new Map<string, StoredResponse>()
  const items = new Map<string, { readonly item: ResponseItem; readonly responseId: string; readonly owner: string }>()

  const itemsOf = (stored: StoredResponse): Array<ResponseItem> => [...stored.input, ...stored.response.output]

  const remove = (id: string): boolean => {
    const stored = responses.get(id)
    if (stored === undefined) return false
    responses.delete(id)
    for (const item of itemsOf(stored)) {
      if (items.get(item.id)?.responseId === id) items.delete(item.id)
    }
    return true
  }

  const save = (stored: StoredResponse) =>
    Effect.sync(() => {
      const id = stored.response.id
      remove(id)
      responses.set(id, stored)
      for (const item of itemsOf(stored)) items.set(item.id, { item, responseId: id, owner: owner(stored.accountId) })
      while (responses.size > max) remove(responses.keys().next().value!)
    })

  const get = (id: string, accountId: string | undefined) =>
    Effect.sync(() => {
      const stored = responses.get(id)
      return stored !== undefined && owner(stored.accountId) === owner(accountId) ? Option.some(stored) : Option.none()
    })

  const getItem = (id: string, accountId: string | undefined) =>
    Effect.sync(() => {
      const entry = items.get(id)
      return entry !== undefined && entry.owner === owner(accountId) ? Option.some(entry.item) : Option.none()
    })

  const delete_ = (id: string, accountId: string | undefined) =>
    Effect.sync(() => {
      const stored = responses.get(id)
      if (stored === undefined || owner(stored.accountId) !== owner(accountId)) return false
      return remove(id)
    })

  return { save, get, getItem, delete: delete_ }
}

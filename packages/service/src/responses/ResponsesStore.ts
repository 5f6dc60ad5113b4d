import type { ResponseItem, ResponseItemList, ResponseObject, StoreUnavailable } from "@switchyard/core"
import { Context, Effect, Layer, Option } from "effect"

/** A response as stored: the response object, its own input items (references resolved, with ids), its owner. */
export interface StoredResponse {
  readonly response: ResponseObject
  /** This request's input items only; `previous_response_id` links to the earlier ones. */
  readonly input: ReadonlyArray<ResponseItem>
  /** The account that created it (`undefined`: no account); only that account can read it. */
  readonly accountId: string | undefined
}

/** Paging of a response's input items. */
export interface InputItemsPage {
  /** The id of the item to list after. */
  readonly after?: string | undefined
  /** 1 to 100 (default 20). */
  readonly limit?: number | undefined
  /** `desc` (default, as OpenAI's) or `asc`. */
  readonly order?: "asc" | "desc" | undefined
}

/** A page's limit: 1 to 100, default 20. */
export const itemsPageLimit = (page: InputItemsPage): number => Math.min(100, Math.max(1, page.limit ?? 20))

/** Paging over a list, by item id, as OpenAI's list endpoints do (an unknown `after`: an empty page). */
export const pageItems = (items: ReadonlyArray<ResponseItem>, page: InputItemsPage): ResponseItemList => {
  const limit = itemsPageLimit(page)
  const ordered = page.order === "asc" ? items : [...items].reverse()
  let start = 0
  if (page.after !== undefined) {
    const at = ordered.findIndex((item) => item.id === page.after)
    start = at === -1 ? ordered.length : at + 1
  }
  return itemList(ordered.slice(start, start + limit), start + limit < ordered.length)
}

/** The list envelope of a page of items. */
export const itemList = (data: ReadonlyArray<ResponseItem>, hasMore: boolean): ResponseItemList => ({
  object: "list",
  data,
  first_id: data[0]?.id ?? null,
  last_id: data[data.length - 1]?.id ?? null,
  has_more: hasMore
})

/** A response and the earlier ones it continues, as far as they are found. */
export interface Conversation {
  /** The response asked for, then the one it continues (`previous_response_id`), and so on: newest first. */
  readonly responses: ReadonlyArray<StoredResponse>
  /** The first link that was not found (the response asked for itself when `responses` is empty). */
  readonly missing: string | undefined
}

/**
 * A conversation by walking `previous_response_id` links with a lookup, one
 * response at a time (a link already seen ends the walk).
 */
export const walkConversation = <E>(
  id: string,
  lookup: (id: string) => Effect.Effect<Option.Option<StoredResponse>, E>
): Effect.Effect<Conversation, E> =>
  Effect.gen(function*() {
    const responses: Array<StoredResponse> = []
    const seen = new Set<string>()
    let next: string | null = id
    while (next !== null && !seen.has(next)) {
      seen.add(next)
      const found: Option.Option<StoredResponse> = yield* lookup(next)
      if (Option.isNone(found)) return { responses, missing: next }
      responses.push(found.value)
      next = found.value.response.previous_response_id
    }
    return { responses, missing: undefined }
  })

/**
 * Where the Responses facade keeps responses, for `GET /responses/{id}`,
 * `previous_response_id`, `item_reference` and `input_items`. Every read is
 * scoped to an account: another account's response or item does not exist.
 * Once `save` has succeeded, `get` and `getItem` see the response, whatever
 * the store does behind it (a write queue must serve its pending records),
 * so a client can chain the instant it has the answer. An item id may belong
 * to several responses (an `item_reference`, or an earlier output sent back
 * as input): it resolves as long as one of them is kept.
 */
export class ResponsesStore extends Context.Tag("@switchyard/service/ResponsesStore")<ResponsesStore, {
  /** Saves a response with its input items; visible to `get`/`getItem` when this succeeds. */
  readonly save: (stored: StoredResponse) => Effect.Effect<void, StoreUnavailable>
  /** A response of the account, if it exists. */
  readonly get: (id: string, accountId: string | undefined) => Effect.Effect<Option.Option<StoredResponse>, StoreUnavailable>
  /**
   * A response of the account with every earlier one it continues through
   * `previous_response_id`, newest first (the history of a request that
   * continues it). A SQL store reads a chain of any length in a few queries.
   */
  readonly conversation: (id: string, accountId: string | undefined) => Effect.Effect<Conversation, StoreUnavailable>
  /** An item (input or output of a stored response of the account) by its id; the newest if several responses hold it. */
  readonly getItem: (
    id: string,
    accountId: string | undefined
  ) => Effect.Effect<Option.Option<ResponseItem>, StoreUnavailable>
  /** A page of a response's input items; none when the account has no such response. */
  readonly inputItems: (
    id: string,
    accountId: string | undefined,
    page: InputItemsPage
  ) => Effect.Effect<Option.Option<ResponseItemList>, StoreUnavailable>
  /** Deletes a response and its items (not the same ids held by other responses); `false` when the account has no such response. */
  readonly delete: (id: string, accountId: string | undefined) => Effect.Effect<boolean, StoreUnavailable>
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

/** The items a stored response holds: its input, then its output. */
export const itemsOf = (stored: StoredResponse): Array<ResponseItem> => [...stored.input, ...stored.response.output]

const makeMemoryStore = (options: MemoryStoreOptions): ResponsesStore["Type"] => {
  const max = Math.max(1, options.maxResponses ?? 10_000)
  // Insertion-ordered: the first key is the oldest response.
  const responses = new Map<string, StoredResponse>()
  // Item id → the responses holding it, oldest first (an id may be shared: an `item_reference`, an output sent back).
  const holders = new Map<string, Map<string, { readonly item: ResponseItem; readonly owner: string }>>()

  const remove = (id: string): boolean => {
    const stored = responses.get(id)
    if (stored === undefined) return false
    responses.delete(id)
    for (const item of itemsOf(stored)) {
      const held = holders.get(item.id)
      if (held === undefined) continue
      held.delete(id)
      if (held.size === 0) holders.delete(item.id)
    }
    return true
  }

  const save = (stored: StoredResponse) =>
    Effect.sync(() => {
      const id = stored.response.id
      remove(id)
      responses.set(id, stored)
      for (const item of itemsOf(stored)) {
        let held = holders.get(item.id)
        if (held === undefined) holders.set(item.id, held = new Map())
        held.set(id, { item, owner: owner(stored.accountId) })
      }
      while (responses.size > max) remove(responses.keys().next().value!)
    })

  const find = (id: string, accountId: string | undefined): StoredResponse | undefined => {
    const stored = responses.get(id)
    return stored !== undefined && owner(stored.accountId) === owner(accountId) ? stored : undefined
  }

  const get = (id: string, accountId: string | undefined) => Effect.sync(() => Option.fromNullable(find(id, accountId)))

  const getItem = (id: string, accountId: string | undefined) =>
    Effect.sync(() => {
      let found: ResponseItem | undefined
      // The newest holder of the account wins, as in the SQL store.
      for (const entry of holders.get(id)?.values() ?? []) if (entry.owner === owner(accountId)) found = entry.item
      return Option.fromNullable(found)
    })

  const inputItems = (id: string, accountId: string | undefined, page: InputItemsPage) =>
    Effect.sync(() => Option.map(Option.fromNullable(find(id, accountId)), (stored) => pageItems(stored.input, page)))

  const delete_ = (id: string, accountId: string | undefined) =>
    Effect.sync(() => find(id, accountId) !== undefined && remove(id))

  const conversation = (id: string, accountId: string | undefined) =>
    walkConversation(id, (next) => Effect.sync(() => Option.fromNullable(find(next, accountId))))

  return { save, get, conversation, getItem, inputItems, delete: delete_ }
}

import type { SqlClient, SqlError } from "@effect/sql"
import { type ResponseItem, type ResponseObject, StoreUnavailable } from "@switchyard/core"
import {
  type InputItemsPage,
  itemList,
  itemsOf,
  itemsPageLimit,
  pageItems,
  type ResponsesStore,
  type StoredResponse
} from "@switchyard/service"
import { Duration, Effect, Option, Schema } from "effect"
import { DbInt, query } from "./Database.js"
import type { WriteItem } from "./WriteItem.js"
import type { WriteQueue } from "./WriteQueue.js"

/** Rows per INSERT statement: far below SQLite's and PostgreSQL's limits on bound parameters. */
const INSERT_CHUNK = 200

/** The owner column of a response: its account, or `""` for none (as the in-memory store tells them apart). */
const owner = (accountId: string | undefined): string => accountId ?? ""

/** When a response was created, in ms (its `created_at` is in seconds), as the other tables count time. */
const createdAtMs = (stored: StoredResponse): number => stored.response.created_at * 1000

const chunks = <A>(rows: ReadonlyArray<A>, size: number): ReadonlyArray<ReadonlyArray<A>> => {
  const out: Array<ReadonlyArray<A>> = []
  for (let i = 0; i < rows.length; i += size) out.push(rows.slice(i, i + size))
  return out
}

/**
 * Inserts responses (idempotently: a retried batch skips what already
 * landed): the response without its output in `responses`, each input and
 * output item in `response_items`.
 */
export const insertResponses = (
  sql: SqlClient.SqlClient,
  records: ReadonlyArray<StoredResponse>
): Effect.Effect<void, SqlError.SqlError> => {
  if (records.length === 0) return Effect.void
  const responses = records.map((stored) => {
    const { output: _output, ...response } = stored.response
    return {
      id: response.id,
      account_id: owner(stored.accountId),
      created_at: createdAtMs(stored),
      previous_response_id: response.previous_response_id,
      model: response.model,
      status: response.status,
      response: JSON.stringify(response)
    }
  })
  const items = records.flatMap((stored) => {
    const common = {
      response_id: stored.response.id,
      account_id: owner(stored.accountId),
      created_at: createdAtMs(stored)
    }
    const row = (kind: "input" | "output") => (item: ResponseItem, seq: number) => ({
      response_id: common.response_id,
      kind,
      seq,
      item_id: item.id,
      account_id: common.account_id,
      created_at: common.created_at,
      item: JSON.stringify(item)
    })
    return [...stored.input.map(row("input")), ...stored.response.output.map(row("output"))]
  })
  return Effect.forEach(
    [
      ...chunks(responses, INSERT_CHUNK).map((rows) => sql`INSERT INTO responses ${sql.insert(rows)} ON CONFLICT DO NOTHING`),
      ...chunks(items, INSERT_CHUNK).map((rows) => sql`INSERT INTO response_items ${sql.insert(rows)} ON CONFLICT DO NOTHING`)
    ],
    (statement) => statement,
    { discard: true }
  )
}

const ResponseRow = Schema.Struct({ response: Schema.String })
const ChainRow = Schema.Struct({ id: Schema.String, response: Schema.String, previous_response_id: Schema.NullOr(Schema.String) })
const ItemRow = Schema.Struct({ kind: Schema.String, item: Schema.String })
const OwnedItemRow = Schema.Struct({ response_id: Schema.String, kind: Schema.String, item: Schema.String })
const SeqRow = Schema.Struct({ seq: Schema.NullOr(DbInt) })
const decodeResponses = Schema.decodeUnknown(Schema.Array(ResponseRow))
const decodeChain = Schema.decodeUnknown(Schema.Array(ChainRow))
const decodeItems = Schema.decodeUnknown(Schema.Array(ItemRow))
const decodeOwnedItems = Schema.decodeUnknown(Schema.Array(OwnedItemRow))
const decodeSeqs = Schema.decodeUnknown(Schema.Array(SeqRow))

const unreadable = (error: { readonly message: string }) =>
  new StoreUnavailable({ message: `Stored data could not be read: ${error.message}` })

const parseObject = (text: string): Record<string, unknown> | undefined => {
  try {
    const value: unknown = JSON.parse(text)
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}

// Written by the gateway from checked objects: a structural check on the way out is enough (a Schema
// decode of every item of a long conversation would cost more than the query).
const parseItem = (text: string): ResponseItem | undefined => {
  const value = parseObject(text)
  return typeof value?.id === "string" && typeof value.type === "string" ? (value as unknown as ResponseItem) : undefined
}

const parseItems = (rows: ReadonlyArray<typeof ItemRow.Type>): Effect.Effect<Array<ResponseItem>, StoreUnavailable> => {
  const items: Array<ResponseItem> = []
  for (const row of rows) {
    const item = parseItem(row.item)
    if (item === undefined) return Effect.fail(unreadable({ message: "a stored response item is not an item" }))
    items.push(item)
  }
  return Effect.succeed(items)
}

/** A stored response from its row (the response without output) and its item rows, in order. */
const toStored = (
  id: string,
  responseText: string,
  itemRows: ReadonlyArray<typeof ItemRow.Type>,
  accountId: string | undefined
): Effect.Effect<StoredResponse, StoreUnavailable> =>
  Effect.gen(function*() {
    const input = yield* parseItems(itemRows.filter((r) => r.kind === "input"))
    const output = yield* parseItems(itemRows.filter((r) => r.kind === "output"))
    const response = parseObject(responseText)
    if (response?.object !== "response" || response.id !== id) {
      return yield* Effect.fail(unreadable({ message: `the stored response ${id} is not a response` }))
    }
    return { response: { ...response, output } as unknown as ResponseObject, input, accountId }
  })

/** How many responses of a conversation are read per query at most (a bound on bound parameters too). */
const CHAIN_CHUNK = 500

/** Responses being written: reads serve them before they reach the database. */
export type PendingResponses = Map<string, { readonly stored: StoredResponse; readonly seq: number }>

/** Forgets the responses of a settled batch (unless saved again since). */
export const settlePending = (pending: PendingResponses, batch: ReadonlyArray<WriteItem>): void => {
  for (const item of batch) {
    if (item._tag !== "response") continue
    const entry = pending.get(item.stored.response.id)
    if (entry !== undefined && entry.stored === item.stored) pending.delete(item.stored.response.id)
  }
}

/** Options of the SQL responses store. */
export interface SqlResponsesOptions {
  /**
   * How long `save` waits for the response's row to be committed (default
   * 2 s); not at all while the database is failing. See `make`.
   */
  readonly writeWait?: Duration.DurationInput | undefined
}

/**
 * The `ResponsesStore` on SQL, written through the store's queue.
 *
 * Chaining must work the instant a response (or its `response.completed`
 * event) is delivered, and the facade saves a response before it hands
 * that out. Here `save` enqueues the response, registers it with the
 * read-through (so this process resolves it at once, whatever the
 * database does), then waits for its batch to commit: a waiting writer
 * does not linger, so that costs one transaction (shared with whatever
 * else is queued), not the queue's 50 ms. Another replica behind the same
 * load balancer therefore finds the response too, from the database, the
 * moment the client has it. The wait is bounded (`writeWait`) and skipped
 * while the database is failing, so an outage never holds answers up; in
 * that case only this process can chain on the response until the queue
 * writes it, and another replica answers `previous_response_not_found`
 * (a 400 the client can retry) meanwhile.
 *
 * Every read is scoped to the account: another account's response or item
 * is not found, exactly as a missing one.
 */
export const make = (
  sql: SqlClient.SqlClient,
  queue: WriteQueue<WriteItem>,
  pending: PendingResponses,
  options: SqlResponsesOptions = {}
): ResponsesStore["Type"] => {
  const writeWait = Duration.decode(options.writeWait ?? Duration.seconds(2))

  const pendingOf = (id: string, accountId: string | undefined): StoredResponse | undefined => {
    const entry = pending.get(id)
    return entry !== undefined && owner(entry.stored.accountId) === owner(accountId) ? entry.stored : undefined
  }

  const save = (stored: StoredResponse): Effect.Effect<void, StoreUnavailable> =>
    Effect.suspend(() => {
      const seq = queue.unsafeOffer({ _tag: "response", stored })
      if (seq === undefined) {
        return Effect.zipRight(
          queue.reportDropped,
          Effect.fail(new StoreUnavailable({ message: "The store's write queue is full: the response was not stored." }))
        )
      }
      pending.set(stored.response.id, { stored, seq })
      if (queue.lastError() !== null) return Effect.void
      return Effect.asVoid(Effect.timeoutOption(queue.awaitSettled(seq), writeWait))
    })

  const exists = (id: string, accountId: string | undefined) =>
    Effect.map(
      query(sql`SELECT id FROM responses WHERE id = ${id} AND account_id = ${owner(accountId)}`),
      (rows) => rows.length > 0
    )

  const get = Effect.fn("ResponsesStore.get")(function*(id: string, accountId: string | undefined) {
    const queued = pendingOf(id, accountId)
    if (queued !== undefined) return Option.some(queued)
    const rows = yield* query(sql`SELECT response FROM responses WHERE id = ${id} AND account_id = ${owner(accountId)}`).pipe(
      Effect.flatMap((rows) => Effect.mapError(decodeResponses(rows), unreadable))
    )
    const row = rows[0]
    if (row === undefined) return Option.none()
    const itemRows = yield* query(sql`SELECT kind, item FROM response_items WHERE response_id = ${id} ORDER BY kind, seq`).pipe(
      Effect.flatMap((rows) => Effect.mapError(decodeItems(rows), unreadable))
    )
    return Option.some(yield* toStored(id, row.response, itemRows, accountId))
  })

  /**
   * Up to `CHAIN_CHUNK` responses of a conversation from `id` back, in two
   * queries (a recursive one over `previous_response_id`, then their items),
   * newest first; empty if `id` is not there.
   */
  const chainFrom = (id: string, accountId: string | undefined) =>
    Effect.gen(function*() {
      const account = owner(accountId)
      const rows = yield* query(sql`WITH RECURSIVE chain(id, previous_response_id, depth) AS (
          SELECT id, previous_response_id, 0 FROM responses WHERE id = ${id} AND account_id = ${account}
          UNION ALL
          SELECT r.id, r.previous_response_id, c.depth + 1 FROM chain c JOIN responses r ON r.id = c.previous_response_id
          WHERE r.account_id = ${account} AND c.depth < ${sql.literal(String(CHAIN_CHUNK - 1))}
        )
        SELECT r.id, r.response, r.previous_response_id FROM chain c JOIN responses r ON r.id = c.id ORDER BY c.depth`).pipe(
        Effect.flatMap((rows) => Effect.mapError(decodeChain(rows), unreadable))
      )
      if (rows.length === 0) return []
      const itemRows = yield* query(
        sql`SELECT response_id, kind, item FROM response_items WHERE response_id IN ${sql.in(rows.map((r) => r.id))} ORDER BY response_id, kind, seq`
      ).pipe(Effect.flatMap((rows) => Effect.mapError(decodeOwnedItems(rows), unreadable)))
      const byResponse = new Map<string, Array<typeof ItemRow.Type>>()
      for (const row of itemRows) {
        let list = byResponse.get(row.response_id)
        if (list === undefined) byResponse.set(row.response_id, list = [])
        list.push(row)
      }
      return yield* Effect.forEach(rows, (row) => toStored(row.id, row.response, byResponse.get(row.id) ?? [], accountId))
    })

  const conversation = Effect.fn("ResponsesStore.conversation")(function*(id: string, accountId: string | undefined) {
    const responses: Array<StoredResponse> = []
    const seen = new Set<string>()
    let next: string | null = id
    while (next !== null && !seen.has(next)) {
      // The newest responses may still be in the queue; the rest are read a chunk of links at a time.
      const queued = pendingOf(next, accountId)
      const found: ReadonlyArray<StoredResponse> = queued !== undefined ? [queued] : yield* chainFrom(next, accountId)
      if (found.length === 0) return { responses, missing: next }
      for (const stored of found) {
        if (seen.has(stored.response.id)) return { responses, missing: undefined }
        seen.add(stored.response.id)
        responses.push(stored)
      }
      next = found[found.length - 1]!.response.previous_response_id
    }
    return { responses, missing: undefined }
  })

  const getItem = Effect.fn("ResponsesStore.getItem")(function*(id: string, accountId: string | undefined) {
    // The queue holds the newest responses; among them, the last one offered wins.
    let queued: ResponseItem | undefined
    for (const { stored } of pending.values()) {
      if (owner(stored.accountId) !== owner(accountId)) continue
      for (const item of itemsOf(stored)) if (item.id === id) queued = item
    }
    if (queued !== undefined) return Option.some(queued)
    const rows = yield* query(
      sql`SELECT kind, item FROM response_items WHERE account_id = ${owner(accountId)} AND item_id = ${id} ORDER BY created_at DESC LIMIT 1`
    ).pipe(Effect.flatMap((rows) => Effect.mapError(decodeItems(rows), unreadable)))
    const items = yield* parseItems(rows)
    return Option.fromNullable(items[0])
  })

  const inputItems = Effect.fn("ResponsesStore.inputItems")(
    function*(id: string, accountId: string | undefined, page: InputItemsPage) {
      const queued = pendingOf(id, accountId)
      if (queued !== undefined) return Option.some(pageItems(queued.input, page))
      if (!(yield* exists(id, accountId))) return Option.none()
      const limit = itemsPageLimit(page)
      const asc = page.order === "asc"
      let after: number | undefined
      if (page.after !== undefined) {
        // Listing after an item the response does not hold: an empty page, as OpenAI answers.
        const rows = yield* query(
          sql`SELECT ${sql.literal(asc ? "MIN" : "MAX")}(seq) AS seq FROM response_items WHERE response_id = ${id} AND kind = 'input' AND item_id = ${page.after}`
        ).pipe(Effect.flatMap((rows) => Effect.mapError(decodeSeqs(rows), unreadable)))
        const seq = rows[0]?.seq ?? null
        if (seq === null) return Option.some(itemList([], false))
        after = seq
      }
      const rows = yield* query(
        sql`SELECT kind, item FROM response_items WHERE response_id = ${id} AND kind = 'input'${
          after === undefined ? sql.literal("") : sql` AND seq ${sql.literal(asc ? ">" : "<")} ${after}`
        } ORDER BY seq ${sql.literal(asc ? "ASC" : "DESC")} LIMIT ${sql.literal(String(limit + 1))}`
      ).pipe(Effect.flatMap((rows) => Effect.mapError(decodeItems(rows), unreadable)))
      const items = yield* parseItems(rows.slice(0, limit))
      return Option.some(itemList(items, rows.length > limit))
    }
  )

  const remove = Effect.fn("ResponsesStore.delete")(function*(id: string, accountId: string | undefined) {
    // A response still in the queue is written first, so that the delete applies to its rows.
    const entry = pending.get(id)
    if (entry !== undefined && owner(entry.stored.accountId) === owner(accountId)) {
      yield* queue.awaitSettled(entry.seq).pipe(
        Effect.timeoutFail({
          duration: Duration.seconds(10),
          onTimeout: () => new StoreUnavailable({ message: "The response is still waiting to be written; try again." })
        })
      )
    }
    return yield* query(sql.withTransaction(Effect.gen(function*() {
      const found = yield* sql`SELECT id FROM responses WHERE id = ${id} AND account_id = ${owner(accountId)}`
      if (found.length === 0) return false
      yield* sql`DELETE FROM response_items WHERE response_id = ${id}`
      yield* sql`DELETE FROM responses WHERE id = ${id}`
      return true
    })))
  })

  return { save, get, conversation, getItem, inputItems, delete: remove }
}

/** Deletes responses created before `cutoff` (ms) with their items, a thousand at a time; how many. */
export const purgeBefore = (sql: SqlClient.SqlClient, cutoff: number): Effect.Effect<number, StoreUnavailable> =>
  Effect.gen(function*() {
    let total = 0
    for (;;) {
      const rows = yield* query(sql<{ readonly id: string }>`SELECT id FROM responses WHERE created_at < ${cutoff} LIMIT 1000`)
      if (rows.length === 0) return total
      const ids = rows.map((row) => row.id)
      yield* query(sql.withTransaction(Effect.all([
        sql`DELETE FROM response_items WHERE response_id IN ${sql.in(ids)}`,
        sql`DELETE FROM responses WHERE id IN ${sql.in(ids)}`
      ], { discard: true })))
      total += ids.length
    }
  })

import type { SqlClient, SqlError } from "@effect/sql"
import type { Fragment } from "@effect/sql/Statement"
import { type ChatCompletion, ChatCompletionRequest, looksLikeCompletion, StoreUnavailable } from "@switchyard/core"
import {
  type AccountScope,
  clampLimit,
  type CompletionSearch,
  type CompletionSummary,
  inScope,
  tokensOf,
  cursorTimeOf,
  type CursorPosition,
  pageOfMessages,
  type StoredCompletion,
  type StoredCompletionQuery,
  type StoredCompletionRecord,
  StoredCompletions,
  StoredCompletionStatus,
  StoredMetadata,
  unknownCursor,
  withoutRequest
} from "@switchyard/service"
import { Duration, Effect, Option, Schema } from "effect"
import { DbInt, query } from "./Database.js"
import type { WriteItem } from "./WriteItem.js"
import type { WriteQueue } from "./WriteQueue.js"

/** Rows per INSERT statement: far below SQLite's and PostgreSQL's limits on bound parameters. */
const INSERT_CHUNK = 200

const chunks = <A>(rows: ReadonlyArray<A>, size: number): ReadonlyArray<ReadonlyArray<A>> => {
  const out: Array<ReadonlyArray<A>> = []
  for (let i = 0; i < rows.length; i += size) out.push(rows.slice(i, i + size))
  return out
}

const roundOrNull = (n: number | null): number | null => (n === null ? null : Math.round(n))

/** The token columns of an answer (`null` without usage), so that lists never parse answers. */
const tokenColumns = (completion: ChatCompletion) => {
  const tokens = tokensOf(completion)
  return {
    prompt_tokens: tokens?.promptTokens ?? null,
    completion_tokens: tokens?.completionTokens ?? null,
    cached_tokens: tokens?.cachedTokens ?? null,
    reasoning_tokens: tokens?.reasoningTokens ?? null
  }
}

/** A LIKE pattern matching a text anywhere (`\\` escapes). */
const containing = (text: string): string => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`

/** Inserts stored completions (idempotently: a retried batch skips what already landed). */
export const insertCompletions = (
  sql: SqlClient.SqlClient,
  records: ReadonlyArray<StoredCompletionRecord>
): Effect.Effect<void, SqlError.SqlError> => {
  if (records.length === 0) return Effect.void
  const completions = records.map((r) => ({
    id: r.id,
    account_id: r.accountId,
    created_at: Math.round(r.createdAt),
    model: r.model,
    target: r.target,
    status: r.status,
    stream: r.stream ? 1 : 0,
    key_id: r.keyId,
    request_id: r.requestId,
    latency_ms: roundOrNull(r.latencyMs),
    first_chunk_ms: roundOrNull(r.firstChunkMs),
    metadata: JSON.stringify(r.metadata),
    completion: JSON.stringify(r.completion),
    ...tokenColumns(r.completion)
  }))
  const requests = records.map((r) => ({ completion_id: r.id, request: JSON.stringify(r.request) }))
  const metadata = records.flatMap((r) =>
    Object.entries(r.metadata).map(([key, value]) => ({
      account_id: r.accountId,
      key,
      value,
      created_at: Math.round(r.createdAt),
      completion_id: r.id
    }))
  )
  return Effect.forEach(
    [
      ...chunks(completions, INSERT_CHUNK).map((rows) =>
        sql`INSERT INTO stored_completions ${sql.insert(rows)} ON CONFLICT DO NOTHING`
      ),
      ...chunks(requests, INSERT_CHUNK).map((rows) =>
        sql`INSERT INTO stored_completion_requests ${sql.insert(rows)} ON CONFLICT DO NOTHING`
      ),
      ...chunks(metadata, INSERT_CHUNK).map((rows) =>
        sql`INSERT INTO stored_completion_metadata ${sql.insert(rows)} ON CONFLICT DO NOTHING`
      )
    ],
    (statement) => statement,
    { discard: true }
  )
}

const newestFirst = (a: { readonly created_at: number; readonly id: string }, b: { readonly created_at: number; readonly id: string }) =>
  b.created_at - a.created_at || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0)

const CompletionRow = Schema.Struct({
  id: Schema.String,
  account_id: Schema.String,
  key_id: Schema.NullOr(Schema.String),
  request_id: Schema.String,
  created_at: DbInt,
  model: Schema.String,
  target: Schema.NullOr(Schema.String),
  status: StoredCompletionStatus,
  stream: DbInt,
  latency_ms: Schema.NullOr(DbInt),
  first_chunk_ms: Schema.NullOr(DbInt),
  metadata: Schema.parseJson(StoredMetadata),
  // Written by the gateway from a checked completion: a structural check on the way out is enough (and
  // ~30× cheaper than decoding the Schema, which matters on a page of 100).
  completion: Schema.String
})
const decodeCompletions = Schema.decodeUnknown(Schema.Array(CompletionRow))
const decodeRequest = Schema.decodeUnknown(Schema.Struct({ request: Schema.parseJson(ChatCompletionRequest) }))
const decodeTimes = Schema.decodeUnknown(Schema.Array(Schema.Struct({ created_at: DbInt })))
const decodeOwnedTimes = Schema.decodeUnknown(Schema.Array(Schema.Struct({ created_at: DbInt, account_id: Schema.String })))
const decodeRequests = Schema.decodeUnknown(
  Schema.Array(Schema.Struct({ completion_id: Schema.String, request: Schema.parseJson(ChatCompletionRequest) }))
)
const decodeCount = Schema.decodeUnknown(Schema.Array(Schema.Struct({ n: DbInt })))

const unreadable = (error: { readonly message: string }) =>
  new StoreUnavailable({ message: `Stored data could not be read: ${error.message}` })

const parseCompletion = (text: string): ChatCompletion | undefined => {
  try {
    const value: unknown = JSON.parse(text)
    return looksLikeCompletion(value) ? value : undefined
  } catch {
    return undefined
  }
}

const toCompletions = (rows: ReadonlyArray<typeof CompletionRow.Type>): Effect.Effect<ReadonlyArray<StoredCompletion>, StoreUnavailable> => {
  const out: Array<StoredCompletion> = []
  for (const row of rows) {
    const completion = parseCompletion(row.completion)
    if (completion === undefined) return Effect.fail(unreadable({ message: `the completion of ${row.id} is not a chat completion` }))
    out.push(toCompletion(row, completion))
  }
  return Effect.succeed(out)
}

const toCompletion = (row: typeof CompletionRow.Type, completion: ChatCompletion): StoredCompletion => ({
  ...callOf(row),
  completion
})

/** A search row: a completion row without its answer, with the token columns. */
const { completion: _completion, ...summaryFields } = CompletionRow.fields
const SummaryRow = Schema.Struct({
  ...summaryFields,
  prompt_tokens: Schema.NullOr(DbInt),
  completion_tokens: Schema.NullOr(DbInt),
  cached_tokens: Schema.NullOr(DbInt),
  reasoning_tokens: Schema.NullOr(DbInt)
})
const decodeSummaries = Schema.decodeUnknown(Schema.Array(SummaryRow))

/** What a completion row and a search row share, as the port has it. */
const callOf = (row: typeof SummaryRow.Type | typeof CompletionRow.Type) => ({
  id: row.id,
  accountId: row.account_id,
  keyId: row.key_id,
  requestId: row.request_id,
  createdAt: row.created_at,
  model: row.model,
  target: row.target,
  status: row.status,
  stream: row.stream !== 0,
  metadata: row.metadata,
  latencyMs: row.latency_ms,
  firstChunkMs: row.first_chunk_ms
})

const toSummary = (row: typeof SummaryRow.Type): CompletionSummary => ({
  ...callOf(row),
  tokens: row.prompt_tokens === null || row.completion_tokens === null ? null : {
    promptTokens: row.prompt_tokens,
    completionTokens: row.completion_tokens,
    cachedTokens: row.cached_tokens ?? 0,
    reasoningTokens: row.reasoning_tokens ?? 0
  }
})


/** A filter that could drive a list query: walk its index, check the others per row. */
type Driver =
  | { readonly _tag: "account" }
  | { readonly _tag: "model" }
  | { readonly _tag: "metadata"; readonly key: string; readonly value: string }

/** Rows a driver's estimate counts at most: enough to tell a selective filter from a broad one. */
const ESTIMATE_CAP = 1000

/**
 * The same for the dashboard's search, whose pages are larger and whose scopes are wider: a metadata pair
 * of a thousand rows must win over one of a hundred thousand (counting 10,000 index entries takes ~1 ms).
 */
const SEARCH_ESTIMATE_CAP = 10_000

/** Completions being written: `get` reads them before they reach the database. */
export type PendingCompletions = Map<string, { readonly record: StoredCompletionRecord; readonly seq: number }>

/** Forgets the completions of a settled batch (unless saved again since). */
export const settlePending = (pending: PendingCompletions, batch: ReadonlyArray<WriteItem>): void => {
  for (const item of batch) {
    if (item._tag !== "completion") continue
    const entry = pending.get(item.record.id)
    if (entry !== undefined && entry.record === item.record) pending.delete(item.record.id)
  }
}

/**
 * Stored completions on SQL, written through the store's queue. Lists walk
 * an index in creation order: the account's `(account_id, created_at, id)`,
 * the model's, or a metadata pair's row in the side table, whichever filter
 * is most selective; the other filters are checked per row. Lists never read
 * the request table.
 */
export const make = (
  sql: SqlClient.SqlClient,
  queue: WriteQueue<WriteItem>,
  pending: PendingCompletions
): StoredCompletions["Type"] => {
  const columns = sql.literal(
    "c.id, c.account_id, c.key_id, c.request_id, c.created_at, c.model, c.target, c.status, c.stream, " +
      "c.latency_ms, c.first_chunk_ms, c.metadata, c.completion"
  )

  const pendingOf = (accountId: string, id: string): StoredCompletionRecord | undefined => {
    const entry = pending.get(id)
    return entry !== undefined && entry.record.accountId === accountId ? entry.record : undefined
  }

  /** Waits until a completion still in the queue is written, so that a change applies to its row. */
  const settled = (id: string): Effect.Effect<void, StoreUnavailable> => {
    const entry = pending.get(id)
    if (entry === undefined) return Effect.void
    return queue.awaitSettled(entry.seq).pipe(
      Effect.timeoutFail({
        duration: Duration.seconds(10),
        onTimeout: () => new StoreUnavailable({ message: "The completion is still waiting to be written; try again." })
      })
    )
  }

  const findRows = (where: Fragment) =>
    query(sql`SELECT ${columns} FROM stored_completions c WHERE ${where}`).pipe(
      Effect.flatMap((rows) => Effect.mapError(decodeCompletions(rows), unreadable)),
      Effect.flatMap(toCompletions)
    )

  const getStored = (accountId: string, id: string) =>
    Effect.map(findRows(sql`c.id = ${id} AND c.account_id = ${accountId}`), (rows) => Option.fromNullable(rows[0]))

  /** How many rows a driver would walk (up to `cap`), for one account or all. */
  const estimate = (account: string | undefined, driver: Driver, model: string | undefined, cap: number) => {
    const scope = account === undefined ? sql.literal("1 = 1") : sql`account_id = ${account}`
    return query(
      driver._tag === "metadata"
        ? sql`SELECT COUNT(*) AS n FROM (SELECT 1 FROM stored_completion_metadata WHERE ${scope} AND key = ${driver.key} AND value = ${driver.value} LIMIT ${
          sql.literal(String(cap))
        }) t`
        : sql`SELECT COUNT(*) AS n FROM (SELECT 1 FROM stored_completions WHERE ${scope} AND model = ${model ?? ""} LIMIT ${
          sql.literal(String(cap))
        }) t`
    ).pipe(
      Effect.flatMap((rows) => Effect.mapError(decodeCount(rows), unreadable)),
      Effect.map((rows) => rows[0]?.n ?? 0)
    )
  }

  /** The filter whose index to walk: the only one, else the one with the fewest rows (up to `cap`). */
  const pickDriver = (
    filters: { readonly metadata?: Readonly<Record<string, string>> | undefined; readonly model?: string | undefined },
    account: string | undefined,
    cap: number
  ) =>
    Effect.gen(function*() {
      const candidates: Array<Driver> = Object.entries(filters.metadata ?? {}).map(([key, value]) => ({
        _tag: "metadata",
        key,
        value
      }))
      if (filters.model !== undefined) candidates.push({ _tag: "model" })
      if (candidates.length <= 1) return candidates[0] ?? ({ _tag: "account" } as const)
      let best = candidates[0]!
      let bestCount = Number.POSITIVE_INFINITY
      for (const candidate of candidates) {
        const n = yield* estimate(account, candidate, filters.model, cap)
        if (n < bestCount) {
          best = candidate
          bestCount = n
        }
      }
      return best
    })

  const chooseDriver = (q: StoredCompletionQuery) => pickDriver(q, q.accountId, ESTIMATE_CAP)

  const cursorPosition = (accountId: string, after: string) =>
    Effect.gen(function*() {
      const queued = pendingOf(accountId, after)
      if (queued !== undefined) return { createdAt: queued.createdAt, id: after }
      const rows = yield* query(
        sql`SELECT created_at FROM stored_completions WHERE id = ${after} AND account_id = ${accountId}`
      ).pipe(Effect.flatMap((rows) => Effect.mapError(decodeTimes(rows), unreadable)))
      // A deleted cursor keeps its place: the gateway's ids carry their creation time.
      const createdAt = rows[0]?.created_at ?? cursorTimeOf(after)
      if (createdAt === undefined) return yield* Effect.fail(unknownCursor(after))
      return { createdAt, id: after } satisfies CursorPosition
    })

  const list = Effect.fn("StoredCompletions.list")(function*(q: StoredCompletionQuery) {
    const limit = clampLimit(q.limit)
    const position = q.after === undefined ? undefined : yield* cursorPosition(q.accountId, q.after)
    const driver = yield* chooseDriver(q)
    const asc = q.order === "asc"
    const dir = sql.literal(asc ? "ASC" : "DESC")
    const cmp = sql.literal(asc ? ">" : "<")
    const [time, id] = driver._tag === "metadata"
      ? [sql.literal("d.created_at"), sql.literal("d.completion_id")]
      : [sql.literal("c.created_at"), sql.literal("c.id")]
    const clauses: Array<Fragment> = []
    if (driver._tag === "metadata") {
      clauses.push(sql`d.account_id = ${q.accountId} AND d.key = ${driver.key} AND d.value = ${driver.value}`)
    } else {
      clauses.push(sql`c.account_id = ${q.accountId}`)
    }
    if (position !== undefined) clauses.push(sql`(${time}, ${id}) ${cmp} (${position.createdAt}, ${position.id})`)
    if (q.model !== undefined) clauses.push(sql`c.model = ${q.model}`)
    for (const [key, value] of Object.entries(q.metadata ?? {})) {
      if (driver._tag === "metadata" && driver.key === key) continue
      clauses.push(
        sql`EXISTS (SELECT 1 FROM stored_completion_metadata e WHERE e.completion_id = c.id AND e.key = ${key} AND e.value = ${value})`
      )
    }
    const from = driver._tag === "metadata"
      ? sql`stored_completion_metadata d JOIN stored_completions c ON c.id = d.completion_id`
      : sql`stored_completions c`
    const rows = yield* query(
      sql`SELECT ${columns} FROM ${from} WHERE ${sql.and(clauses)} ORDER BY ${time} ${dir}, ${id} ${dir} LIMIT ${
        sql.literal(String(limit + 1))
      }`
    ).pipe(Effect.flatMap((rows) => Effect.mapError(decodeCompletions(rows), unreadable)))
    return { data: yield* toCompletions(rows.slice(0, limit)), hasMore: rows.length > limit }
  })

  const get = Effect.fn("StoredCompletions.get")(function*(accountId: string, id: string) {
    const queued = pendingOf(accountId, id)
    if (queued !== undefined) return Option.some(withoutRequest(queued))
    return yield* getStored(accountId, id)
  })

  const request = Effect.fn("StoredCompletions.request")(function*(accountId: string, id: string) {
    const queued = pendingOf(accountId, id)
    if (queued !== undefined) return Option.some(queued.request)
    const rows = yield* query(
      sql`SELECT r.request FROM stored_completion_requests r JOIN stored_completions c ON c.id = r.completion_id WHERE c.id = ${id} AND c.account_id = ${accountId}`
    )
    if (rows.length === 0) return Option.none()
    const decoded = yield* Effect.mapError(decodeRequest(rows[0]), unreadable)
    return Option.some(decoded.request)
  })

  const updateMetadata = Effect.fn("StoredCompletions.updateMetadata")(
    function*(accountId: string, id: string, metadata: StoredMetadata) {
      yield* settled(id)
      const rows = yield* query(sql.withTransaction(Effect.gen(function*() {
        const found = yield* sql`SELECT created_at FROM stored_completions WHERE id = ${id} AND account_id = ${accountId}`
        if (found.length === 0) return found
        const createdAt = (yield* Effect.orDie(decodeTimes(found)))[0]!.created_at
        yield* sql`UPDATE stored_completions SET metadata = ${JSON.stringify(metadata)} WHERE id = ${id}`
        yield* sql`DELETE FROM stored_completion_metadata WHERE completion_id = ${id}`
        const pairs = Object.entries(metadata).map(([key, value]) => ({
          account_id: accountId,
          key,
          value,
          created_at: createdAt,
          completion_id: id
        }))
        if (pairs.length > 0) yield* sql`INSERT INTO stored_completion_metadata ${sql.insert(pairs)}`
        return found
      })))
      if (rows.length === 0) return Option.none()
      return yield* getStored(accountId, id)
    }
  )

  const remove = Effect.fn("StoredCompletions.delete")(function*(accountId: string, id: string) {
    yield* settled(id)
    return yield* query(sql.withTransaction(Effect.gen(function*() {
      const found = yield* sql`SELECT id FROM stored_completions WHERE id = ${id} AND account_id = ${accountId}`
      if (found.length === 0) return false
      yield* sql`DELETE FROM stored_completion_metadata WHERE completion_id = ${id}`
      yield* sql`DELETE FROM stored_completion_requests WHERE completion_id = ${id}`
      yield* sql`DELETE FROM stored_completions WHERE id = ${id}`
      return true
    })))
  })

  const messages = Effect.fn("StoredCompletions.messages")(
    function*(accountId: string, id: string, q: Parameters<StoredCompletions["Type"]["messages"]>[2]) {
      const found = yield* request(accountId, id)
      if (Option.isNone(found)) return Option.none()
      return Option.some(yield* pageOfMessages(id, found.value, q))
    }
  )

  const summaryColumns = sql.literal(
    "c.id, c.account_id, c.key_id, c.request_id, c.created_at, c.model, c.target, c.status, c.stream, " +
      "c.latency_ms, c.first_chunk_ms, c.metadata, c.prompt_tokens, c.completion_tokens, c.cached_tokens, c.reasoning_tokens"
  )
  const like = sql.onDialectOrElse({ pg: () => sql.literal("ILIKE"), orElse: () => sql.literal("LIKE") })

  /** The index a search walks for one account (or all): a metadata pair's, the model's, or time's. */
  const searchDriver = (q: CompletionSearch, account: string | undefined) => pickDriver(q, account, SEARCH_ESTIMATE_CAP)

  /** Up to `n` rows of a search for one account (or all), newest first, walking one index. */
  const searchRows = (q: CompletionSearch, account: string | undefined, position: CursorPosition | undefined, n: number) =>
    Effect.gen(function*() {
      const driver = yield* searchDriver(q, account)
      const [time, id] = driver._tag === "metadata"
        ? [sql.literal("d.created_at"), sql.literal("d.completion_id")]
        : [sql.literal("c.created_at"), sql.literal("c.id")]
      const clauses: Array<Fragment> = []
      if (driver._tag === "metadata") {
        clauses.push(sql`d.key = ${driver.key} AND d.value = ${driver.value}`)
        if (account !== undefined) clauses.push(sql`d.account_id = ${account}`)
      } else if (account !== undefined) {
        clauses.push(sql`c.account_id = ${account}`)
      }
      if (q.model !== undefined) clauses.push(sql`c.model = ${q.model}`)
      if (q.since !== undefined) clauses.push(sql`${time} >= ${Math.floor(q.since)}`)
      if (q.until !== undefined) clauses.push(sql`${time} < ${Math.ceil(q.until)}`)
      if (position !== undefined) clauses.push(sql`(${time}, ${id}) < (${position.createdAt}, ${position.id})`)
      if (q.status !== undefined) clauses.push(sql`c.status = ${q.status}`)
      for (const [key, value] of Object.entries(q.metadata ?? {})) {
        if (driver._tag === "metadata" && driver.key === key) continue
        clauses.push(
          sql`EXISTS (SELECT 1 FROM stored_completion_metadata e WHERE e.completion_id = c.id AND e.key = ${key} AND e.value = ${value})`
        )
      }
      if (q.text !== undefined && q.text !== "") {
        const pattern = containing(q.text)
        clauses.push(
          sql`(c.completion ${like} ${pattern} ESCAPE '\\' OR EXISTS (SELECT 1 FROM stored_completion_requests r WHERE r.completion_id = c.id AND r.request ${like} ${pattern} ESCAPE '\\'))`
        )
      }
      const from = driver._tag === "metadata"
        ? sql`stored_completion_metadata d JOIN stored_completions c ON c.id = d.completion_id`
        : sql`stored_completions c`
      const where = clauses.length === 0 ? sql.literal("1 = 1") : sql.and(clauses)
      const rows = yield* query(
        sql`SELECT ${summaryColumns} FROM ${from} WHERE ${where} ORDER BY ${time} DESC, ${id} DESC LIMIT ${sql.literal(String(n))}`
      )
      return yield* Effect.mapError(decodeSummaries(rows), unreadable)
    })

  const searchCursor = (accounts: AccountScope, after: string) =>
    Effect.gen(function*() {
      const rows = yield* query(sql`SELECT created_at, account_id FROM stored_completions WHERE id = ${after}`).pipe(
        Effect.flatMap((rows) => Effect.mapError(decodeOwnedTimes(rows), unreadable))
      )
      const own = rows[0] !== undefined && inScope(accounts, rows[0].account_id) ? rows[0].created_at : undefined
      const createdAt = own ?? cursorTimeOf(after)
      if (createdAt === undefined) return yield* Effect.fail(unknownCursor(after))
      return { createdAt, id: after } satisfies CursorPosition
    })

  const search = Effect.fn("StoredCompletions.search")(function*(q: CompletionSearch) {
    const accounts = q.accounts === "all" ? [undefined] : [...new Set(q.accounts)]
    if (accounts.length === 0) return { data: [], hasMore: false }
    const limit = clampLimit(q.limit)
    const position = q.after === undefined ? undefined : yield* searchCursor(q.accounts, q.after)
    // One index walk per account (each stops after a page), merged: never a scan of the accounts' rows.
    const pages = yield* Effect.forEach(accounts, (account) => searchRows(q, account, position, limit + 1))
    const rows = pages.flat().sort(newestFirst)
    return { data: rows.slice(0, limit).map(toSummary), hasMore: rows.length > limit }
  })

  const findMany = Effect.fn("StoredCompletions.findMany")(function*(accounts: AccountScope, ids: ReadonlyArray<string>) {
    const found: Array<StoredCompletionRecord> = []
    const rest: Array<string> = []
    for (const id of new Set(ids)) {
      const queued = pending.get(id)?.record
      if (queued !== undefined) {
        if (inScope(accounts, queued.accountId)) found.push(queued)
      } else rest.push(id)
    }
    for (const batch of chunks(rest, INSERT_CHUNK)) {
      const completions = yield* findRows(sql`c.id IN ${sql.in(batch)}`)
      const owned = completions.filter((c) => inScope(accounts, c.accountId))
      if (owned.length === 0) continue
      const requests = yield* query(
        sql`SELECT completion_id, request FROM stored_completion_requests WHERE completion_id IN ${sql.in(owned.map((c) => c.id))}`
      ).pipe(Effect.flatMap((rows) => Effect.mapError(decodeRequests(rows), unreadable)))
      const byId = new Map(requests.map((r) => [r.completion_id, r.request]))
      for (const completion of owned) {
        const request = byId.get(completion.id)
        if (request !== undefined) found.push({ ...completion, request })
      }
    }
    return found
  })

  return {
    search,
    findMany,
    save: (record) =>
      Effect.suspend(() => {
        const seq = queue.unsafeOffer({ _tag: "completion", record })
        if (seq === undefined) return queue.reportDropped
        pending.set(record.id, { record, seq })
        return Effect.void
      }),
    list,
    get,
    request,
    updateMetadata,
    delete: remove,
    messages
  }
}

/** Deletes stored completions created before `cutoff` (ms), a thousand at a time; how many. */
export const purgeBefore = (sql: SqlClient.SqlClient, cutoff: number): Effect.Effect<number, StoreUnavailable> =>
  Effect.gen(function*() {
    let total = 0
    for (;;) {
      const rows = yield* query(sql<{ readonly id: string }>`SELECT id FROM stored_completions WHERE created_at < ${cutoff} LIMIT 1000`)
      if (rows.length === 0) return total
      const ids = rows.map((row) => row.id)
      yield* query(sql.withTransaction(Effect.all([
        sql`DELETE FROM stored_completion_metadata WHERE completion_id IN ${sql.in(ids)}`,
        sql`DELETE FROM stored_completion_requests WHERE completion_id IN ${sql.in(ids)}`,
        sql`DELETE FROM stored_completions WHERE id IN ${sql.in(ids)}`
      ], { discard: true })))
      total += ids.length
    }
  })

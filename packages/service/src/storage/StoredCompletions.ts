import {
  ChatCompletion,
  ChatCompletionRequest,
  type ChatCompletionMessageParam,
  InvalidRequest,
  type StoreUnavailable
} from "@switchyard/core"
import { Clock, Context, Effect, Layer, Option, Schema } from "effect"
import { completionIdPrefix, idTime } from "./Ids.js"

/** How a stored completion ended: answered in full, cut short (the client left, or the stream failed), or failed. */
export const StoredCompletionStatus = Schema.Literal("completed", "incomplete", "failed")
export type StoredCompletionStatus = typeof StoredCompletionStatus.Type

/** Developer-defined tags of a stored completion, the filter keys of a list. */
export const StoredMetadata = Schema.Record({ key: Schema.String, value: Schema.String })
export type StoredMetadata = typeof StoredMetadata.Type

/**
 * A stored completion as lists and lookups return it: the answer and what is
 * known about the call, without the request's messages (read those with
 * `messages` or `request`).
 */
export const StoredCompletion = Schema.Struct({
  /** The id the client received (the gateway's own, see `mintCompletionId`). */
  id: Schema.String,
  accountId: Schema.String,
  /** The gateway key that made the call; `null` for env keys without an id or an open gateway. */
  keyId: Schema.NullOr(Schema.String),
  requestId: Schema.String,
  /** When the call started, in ms since the epoch; lists are ordered by it. */
  createdAt: Schema.Number,
  /** The model the client asked for (`vendor/model` or an alias). */
  model: Schema.String,
  /** The `vendor/model` that answered, once known. */
  target: Schema.NullOr(Schema.String),
  status: StoredCompletionStatus,
  stream: Schema.Boolean,
  metadata: StoredMetadata,
  /** The answer: the completion, or the aggregate of a stream's chunks as far as it got. */
  completion: ChatCompletion,
  latencyMs: Schema.NullOr(Schema.Number),
  /** For streams: time to the first chunk. */
  firstChunkMs: Schema.NullOr(Schema.Number)
}).annotations({ identifier: "StoredCompletion" })
export interface StoredCompletion extends Schema.Schema.Type<typeof StoredCompletion> {}

/** What is saved: a stored completion with its request (messages and parameters). */
export const StoredCompletionRecord = Schema.Struct({
  ...StoredCompletion.fields,
  request: ChatCompletionRequest
}).annotations({ identifier: "StoredCompletionRecord" })
export interface StoredCompletionRecord extends Schema.Schema.Type<typeof StoredCompletionRecord> {}

/** Sort order of a list, by creation time. */
export const ListOrder = Schema.Literal("asc", "desc")
export type ListOrder = typeof ListOrder.Type

/** The largest page a list returns. */
export const maxPageSize = 100

/** A query for stored completions of one account. */
export interface StoredCompletionQuery {
  readonly accountId: string
  /** Only completions for this requested model. */
  readonly model?: string | undefined
  /** Only completions carrying every one of these pairs (AND). */
  readonly metadata?: Readonly<Record<string, string>> | undefined
  /** A cursor: the id of the last item of the previous page. */
  readonly after?: string | undefined
  /** 1 to 100. */
  readonly limit: number
  readonly order: ListOrder
}

/** A page of a cursor-paginated list. */
export interface CursorPage<A> {
  readonly data: ReadonlyArray<A>
  readonly hasMore: boolean
}

/** The accounts a query may see: some, or `"all"` (admin keys). */
export type AccountScope = ReadonlyArray<string> | "all"

/**
 * A search of stored completions for the dashboard: newest first, across the
 * accounts of a scope, filtered by model, status, a time range, metadata
 * pairs (AND) and a case-insensitive text in the request (as JSON) and the answer.
 */
export interface CompletionSearch {
  readonly accounts: AccountScope
  readonly model?: string | undefined
  readonly status?: StoredCompletionStatus | undefined
  /** Created at or after (ms). */
  readonly since?: number | undefined
  /** Created before (ms). */
  readonly until?: number | undefined
  readonly metadata?: Readonly<Record<string, string>> | undefined
  /** A substring of the request (messages and parameters, as JSON) or the answer, any case. */
  readonly text?: string | undefined
  /** A cursor: the id of the last row of the previous page. */
  readonly after?: string | undefined
  /** 1 to 100. */
  readonly limit: number
}

/** Token counts of a stored completion, from its answer's usage. */
export interface CompletionTokens {
  readonly promptTokens: number
  readonly completionTokens: number
  readonly cachedTokens: number
  readonly reasoningTokens: number
}

/** A row of a search: what is known about a call, without its request or answer. */
export interface CompletionSummary extends Omit<StoredCompletion, "completion"> {
  /** `null` when the answer carried no usage. */
  readonly tokens: CompletionTokens | null
}

/** The token counts of an answer's usage. */
export const tokensOf = (completion: ChatCompletion): CompletionTokens | null => {
  const usage = completion.usage
  if (usage === undefined || usage === null) return null
  return {
    promptTokens: usage.prompt_tokens,
    completionTokens: usage.completion_tokens,
    cachedTokens: usage.prompt_tokens_details?.cached_tokens ?? 0,
    reasoningTokens: usage.completion_tokens_details?.reasoning_tokens ?? 0
  }
}

/** A search row from a stored completion. */
export const summaryOf = ({ completion, ...rest }: StoredCompletion): CompletionSummary => ({
  ...rest,
  tokens: tokensOf(completion)
})

/** Whether a scope includes an account. */
export const inScope = (scope: AccountScope, accountId: string): boolean =>
  scope === "all" || scope.includes(accountId)

/** Whether a record matches a search's filters (not its cursor). */
export const matchesSearch = (record: StoredCompletionRecord, search: CompletionSearch): boolean =>
  inScope(search.accounts, record.accountId) &&
  (search.model === undefined || record.model === search.model) &&
  (search.status === undefined || record.status === search.status) &&
  (search.since === undefined || record.createdAt >= search.since) &&
  (search.until === undefined || record.createdAt < search.until) &&
  matchesMetadata(record.metadata, search.metadata) &&
  (search.text === undefined || search.text === "" ||
    (JSON.stringify(record.request) + JSON.stringify(record.completion)).toLowerCase()
      .includes(search.text.toLowerCase()))

/** One message of a stored request, with its id (`<completion id>-<index>`). */
export interface StoredMessage {
  readonly id: string
  readonly message: ChatCompletionMessageParam
}

/** A query for the messages of one stored completion. */
export interface StoredMessageQuery {
  readonly after?: string | undefined
  readonly limit: number
  readonly order: ListOrder
}

/**
 * Stored completions (`store: true`) by account. `save` enqueues without
 * waiting and never fails (a full queue is counted and logged by the
 * implementation); `get` and `request` see a saved record at once, even
 * before it reaches the database. Another account's completion is never
 * visible: it answers like a missing one.
 */
export class StoredCompletions extends Context.Tag("@switchyard/service/StoredCompletions")<StoredCompletions, {
  /** Stores a finished (or abandoned) completion, in the background. */
  readonly save: (record: StoredCompletionRecord) => Effect.Effect<void>
  /** A page of an account's completions, without their messages. */
  readonly list: (
    query: StoredCompletionQuery
  ) => Effect.Effect<CursorPage<StoredCompletion>, StoreUnavailable | InvalidRequest>
  /** One completion of the account. */
  readonly get: (accountId: string, id: string) => Effect.Effect<Option.Option<StoredCompletion>, StoreUnavailable>
  /** The request a completion answered (messages and parameters). */
  readonly request: (
    accountId: string,
    id: string
  ) => Effect.Effect<Option.Option<ChatCompletionRequest>, StoreUnavailable>
  /** Replaces a completion's metadata; the updated completion, or none if there is no such completion. */
  readonly updateMetadata: (
    accountId: string,
    id: string,
    metadata: StoredMetadata
  ) => Effect.Effect<Option.Option<StoredCompletion>, StoreUnavailable>
  /** Deletes a completion; whether it existed. */
  readonly delete: (accountId: string, id: string) => Effect.Effect<boolean, StoreUnavailable>
  /** A page of a search across accounts (newest first), rows without request or answer. */
  readonly search: (
    query: CompletionSearch
  ) => Effect.Effect<CursorPage<CompletionSummary>, StoreUnavailable | InvalidRequest>
  /** Completions by id, with their requests, among those of a scope (missing ones left out; any order). */
  readonly findMany: (
    accounts: AccountScope,
    ids: ReadonlyArray<string>
  ) => Effect.Effect<ReadonlyArray<StoredCompletionRecord>, StoreUnavailable>
  /** A page of a completion's request messages; none if there is no such completion. */
  readonly messages: (
    accountId: string,
    id: string,
    query: StoredMessageQuery
  ) => Effect.Effect<Option.Option<CursorPage<StoredMessage>>, StoreUnavailable | InvalidRequest>
}>() {
  /** Completions kept in memory, for tests and library users without a database. */
  static readonly layerMemory: Layer.Layer<StoredCompletions> = Layer.sync(StoredCompletions, () => makeMemory())
}

/** The cursor position of a completion id: its creation time and the id as tie-breaker. */
export interface CursorPosition {
  readonly createdAt: number
  readonly id: string
}

/** The creation time carried by a gateway-minted completion id, so a deleted cursor keeps its place. */
export const cursorTimeOf = (id: string): number | undefined => idTime(completionIdPrefix, id)

/** An `after` cursor that does not name a completion of the account. */
export const unknownCursor = (after: string): InvalidRequest =>
  new InvalidRequest({
    message: `The cursor \`after=${after}\` does not name a stored completion of this account.`,
    param: "after",
    code: "invalid_cursor"
  })

/** Whether a completion carries every metadata pair of a filter. */
export const matchesMetadata = (
  metadata: StoredMetadata,
  filter: Readonly<Record<string, string>> | undefined
): boolean => {
  if (filter === undefined) return true
  for (const key in filter) if (metadata[key] !== filter[key]) return false
  return true
}

/** Compares two cursor positions (creation time, then id). */
export const comparePositions = (a: CursorPosition, b: CursorPosition): number =>
  a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)

/** `limit` clamped to 1..100 (the HTTP layer rejects out-of-range values before this). */
export const clampLimit = (limit: number): number => Math.min(maxPageSize, Math.max(1, Math.floor(limit)))

/** The messages of a request as a page, each with its id; `after` is a message id of this completion. */
export const pageOfMessages = (
  completionId: string,
  request: ChatCompletionRequest,
  query: StoredMessageQuery
): Effect.Effect<CursorPage<StoredMessage>, InvalidRequest> => {
  const all = request.messages.map((message, index): StoredMessage => ({ id: `${completionId}-${index}`, message }))
  const ordered = query.order === "asc" ? all : [...all].reverse()
  let start = 0
  if (query.after !== undefined) {
    const at = ordered.findIndex((m) => m.id === query.after)
    if (at < 0) {
      return Effect.fail(
        new InvalidRequest({
          message: `The cursor \`after=${query.after}\` does not name a message of this completion.`,
          param: "after",
          code: "invalid_cursor"
        })
      )
    }
    start = at + 1
  }
  const limit = clampLimit(query.limit)
  return Effect.succeed({ data: ordered.slice(start, start + limit), hasMore: start + limit < ordered.length })
}

/** Strips the request from a record. */
export const withoutRequest = ({ request: _request, ...completion }: StoredCompletionRecord): StoredCompletion =>
  completion

const makeMemory = (): StoredCompletions["Type"] => {
  const records = new Map<string, StoredCompletionRecord>()
  const find = (accountId: string, id: string): StoredCompletionRecord | undefined => {
    const record = records.get(id)
    return record !== undefined && record.accountId === accountId ? record : undefined
  }
  return {
    save: (record) => Effect.sync(() => void records.set(record.id, record)),
    list: (query) =>
      Effect.gen(function*() {
        let position: CursorPosition | undefined
        if (query.after !== undefined) {
          const cursor = find(query.accountId, query.after)
          const createdAt = cursor?.createdAt ?? cursorTimeOf(query.after)
          if (createdAt === undefined) return yield* Effect.fail(unknownCursor(query.after))
          position = { createdAt, id: query.after }
        }
        const sign = query.order === "asc" ? 1 : -1
        const matching = [...records.values()]
          .filter((r) =>
            r.accountId === query.accountId &&
            (query.model === undefined || r.model === query.model) &&
            matchesMetadata(r.metadata, query.metadata) &&
            (position === undefined || sign * comparePositions(r, position) > 0)
          )
          .sort((a, b) => sign * comparePositions(a, b))
        const limit = clampLimit(query.limit)
        return { data: matching.slice(0, limit).map(withoutRequest), hasMore: matching.length > limit }
      }),
    get: (accountId, id) => Effect.sync(() => Option.map(Option.fromNullable(find(accountId, id)), withoutRequest)),
    request: (accountId, id) => Effect.sync(() => Option.map(Option.fromNullable(find(accountId, id)), (r) => r.request)),
    updateMetadata: (accountId, id, metadata) =>
      Effect.sync(() => {
        const record = find(accountId, id)
        if (record === undefined) return Option.none()
        const updated = { ...record, metadata }
        records.set(id, updated)
        return Option.some(withoutRequest(updated))
      }),
    delete: (accountId, id) => Effect.sync(() => find(accountId, id) !== undefined && records.delete(id)),
    search: (query) =>
      Effect.gen(function*() {
        let position: CursorPosition | undefined
        if (query.after !== undefined) {
          const cursor = records.get(query.after)
          const createdAt = cursor !== undefined && inScope(query.accounts, cursor.accountId)
            ? cursor.createdAt
            : cursorTimeOf(query.after)
          if (createdAt === undefined) return yield* Effect.fail(unknownCursor(query.after))
          position = { createdAt, id: query.after }
        }
        const matching = [...records.values()]
          .filter((r) => matchesSearch(r, query) && (position === undefined || comparePositions(r, position) < 0))
          .sort((a, b) => comparePositions(b, a))
        const limit = clampLimit(query.limit)
        return {
          data: matching.slice(0, limit).map((r) => summaryOf(withoutRequest(r))),
          hasMore: matching.length > limit
        }
      }),
    findMany: (accounts, ids) =>
      Effect.sync(() =>
        ids.flatMap((id) => {
          const record = records.get(id)
          return record !== undefined && inScope(accounts, record.accountId) ? [record] : []
        })
      ),
    messages: (accountId, id, query) => {
      const record = find(accountId, id)
      return record === undefined
        ? Effect.succeed(Option.none())
        : Effect.map(pageOfMessages(id, record.request, query), Option.some)
    }
  }
}

/** The creation time (ms) before which stored completions are past a retention of `retentionDays`. */
export const retentionCutoff = (retentionDays: number): Effect.Effect<number> =>
  Effect.map(Clock.currentTimeMillis, (now) => now - retentionDays * 86_400_000)

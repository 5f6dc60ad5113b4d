import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import {
  AccountForbidden,
  type Caller,
  CurrentCaller,
  type DashboardCompletionDetail,
  type DashboardCompletionRow,
  type DashboardFilterParams,
  type DashboardUsageRow,
  InvalidRequest,
  ResourceNotFound,
  SwitchyardApi
} from "@switchyard/core"
import {
  type AccountScope,
  type CompletionSearch,
  type CompletionSummary,
  inScope,
  PriceCatalogue,
  type StoredCompletionRecord,
  StoredCompletions,
  summaryOf,
  UsageLedger,
  withoutRequest
} from "@switchyard/service"
import { Chunk, Effect, Option, Stream } from "effect"
import { usageWindow } from "./UsageHttp.js"

/** The most rows an export writes. */
export const EXPORT_MAX_ROWS = 100_000
const EXPORT_PAGE = 100

const roundUsd = (n: number) => Math.round(n * 1e12) / 1e12

/**
 * The accounts a dashboard request may see: with `x-selected-account-id`, that
 * account; without, every account of the key (all accounts for an admin key).
 * An `account` filter narrows it, and must be one of them.
 */
const scopeOf = (caller: Caller, account: string | undefined) =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const selected = request.headers["x-selected-account-id"]
    const scope: AccountScope = typeof selected === "string" && selected.length > 0
      ? [caller.accountId]
      : caller.principal.admin
      ? "all"
      : caller.principal.accountIds
    if (account === undefined || account === "") return scope
    if (!inScope(scope, account)) return yield* new AccountForbidden({ accountId: account })
    return [account]
  })

/** `key=value` filters (one string or several) as a record; a pair without `=` or a key twice is refused. */
const metadataPairs = (pairs: string | ReadonlyArray<string> | undefined) =>
  Effect.gen(function*() {
    if (pairs === undefined) return undefined
    const out: Record<string, string> = {}
    for (const pair of typeof pairs === "string" ? [pairs] : pairs) {
      const at = pair.indexOf("=")
      if (at <= 0) {
        return yield* new InvalidRequest({ message: `A metadata filter is \`key=value\`; got \`${pair}\`.`, param: "metadata", code: "invalid_value" })
      }
      const key = pair.slice(0, at)
      if (key in out) {
        return yield* new InvalidRequest({ message: `The metadata key \`${key}\` is filtered twice.`, param: "metadata", code: "invalid_value" })
      }
      out[key] = pair.slice(at + 1)
    }
    return out
  })

const notFound = (id: string) =>
  new ResourceNotFound({ message: `No stored chat completion with id \`${id}\`.`, code: "not_found" })

const CSV_COLUMNS = [
  "id",
  "created_at",
  "account_id",
  "key_id",
  "request_id",
  "model",
  "target",
  "status",
  "stream",
  "prompt_tokens",
  "completion_tokens",
  "cost_usd",
  "latency_ms",
  "first_chunk_ms",
  "metadata"
] as const

const csvField = (value: unknown): string => {
  const text = value === null || value === undefined ? "" : typeof value === "string" ? value : String(value)
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, "\"\"")}"` : text
}

const csvLine = (row: DashboardCompletionRow): string =>
  CSV_COLUMNS.map((column) =>
    csvField(
      column === "created_at"
        ? new Date(row.created_at_ms).toISOString()
        : column === "metadata"
        ? JSON.stringify(row.metadata)
        : row[column]
    )
  ).join(",") + "\r\n"

export const DashboardHttpLive = HttpApiBuilder.group(SwitchyardApi, "dashboard", (handlers) =>
  Effect.gen(function*() {
    const store = yield* StoredCompletions
    const ledger = yield* UsageLedger
    // The gateway's store always brings its price catalogue; a library user's may not (then costs are unknown).
    const prices = yield* Effect.serviceOption(PriceCatalogue)
    const costOf = (s: CompletionSummary) =>
      s.tokens === null || Option.isNone(prices) ? null : roundUsd(prices.value.cost(s.target ?? s.model, s.tokens))

    const row = (s: CompletionSummary): DashboardCompletionRow => ({
      id: s.id,
      account_id: s.accountId,
      key_id: s.keyId,
      request_id: s.requestId,
      created_at_ms: s.createdAt,
      model: s.model,
      target: s.target,
      status: s.status,
      stream: s.stream,
      prompt_tokens: s.tokens?.promptTokens ?? null,
      completion_tokens: s.tokens?.completionTokens ?? null,
      cost_usd: costOf(s),
      latency_ms: s.latencyMs,
      first_chunk_ms: s.firstChunkMs,
      metadata: s.metadata
    })

    const detail = (record: StoredCompletionRecord): DashboardCompletionDetail => ({
      ...row(summaryOf(withoutRequest(record))),
      object: "dashboard.completion",
      request: record.request,
      completion: record.completion
    })

    const searchOf = (params: DashboardFilterParams) =>
      Effect.gen(function*() {
        const caller = yield* CurrentCaller
        const search: Omit<CompletionSearch, "limit"> = {
          accounts: yield* scopeOf(caller, params.account),
          model: params.model === "" ? undefined : params.model,
          status: params.status,
          since: params.start === undefined ? undefined : params.start * 1000,
          until: params.end === undefined ? undefined : params.end * 1000,
          metadata: yield* metadataPairs(params.metadata),
          text: params.q === "" ? undefined : params.q
        }
        return search
      })

    const findOne = (id: string) =>
      Effect.gen(function*() {
        const caller = yield* CurrentCaller
        const scope = yield* scopeOf(caller, undefined)
        const found = yield* store.findMany(scope, [id])
        const record = found[0]
        if (record === undefined) return yield* notFound(id)
        return record
      })

    const exportStream = (search: Omit<CompletionSearch, "limit">, format: "jsonl" | "csv") =>
      Effect.gen(function*() {
        const page = (after: string | undefined) =>
          Effect.flatMap(store.search({ ...search, after, limit: EXPORT_PAGE }), (found) =>
            format === "csv"
              ? Effect.succeed({ found, lines: found.data.map((s) => csvLine(row(s))) })
              : Effect.map(store.findMany(search.accounts, found.data.map((s) => s.id)), (records) => {
                const byId = new Map(records.map((r) => [r.id, r]))
                const lines = found.data.flatMap((s) => {
                  const record = byId.get(s.id)
                  return record === undefined ? [] : [JSON.stringify(detail(record)) + "\n"]
                })
                return { found, lines }
              }))
        // The first page is read before the headers go, so that a bad filter or an unavailable store gets its error.
        const first = yield* page(undefined)
        type State = { readonly next: typeof first; readonly written: number }
        const body = Stream.paginateChunkEffect<State, string, unknown, never>(
          { next: first, written: 0 },
          ({ next, written }) => {
            const lines = next.lines.slice(0, Math.max(0, EXPORT_MAX_ROWS - written))
            const total = written + lines.length
            const last = next.found.data[next.found.data.length - 1]
            if (!next.found.hasMore || last === undefined || total >= EXPORT_MAX_ROWS) {
              return Effect.succeed([Chunk.unsafeFromArray(lines), Option.none()])
            }
            return Effect.map(page(last.id), (following) => [
              Chunk.unsafeFromArray(lines),
              Option.some({ next: following, written: total })
            ])
          }
        )
        const text = format === "csv" ? Stream.concat(Stream.make(CSV_COLUMNS.join(",") + "\r\n"), body) : body
        return HttpServerResponse.stream(Stream.encodeText(text), {
          contentType: format === "csv" ? "text/csv; charset=utf-8" : "application/x-ndjson",
          headers: { "content-disposition": `attachment; filename="completions.${format}"`, "cache-control": "no-store" }
        })
      })

    return handlers
      .handle("me", () =>
        Effect.map(CurrentCaller, ({ accountId, principal }) => ({
          object: "principal" as const,
          key_id: principal.keyId,
          name: principal.name ?? null,
          admin: principal.admin,
          account_ids: principal.accountIds,
          default_account_id: principal.defaultAccountId,
          selected_account_id: accountId
        })))
      .handle("list", ({ urlParams }) =>
        Effect.gen(function*() {
          const search = yield* searchOf(urlParams)
          const page = yield* store.search({ ...search, after: urlParams.after, limit: urlParams.limit ?? 50 })
          const last = page.data[page.data.length - 1]
          return {
            object: "list" as const,
            data: page.data.map(row),
            has_more: page.hasMore,
            next_cursor: page.hasMore && last !== undefined ? last.id : null
          }
        }))
      .handle("export", ({ urlParams }) =>
        Effect.flatMap(searchOf(urlParams), (search) => exportStream(search, urlParams.format)))
      .handle("retrieve", ({ path }) => Effect.map(findOne(path.id), detail))
      .handle("update", ({ path, payload }) =>
        Effect.gen(function*() {
          const record = yield* findOne(path.id)
          const updated = yield* store.updateMetadata(record.accountId, record.id, payload.metadata)
          if (Option.isNone(updated)) return yield* notFound(path.id)
          return detail({ ...updated.value, request: record.request })
        }))
      .handle("delete", ({ path }) =>
        Effect.gen(function*() {
          const record = yield* findOne(path.id)
          if (!(yield* store.delete(record.accountId, record.id))) return yield* notFound(path.id)
          return { id: path.id, object: "chat.completion.deleted" as const, deleted: true as const }
        }))
      .handle("usage", ({ urlParams }) =>
        Effect.gen(function*() {
          const caller = yield* CurrentCaller
          const accounts = yield* scopeOf(caller, undefined)
          const { start, end } = yield* usageWindow(urlParams)
          const groupBy = urlParams.group_by ?? "model"
          const query = { start: start * 1000, end: end * 1000, groupBy, interval: urlParams.interval, accounts }
          const [buckets, latencies] = yield* Effect.all([ledger.summarize(query), ledger.latencies(query)])
          const byKey = new Map(latencies.map((l) => [`${l.bucket}\u0000${l.group}`, l]))
          const data = buckets.map((b): DashboardUsageRow => {
            const l = byKey.get(`${b.start}\u0000${b.group}`)
            return {
              start: Math.floor(b.start / 1000),
              end: Math.floor(b.end / 1000),
              group: b.group,
              requests: b.requests,
              errors: b.errors,
              error_rate: b.requests === 0 ? 0 : b.errors / b.requests,
              prompt_tokens: b.promptTokens,
              completion_tokens: b.completionTokens,
              total_tokens: b.promptTokens + b.completionTokens,
              cost_usd: roundUsd(b.costUsd),
              latency_p50_ms: l?.latencyP50 ?? null,
              latency_p95_ms: l?.latencyP95 ?? null,
              first_chunk_p50_ms: l?.firstChunkP50 ?? null,
              first_chunk_p95_ms: l?.firstChunkP95 ?? null
            }
          })
          const totals = { requests: 0, errors: 0, error_rate: 0, prompt_tokens: 0, completion_tokens: 0, total_tokens: 0, cost_usd: 0 }
          for (const d of data) {
            totals.requests += d.requests
            totals.errors += d.errors
            totals.prompt_tokens += d.prompt_tokens
            totals.completion_tokens += d.completion_tokens
            totals.total_tokens += d.total_tokens
            totals.cost_usd += d.cost_usd
          }
          totals.error_rate = totals.requests === 0 ? 0 : totals.errors / totals.requests
          totals.cost_usd = roundUsd(totals.cost_usd)
          return {
            object: "dashboard.usage" as const,
            start,
            end,
            group_by: groupBy,
            interval: urlParams.interval ?? null,
            data,
            totals
          }
        }))
  }))

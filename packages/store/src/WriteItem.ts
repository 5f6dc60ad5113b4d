import type { StoredCompletionRecord, StoredResponse, UsageRecord } from "@switchyard/service"

/** What the store's write queue carries: a stored completion, a usage ledger row, or a stored response. */
export type WriteItem =
  | { readonly _tag: "completion"; readonly record: StoredCompletionRecord }
  | { readonly _tag: "usage"; readonly row: UsageRecord }
  | { readonly _tag: "response"; readonly stored: StoredResponse }

/** How an item is named in logs: by id, never by content. */
export const describeItem = (item: WriteItem): string =>
  item._tag === "completion"
    ? `stored completion ${item.record.id}`
    : item._tag === "usage"
    ? `usage row ${item.row.id}`
    : `response ${item.stored.response.id}`

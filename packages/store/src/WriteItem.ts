import type { StoredCompletionRecord, UsageRecord } from "@switchyard/service"

/** What the store's write queue carries: a stored completion, or a usage ledger row. */
export type WriteItem =
  | { readonly _tag: "completion"; readonly record: StoredCompletionRecord }
  | { readonly _tag: "usage"; readonly row: UsageRecord }

/** How an item is named in logs: by id, never by content. */
export const describeItem = (item: WriteItem): string =>
  item._tag === "completion" ? `stored completion ${item.record.id}` : `usage row ${item.row.id}`

import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import { CurrentCaller, InvalidRequest, SwitchyardApi, type UsageBucketObject } from "@switchyard/core"
import { UsageLedger } from "@switchyard/service"
import { Clock, Effect } from "effect"

const DAY = 86_400

/** The range of a usage query, in Unix seconds: the given one, else the 24 hours before `end` (default now). */
export const usageWindow = (params: { readonly start?: number | undefined; readonly end?: number | undefined }) =>
  Effect.gen(function*() {
    const now = Math.floor((yield* Clock.currentTimeMillis) / 1000)
    const end = params.end ?? now
    const start = params.start ?? end - DAY
    if (start >= end) {
      return yield* new InvalidRequest({ message: "`start` must be before `end`.", param: "start", code: "invalid_range" })
    }
    return { start, end }
  })

export const UsageHttpLive = HttpApiBuilder.group(SwitchyardApi, "usage", (handlers) =>
  Effect.gen(function*() {
    const ledger = yield* UsageLedger
    return handlers.handle("summary", ({ urlParams }) =>
      Effect.gen(function*() {
        const { principal } = yield* CurrentCaller
        const { start, end } = yield* usageWindow(urlParams)
        const groupBy = urlParams.group_by ?? "model"
        const buckets = yield* ledger.summarize({
          start: start * 1000,
          end: end * 1000,
          groupBy,
          interval: urlParams.interval,
          accounts: principal.admin ? "all" : principal.accountIds
        })
        return {
          object: "list" as const,
          data: buckets.map((b): UsageBucketObject => ({
            start: Math.floor(b.start / 1000),
            end: Math.floor(b.end / 1000),
            group: { [groupBy]: b.group },
            requests: b.requests,
            errors: b.errors,
            prompt_tokens: b.promptTokens,
            completion_tokens: b.completionTokens,
            total_tokens: b.promptTokens + b.completionTokens,
            cost_usd: Math.round(b.costUsd * 1e12) / 1e12
          }))
        }
      }))
  }))

import { parseModelRef, type ResponseObject } from "@switchyard/core"
import type { RequestContext } from "../RequestContext.js"
import { mintSequentialId } from "../storage/Ids.js"
import type { StoredCompletionStatus } from "../storage/StoredCompletions.js"
import type { UsageRecord } from "../storage/UsageLedger.js"

/** A Responses API call as the usage ledger needs it. */
export interface ResponseCall {
  /** The model the client asked for. */
  readonly requestedModel: string
  readonly context: RequestContext
  readonly stream: boolean
  /** When the call started and ended, ms since the epoch. */
  readonly startedAt: number
  readonly endedAt: number
  /** When the model's first chunk came (streams), ms since the epoch. */
  readonly firstChunkAt?: number | undefined
  /** The response the client received, whole or as the stream's terminal event; none if it got none. */
  readonly response?: ResponseObject | undefined
}

/**
 * How a Responses call counts in the ledger, as a chat completion would:
 * `completed` when the model answered (a length cut included), `incomplete`
 * when it stopped (failed, or the client left) after its first chunk,
 * `failed` when it never answered.
 */
export const responseCallStatus = (call: ResponseCall): StoredCompletionStatus => {
  if (call.response !== undefined && call.response.status !== "failed" && call.response.status !== "in_progress") {
    return "completed"
  }
  return call.firstChunkAt !== undefined ? "incomplete" : "failed"
}

/**
 * The usage ledger row of a Responses API call: the same columns as a chat
 * completion's. The facade calls `ChatCompletions`, which records nothing
 * itself (the chat route does, around it): this is the call's only row.
 */
export const responseUsageRecord = (call: ResponseCall): UsageRecord => {
  const { context } = call
  const usage = call.response?.usage ?? null
  const target = context.record?.target ?? call.requestedModel
  return {
    id: mintSequentialId("usage_", call.startedAt),
    createdAt: call.startedAt,
    accountId: context.accountId ?? "default",
    keyId: context.keyId ?? null,
    model: call.requestedModel,
    target,
    vendor: context.record?.vendor ?? parseModelRef(target)?.vendor ?? null,
    stream: call.stream,
    status: responseCallStatus(call),
    promptTokens: usage?.input_tokens ?? 0,
    completionTokens: usage?.output_tokens ?? 0,
    cachedTokens: usage?.input_tokens_details.cached_tokens ?? 0,
    reasoningTokens: usage?.output_tokens_details.reasoning_tokens ?? 0,
    latencyMs: call.endedAt - call.startedAt,
    firstChunkMs: call.firstChunkAt === undefined ? null : call.firstChunkAt - call.startedAt
  }
}

import {
  type ChatCompletion,
  type ChatCompletionChunk,
  type ChatCompletionRequest,
  ChunkAggregator,
  type CompletionUsage,
  parseModelRef
} from "@switchyard/core"
import { Context, Effect, Layer } from "effect"
import type { RequestContext } from "../RequestContext.js"
import { mintCompletionId, mintSequentialId } from "./Ids.js"
import { type StoredCompletionStatus, StoredCompletions } from "./StoredCompletions.js"
import { UsageLedger } from "./UsageLedger.js"

/** A call about to be made, as the recorder needs it. */
export interface RecordedCall {
  /** The request as the client sent it (after alias resolution), `store` and `metadata` included. */
  readonly request: ChatCompletionRequest
  /** The model the client asked for: an alias, or the same as `request.model`. */
  readonly requestedModel: string
  readonly context: RequestContext
  /** When the call started, ms since the epoch. */
  readonly startedAt: number
}

/** How a call ended, for the record. */
export interface RecordedOutcome {
  /** `completed`: answered in full; `incomplete`: a stream cut short (client gone, or failed after it started); `failed`: no answer. */
  readonly status: StoredCompletionStatus
  /** The whole answer of a non-streamed call (with the id the client received). */
  readonly completion?: ChatCompletion | undefined
  /** The end of the call, ms since the epoch. */
  readonly endedAt: number
}

/**
 * One call being recorded. Synchronous and allocation-light: the relay calls
 * `chunks` for each batch it writes, and `finish` once. For a call with
 * `store: true` it holds the gateway's own id for the answer and aggregates a
 * stream's chunks; for every call it notes the usage for the ledger.
 */
export class Recording {
  /** The id the client receives for a stored completion (the gateway's own); `undefined` when not stored. */
  readonly id: string | undefined
  private readonly aggregator: ChunkAggregator | undefined
  private firstChunkAt: number | undefined
  private usage: CompletionUsage | undefined

  constructor(
    readonly call: RecordedCall,
    private readonly sink: (call: RecordedCall, recording: Recording, outcome: RecordedOutcome) => Effect.Effect<void>
  ) {
    const stored = call.request.store === true
    this.id = stored ? mintCompletionId(call.startedAt) : undefined
    this.aggregator = stored && call.request.stream === true ? new ChunkAggregator() : undefined
  }

  /** A non-streamed answer as the client receives it: with the gateway's id when stored. */
  completion(completion: ChatCompletion): ChatCompletion {
    this.usage = completion.usage ?? undefined
    return this.id === undefined ? completion : { ...completion, id: this.id }
  }

  /**
   * Notes a batch of streamed chunks before it is written; returns the batch
   * the client receives (the same one unless stored: then with the gateway's id).
   */
  chunks(batch: ReadonlyArray<ChatCompletionChunk>, now: number): ReadonlyArray<ChatCompletionChunk> {
    if (this.firstChunkAt === undefined && batch.length > 0) this.firstChunkAt = now
    for (const chunk of batch) if (chunk.usage != null) this.usage = chunk.usage
    if (this.aggregator === undefined) return batch
    const id = this.id!
    return batch.map((chunk) => {
      this.aggregator!.push(chunk)
      return { ...chunk, id }
    })
  }

  /** The usage seen so far. */
  get seenUsage(): CompletionUsage | undefined {
    return this.usage
  }

  /** Time to the first chunk (ms), for streams. */
  get firstChunkMs(): number | null {
    return this.firstChunkAt === undefined ? null : this.firstChunkAt - this.call.startedAt
  }

  /** The stored answer: the completion, or the aggregate of the chunks so far; none if nothing came. */
  answer(outcome: RecordedOutcome): ChatCompletion | undefined {
    if (outcome.completion !== undefined) return outcome.completion
    if (this.aggregator === undefined || this.aggregator.count === 0) return undefined
    return { ...this.aggregator.result(), id: this.id! }
  }

  /** Records the call: its ledger row, and its stored completion when asked. Never fails. */
  finish(outcome: RecordedOutcome): Effect.Effect<void> {
    return this.sink(this.call, this, outcome)
  }
}

/**
 * Records completions as the gateway serves them: a usage ledger row for
 * every call, and the stored completion for calls with `store: true`. Writes
 * go through the store's queue: recording never delays an answer.
 */
export class CompletionRecorder extends Context.Tag("@switchyard/service/CompletionRecorder")<CompletionRecorder, {
  /** Starts recording a call (synchronous). */
  readonly begin: (call: RecordedCall) => Recording
}>() {
  /** A recorder over the stored completions and the usage ledger. */
  static readonly layer: Layer.Layer<CompletionRecorder, never, StoredCompletions | UsageLedger> = Layer.effect(
    CompletionRecorder,
    Effect.gen(function*() {
      const store = yield* StoredCompletions
      const ledger = yield* UsageLedger
      const sink = (call: RecordedCall, recording: Recording, outcome: RecordedOutcome): Effect.Effect<void> =>
        Effect.suspend(() => {
          const { context, request } = call
          const accountId = context.accountId ?? "default"
          const keyId = context.keyId ?? null
          const usage = outcome.completion?.usage ?? recording.seenUsage
          const latencyMs = outcome.endedAt - call.startedAt
          // The target that answered (after any fallback), as the service reports it; else the one asked for.
          const target = context.record?.target ?? request.model
          const row = ledger.record({
            id: mintSequentialId("usage_", call.startedAt),
            createdAt: call.startedAt,
            accountId,
            keyId,
            model: call.requestedModel,
            target,
            vendor: context.record?.vendor ?? parseModelRef(target)?.vendor ?? null,
            stream: request.stream === true,
            status: outcome.status,
            promptTokens: usage?.prompt_tokens ?? 0,
            completionTokens: usage?.completion_tokens ?? 0,
            cachedTokens: usage?.prompt_tokens_details?.cached_tokens ?? 0,
            reasoningTokens: usage?.completion_tokens_details?.reasoning_tokens ?? 0,
            latencyMs,
            firstChunkMs: recording.firstChunkMs
          })
          const answer = recording.id === undefined ? undefined : recording.answer(outcome)
          if (answer === undefined || recording.id === undefined) return row
          return Effect.zipRight(row, store.save({
            id: recording.id,
            accountId,
            keyId,
            requestId: context.requestId,
            createdAt: call.startedAt,
            model: call.requestedModel,
            target,
            status: outcome.status === "failed" ? "incomplete" : outcome.status,
            stream: request.stream === true,
            metadata: request.metadata ?? {},
            completion: answer,
            latencyMs,
            firstChunkMs: recording.firstChunkMs,
            request
          }))
        })
      return { begin: (call: RecordedCall) => new Recording(call, sink) }
    })
  )
}

/**
 * The request a vendor receives: without the gateway's `store` and
 * `metadata`, unless the vendor is configured to get them (`forward_store`).
 */
export const forwardedRequest = (request: ChatCompletionRequest, forwardStore: boolean): ChatCompletionRequest => {
  if (forwardStore || (request.store === undefined && request.metadata === undefined)) return request
  const { metadata: _metadata, store: _store, ...rest } = request
  return rest
}

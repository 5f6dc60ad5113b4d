/**
 * The `Provider` port: what every vendor family implements (one attempt of a
 * call, as a whole completion or as a pull of chunks), and `makeProvider`,
 * which derives the rest.
 */
import type { ChatCompletion, ChatCompletionChunk, ChatCompletionRequest, GatewayError } from "@switchyard/core"
import type { Effect, Scope, Stream } from "effect"
import type { AttemptKind, AttemptRecord } from "./CallRecord.js"
import type { RequestContext } from "./RequestContext.js"
import { toStream } from "./transport/ChunkStream.js"

/** The deadlines of one attempt, from the resilience policy. */
export interface CallTimeouts {
  /** Until the upstream starts answering (response headers, or the first chunk). */
  readonly firstByteMs: number
  /** The longest silence between two pieces of a streamed answer. */
  readonly idleMs: number
  /** The whole attempt. */
  readonly totalMs: number
}

/** One upstream call: the request, its vendor and model (without the vendor prefix), and its context. */
export interface ProviderCall {
  readonly request: ChatCompletionRequest
  readonly vendor: string
  readonly model: string
  readonly context: RequestContext
  /** Set by `ChatCompletions` for providers that enforce timeouts themselves (`nativeTimeouts`). */
  readonly timeouts?: CallTimeouts | undefined
  /** Why this attempt is made, for the call's record (a router sets `fallback`/`hedge`; inferred otherwise). */
  readonly attemptKind?: AttemptKind | undefined
  /**
   * The attempt this call is, when its record is traced (`CallRecord.trace`):
   * an HTTP provider sends its `traceparent` and notes its URL.
   */
  readonly attempt?: AttemptRecord | undefined
}

/**
 * The next batch of a streamed answer: a non-empty array of chunks, or
 * `null` once the answer is complete. A cheaper protocol than `Stream` for
 * the hot path (an Effect stream costs hundreds of µs to set up and run).
 */
export type ChunkPull = Effect.Effect<ReadonlyArray<ChatCompletionChunk> | null, GatewayError>

/** A model a provider knows of, for `/v1/models`. */
export interface ModelInfo {
  readonly id: string
  readonly vendor: string
  readonly ownedBy?: string | undefined
}

/**
 * What a vendor family implements. Each method is one attempt: retries and
 * the stream's commit point are the `ChatCompletions` service's job, so they
 * behave the same for every vendor; so are timeouts, unless the provider's
 * transport enforces them (`nativeTimeouts`).
 */
export interface ProviderImplementation {
  /** The vendor family, for logs and spans (`openai-compatible`, `anthropic`, `gemini`, `echo`, `test`). */
  readonly family: string
  /** Whether the vendor produces `n > 1` choices itself; if not, the service fans out `n` calls. */
  readonly supportsN: boolean
  /**
   * Whether the provider enforces `call.timeouts` itself, in its transport
   * (undici's timers cost nothing per chunk; an Effect timeout forks fibers on
   * every call). Otherwise `ChatCompletions` applies them with Effect timers.
   */
  readonly nativeTimeouts?: boolean | undefined
  /** A non-streaming completion. */
  readonly create: (call: ProviderCall) => Effect.Effect<ChatCompletion, GatewayError>
  /**
   * A streamed completion, opened in the scope (which owns the connection)
   * and read batch by batch; a failure may come before or after chunks.
   */
  readonly open: (call: ProviderCall) => Effect.Effect<ChunkPull, GatewayError, Scope.Scope>
  /**
   * `open` with the scope handed over rather than provided (optional): what the
   * service calls when a provider has it, since providing a scope costs every
   * stream a few context and fiber-ref copies.
   */
  readonly openIn?: ((call: ProviderCall, scope: Scope.Scope) => Effect.Effect<ChunkPull, GatewayError>) | undefined
  /** The models this vendor is known to serve (may be empty when unknown). */
  readonly models: Effect.Effect<ReadonlyArray<ModelInfo>, GatewayError>
}

/** The port every vendor family offers: its implementation, and the same stream as an Effect `Stream`. */
export interface Provider extends ProviderImplementation {
  /**
   * `open` as an Effect `Stream`, for library users; derived by
   * `makeProvider`, never written by a provider (the service relays `open`).
   */
  readonly stream: (call: ProviderCall) => Stream.Stream<ChatCompletionChunk, GatewayError>
}

/** A provider from its implementation: `stream` is derived from `open`. */
export const makeProvider = (implementation: ProviderImplementation): Provider => ({
  ...implementation,
  stream: (call) => toStream(implementation.open(call))
})

import type { ChatCompletion, ChatCompletionChunk, ChatCompletionRequest, GatewayError } from "@switchyard/core"
import type { Effect, Stream } from "effect"
import type { RequestContext } from "./RequestContext.js"

/** One upstream call: the request, its vendor and model (without the vendor prefix), and its context. */
export interface ProviderCall {
  readonly request: ChatCompletionRequest
  readonly vendor: string
  readonly model: string
  readonly context: RequestContext
}

/** A model a provider knows of, for `/v1/models`. */
export interface ModelInfo {
  readonly id: string
  readonly vendor: string
  readonly ownedBy?: string | undefined
}

/**
 * The port every vendor family implements. Each method is one attempt:
 * retries, timeouts and the stream's commit point are the `ChatCompletions`
 * service's job, so they behave the same for every vendor.
 */
export interface Provider {
  /** The vendor family, for logs (`openai-compatible`, `anthropic`, `gemini`, `echo`, `test`). */
  readonly family: string
  /** Whether the vendor produces `n > 1` choices itself; if not, the service fans out `n` calls. */
  readonly supportsN: boolean
  /** A non-streaming completion. */
  readonly create: (call: ProviderCall) => Effect.Effect<ChatCompletion, GatewayError>
  /** A streamed completion; a failure may come before or after chunks. */
  readonly stream: (call: ProviderCall) => Stream.Stream<ChatCompletionChunk, GatewayError>
  /** The models this vendor is known to serve (may be empty when unknown). */
  readonly models: Effect.Effect<ReadonlyArray<ModelInfo>, GatewayError>
}

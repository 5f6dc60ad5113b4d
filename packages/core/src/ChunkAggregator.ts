import { Effect, Stream } from "effect"
import type { ChatCompletion, ChatCompletionChoice, FinishReason } from "./ChatCompletion.js"
import type { ChatCompletionChunk, ChoiceDelta } from "./ChatCompletionChunk.js"
import type { CompletionUsage } from "./CompletionUsage.js"
import type { ChatCompletionTokenLogprob } from "./Logprobs.js"

interface ToolCallState {
  id: string
  type: "function"
  name: string
  arguments: string
  extra: Record<string, unknown> | undefined
}

interface ChoiceState {
  index: number
  content: string | undefined
  refusal: string | undefined
  finishReason: FinishReason | undefined
  toolCalls: Map<number, ToolCallState> | undefined
  functionCall: { name: string; arguments: string } | undefined
  logprobContent: Array<ChatCompletionTokenLogprob> | undefined
  logprobRefusal: Array<ChatCompletionTokenLogprob> | undefined
  extra: Record<string, unknown> | undefined
}

const DELTA_KEYS: ReadonlySet<string> = new Set(["role", "content", "refusal", "tool_calls", "function_call"])

/**
 * Folds the chunks of a streamed chat completion into the completion they
 * represent: content and refusal per choice, tool-call arguments reassembled
 * by index, logprobs, finish reason and usage. Mutable, for speed: feed it
 * with `push`, read it with `result`.
 */
export class ChunkAggregator {
  private readonly choices = new Map<number, ChoiceState>()
  private id = ""
  private created = 0
  private model = ""
  private systemFingerprint: string | undefined
  private serviceTier: ChatCompletion["service_tier"]
  private usage: CompletionUsage | undefined
  private chunks = 0

  /** How many chunks were folded in. */
  get count(): number {
    return this.chunks
  }

  /** Folds one chunk in. */
  push(chunk: ChatCompletionChunk): void {
    if (this.chunks++ === 0) {
      this.id = chunk.id
      this.created = chunk.created
      this.model = chunk.model
    }
    if (chunk.system_fingerprint != null) this.systemFingerprint = chunk.system_fingerprint
    if (chunk.service_tier != null) this.serviceTier = chunk.service_tier
    if (chunk.usage != null) this.usage = chunk.usage
    for (const choice of chunk.choices) {
      const state = this.choice(choice.index)
      this.applyDelta(state, choice.delta)
      if (choice.finish_reason != null) state.finishReason = choice.finish_reason
      const logprobs = choice.logprobs
      if (logprobs != null) {
        if (logprobs.content != null) (state.logprobContent ??= []).push(...logprobs.content)
        if (logprobs.refusal != null) (state.logprobRefusal ??= []).push(...logprobs.refusal)
      }
    }
  }

  /** The completion the chunks so far represent. */
  result(): ChatCompletion {
    const choices: Array<ChatCompletionChoice> = [...this.choices.values()]
      .sort((a, b) => a.index - b.index)
      .map((state) => this.choiceResult(state))
    return {
      id: this.id,
      object: "chat.completion",
      created: this.created,
      model: this.model,
      choices,
      ...(this.systemFingerprint !== undefined ? { system_fingerprint: this.systemFingerprint } : {}),
      ...(this.serviceTier != null ? { service_tier: this.serviceTier } : {}),
      ...(this.usage !== undefined ? { usage: this.usage } : {})
    }
  }

  private choice(index: number): ChoiceState {
    let state = this.choices.get(index)
    if (state === undefined) {
      state = {
        index,
        content: undefined,
        refusal: undefined,
        finishReason: undefined,
        toolCalls: undefined,
        functionCall: undefined,
        logprobContent: undefined,
        logprobRefusal: undefined,
        extra: undefined
      }
      this.choices.set(index, state)
    }
    return state
  }

  private applyDelta(state: ChoiceState, delta: ChoiceDelta): void {
    if (delta.content != null) state.content = (state.content ?? "") + delta.content
    if (delta.refusal != null) state.refusal = (state.refusal ?? "") + delta.refusal
    if (delta.tool_calls != null) {
      const calls = (state.toolCalls ??= new Map())
      for (const call of delta.tool_calls) {
        let current = calls.get(call.index)
        if (current === undefined) {
          current = { id: "", type: "function", name: "", arguments: "", extra: undefined }
          calls.set(call.index, current)
        }
        if (call.id) current.id = call.id
        if (call.function?.name) current.name = call.function.name
        if (call.function?.arguments) current.arguments += call.function.arguments
      }
    }
    if (delta.function_call != null) {
      const fn = (state.functionCall ??= { name: "", arguments: "" })
      if (delta.function_call.name) fn.name = delta.function_call.name
      if (delta.function_call.arguments) fn.arguments += delta.function_call.arguments
    }
    for (const key in delta) {
      if (DELTA_KEYS.has(key)) continue
      const value = (delta as Record<string, unknown>)[key]
      if (value == null) continue
      const extra = (state.extra ??= {})
      extra[key] = typeof value === "string" && typeof extra[key] === "string" ? extra[key] + value : value
    }
  }

  private choiceResult(state: ChoiceState): ChatCompletionChoice {
    const toolCalls = state.toolCalls === undefined
      ? undefined
      : [...state.toolCalls.entries()].sort(([a], [b]) => a - b).map(([, call]) => ({
        id: call.id,
        type: call.type,
        function: { name: call.name, arguments: call.arguments }
      }))
    const logprobs = state.logprobContent !== undefined || state.logprobRefusal !== undefined
      ? { content: state.logprobContent ?? null, refusal: state.logprobRefusal ?? null }
      : null
    return {
      index: state.index,
      finish_reason: state.finishReason ?? "stop",
      logprobs,
      message: {
        ...state.extra,
        role: "assistant",
        content: state.content ?? null,
        refusal: state.refusal ?? null,
        ...(toolCalls !== undefined ? { tool_calls: toolCalls } : {}),
        ...(state.functionCall !== undefined ? { function_call: state.functionCall } : {})
      }
    }
  }
}

/** Folds a list of chunks into the completion they represent. */
export const aggregateChunks = (chunks: Iterable<ChatCompletionChunk>): ChatCompletion => {
  const aggregator = new ChunkAggregator()
  for (const chunk of chunks) aggregator.push(chunk)
  return aggregator.result()
}

/** Runs a stream of chunks to the end and returns the completion it represents. */
export const collectCompletion = <E, R>(
  chunks: Stream.Stream<ChatCompletionChunk, E, R>
): Effect.Effect<ChatCompletion, E, R> =>
  Effect.suspend(() => {
    const aggregator = new ChunkAggregator()
    return Stream.runForEachChunk(chunks, (batch) =>
      Effect.sync(() => {
        for (const chunk of batch) aggregator.push(chunk)
      })).pipe(Effect.map(() => aggregator.result()))
  })

/**
 * The chunks a streamed answer would have had for a whole completion: per
 * choice a role-and-content chunk (with tool calls) and a finish chunk, then
 * a usage chunk when `includeUsage`. For upstreams that answer a streaming
 * request with a plain JSON completion.
 */
export const completionToChunks = (
  completion: ChatCompletion,
  options: { readonly includeUsage?: boolean } = {}
): Array<ChatCompletionChunk> => {
  const base = {
    id: completion.id,
    object: "chat.completion.chunk" as const,
    created: completion.created,
    model: completion.model,
    ...(completion.system_fingerprint != null ? { system_fingerprint: completion.system_fingerprint } : {}),
    ...(completion.service_tier != null ? { service_tier: completion.service_tier } : {})
  }
  const chunks: Array<ChatCompletionChunk> = []
  for (const choice of completion.choices) {
    const message = choice.message
    const toolCalls = message.tool_calls?.flatMap((call, index) =>
      call.type === "function"
        ? [{ index, id: call.id, type: "function" as const, function: { name: call.function.name, arguments: call.function.arguments } }]
        : []
    )
    chunks.push({
      ...base,
      choices: [{
        index: choice.index,
        delta: {
          role: "assistant",
          content: message.content ?? null,
          ...(message.refusal != null ? { refusal: message.refusal } : {}),
          ...(toolCalls !== undefined && toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
          ...(message.function_call != null ? { function_call: message.function_call } : {})
        },
        logprobs: choice.logprobs ?? null,
        finish_reason: null
      }]
    })
    chunks.push({ ...base, choices: [{ index: choice.index, delta: {}, logprobs: null, finish_reason: choice.finish_reason }] })
  }
  if (options.includeUsage && completion.usage != null) chunks.push({ ...base, choices: [], usage: completion.usage })
  return chunks
}

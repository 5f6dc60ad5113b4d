/**
 * Wire fixtures of OpenAI's chat completions API, written from its published
 * reference: completions (text, tool calls, several choices), complete
 * chunk streams, and error bodies. Builders take the parts that vary.
 */

/** Options shared by the fixtures. */
export interface CompletionOptions {
  readonly id?: string
  readonly model?: string
  /** Choices (all alike), for `n`. */
  readonly n?: number
  readonly usage?: { readonly prompt_tokens: number; readonly completion_tokens: number }
}

const usageOf = (options: CompletionOptions) => {
  const usage = options.usage ?? { prompt_tokens: 25, completion_tokens: 12 }
  return {
    prompt_tokens: usage.prompt_tokens,
    completion_tokens: usage.completion_tokens,
    total_tokens: usage.prompt_tokens + usage.completion_tokens,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 }
  }
}

const head = (options: CompletionOptions, object: string) => ({
  id: options.id ?? "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
  object,
  created: 1_741_569_952,
  model: options.model ?? "gpt-4.1-2025-04-14"
})

/** A tool call in a fixture. */
export interface ToolCallFixture {
  readonly id: string
  readonly name: string
  readonly arguments: string
}

/** A completion answering with text (`n` identical choices). */
export const textCompletion = (text: string, options: CompletionOptions = {}) => ({
  ...head(options, "chat.completion"),
  choices: Array.from({ length: options.n ?? 1 }, (_, index) => ({
    index,
    message: { role: "assistant", content: text, refusal: null, annotations: [] },
    logprobs: null,
    finish_reason: "stop"
  })),
  usage: usageOf(options),
  service_tier: "default",
  system_fingerprint: "fp_44709d6fcb"
})

/** A completion calling tools. */
export const toolCallCompletion = (calls: ReadonlyArray<ToolCallFixture>, options: CompletionOptions = {}) => ({
  ...head(options, "chat.completion"),
  choices: [{
    index: 0,
    message: {
      role: "assistant",
      content: null,
      refusal: null,
      annotations: [],
      tool_calls: calls.map((call) => ({ id: call.id, type: "function", function: { name: call.name, arguments: call.arguments } }))
    },
    logprobs: null,
    finish_reason: "tool_calls"
  }],
  usage: usageOf(options),
  service_tier: "default",
  system_fingerprint: "fp_44709d6fcb"
})

const chunkHead = (options: CompletionOptions) => ({
  ...head(options, "chat.completion.chunk"),
  service_tier: "default",
  system_fingerprint: "fp_44709d6fcb"
})

/**
 * The chunks of a streamed text answer, per choice: the role first, the
 * pieces, the finish reason; then the usage chunk if asked for (with
 * `"usage": null` on the others, as OpenAI sends them).
 */
export const textChunks = (
  pieces: ReadonlyArray<string>,
  options: CompletionOptions & { readonly includeUsage?: boolean } = {}
): Array<Record<string, unknown>> => {
  const usage = options.includeUsage === true ? { usage: null } : {}
  const chunk = (index: number, delta: Record<string, unknown>, finish: string | null) => ({
    ...chunkHead(options),
    choices: [{ index, delta, logprobs: null, finish_reason: finish }],
    ...usage
  })
  const chunks: Array<Record<string, unknown>> = []
  for (let index = 0; index < (options.n ?? 1); index++) {
    chunks.push(chunk(index, { role: "assistant", content: "", refusal: null }, null))
    for (const content of pieces) chunks.push(chunk(index, { content }, null))
    chunks.push(chunk(index, {}, "stop"))
  }
  if (options.includeUsage === true) chunks.push({ ...chunkHead(options), choices: [], usage: usageOf(options) })
  return chunks
}

/** The chunks of a streamed tool call: the call's id and name first, then its arguments in pieces. */
export const toolCallChunks = (
  call: ToolCallFixture,
  options: CompletionOptions & { readonly includeUsage?: boolean; readonly pieceSize?: number } = {}
): Array<Record<string, unknown>> => {
  const usage = options.includeUsage === true ? { usage: null } : {}
  const chunk = (delta: Record<string, unknown>, finish: string | null) => ({
    ...chunkHead(options),
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    ...usage
  })
  const size = options.pieceSize ?? 7
  const chunks: Array<Record<string, unknown>> = [
    chunk({
      role: "assistant",
      content: null,
      tool_calls: [{ index: 0, id: call.id, type: "function", function: { name: call.name, arguments: "" } }],
      refusal: null
    }, null)
  ]
  for (let at = 0; at < call.arguments.length; at += size) {
    chunks.push(chunk({ tool_calls: [{ index: 0, function: { arguments: call.arguments.slice(at, at + size) } }] }, null))
  }
  chunks.push(chunk({}, "tool_calls"))
  if (options.includeUsage === true) chunks.push({ ...chunkHead(options), choices: [], usage: usageOf(options) })
  return chunks
}

/** OpenAI's error body. */
export const errorBody = (message: string, type: string, code: string | null = null, param: string | null = null) => ({
  error: { message, type, param, code }
})

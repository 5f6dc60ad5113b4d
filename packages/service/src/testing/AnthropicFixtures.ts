/**
 * Wire fixtures of Anthropic's Messages API, written from its published
 * reference: responses, complete SSE streams (text, tool use with
 * `input_json_delta`, extended thinking), and error bodies. Builders take the
 * parts that vary, so tests can say what they expect.
 */

/** An SSE event as Anthropic sends it: a named event whose data repeats the name as `type`. */
export interface NamedEvent {
  readonly event: string
  readonly data: Record<string, unknown>
}

const named = (data: Record<string, unknown> & { readonly type: string }): NamedEvent => ({ event: data.type, data })

/** Token counts, as Anthropic reports them. */
export interface UsageFixture {
  readonly input_tokens: number
  readonly output_tokens: number
  readonly cache_creation_input_tokens?: number
  readonly cache_read_input_tokens?: number
}

const defaultUsage: UsageFixture = {
  input_tokens: 25,
  output_tokens: 12,
  cache_creation_input_tokens: 0,
  cache_read_input_tokens: 0
}

/** Options shared by the fixtures. */
export interface MessageOptions {
  readonly id?: string
  readonly model?: string
  readonly usage?: UsageFixture
}

/** A tool call in a fixture. */
export interface ToolUseFixture {
  readonly id: string
  readonly name: string
  readonly input: Record<string, unknown>
}

/** `POST /v1/messages` answering with text. */
export const textMessage = (text: string, options: MessageOptions & { readonly stopReason?: string } = {}) => ({
  id: options.id ?? "msg_01XFDUDYJgAACzvnptvVoYEL",
  type: "message",
  role: "assistant",
  model: options.model ?? "claude-sonnet-4-5-20250929",
  content: [{ type: "text", text }],
  stop_reason: options.stopReason ?? "end_turn",
  stop_sequence: null,
  usage: options.usage ?? defaultUsage
})

/** `POST /v1/messages` answering with some text and tool calls. */
export const toolUseMessage = (
  tools: ReadonlyArray<ToolUseFixture>,
  options: MessageOptions & { readonly text?: string } = {}
) => ({
  id: options.id ?? "msg_01Aq9w938a90dw8q",
  type: "message",
  role: "assistant",
  model: options.model ?? "claude-sonnet-4-5-20250929",
  content: [
    ...(options.text !== undefined ? [{ type: "text", text: options.text }] : []),
    ...tools.map((tool) => ({ type: "tool_use", id: tool.id, name: tool.name, input: tool.input }))
  ],
  stop_reason: "tool_use",
  stop_sequence: null,
  usage: options.usage ?? defaultUsage
})

/** `POST /v1/messages` with extended thinking: a thinking block (signed), a redacted one, then text. */
export const thinkingMessage = (thinking: string, text: string, options: MessageOptions = {}) => ({
  id: options.id ?? "msg_01ThinkingXyz",
  type: "message",
  role: "assistant",
  model: options.model ?? "claude-sonnet-4-5-20250929",
  content: [
    { type: "thinking", thinking, signature: "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds" },
    { type: "redacted_thinking", data: "EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIw" },
    { type: "text", text }
  ],
  stop_reason: "end_turn",
  stop_sequence: null,
  usage: options.usage ?? defaultUsage
})

const start = (options: MessageOptions) =>
  named({
    type: "message_start",
    message: {
      id: options.id ?? "msg_01XFDUDYJgAACzvnptvVoYEL",
      type: "message",
      role: "assistant",
      model: options.model ?? "claude-sonnet-4-5-20250929",
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { ...(options.usage ?? defaultUsage), output_tokens: 1 }
    }
  })

const finish = (stopReason: string, options: MessageOptions): Array<NamedEvent> => [
  named({
    type: "message_delta",
    delta: { stop_reason: stopReason, stop_sequence: null },
    usage: { output_tokens: (options.usage ?? defaultUsage).output_tokens }
  }),
  named({ type: "message_stop" })
]

/** A complete stream of a text answer, its text in `pieces`, with a `ping` after the start as the API sends. */
export const textStream = (
  pieces: ReadonlyArray<string>,
  options: MessageOptions & { readonly stopReason?: string } = {}
): Array<NamedEvent> => [
  start(options),
  named({ type: "content_block_start", index: 0, content_block: { type: "text", text: "" } }),
  named({ type: "ping" }),
  ...pieces.map((text) => named({ type: "content_block_delta", index: 0, delta: { type: "text_delta", text } })),
  named({ type: "content_block_stop", index: 0 }),
  ...finish(options.stopReason ?? "end_turn", options)
]

/** The JSON of a tool input cut into pieces, as `input_json_delta`s arrive. */
const jsonPieces = (input: Record<string, unknown>, size: number): Array<string> => {
  const json = JSON.stringify(input)
  const pieces: Array<string> = [""]
  for (let at = 0; at < json.length; at += size) pieces.push(json.slice(at, at + size))
  return pieces
}

/** A complete stream of a tool-using answer: optional text first, then each tool with its input in pieces. */
export const toolUseStream = (
  tools: ReadonlyArray<ToolUseFixture>,
  options: MessageOptions & { readonly text?: string; readonly pieceSize?: number } = {}
): Array<NamedEvent> => {
  const events: Array<NamedEvent> = [start(options)]
  let index = 0
  if (options.text !== undefined) {
    events.push(
      named({ type: "content_block_start", index, content_block: { type: "text", text: "" } }),
      named({ type: "content_block_delta", index, delta: { type: "text_delta", text: options.text } }),
      named({ type: "content_block_stop", index })
    )
    index++
  }
  for (const tool of tools) {
    events.push(named({
      type: "content_block_start",
      index,
      content_block: { type: "tool_use", id: tool.id, name: tool.name, input: {} }
    }))
    for (const partial_json of jsonPieces(tool.input, options.pieceSize ?? 7)) {
      events.push(named({ type: "content_block_delta", index, delta: { type: "input_json_delta", partial_json } }))
    }
    events.push(named({ type: "content_block_stop", index }))
    index++
  }
  return [...events, ...finish("tool_use", options)]
}

/** A complete stream with extended thinking (in pieces, then its signature) before a text answer. */
export const thinkingStream = (
  thinking: ReadonlyArray<string>,
  text: ReadonlyArray<string>,
  options: MessageOptions = {}
): Array<NamedEvent> => [
  start(options),
  named({ type: "content_block_start", index: 0, content_block: { type: "thinking", thinking: "" } }),
  ...thinking.map((piece) => named({ type: "content_block_delta", index: 0, delta: { type: "thinking_delta", thinking: piece } })),
  named({
    type: "content_block_delta",
    index: 0,
    delta: { type: "signature_delta", signature: "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds" }
  }),
  named({ type: "content_block_stop", index: 0 }),
  named({ type: "content_block_start", index: 1, content_block: { type: "text", text: "" } }),
  ...text.map((piece) => named({ type: "content_block_delta", index: 1, delta: { type: "text_delta", text: piece } })),
  named({ type: "content_block_stop", index: 1 }),
  ...finish("end_turn", options)
]

/** An error body: `overloaded_error` (529), `rate_limit_error` (429), `invalid_request_error` (400), … */
export const errorBody = (type: string, message: string) => ({ type: "error", error: { type, message } })

/** The in-stream `error` event, as sent when the API overloads mid-stream. */
export const errorEvent = (type = "overloaded_error", message = "Overloaded"): NamedEvent =>
  named({ type: "error", error: { type, message } })

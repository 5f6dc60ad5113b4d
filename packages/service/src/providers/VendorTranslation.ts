/**
 * What vendors' translations share: the guard that rejects (or drops)
 * parameters a vendor cannot honour, and small readers and builders of
 * OpenAI's request and chunk shapes.
 */
import {
  type ChatCompletionChunk,
  type ChatCompletionRequest,
  type ChoiceDelta,
  type FinishReason,
  type FunctionTool,
  type GatewayError,
  InvalidRequest,
  unknownRequestFields,
  UnsupportedParameter
} from "@switchyard/core"
import { Either } from "effect"

/**
 * Which unsupported parameters a deployment lets the gateway drop instead of
 * failing with a 400: all of them (`true`), none (`false`), or those named.
 * A name is a parameter path without indexes (`logit_bias`, `messages.name`,
 * `messages.content.input_audio`, `tools.custom`), and covers the paths under it.
 */
export type DropUnsupportedParams = boolean | ReadonlyArray<string>

/** A parameter path without its array indexes: `messages[3].content[0].input_audio` → `messages.content.input_audio`. */
export const paramKey = (param: string): string => param.replace(/\[\d+\]/g, "")

/**
 * Whether the configuration drops this parameter: `true`, its name (with or
 * without indexes), or a parent of it (`metadata` drops `metadata.team`).
 */
export const isDropped = (drop: DropUnsupportedParams, param: string): boolean => {
  if (drop === true) return true
  if (drop === false || drop.length === 0) return false
  if (drop.includes(param)) return true
  const key = paramKey(param)
  for (let end = key.length; end > 0; end = key.lastIndexOf(".", end - 1)) {
    if (drop.includes(key.slice(0, end))) return true
  }
  return false
}

/** A translation that cannot go on; caught at the top of each translation. */
class Rejection {
  constructor(readonly error: GatewayError) {}
}

/**
 * The checks of one request translation: a parameter the vendor cannot
 * honour fails the translation with `UnsupportedParameter` naming it, unless
 * the configuration drops it (then the caller leaves it out).
 */
export class ParamGuard {
  constructor(readonly vendor: string, readonly drop: DropUnsupportedParams) {}

  /** Fails with `UnsupportedParameter`, unless `param` is dropped by configuration (then returns). */
  unsupported(param: string, reason?: string): void {
    if (isDropped(this.drop, param)) return
    throw new Rejection(new UnsupportedParameter({ vendor: this.vendor, param, ...(reason !== undefined ? { reason } : {}) }))
  }

  /** Fails with a 400 naming the parameter: the request is wrong whatever the vendor. */
  invalid(param: string, message: string): never {
    throw new Rejection(new InvalidRequest({ message, param }))
  }

  /** Fails with any gateway error. */
  fail(error: GatewayError): never {
    throw new Rejection(error)
  }

  /** Fails on every field of the request that is not part of the chat completions API (the vendor has no place for it). */
  unknownFields(request: ChatCompletionRequest): void {
    for (const key of Object.keys(unknownRequestFields(request))) {
      this.unsupported(key, "not a chat completions parameter; this vendor's API has no place for it")
    }
  }

  /** Runs a translation, turning a rejection into a `Left`. */
  static run<A>(translate: () => A): Either.Either<A, GatewayError> {
    try {
      return Either.right(translate())
    } catch (error) {
      if (error instanceof Rejection) return Either.left(error.error)
      throw error
    }
  }
}

/** Whether a value is a JSON object (not `null`, not an array). */
export const isJsonObject = (u: unknown): u is Record<string, unknown> =>
  typeof u === "object" && u !== null && !Array.isArray(u)

/** A parsed `data:` URL. */
export interface DataUrl {
  readonly mediaType: string
  readonly data: string
}

/** Reads `data:<media type>;base64,<data>`; `undefined` for anything else. */
export const parseDataUrl = (url: string): DataUrl | undefined => {
  const match = /^data:([^;,]+)(?:;[^;,=]+=[^;,]*)*;base64,(.*)$/s.exec(url)
  return match === null ? undefined : { mediaType: match[1]!, data: match[2]! }
}

/** The arguments of a tool call as an object; `""` is `{}`; anything but a JSON object is a 400. */
export const toolArguments = (guard: ParamGuard, param: string, text: string): Record<string, unknown> => {
  if (text.trim() === "") return {}
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return guard.invalid(param, `${param} must be a JSON object; it is not JSON`)
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return guard.invalid(param, `${param} must be a JSON object`)
  }
  return value as Record<string, unknown>
}

/** An assistant turn of a request. */
export type AssistantMessage = Extract<ChatCompletionRequest["messages"][number], { role: "assistant" }>

/**
 * The texts of an assistant turn, empty ones left out: its content (each
 * part with its text, or its refusal), or its `refusal` when it has no content.
 */
export const assistantTexts = (message: AssistantMessage): Array<{ readonly text: string; readonly part?: object }> => {
  const texts: Array<{ readonly text: string; readonly part?: object }> = []
  const content = message.content
  if (typeof content === "string") {
    if (content.length > 0) texts.push({ text: content })
  } else if (content != null) {
    for (const part of content) {
      const text = part.type === "text" ? part.text : part.refusal
      if (text.length > 0) texts.push({ text, part })
    }
  }
  if ((content == null || content.length === 0) && message.refusal != null && message.refusal.length > 0) {
    texts.push({ text: message.refusal })
  }
  return texts
}

/** The names of the tools an `allowed_tools` choice lists (`{type, function: {name}}` or `{type, name}`). */
export const allowedToolNames = (tools: ReadonlyArray<Record<string, unknown>>): Set<string> => {
  const names = new Set<string>()
  for (const tool of tools) {
    const fn = tool.function
    const name = typeof fn === "object" && fn !== null && typeof (fn as { name?: unknown }).name === "string"
      ? (fn as { name: string }).name
      : tool.name
    if (typeof name === "string") names.add(name)
  }
  return names
}

/**
 * The function tools of a request, each translated by `translate`; a custom
 * (free-text) tool is unsupported (`tools[i].custom`: `family` has none).
 * `undefined` when the request has no tools.
 */
export const functionTools = <T>(
  guard: ParamGuard,
  tools: ChatCompletionRequest["tools"],
  family: string,
  translate: (tool: FunctionTool) => T
): Array<T> | undefined => {
  if (tools == null || tools.length === 0) return undefined
  const translated: Array<T> = []
  tools.forEach((tool, i) => {
    if (tool.type === "function") translated.push(translate(tool))
    else guard.unsupported(`tools[${i}].custom`, `${family} has no custom (free-text) tools`)
  })
  return translated
}

/** The stop sequences of a request, as a list. */
export const stopList = (stop: ChatCompletionRequest["stop"]): Array<string> | undefined =>
  stop == null ? undefined : typeof stop === "string" ? [stop] : [...stop]

/** The text of a system, developer or tool message's content. */
export const textParts = (content: string | ReadonlyArray<{ readonly type: "text"; readonly text: string }>): Array<string> =>
  typeof content === "string" ? [content] : content.map((part) => part.text)

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

/** A random id with a prefix, for tool calls and completions the vendor does not name. */
export const randomId = (prefix: string, length = 24): string => {
  let id = prefix
  for (let i = 0; i < length; i++) id += ALPHABET[Math.floor(Math.random() * ALPHABET.length)]
  return id
}

/** The fields every chunk of one streamed completion shares. */
export interface ChunkBase {
  readonly id: string
  readonly object: "chat.completion.chunk"
  readonly created: number
  readonly model: string
}

/** A chunk with one choice. */
export const choiceChunk = (
  base: ChunkBase,
  index: number,
  delta: ChoiceDelta,
  finishReason: FinishReason | null = null,
  logprobs: ChatCompletionChunk["choices"][number]["logprobs"] = null
): ChatCompletionChunk => ({
  ...base,
  choices: [{ index, delta, logprobs, finish_reason: finishReason }]
})

/** Where a streamed choice stands: whether its role chunk went out, and whether it has content. */
export interface ChoiceOpening {
  roleSent: boolean
  contentSet: boolean
}

/** The role chunk of a choice, if not sent yet: before thinking, without content (a tool call may follow). */
export const openRole = (base: ChunkBase, index: number, state: ChoiceOpening, out: Array<ChatCompletionChunk>): void => {
  if (state.roleSent) return
  state.roleSent = true
  out.push(choiceChunk(base, index, { role: "assistant" }))
}

/** Marks a choice as having content: the role chunk with `content: ""`, or an empty content delta after a role-only one. */
export const openContent = (base: ChunkBase, index: number, state: ChoiceOpening, out: Array<ChatCompletionChunk>): void => {
  if (state.contentSet) return
  state.contentSet = true
  out.push(choiceChunk(base, index, state.roleSent ? { content: "" } : { role: "assistant", content: "" }))
  state.roleSent = true
}

/** The first chunk of a tool call: like OpenAI's, the first chunk of a choice that is a tool call carries the role, and no content. */
export const openToolCall = (
  base: ChunkBase,
  index: number,
  state: ChoiceOpening,
  call: NonNullable<ChoiceDelta["tool_calls"]>[number],
  out: Array<ChatCompletionChunk>
): void => {
  out.push(choiceChunk(base, index, state.roleSent ? { tool_calls: [call] } : { role: "assistant", content: null, tool_calls: [call] }))
  state.roleSent = true
}

/**
 * A delta carrying a field OpenAI's schema does not name (`reasoning_content`,
 * `thinking_blocks`): chunks keep unknown keys, and aggregation concatenates
 * strings and keeps the last value of anything else.
 */
export const extraDelta = (key: string, value: unknown): ChoiceDelta => ({ [key]: value }) as ChoiceDelta

/** Drops a trailing slash. */
export const trimSlash = (url: string): string => url.endsWith("/") ? url.slice(0, -1) : url

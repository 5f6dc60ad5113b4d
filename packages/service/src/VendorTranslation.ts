import {
  type ChatCompletionChunk,
  type ChatCompletionRequest,
  type ChoiceDelta,
  type FinishReason,
  type GatewayError,
  InvalidRequest,
  unknownRequestFields,
  UnsupportedParameter,
  UpstreamBadResponse
} from "@switchyard/core"
import { Either, ParseResult } from "effect"
import { excerpt } from "./UpstreamErrors.js"
import { describeBody, type UpstreamResponse } from "./UpstreamHttp.js"

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

/**
 * A delta carrying a field OpenAI's schema does not name (`reasoning_content`,
 * `thinking_blocks`): chunks keep unknown keys, and aggregation concatenates
 * strings and keeps the last value of anything else.
 */
export const extraDelta = (key: string, value: unknown): ChoiceDelta => ({ [key]: value }) as ChoiceDelta

/**
 * Parses and decodes a vendor's JSON answer; anything else is a bad response
 * with an excerpt, naming what was expected (`an Anthropic message`).
 */
export const parseVendorJson = <A>(
  response: Pick<UpstreamResponse, "vendor" | "status" | "contentType">,
  text: string,
  decode: (u: unknown) => Either.Either<A, ParseResult.ParseError>,
  what: string
): Either.Either<A, UpstreamBadResponse> => {
  const vendor = response.vendor
  const bad = (why: string) =>
    new UpstreamBadResponse({
      vendor,
      message: `Upstream \`${vendor}\` sent ${why} (${describeBody(response.contentType, text)})`,
      excerpt: excerpt(text),
      upstreamStatus: response.status
    })
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    return Either.left(bad("a body that is not JSON"))
  }
  return Either.mapLeft(decode(json), (error) =>
    bad(`JSON that is not ${what}: ${ParseResult.TreeFormatter.formatErrorSync(error).split("\n").slice(0, 3).join(" ")}`))
}

/** Drops a trailing slash. */
export const trimSlash = (url: string): string => url.endsWith("/") ? url.slice(0, -1) : url

/** A bad-response error for an event or value a vendor should not have sent, with an excerpt of it. */
export const badUpstream = (vendor: string, what: string, data: unknown): UpstreamBadResponse =>
  new UpstreamBadResponse({
    vendor,
    message: `Upstream \`${vendor}\` sent ${what}`,
    excerpt: excerpt(typeof data === "string" ? data : JSON.stringify(data) ?? "")
  })

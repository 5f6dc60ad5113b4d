import type * as Http from "node:http"
import * as AnthropicFixtures from "./AnthropicFixtures.js"
import { type FakeHandler, type ReceivedRequest, sendJson } from "./FakeUpstream.js"
import * as GeminiFixtures from "./GeminiFixtures.js"
import * as OpenAiFixtures from "./OpenAiFixtures.js"

/**
 * One conversation, played by fake OpenAI, Anthropic and Gemini servers in
 * each vendor's own wire format, so a client can check it gets the same
 * answers whichever vendor serves it. The last user message picks the turn:
 * anything mentioning the weather asks for a `get_weather` call (answered
 * once the tool's result comes back), "rate limit" gets a 429, "bad request"
 * a 400 with the vendor's message, a request for JSON output (OpenAI's
 * `response_format`, Anthropic's forced tool, Gemini's `responseMimeType`)
 * the `structured` object, anything else a greeting.
 */
export const Conversation = {
  greeting: ["Hello!", " How can", " I help", " you today?"],
  toolCall: { name: "get_weather", args: { city: "Paris" } },
  afterTool: ["It is", " sunny in", " Paris."],
  /** Seconds the 429s ask to wait. */
  retryAfterSeconds: 30,
  usage: { prompt: 25, completion: 12 },
  /** The answer to a request for JSON output. */
  structured: { city: "Paris", temperature_c: 21, conditions: "sunny" },
  badRequest: {
    openai: "Invalid 'messages[0].content': string too long.",
    anthropic: "messages.0.content: text content blocks must be non-empty",
    gemini: "* GenerateContentRequest.contents[0].parts[0].data: required oneof field 'data' must have one initialized field"
  }
} as const

/** The turn a request asks for. */
export type Turn = "greeting" | "toolCall" | "afterTool" | "rateLimit" | "badRequest" | "structured"

const turnOf = (lastUserText: string, answersTool: boolean, wantsJson = false): Turn => {
  if (answersTool) return "afterTool"
  const text = lastUserText.toLowerCase()
  if (text.includes("rate limit")) return "rateLimit"
  if (text.includes("bad request")) return "badRequest"
  if (wantsJson) return "structured"
  if (text.includes("weather")) return "toolCall"
  return "greeting"
}

const structuredJson = () => JSON.stringify(Conversation.structured)

/** The structured answer in two pieces, as a stream would carry it. */
const structuredPieces = () => {
  const json = structuredJson()
  return [json.slice(0, 12), json.slice(12)]
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

const write = (response: Http.ServerResponse, text: string): Promise<void> =>
  new Promise((resolve) => {
    response.write(text, () => resolve())
  })

/** Options of an SSE answer. */
export interface SseOptions {
  /** A pause between events. */
  readonly delayMs?: number
  /** Stop sending after this many events, leaving the response open. */
  readonly stallAfter?: number
  /** Destroy the socket after this many events. */
  readonly resetAfter?: number
}

const sendEvents = async (
  response: Http.ServerResponse,
  frames: ReadonlyArray<string>,
  options: SseOptions
): Promise<void> => {
  response.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" })
  response.flushHeaders()
  for (let i = 0; i < frames.length; i++) {
    if (options.resetAfter !== undefined && i >= options.resetAfter) {
      response.socket?.destroy()
      return
    }
    if (options.stallAfter !== undefined && i >= options.stallAfter) return
    if (options.delayMs !== undefined && options.delayMs > 0 && i > 0) await sleep(options.delayMs)
    if (response.destroyed) return
    await write(response, frames[i]!)
  }
  response.end()
}

/** Answers with Anthropic's SSE: `event: <name>` and `data: <json>` per event. */
export const sendAnthropicSse = (
  response: Http.ServerResponse,
  events: ReadonlyArray<AnthropicFixtures.NamedEvent>,
  options: SseOptions = {}
): Promise<void> =>
  sendEvents(response, events.map((e) => `event: ${e.event}\ndata: ${JSON.stringify(e.data)}\n\n`), options)

/** Answers with Gemini's SSE (`alt=sse`): `data: <json>` per event, CRLF-delimited, no terminator. */
export const sendGeminiSse = (
  response: Http.ServerResponse,
  events: ReadonlyArray<unknown>,
  options: SseOptions = {}
): Promise<void> => sendEvents(response, events.map((e) => `data: ${JSON.stringify(e)}\r\n\r\n`), options)

/** Answers with OpenAI's SSE, ending with `data: [DONE]`. */
export const sendOpenAiSse = (
  response: Http.ServerResponse,
  chunks: ReadonlyArray<unknown>,
  options: SseOptions = {}
): Promise<void> =>
  sendEvents(response, [...chunks.map((c) => `data: ${JSON.stringify(c)}\n\n`), "data: [DONE]\n\n"], options)

type Json = Record<string, unknown>
const asRecord = (u: unknown): Json => (typeof u === "object" && u !== null ? u as Json : {})
const asArray = (u: unknown): Array<unknown> => (Array.isArray(u) ? u : [])

// ---------------------------------------------------------------------------
// OpenAI
// ---------------------------------------------------------------------------

/** A fake OpenAI chat completions server playing the `Conversation`. */
export const openAi: FakeHandler = (request, response) => {
  const body = asRecord(request.json)
  if (request.path !== "/v1/chat/completions") {
    return sendJson(response, 404, OpenAiFixtures.errorBody(`Unknown path ${request.path}`, "invalid_request_error"))
  }
  const messages = asArray(body.messages).map(asRecord)
  const last = messages[messages.length - 1] ?? {}
  const lastUser = [...messages].reverse().find((m) => m.role === "user")
  const text = typeof lastUser?.content === "string"
    ? lastUser.content
    : asArray(lastUser?.content).map((p) => String(asRecord(p).text ?? "")).join("")
  const format = asRecord(body.response_format).type
  const turn = turnOf(text, last.role === "tool", format === "json_schema" || format === "json_object")
  const stream = body.stream === true
  const includeUsage = asRecord(body.stream_options).include_usage === true
  const n = typeof body.n === "number" ? body.n : 1
  const usage = { prompt_tokens: Conversation.usage.prompt, completion_tokens: Conversation.usage.completion * n }
  switch (turn) {
    case "rateLimit":
      return sendJson(
        response,
        429,
        OpenAiFixtures.errorBody("Rate limit reached for gpt-4.1 on requests per min (RPM): Limit 3.", "requests", "rate_limit_exceeded"),
        { "retry-after": String(Conversation.retryAfterSeconds) }
      )
    case "badRequest":
      return sendJson(response, 400, OpenAiFixtures.errorBody(Conversation.badRequest.openai, "invalid_request_error", "string_above_max_length", "messages[0].content"))
    case "toolCall": {
      const call = { id: "call_62136354", name: Conversation.toolCall.name, arguments: JSON.stringify(Conversation.toolCall.args) }
      return stream
        ? sendOpenAiSse(response, OpenAiFixtures.toolCallChunks(call, { includeUsage, usage }))
        : sendJson(response, 200, OpenAiFixtures.toolCallCompletion([call], { usage }))
    }
    default: {
      const pieces = turn === "structured"
        ? structuredPieces()
        : turn === "afterTool"
        ? Conversation.afterTool
        : Conversation.greeting
      return stream
        ? sendOpenAiSse(response, OpenAiFixtures.textChunks(pieces, { includeUsage, n, usage }))
        : sendJson(response, 200, OpenAiFixtures.textCompletion(pieces.join(""), { n, usage }))
    }
  }
}

// ---------------------------------------------------------------------------
// Anthropic
// ---------------------------------------------------------------------------

const anthropicInvalid = (response: Http.ServerResponse, message: string) =>
  sendJson(response, 400, AnthropicFixtures.errorBody("invalid_request_error", message))

/** What Anthropic's API checks before answering (a subset of its reference), or `undefined` if the request passes. */
const anthropicProblem = (request: ReceivedRequest): string | undefined => {
  if (request.headers["anthropic-version"] === undefined) return "anthropic-version: header is required"
  const body = asRecord(request.json)
  if (typeof body.model !== "string") return "model: Field required"
  if (typeof body.max_tokens !== "number") return "max_tokens: Field required"
  const messages = asArray(body.messages).map(asRecord)
  if (messages.length === 0) return "messages: at least one message is required"
  const pending = new Set<string>()
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i]!
    if (message.role !== "user" && message.role !== "assistant") return `messages.${i}.role: Input should be 'user' or 'assistant'`
    if (i > 0 && messages[i - 1]!.role === message.role) return `messages.${i}: roles must alternate between "user" and "assistant"`
    const blocks = typeof message.content === "string" ? [{ type: "text", text: message.content }] : asArray(message.content).map(asRecord)
    for (const block of blocks) {
      if (block.type === "text" && block.text === "") return `messages.${i}.content: text content blocks must be non-empty`
      if (block.type === "tool_use") pending.add(String(block.id))
      if (block.type === "tool_result" && !pending.delete(String(block.tool_use_id))) {
        return `messages.${i}.content: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${String(block.tool_use_id)}`
      }
    }
  }
  const temperature = body.temperature
  if (typeof temperature === "number" && (temperature < 0 || temperature > 1)) return "temperature: Input should be less than or equal to 1"
  return undefined
}

/** A fake Anthropic Messages API playing the `Conversation`. */
export const anthropic: FakeHandler = (request, response) => {
  if (request.path !== "/v1/messages") {
    return sendJson(response, 404, AnthropicFixtures.errorBody("not_found_error", `Not found: ${request.path}`))
  }
  const problem = anthropicProblem(request)
  if (problem !== undefined) return anthropicInvalid(response, problem)
  const body = asRecord(request.json)
  const messages = asArray(body.messages).map(asRecord)
  const last = messages[messages.length - 1] ?? {}
  const blocks = typeof last.content === "string" ? [{ type: "text", text: last.content }] : asArray(last.content).map(asRecord)
  const text = blocks.filter((b) => b.type === "text").map((b) => String(b.text)).join("")
  const forced = asRecord(body.tool_choice)
  const jsonTool = forced.type === "tool" && forced.name !== Conversation.toolCall.name ? String(forced.name) : undefined
  const turn = turnOf(text, blocks.some((b) => b.type === "tool_result"), jsonTool !== undefined)
  const stream = body.stream === true
  const usage = { input_tokens: Conversation.usage.prompt, output_tokens: Conversation.usage.completion, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 }
  switch (turn) {
    case "rateLimit":
      return sendJson(
        response,
        429,
        AnthropicFixtures.errorBody("rate_limit_error", "This request would exceed the rate limit for your organization of 50 requests per minute."),
        { "retry-after": String(Conversation.retryAfterSeconds) }
      )
    case "badRequest":
      return anthropicInvalid(response, Conversation.badRequest.anthropic)
    case "toolCall": {
      const tool = { id: "toolu_01A09q90qw90lq917835lq9", name: Conversation.toolCall.name, input: { ...Conversation.toolCall.args } }
      return stream
        ? sendAnthropicSse(response, AnthropicFixtures.toolUseStream([tool], { usage }))
        : sendJson(response, 200, AnthropicFixtures.toolUseMessage([tool], { usage }))
    }
    case "structured": {
      const tool = { id: "toolu_01JsonAnswer000000000000", name: jsonTool!, input: { ...Conversation.structured } }
      return stream
        ? sendAnthropicSse(response, AnthropicFixtures.toolUseStream([tool], { usage }))
        : sendJson(response, 200, AnthropicFixtures.toolUseMessage([tool], { usage }))
    }
    default: {
      const pieces = turn === "afterTool" ? Conversation.afterTool : Conversation.greeting
      return stream
        ? sendAnthropicSse(response, AnthropicFixtures.textStream(pieces, { usage }))
        : sendJson(response, 200, AnthropicFixtures.textMessage(pieces.join(""), { usage }))
    }
  }
}

// ---------------------------------------------------------------------------
// Gemini
// ---------------------------------------------------------------------------

const geminiInvalid = (response: Http.ServerResponse, message: string) =>
  sendJson(response, 400, GeminiFixtures.errorBody(400, "INVALID_ARGUMENT", message))

/** What the Gemini API checks before answering (a subset), or `undefined` if the request passes. */
const geminiProblem = (request: ReceivedRequest): string | undefined => {
  if (request.path.includes("key=")) return "API keys belong in the x-goog-api-key header in these tests"
  const body = asRecord(request.json)
  const contents = asArray(body.contents).map(asRecord)
  if (contents.length === 0) return "* GenerateContentRequest.contents: contents is not specified"
  const called = new Set<string>()
  for (let i = 0; i < contents.length; i++) {
    const content = contents[i]!
    if (content.role !== "user" && content.role !== "model") return `* GenerateContentRequest.contents[${i}].role: must be user or model`
    for (const part of asArray(content.parts).map(asRecord)) {
      const call = asRecord(part.functionCall)
      if (typeof call.name === "string") called.add(call.name)
      const answer = asRecord(part.functionResponse)
      if (part.functionResponse !== undefined && (typeof answer.name !== "string" || !called.has(answer.name))) {
        return `* GenerateContentRequest.contents[${i}]: function response does not match any function call`
      }
      if (part.functionResponse !== undefined && typeof answer.response !== "object") {
        return `* GenerateContentRequest.contents[${i}].parts.function_response.response: must be an object`
      }
    }
  }
  return undefined
}

/** A fake Gemini API (`generateContent`, `streamGenerateContent?alt=sse`) playing the `Conversation`. */
export const gemini: FakeHandler = (request, response) => {
  const match = /^\/v1beta\/models\/([^/:]+):(generateContent|streamGenerateContent\?alt=sse)$/.exec(request.path)
  if (match === null) return sendJson(response, 404, GeminiFixtures.errorBody(404, "NOT_FOUND", `Not found: ${request.path}`))
  const problem = geminiProblem(request)
  if (problem !== undefined) return geminiInvalid(response, problem)
  const body = asRecord(request.json)
  const contents = asArray(body.contents).map(asRecord)
  const last = contents[contents.length - 1] ?? {}
  const parts = asArray(last.parts).map(asRecord)
  const text = parts.filter((p) => typeof p.text === "string").map((p) => String(p.text)).join("")
  const wantsJson = asRecord(body.generationConfig).responseMimeType === "application/json"
  const turn = turnOf(text, parts.some((p) => p.functionResponse !== undefined), wantsJson)
  const stream = match[2] !== "generateContent"
  const n = Number(asRecord(body.generationConfig).candidateCount ?? 1)
  const usage = {
    promptTokenCount: Conversation.usage.prompt,
    candidatesTokenCount: Conversation.usage.completion * n,
    totalTokenCount: Conversation.usage.prompt + Conversation.usage.completion * n
  }
  const modelVersion = match[1]!
  switch (turn) {
    case "rateLimit":
      return sendJson(
        response,
        429,
        GeminiFixtures.errorBody(429, "RESOURCE_EXHAUSTED", "You exceeded your current quota, please check your plan and billing details.", `${Conversation.retryAfterSeconds}s`)
      )
    case "badRequest":
      return geminiInvalid(response, Conversation.badRequest.gemini)
    case "toolCall": {
      const call = { name: Conversation.toolCall.name, args: { ...Conversation.toolCall.args } }
      return stream
        ? sendGeminiSse(response, GeminiFixtures.functionCallStream([call], { usage, modelVersion }))
        : sendJson(response, 200, GeminiFixtures.functionCallResponse([call], { usage, modelVersion }))
    }
    default: {
      const pieces = turn === "structured"
        ? structuredPieces()
        : turn === "afterTool"
        ? Conversation.afterTool
        : Conversation.greeting
      if (!stream) {
        return sendJson(
          response,
          200,
          GeminiFixtures.response(Array.from({ length: n }, () => ({ parts: [{ text: pieces.join("") }], finishReason: "STOP" })), { usage, modelVersion })
        )
      }
      // Several candidates stream side by side: each event carries a piece of each.
      const events = pieces.map((piece, i) => {
        const lastPiece = i === pieces.length - 1
        return {
          candidates: Array.from({ length: n }, (_, index) => ({
            content: { parts: [{ text: piece }], role: "model" },
            ...(lastPiece ? { finishReason: "STOP" } : {}),
            index
          })),
          ...(lastPiece ? { usageMetadata: usage } : {}),
          modelVersion,
          responseId: "mPv4aN7ZJ5S7nvgPqbXW-Qw"
        }
      })
      return sendGeminiSse(response, events)
    }
  }
}

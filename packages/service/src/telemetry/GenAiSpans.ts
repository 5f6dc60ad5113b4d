/**
 * The attributes of an upstream attempt's span, after the OpenTelemetry GenAI
 * semantic conventions (`chat {gen_ai.request.model}`, kind CLIENT): the
 * request's model and sampling parameters, then the response's id, model,
 * finish reasons and token usage. Prompts and completions
 * (`gen_ai.input.messages`, `gen_ai.output.messages`) only when content
 * capture is on.
 */
import {
  type ChatCompletion,
  type ChatCompletionChunk,
  type ChatCompletionMessageParam,
  type ChatCompletionRequest,
  ChunkAggregator,
  type CompletionUsage,
  contentText
} from "@switchyard/core"
import type { Tracer } from "effect"
import type { ProviderCall } from "../Provider.js"
import { genAiProviderName } from "./SwitchyardMetrics.js"

const servers = new Map<string, { readonly address: string; readonly port: number } | null>()

/** The `server.address` and `server.port` of a vendor's URL, if it parses (cached: a vendor has few URLs). */
export const serverOf = (url: string): { readonly address: string; readonly port: number } | null => {
  let server = servers.get(url)
  if (server === undefined) {
    try {
      const parsed = new URL(url)
      server = {
        address: parsed.hostname.replace(/^\[|\]$/g, ""),
        port: parsed.port !== "" ? Number(parsed.port) : parsed.protocol === "https:" ? 443 : 80
      }
    } catch {
      server = null
    }
    if (servers.size > 1_000) servers.clear()
    servers.set(url, server)
  }
  return server
}

/** The span name of an attempt: `chat {model}`. */
export const attemptSpanName = (call: ProviderCall): string => `chat ${call.model}`

/** The attributes known when an attempt starts. */
export const requestAttributes = (call: ProviderCall, captureContent: boolean): Record<string, unknown> => {
  const attributes = genAiRequestAttributes(call.request, call.vendor, call.model, captureContent)
  attributes["switchyard.request_id"] = call.context.requestId
  if (call.attemptKind !== undefined) attributes["switchyard.attempt.kind"] = call.attemptKind
  return attributes
}

/**
 * The GenAI attributes of a chat request sent to `vendor` as `model` (without
 * the vendor prefix): operation, provider, model, sampling parameters, and
 * the messages when content is captured.
 */
export const genAiRequestAttributes = (
  request: ChatCompletionRequest,
  vendor: string,
  model: string,
  captureContent: boolean
): Record<string, unknown> => {
  const attributes: Record<string, unknown> = {
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": genAiProviderName(vendor),
    "gen_ai.request.model": model,
    "switchyard.vendor": vendor
  }
  if (request.temperature != null) attributes["gen_ai.request.temperature"] = request.temperature
  if (request.top_p != null) attributes["gen_ai.request.top_p"] = request.top_p
  if (request.top_k != null) attributes["gen_ai.request.top_k"] = request.top_k
  const maxTokens = request.max_completion_tokens ?? request.max_tokens
  if (maxTokens != null) attributes["gen_ai.request.max_tokens"] = maxTokens
  if (request.frequency_penalty != null) attributes["gen_ai.request.frequency_penalty"] = request.frequency_penalty
  if (request.presence_penalty != null) attributes["gen_ai.request.presence_penalty"] = request.presence_penalty
  if (request.seed != null) attributes["gen_ai.request.seed"] = request.seed
  if (request.n != null && request.n !== 1) attributes["gen_ai.request.choice.count"] = request.n
  if (request.stop != null) attributes["gen_ai.request.stop_sequences"] = typeof request.stop === "string" ? [request.stop] : request.stop
  if (request.stream === true) attributes["gen_ai.request.stream"] = true
  if (captureContent) attributes["gen_ai.input.messages"] = JSON.stringify(request.messages.map(inputMessage))
  return attributes
}

const inputMessage = (message: ChatCompletionMessageParam) => {
  const parts: Array<Record<string, unknown>> = []
  const text = contentText(message.content as Parameters<typeof contentText>[0])
  if (message.role === "tool") parts.push({ type: "tool_call_response", id: message.tool_call_id, response: text })
  else if (text.length > 0) parts.push({ type: "text", content: text })
  if (message.role === "assistant") {
    for (const call of message.tool_calls ?? []) {
      if (call.type === "function") {
        parts.push({ type: "tool_call", id: call.id, name: call.function.name, arguments: call.function.arguments })
      }
    }
  }
  return { role: message.role, parts }
}

const outputMessages = (completion: ChatCompletion) =>
  completion.choices.map((choice) => {
    const parts: Array<Record<string, unknown>> = []
    if (choice.message.content != null && choice.message.content.length > 0) {
      parts.push({ type: "text", content: choice.message.content })
    }
    for (const call of choice.message.tool_calls ?? []) {
      if (call.type === "function") {
        parts.push({ type: "tool_call", id: call.id, name: call.function.name, arguments: call.function.arguments })
      }
    }
    return { role: "assistant", parts, finish_reason: choice.finish_reason }
  })

const addUsage = (attributes: Record<string, unknown>, usage: CompletionUsage | null | undefined) => {
  if (usage == null) return
  attributes["gen_ai.usage.input_tokens"] = usage.prompt_tokens
  attributes["gen_ai.usage.output_tokens"] = usage.completion_tokens
}

/** The GenAI attributes of a whole answer: id, model, finish reasons, usage (and the answer when captured). */
export const completionAttributes = (completion: ChatCompletion, captureContent: boolean): Record<string, unknown> => {
  const attributes: Record<string, unknown> = {
    "gen_ai.response.id": completion.id,
    "gen_ai.response.model": completion.model,
    "gen_ai.response.finish_reasons": completion.choices.map((choice) => choice.finish_reason ?? "")
  }
  addUsage(attributes, completion.usage)
  if (captureContent) attributes["gen_ai.output.messages"] = JSON.stringify(outputMessages(completion))
  return attributes
}

const setAll = (span: Tracer.Span, attributes: Record<string, unknown>) => {
  for (const key in attributes) span.attribute(key, attributes[key])
}

/** Sets a whole answer's attributes on its attempt's span. */
export const describeCompletion = (span: Tracer.Span, completion: ChatCompletion, captureContent: boolean): void =>
  setAll(span, completionAttributes(completion, captureContent))

/**
 * Watches a streamed answer's chunks for what its span reports at the end:
 * id, model, finish reasons and usage (and the whole answer when content is
 * captured). Plain code per batch; only used while tracing.
 */
export class StreamDescription {
  private id: string | undefined
  private model: string | undefined
  private usage: CompletionUsage | undefined
  private readonly finishReasons: Array<string> = []
  private readonly aggregator: ChunkAggregator | undefined

  constructor(captureContent: boolean) {
    this.aggregator = captureContent ? new ChunkAggregator() : undefined
  }

  /** Takes a batch in (returns it, to sit in a `map`). */
  observe(batch: ReadonlyArray<ChatCompletionChunk> | null): ReadonlyArray<ChatCompletionChunk> | null {
    if (batch === null) return batch
    for (const chunk of batch) {
      this.id ??= chunk.id
      this.model ??= chunk.model
      if (chunk.usage != null) this.usage = chunk.usage
      for (const choice of chunk.choices) if (choice.finish_reason != null) this.finishReasons[choice.index] = choice.finish_reason
      this.aggregator?.push(chunk)
    }
    return batch
  }

  /** What was seen, as GenAI attributes. */
  attributes(): Record<string, unknown> {
    const attributes: Record<string, unknown> = {}
    if (this.id !== undefined) attributes["gen_ai.response.id"] = this.id
    if (this.model !== undefined) attributes["gen_ai.response.model"] = this.model
    if (this.finishReasons.length > 0) {
      attributes["gen_ai.response.finish_reasons"] = Array.from(this.finishReasons, (reason) => reason ?? "")
    }
    addUsage(attributes, this.usage)
    if (this.aggregator !== undefined && this.aggregator.count > 0) {
      attributes["gen_ai.output.messages"] = JSON.stringify(outputMessages(this.aggregator.result()))
    }
    return attributes
  }

  /** Sets what was seen on the span. */
  describe(span: Tracer.Span): void {
    setAll(span, this.attributes())
  }
}

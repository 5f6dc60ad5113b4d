import {
  type ChatCompletion,
  type ChatCompletionChunk,
  type ChoiceDeltaToolCall,
  type CompletionUsage,
  type FinishReason,
  type GatewayError,
  type IncompleteDetails,
  type ItemStatus,
  type ResponseErrorDetail,
  type ResponseObject,
  type ResponseOutputContent,
  type ResponseOutputItem,
  type ResponseStatus,
  type ResponseStreamEvent,
  type ResponseUsage,
  toErrorEnvelope
} from "@switchyard/core"
import type { IdGenerator } from "./ResponseIds.js"
import type { ResponseBase } from "./ResponseInput.js"

interface PartState {
  readonly type: "output_text" | "refusal"
  readonly index: number
  text: string
}

interface MessageState {
  readonly id: string
  readonly outputIndex: number
  readonly parts: Array<PartState>
}

interface CallState {
  readonly id: string
  readonly outputIndex: number
  readonly callId: string
  readonly chatIndex: number
  name: string
  arguments: string
}

interface ReasoningState {
  readonly id: string
  readonly outputIndex: number
  text: string
}

/** OpenAI's token counts of a response, from a chat completion's usage (zeros where the vendor said nothing). */
export const toResponseUsage = (usage: CompletionUsage | undefined | null): ResponseUsage => {
  const input = usage?.prompt_tokens ?? 0
  const output = usage?.completion_tokens ?? 0
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: usage?.prompt_tokens_details?.cached_tokens ?? 0 },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: usage?.completion_tokens_details?.reasoning_tokens ?? 0 },
    total_tokens: usage?.total_tokens ?? input + output
  }
}

/** The `error` of a failed response: OpenAI's codes are few (`rate_limit_exceeded`, `server_error`, …). */
export const responseErrorDetail = (error: GatewayError): ResponseErrorDetail => ({
  code: error._tag === "UpstreamRateLimited" ? "rate_limit_exceeded" : "server_error",
  message: error.message || "The response failed."
})

const reasoningOf = (delta: object): string | undefined => {
  const value = (delta as { readonly reasoning_content?: unknown }).reasoning_content ??
    (delta as { readonly reasoning?: unknown }).reasoning
  return typeof value === "string" && value.length > 0 ? value : undefined
}

/**
 * The translation of a streamed chat completion into Responses API events: a
 * synchronous state machine, fed chunk by chunk, that keeps OpenAI's rules.
 * `sequence_number` counts from 0 by one; `response.created` and
 * `response.in_progress` come first; each output item goes `added` →
 * (`content_part.added` → `output_text.delta`… → `output_text.done` →
 * `content_part.done`) or (`function_call_arguments.delta`… → `.done`) →
 * `done`, at contiguous `output_index`es, every event naming its item's id;
 * exactly one `response.completed`, `response.incomplete` or
 * `response.failed` (after an `error` event) ends it, carrying the whole
 * response. Reasoning (`reasoning_content`) becomes a `reasoning` item
 * with a summary. One instance per response.
 */
export class ResponseEventWriter {
  private sequence = 0
  /** The output items by index, once closed; `undefined` while open. */
  private readonly items: Array<ResponseOutputItem | undefined> = []
  private message: MessageState | undefined
  private reasoning: ReasoningState | undefined
  /** The open function call (at most one), by its chat tool-call index. */
  private readonly calls = new Map<number, CallState>()
  private readonly closedCalls = new Set<number>()
  private finishReason: FinishReason | undefined
  private usage: CompletionUsage | undefined
  private serviceTier: string | undefined
  private started = false
  private ended: ResponseObject | undefined
  private out: Array<ResponseStreamEvent> = []

  constructor(
    /** The response's id, creation time and echoed settings. */
    readonly base: ResponseBase,
    private readonly newId: IdGenerator,
    /** The current time in seconds, for `completed_at`. */
    private readonly now: () => number
  ) {}

  /** The response's id. */
  get id(): string {
    return this.base.id
  }

  /** Whether `start` has been given out (and so a failure must now be reported in-band). */
  get hasStarted(): boolean {
    return this.started
  }

  /** `response.created` and `response.in_progress`, the first time; nothing after. */
  start(): Array<ResponseStreamEvent> {
    if (this.started) return []
    this.started = true
    const created = this.snapshot("in_progress", null, null, null, null)
    this.out.push({ type: "response.created", sequence_number: this.sequence++, response: created })
    this.out.push({
      type: "response.in_progress",
      sequence_number: this.sequence++,
      response: this.snapshot("in_progress", null, null, null, null)
    })
    return this.take()
  }

  /** The events of a batch of chunks (after the start events if not given yet). */
  push(chunks: ReadonlyArray<ChatCompletionChunk>): Array<ResponseStreamEvent> {
    if (!this.started) this.start().forEach((event) => this.out.push(event))
    if (this.ended !== undefined) return this.take()
    for (const chunk of chunks) this.apply(chunk)
    return this.take()
  }

  /**
   * The end of the upstream stream: open items close, then the terminal
   * event (`response.completed`, or `response.incomplete` after a length or
   * content-filter stop) with the whole response and its usage.
   */
  finish(): { readonly events: Array<ResponseStreamEvent>; readonly response: ResponseObject } {
    if (this.ended !== undefined) return { events: [], response: this.ended }
    if (!this.started) this.start().forEach((event) => this.out.push(event))
    const reason: IncompleteDetails["reason"] | undefined = this.finishReason === "length"
      ? "max_output_tokens"
      : this.finishReason === "content_filter"
      ? "content_filter"
      : undefined
    this.closeOpen(reason === undefined ? "completed" : "incomplete")
    const response = reason === undefined
      ? this.snapshot("completed", null, null, toResponseUsage(this.usage), this.now())
      : this.snapshot("incomplete", null, { reason }, toResponseUsage(this.usage), null)
    this.out.push({
      type: reason === undefined ? "response.completed" : "response.incomplete",
      sequence_number: this.sequence++,
      response
    })
    this.ended = response
    return { events: this.take(), response }
  }

  /**
   * A failure after the start: an `error` event, then `response.failed`
   * with the output so far (open items `incomplete`).
   */
  fail(error: GatewayError): { readonly events: Array<ResponseStreamEvent>; readonly response: ResponseObject } {
    if (this.ended !== undefined) return { events: [], response: this.ended }
    if (!this.started) this.start().forEach((event) => this.out.push(event))
    if (this.message !== undefined) this.items[this.message.outputIndex] = this.messageItem(this.message, "incomplete")
    if (this.reasoning !== undefined) this.items[this.reasoning.outputIndex] = this.reasoningItem(this.reasoning)
    for (const call of this.calls.values()) this.items[call.outputIndex] = this.callItem(call, "incomplete")
    const envelope = toErrorEnvelope(error).error
    const code = envelope.code ?? "server_error"
    this.out.push({
      type: "error",
      sequence_number: this.sequence++,
      code,
      message: envelope.message,
      param: envelope.param,
      error: { type: envelope.type, code, message: envelope.message, param: envelope.param }
    })
    const response = this.snapshot(
      "failed",
      responseErrorDetail(error),
      null,
      this.usage !== undefined ? toResponseUsage(this.usage) : null,
      null
    )
    this.out.push({ type: "response.failed", sequence_number: this.sequence++, response })
    this.ended = response
    return { events: this.take(), response }
  }

  /** The response of a whole (non-streamed) completion: the same items the stream would have had. */
  complete(completion: ChatCompletion): ResponseObject {
    this.started = true
    const choice = completion.choices.find((c) => c.index === 0) ?? completion.choices[0]
    if (choice !== undefined) {
      const message = choice.message
      const reasoning = reasoningOf(message)
      if (reasoning !== undefined) this.reasoningDelta(reasoning)
      if (message.content != null && message.content.length > 0) this.textDelta("output_text", message.content)
      if (message.refusal != null && message.refusal.length > 0) this.textDelta("refusal", message.refusal)
      const calls = message.tool_calls ?? []
      for (let i = 0; i < calls.length; i++) {
        const call = calls[i]!
        if (call.type !== "function") continue
        this.callDelta({ index: i, id: call.id, function: { name: call.function.name, arguments: call.function.arguments } })
      }
      this.finishReason = choice.finish_reason
    }
    if (completion.usage != null) this.usage = completion.usage
    if (completion.service_tier != null) this.serviceTier = completion.service_tier
    const { response } = this.finish()
    this.out = []
    return response
  }

  private take(): Array<ResponseStreamEvent> {
    const events = this.out
    this.out = []
    return events
  }

  private apply(chunk: ChatCompletionChunk): void {
    if (chunk.usage != null) this.usage = chunk.usage
    if (chunk.service_tier != null) this.serviceTier = chunk.service_tier
    for (const choice of chunk.choices) {
      // The facade never asks for `n > 1`: choice 0 is the answer.
      if (choice.index !== 0) continue
      const delta = choice.delta
      const reasoning = reasoningOf(delta)
      if (reasoning !== undefined) this.reasoningDelta(reasoning)
      if (delta.content != null && delta.content.length > 0) this.textDelta("output_text", delta.content)
      if (delta.refusal != null && delta.refusal.length > 0) this.textDelta("refusal", delta.refusal)
      if (delta.tool_calls != null) for (const call of delta.tool_calls) this.callDelta(call)
      if (choice.finish_reason != null) this.finishReason = choice.finish_reason
    }
  }

  private snapshot(
    status: ResponseStatus,
    error: ResponseObject["error"],
    incomplete: ResponseObject["incomplete_details"],
    usage: ResponseObject["usage"],
    completedAt: number | null
  ): ResponseObject {
    const { created_at, id, object, ...settings } = this.base
    const output: Array<ResponseOutputItem> = []
    for (const item of this.items) if (item !== undefined) output.push(item)
    return {
      id,
      object,
      created_at,
      status,
      completed_at: completedAt,
      error,
      incomplete_details: incomplete,
      output,
      usage,
      ...settings,
      service_tier: status === "in_progress"
        ? settings.service_tier
        : this.serviceTier ?? (settings.service_tier === "auto" ? "default" : settings.service_tier)
    }
  }

  private closeOpen(status: ItemStatus): void {
    if (this.reasoning !== undefined) this.closeReasoning(this.reasoning)
    if (this.message !== undefined) this.closeMessage(this.message, status)
    for (const call of this.calls.values()) this.closeCall(call, status)
    this.calls.clear()
  }

  private reasoningDelta(text: string): void {
    if (this.message !== undefined || this.calls.size > 0) this.closeOpen("completed")
    let reasoning = this.reasoning
    if (reasoning === undefined) {
      reasoning = this.reasoning = { id: this.newId("rs"), outputIndex: this.items.length, text: "" }
      this.items.push(undefined)
      this.out.push({
        type: "response.output_item.added",
        sequence_number: this.sequence++,
        output_index: reasoning.outputIndex,
        item: { id: reasoning.id, type: "reasoning", summary: [] }
      })
      this.out.push({
        type: "response.reasoning_summary_part.added",
        sequence_number: this.sequence++,
        item_id: reasoning.id,
        output_index: reasoning.outputIndex,
        summary_index: 0,
        part: { type: "summary_text", text: "" }
      })
    }
    reasoning.text += text
    this.out.push({
      type: "response.reasoning_summary_text.delta",
      sequence_number: this.sequence++,
      item_id: reasoning.id,
      output_index: reasoning.outputIndex,
      summary_index: 0,
      delta: text
    })
  }

  private reasoningItem(reasoning: ReasoningState): ResponseOutputItem {
    return { id: reasoning.id, type: "reasoning", summary: [{ type: "summary_text", text: reasoning.text }] }
  }

  private closeReasoning(reasoning: ReasoningState): void {
    const address = { item_id: reasoning.id, output_index: reasoning.outputIndex, summary_index: 0 }
    this.out.push({
      type: "response.reasoning_summary_text.done",
      sequence_number: this.sequence++,
      ...address,
      text: reasoning.text
    })
    this.out.push({
      type: "response.reasoning_summary_part.done",
      sequence_number: this.sequence++,
      ...address,
      part: { type: "summary_text", text: reasoning.text }
    })
    const item = this.reasoningItem(reasoning)
    this.items[reasoning.outputIndex] = item
    this.out.push({ type: "response.output_item.done", sequence_number: this.sequence++, output_index: reasoning.outputIndex, item })
    this.reasoning = undefined
  }

  private textDelta(type: PartState["type"], text: string): void {
    if (this.reasoning !== undefined || this.calls.size > 0) this.closeOpen("completed")
    let message = this.message
    if (message === undefined) {
      message = this.message = { id: this.newId("msg"), outputIndex: this.items.length, parts: [] }
      this.items.push(undefined)
      this.out.push({
        type: "response.output_item.added",
        sequence_number: this.sequence++,
        output_index: message.outputIndex,
        item: { id: message.id, type: "message", role: "assistant", status: "in_progress", content: [] }
      })
    }
    let part = message.parts[message.parts.length - 1]
    if (part?.type !== type) {
      if (part !== undefined) this.closePart(message, part)
      part = { type, index: message.parts.length, text: "" }
      message.parts.push(part)
      this.out.push({
        type: "response.content_part.added",
        sequence_number: this.sequence++,
        item_id: message.id,
        output_index: message.outputIndex,
        content_index: part.index,
        part: type === "output_text" ? { type, text: "", annotations: [] } : { type, refusal: "" }
      })
    }
    part.text += text
    this.out.push(
      type === "output_text"
        ? {
          type: "response.output_text.delta",
          sequence_number: this.sequence++,
          item_id: message.id,
          output_index: message.outputIndex,
          content_index: part.index,
          delta: text,
          logprobs: []
        }
        : {
          type: "response.refusal.delta",
          sequence_number: this.sequence++,
          item_id: message.id,
          output_index: message.outputIndex,
          content_index: part.index,
          delta: text
        }
    )
  }

  private partContent(part: PartState): ResponseOutputContent {
    return part.type === "output_text"
      ? { type: "output_text", text: part.text, annotations: [] }
      : { type: "refusal", refusal: part.text }
  }

  private closePart(message: MessageState, part: PartState): void {
    const address = { item_id: message.id, output_index: message.outputIndex, content_index: part.index }
    this.out.push(
      part.type === "output_text"
        ? { type: "response.output_text.done", sequence_number: this.sequence++, ...address, text: part.text, logprobs: [] }
        : { type: "response.refusal.done", sequence_number: this.sequence++, ...address, refusal: part.text }
    )
    this.out.push({
      type: "response.content_part.done",
      sequence_number: this.sequence++,
      ...address,
      part: this.partContent(part)
    })
  }

  private messageItem(message: MessageState, status: ItemStatus): ResponseOutputItem {
    return {
      id: message.id,
      type: "message",
      role: "assistant",
      status,
      content: message.parts.map((part) => this.partContent(part))
    }
  }

  private closeMessage(message: MessageState, status: ItemStatus): void {
    const part = message.parts[message.parts.length - 1]
    if (part !== undefined) this.closePart(message, part)
    const item = this.messageItem(message, status)
    this.items[message.outputIndex] = item
    this.out.push({ type: "response.output_item.done", sequence_number: this.sequence++, output_index: message.outputIndex, item })
    this.message = undefined
  }

  private callDelta(delta: ChoiceDeltaToolCall): void {
    let call = this.calls.get(delta.index)
    if (call === undefined) {
      // A fragment of a call already closed (another item came after it): there is no item
      // left to add it to. Vendors stream each call's fragments together, so this does not happen.
      if (this.closedCalls.has(delta.index)) return
      // Items stream one after the other, as OpenAI's: a new call closes the item before it.
      this.closeOpen("completed")
      call = {
        id: this.newId("fc"),
        outputIndex: this.items.length,
        callId: delta.id || this.newId("call"),
        chatIndex: delta.index,
        name: delta.function?.name ?? "",
        arguments: ""
      }
      this.items.push(undefined)
      this.calls.set(delta.index, call)
      this.out.push({
        type: "response.output_item.added",
        sequence_number: this.sequence++,
        output_index: call.outputIndex,
        item: { id: call.id, type: "function_call", call_id: call.callId, name: call.name, arguments: "", status: "in_progress" }
      })
    } else if (call.name === "" && delta.function?.name) {
      call.name = delta.function.name
    }
    const args = delta.function?.arguments
    if (args !== undefined && args.length > 0) this.argumentsDelta(call, args)
  }

  private argumentsDelta(call: CallState, args: string): void {
    call.arguments += args
    this.out.push({
      type: "response.function_call_arguments.delta",
      sequence_number: this.sequence++,
      item_id: call.id,
      output_index: call.outputIndex,
      delta: args
    })
  }

  private callItem(call: CallState, status: ItemStatus): ResponseOutputItem {
    return { id: call.id, type: "function_call", call_id: call.callId, name: call.name, arguments: call.arguments, status }
  }

  private closeCall(call: CallState, status: ItemStatus): void {
    // A call without arguments has `{}` for arguments, as OpenAI's: clients parse them as JSON.
    if (call.arguments.length === 0) this.argumentsDelta(call, "{}")
    this.out.push({
      type: "response.function_call_arguments.done",
      sequence_number: this.sequence++,
      item_id: call.id,
      output_index: call.outputIndex,
      name: call.name,
      arguments: call.arguments
    })
    const item = this.callItem(call, status)
    this.items[call.outputIndex] = item
    this.out.push({ type: "response.output_item.done", sequence_number: this.sequence++, output_index: call.outputIndex, item })
    this.closedCalls.add(call.chatIndex)
  }
}

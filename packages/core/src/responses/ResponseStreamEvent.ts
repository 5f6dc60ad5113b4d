import { Schema } from "effect"
import { ResponseObject, ResponseOutputContent, ResponseOutputItem } from "./ResponseObject.js"
import { SummaryTextPart } from "./ResponseRequest.js"

/**
 * The events of a streamed response, one Schema each, as OpenAI sends them
 * (and as `@effect/ai-openai`, the `openai` SDK and the Vercel AI SDK read
 * them). Every event carries `sequence_number`, from 0 up by one.
 */

const sequence = { sequence_number: Schema.Int }

const lifecycle = <T extends string>(type: T, identifier: string) =>
  Schema.Struct({ type: Schema.Literal(type), ...sequence, response: ResponseObject }).annotations({ identifier })

/** First event: the response, `in_progress`, with no output yet. */
export const ResponseCreatedEvent = lifecycle("response.created", "ResponseCreatedEvent")
export interface ResponseCreatedEvent extends Schema.Schema.Type<typeof ResponseCreatedEvent> {}

/** Second event: the response is being generated. */
export const ResponseInProgressEvent = lifecycle("response.in_progress", "ResponseInProgressEvent")
export interface ResponseInProgressEvent extends Schema.Schema.Type<typeof ResponseInProgressEvent> {}

/** Last event of a successful response: the whole response, with usage. */
export const ResponseCompletedEvent = lifecycle("response.completed", "ResponseCompletedEvent")
export interface ResponseCompletedEvent extends Schema.Schema.Type<typeof ResponseCompletedEvent> {}

/** Last event of a response cut short (`max_output_tokens`, `content_filter`), with usage. */
export const ResponseIncompleteEvent = lifecycle("response.incomplete", "ResponseIncompleteEvent")
export interface ResponseIncompleteEvent extends Schema.Schema.Type<typeof ResponseIncompleteEvent> {}

/** Last event of a response that failed after it started, after an `error` event. */
export const ResponseFailedEvent = lifecycle("response.failed", "ResponseFailedEvent")
export interface ResponseFailedEvent extends Schema.Schema.Type<typeof ResponseFailedEvent> {}

const itemEvent = <T extends string>(type: T, identifier: string) =>
  Schema.Struct({ type: Schema.Literal(type), ...sequence, output_index: Schema.Int, item: ResponseOutputItem })
    .annotations({ identifier })

/** An output item starts (`in_progress`, empty). */
export const ResponseOutputItemAddedEvent = itemEvent("response.output_item.added", "ResponseOutputItemAddedEvent")
export interface ResponseOutputItemAddedEvent extends Schema.Schema.Type<typeof ResponseOutputItemAddedEvent> {}

/** An output item is complete: the item as it is in the final response. */
export const ResponseOutputItemDoneEvent = itemEvent("response.output_item.done", "ResponseOutputItemDoneEvent")
export interface ResponseOutputItemDoneEvent extends Schema.Schema.Type<typeof ResponseOutputItemDoneEvent> {}

const contentAddress = { item_id: Schema.String, output_index: Schema.Int, content_index: Schema.Int }

const partEvent = <T extends string>(type: T, identifier: string) =>
  Schema.Struct({ type: Schema.Literal(type), ...sequence, ...contentAddress, part: ResponseOutputContent })
    .annotations({ identifier })

/** A content part of a message starts (empty). */
export const ResponseContentPartAddedEvent = partEvent("response.content_part.added", "ResponseContentPartAddedEvent")
export interface ResponseContentPartAddedEvent extends Schema.Schema.Type<typeof ResponseContentPartAddedEvent> {}

/** A content part of a message is complete. */
export const ResponseContentPartDoneEvent = partEvent("response.content_part.done", "ResponseContentPartDoneEvent")
export interface ResponseContentPartDoneEvent extends Schema.Schema.Type<typeof ResponseContentPartDoneEvent> {}

/** A piece of text. */
export const ResponseOutputTextDeltaEvent = Schema.Struct({
  type: Schema.Literal("response.output_text.delta"),
  ...sequence,
  ...contentAddress,
  delta: Schema.String,
  logprobs: Schema.Array(Schema.Unknown)
}).annotations({ identifier: "ResponseOutputTextDeltaEvent" })
export interface ResponseOutputTextDeltaEvent extends Schema.Schema.Type<typeof ResponseOutputTextDeltaEvent> {}

/** A text part is complete: its whole text. */
export const ResponseOutputTextDoneEvent = Schema.Struct({
  type: Schema.Literal("response.output_text.done"),
  ...sequence,
  ...contentAddress,
  text: Schema.String,
  logprobs: Schema.Array(Schema.Unknown)
}).annotations({ identifier: "ResponseOutputTextDoneEvent" })
export interface ResponseOutputTextDoneEvent extends Schema.Schema.Type<typeof ResponseOutputTextDoneEvent> {}

/** A piece of a refusal. */
export const ResponseRefusalDeltaEvent = Schema.Struct({
  type: Schema.Literal("response.refusal.delta"),
  ...sequence,
  ...contentAddress,
  delta: Schema.String
}).annotations({ identifier: "ResponseRefusalDeltaEvent" })
export interface ResponseRefusalDeltaEvent extends Schema.Schema.Type<typeof ResponseRefusalDeltaEvent> {}

/** A refusal is complete. */
export const ResponseRefusalDoneEvent = Schema.Struct({
  type: Schema.Literal("response.refusal.done"),
  ...sequence,
  ...contentAddress,
  refusal: Schema.String
}).annotations({ identifier: "ResponseRefusalDoneEvent" })
export interface ResponseRefusalDoneEvent extends Schema.Schema.Type<typeof ResponseRefusalDoneEvent> {}

/** A piece of a function call's JSON arguments. */
export const ResponseFunctionCallArgumentsDeltaEvent = Schema.Struct({
  type: Schema.Literal("response.function_call_arguments.delta"),
  ...sequence,
  item_id: Schema.String,
  output_index: Schema.Int,
  delta: Schema.String
}).annotations({ identifier: "ResponseFunctionCallArgumentsDeltaEvent" })
export interface ResponseFunctionCallArgumentsDeltaEvent
  extends Schema.Schema.Type<typeof ResponseFunctionCallArgumentsDeltaEvent>
{}

/** A function call's arguments are complete. */
export const ResponseFunctionCallArgumentsDoneEvent = Schema.Struct({
  type: Schema.Literal("response.function_call_arguments.done"),
  ...sequence,
  item_id: Schema.String,
  output_index: Schema.Int,
  name: Schema.String,
  arguments: Schema.String
}).annotations({ identifier: "ResponseFunctionCallArgumentsDoneEvent" })
export interface ResponseFunctionCallArgumentsDoneEvent
  extends Schema.Schema.Type<typeof ResponseFunctionCallArgumentsDoneEvent>
{}

const summaryAddress = { item_id: Schema.String, output_index: Schema.Int, summary_index: Schema.Int }

/** A reasoning summary part starts. */
export const ResponseReasoningSummaryPartAddedEvent = Schema.Struct({
  type: Schema.Literal("response.reasoning_summary_part.added"),
  ...sequence,
  ...summaryAddress,
  part: SummaryTextPart
}).annotations({ identifier: "ResponseReasoningSummaryPartAddedEvent" })
export interface ResponseReasoningSummaryPartAddedEvent
  extends Schema.Schema.Type<typeof ResponseReasoningSummaryPartAddedEvent>
{}

/** A piece of reasoning text. */
export const ResponseReasoningSummaryTextDeltaEvent = Schema.Struct({
  type: Schema.Literal("response.reasoning_summary_text.delta"),
  ...sequence,
  ...summaryAddress,
  delta: Schema.String
}).annotations({ identifier: "ResponseReasoningSummaryTextDeltaEvent" })
export interface ResponseReasoningSummaryTextDeltaEvent
  extends Schema.Schema.Type<typeof ResponseReasoningSummaryTextDeltaEvent>
{}

/** A reasoning summary's text is complete. */
export const ResponseReasoningSummaryTextDoneEvent = Schema.Struct({
  type: Schema.Literal("response.reasoning_summary_text.done"),
  ...sequence,
  ...summaryAddress,
  text: Schema.String
}).annotations({ identifier: "ResponseReasoningSummaryTextDoneEvent" })
export interface ResponseReasoningSummaryTextDoneEvent
  extends Schema.Schema.Type<typeof ResponseReasoningSummaryTextDoneEvent>
{}

/** A reasoning summary part is complete. */
export const ResponseReasoningSummaryPartDoneEvent = Schema.Struct({
  type: Schema.Literal("response.reasoning_summary_part.done"),
  ...sequence,
  ...summaryAddress,
  part: SummaryTextPart
}).annotations({ identifier: "ResponseReasoningSummaryPartDoneEvent" })
export interface ResponseReasoningSummaryPartDoneEvent
  extends Schema.Schema.Type<typeof ResponseReasoningSummaryPartDoneEvent>
{}

/**
 * A failure after the stream started, followed by `response.failed`. The
 * fields are OpenAI's (`code`, `message`, `param`); the same again under
 * `error` is what the Vercel AI SDK reads (and what makes the `openai` SDK
 * raise an `APIError` rather than end quietly).
 */
export const ResponseErrorEvent = Schema.Struct({
  type: Schema.Literal("error"),
  ...sequence,
  code: Schema.NullOr(Schema.String),
  message: Schema.String,
  param: Schema.NullOr(Schema.String),
  error: Schema.optional(Schema.Struct({
    type: Schema.String,
    code: Schema.String,
    message: Schema.String,
    param: Schema.NullOr(Schema.String)
  }))
}).annotations({ identifier: "ResponseErrorEvent" })
export interface ResponseErrorEvent extends Schema.Schema.Type<typeof ResponseErrorEvent> {}

/** Any event of a streamed response, discriminated by `type`. */
export const ResponseStreamEvent = Schema.Union(
  ResponseCreatedEvent,
  ResponseInProgressEvent,
  ResponseCompletedEvent,
  ResponseIncompleteEvent,
  ResponseFailedEvent,
  ResponseOutputItemAddedEvent,
  ResponseOutputItemDoneEvent,
  ResponseContentPartAddedEvent,
  ResponseContentPartDoneEvent,
  ResponseOutputTextDeltaEvent,
  ResponseOutputTextDoneEvent,
  ResponseRefusalDeltaEvent,
  ResponseRefusalDoneEvent,
  ResponseFunctionCallArgumentsDeltaEvent,
  ResponseFunctionCallArgumentsDoneEvent,
  ResponseReasoningSummaryPartAddedEvent,
  ResponseReasoningSummaryTextDeltaEvent,
  ResponseReasoningSummaryTextDoneEvent,
  ResponseReasoningSummaryPartDoneEvent,
  ResponseErrorEvent
).annotations({ identifier: "ResponseStreamEvent" })
export type ResponseStreamEvent = typeof ResponseStreamEvent.Type

/** The events that end a stream: exactly one of them, last. */
export const terminalEventTypes: ReadonlySet<ResponseStreamEvent["type"]> = new Set([
  "response.completed",
  "response.incomplete",
  "response.failed"
])

/** `event: <type>\ndata: <json>\n\n`: one event as the Responses API streams it. */
export const encodeResponseEvent = (event: ResponseStreamEvent): string =>
  `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`

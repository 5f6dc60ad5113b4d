import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as OpenApi from "@effect/platform/OpenApi"
import { Schema } from "effect"
import { ChatCompletion } from "../ChatCompletion.js"
import { ChatCompletionChunk } from "../ChatCompletionChunk.js"
import { ChatCompletionRequest } from "../ChatCompletionRequest.js"
import { GatewayError } from "../GatewayError.js"
import { Authentication } from "./Authentication.js"
import { errorEnvelopeAt, ValidationFailure } from "./Errors.js"

/** The headers of a chat completion call. */
export const ChatCompletionHeaders = Schema.Struct({
  "x-api-key": Schema.optional(Schema.String),
  "x-openai-api-key": Schema.optional(Schema.String),
  "x-selected-account-id": Schema.optional(Schema.String)
})

/** The event stream is documented beside the JSON answer: OpenAPI holds one content type per status. */
const withEventStream = (operation: Record<string, unknown>) => {
  const ok = (operation.responses as Record<string, { content?: Record<string, unknown> }>)["200"]
  const json = ok?.content?.["application/json"] as { schema?: { anyOf?: Array<unknown> } } | undefined
  const chunk = json?.schema?.anyOf?.[1]
  if (ok?.content !== undefined && chunk !== undefined) ok.content["text/event-stream"] = { schema: chunk }
  return operation
}

/** Besides 401/403 (authentication) and 422 (validation), a completion fails with the envelope at these statuses. */
const completionEndpoint = <Name extends string, Path extends `/${string}`>(name: Name, path: Path) =>
  HttpApiEndpoint.post(name, path)
    .setPayload(ChatCompletionRequest)
    .setHeaders(ChatCompletionHeaders)
    .addSuccess(
      Schema.Union(ChatCompletion, ChatCompletionChunk).annotations({
        title: "Response Post-V5-/V5/Chat/Completions",
        description: "A `chat.completion`, or with `stream: true` a `text/event-stream` of `chat.completion.chunk` events"
      })
    )
    .addError(ValidationFailure)
    .addError(errorEnvelopeAt(GatewayError, 400))
    .addError(errorEnvelopeAt(GatewayError, 404))
    .addError(errorEnvelopeAt(GatewayError, 413))
    .addError(errorEnvelopeAt(GatewayError, 415))
    .addError(errorEnvelopeAt(GatewayError, 429))
    .addError(errorEnvelopeAt(GatewayError, 502))
    .addError(errorEnvelopeAt(GatewayError, 503))
    .addError(errorEnvelopeAt(GatewayError, 504))
    .annotate(OpenApi.Summary, "Chat Completions")
    .annotate(OpenApi.Transform, withEventStream)

/**
 * `POST /v5/chat/completions` and its `/v1` twin. Declared here for the
 * contract and `/openapi.json`; the gateway serves them on its fast path.
 */
export class ChatGroup extends HttpApiGroup.make("chat")
  .add(completionEndpoint("createV5", "/v5/chat/completions"))
  .add(completionEndpoint("createV1", "/v1/chat/completions"))
  .middleware(Authentication)
  .annotate(OpenApi.Title, "Inference")
{}

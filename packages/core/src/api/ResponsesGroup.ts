import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as OpenApi from "@effect/platform/OpenApi"
import { Schema } from "effect"
import { GatewayError } from "../GatewayError.js"
import { ResponseDeleted, ResponseItemList, ResponseObject } from "../responses/ResponseObject.js"
import { CreateResponseRequest, InputItemsParams } from "../responses/ResponseRequest.js"
import { ResponseStreamEvent } from "../responses/ResponseStreamEvent.js"
import { Authentication } from "./Authentication.js"
import { ChatCompletionHeaders } from "./ChatGroup.js"
import { errorEnvelopeAt, ValidationFailure } from "./Errors.js"

/** The id in the path of `GET`/`DELETE /v5/responses/{response_id}` and its input items. */
export const ResponseIdPath = Schema.Struct({
  response_id: Schema.String.annotations({ description: "The response's id (`resp_…`)" })
})
export interface ResponseIdPath extends Schema.Schema.Type<typeof ResponseIdPath> {}

/** Query parameters of `GET /v5/responses/{response_id}`: streaming a stored response back is not offered. */
export const RetrieveResponseParams = Schema.Struct({
  include: Schema.optional(Schema.Union(Schema.String, Schema.Array(Schema.String))),
  stream: Schema.optional(Schema.String).annotations({
    description: "Only `false`: a stored response cannot be streamed again (400 otherwise)"
  })
}).annotations({ identifier: "RetrieveResponseParams" })
export interface RetrieveResponseParams extends Schema.Schema.Type<typeof RetrieveResponseParams> {}

/** The event stream is documented beside the JSON answer, as for chat completions. */
const withEventStream = (operation: Record<string, unknown>) => {
  const ok = (operation.responses as Record<string, { content?: Record<string, unknown> }>)["200"]
  const json = ok?.content?.["application/json"] as { schema?: { anyOf?: Array<unknown> } } | undefined
  const members = json?.schema?.anyOf
  if (ok?.content !== undefined && members !== undefined && members.length > 1) {
    ok.content["text/event-stream"] = { schema: { anyOf: members.slice(1) } }
  }
  return operation
}

const createEndpoint = <Name extends string, Path extends `/${string}`>(name: Name, path: Path) =>
  HttpApiEndpoint.post(name, path)
    .setPayload(CreateResponseRequest)
    .setHeaders(ChatCompletionHeaders)
    .addSuccess(
      Schema.Union(ResponseObject, ResponseStreamEvent).annotations({
        title: "Response or stream event",
        description: "A `response`, or with `stream: true` a `text/event-stream` of Responses API events " +
          "(`event: <type>` and `data: <json>` lines, no `[DONE]`)"
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
    .annotate(OpenApi.Summary, "Create a response")
    .annotate(OpenApi.Transform, withEventStream)

const retrieveEndpoint = <Name extends string>(name: Name, version: "v5" | "v1") =>
  HttpApiEndpoint.get(name, `/${version}/responses/:response_id`)
    .setPath(ResponseIdPath)
    .setUrlParams(RetrieveResponseParams)
    .addSuccess(ResponseObject)
    .addError(errorEnvelopeAt(GatewayError, 400))
    .addError(errorEnvelopeAt(GatewayError, 404))
    .addError(errorEnvelopeAt(GatewayError, 500))
    .annotate(OpenApi.Summary, "Get a stored response")

const deleteEndpoint = <Name extends string>(name: Name, version: "v5" | "v1") =>
  HttpApiEndpoint.del(name, `/${version}/responses/:response_id`)
    .setPath(ResponseIdPath)
    .addSuccess(ResponseDeleted)
    .addError(errorEnvelopeAt(GatewayError, 404))
    .addError(errorEnvelopeAt(GatewayError, 500))
    .annotate(OpenApi.Summary, "Delete a stored response")

const inputItemsEndpoint = <Name extends string>(name: Name, version: "v5" | "v1") =>
  HttpApiEndpoint.get(name, `/${version}/responses/:response_id/input_items`)
    .setPath(ResponseIdPath)
    .setUrlParams(InputItemsParams)
    .addSuccess(ResponseItemList)
    .addError(ValidationFailure)
    .addError(errorEnvelopeAt(GatewayError, 400))
    .addError(errorEnvelopeAt(GatewayError, 404))
    .addError(errorEnvelopeAt(GatewayError, 500))
    .annotate(OpenApi.Summary, "List a stored response's input items")

/**
 * The OpenAI Responses API over every vendor, under `/v5` and `/v1`:
 * `POST /responses` (served on the gateway's fast path, JSON or SSE), and a
 * stored response's `GET`, `DELETE` and `input_items` (cursor pages, newest
 * first by default). Responses belong to the account that created them:
 * another account's id is answered as a missing one (404).
 */
export class ResponsesGroup extends HttpApiGroup.make("responses")
  .add(createEndpoint("createV5", "/v5/responses"))
  .add(createEndpoint("createV1", "/v1/responses"))
  .add(retrieveEndpoint("retrieveV5", "v5"))
  .add(retrieveEndpoint("retrieveV1", "v1"))
  .add(deleteEndpoint("deleteV5", "v5"))
  .add(deleteEndpoint("deleteV1", "v1"))
  .add(inputItemsEndpoint("inputItemsV5", "v5"))
  .add(inputItemsEndpoint("inputItemsV1", "v1"))
  .middleware(Authentication)
  .annotate(OpenApi.Title, "Responses")
{}

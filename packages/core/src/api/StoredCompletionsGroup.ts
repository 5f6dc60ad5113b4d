import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as OpenApi from "@effect/platform/OpenApi"
import { Schema } from "effect"
import { InvalidRequest, ResourceNotFound, StoreUnavailable } from "../GatewayError.js"
import {
  StoredChatCompletion,
  StoredChatCompletionDeleted,
  StoredChatCompletionList,
  StoredCompletionListParams,
  StoredCompletionMessageList,
  StoredCompletionUpdate,
  StoredMessageListParams
} from "../StoredCompletion.js"
import { Authentication } from "./Authentication.js"
import { errorEnvelopeAt, ValidationFailure } from "./Errors.js"

/** The path of one stored completion. */
export const StoredCompletionPath = Schema.Struct({ id: Schema.String })

const endpoints = <S extends "V5" | "V1">(suffix: S) => {
  const prefix: "/v5" | "/v1" = suffix === "V5" ? "/v5" : "/v1"
  return {
    list: HttpApiEndpoint.get(`list${suffix}`, `${prefix}/chat/completions`)
      .setUrlParams(StoredCompletionListParams)
      .addSuccess(StoredChatCompletionList)
      .addError(ValidationFailure)
      .addError(errorEnvelopeAt(InvalidRequest, 400))
      .addError(errorEnvelopeAt(StoreUnavailable, 503))
      .annotate(OpenApi.Summary, "List stored chat completions")
      .annotate(
        OpenApi.Description,
        "Stored completions (`store: true`) of the account, without their messages. Filter with `model` and " +
          "`metadata[key]=value` (several pairs combine with AND); page with `after` and `limit`."
      ),
    retrieve: HttpApiEndpoint.get(`retrieve${suffix}`, `${prefix}/chat/completions/:id`)
      .setPath(StoredCompletionPath)
      .addSuccess(StoredChatCompletion)
      .addError(errorEnvelopeAt(ResourceNotFound, 404))
      .addError(errorEnvelopeAt(StoreUnavailable, 503))
      .annotate(OpenApi.Summary, "Get a stored chat completion"),
    update: HttpApiEndpoint.post(`update${suffix}`, `${prefix}/chat/completions/:id`)
      .setPath(StoredCompletionPath)
      .setPayload(StoredCompletionUpdate)
      .addSuccess(StoredChatCompletion)
      .addError(ValidationFailure)
      .addError(errorEnvelopeAt(InvalidRequest, 400))
      .addError(errorEnvelopeAt(ResourceNotFound, 404))
      .addError(errorEnvelopeAt(StoreUnavailable, 503))
      .annotate(OpenApi.Summary, "Update a stored chat completion's metadata"),
    delete: HttpApiEndpoint.del(`delete${suffix}`, `${prefix}/chat/completions/:id`)
      .setPath(StoredCompletionPath)
      .addSuccess(StoredChatCompletionDeleted)
      .addError(errorEnvelopeAt(ResourceNotFound, 404))
      .addError(errorEnvelopeAt(StoreUnavailable, 503))
      .annotate(OpenApi.Summary, "Delete a stored chat completion"),
    messages: HttpApiEndpoint.get(`messages${suffix}`, `${prefix}/chat/completions/:id/messages`)
      .setPath(StoredCompletionPath)
      .setUrlParams(StoredMessageListParams)
      .addSuccess(StoredCompletionMessageList)
      .addError(ValidationFailure)
      .addError(errorEnvelopeAt(InvalidRequest, 400))
      .addError(errorEnvelopeAt(ResourceNotFound, 404))
      .addError(errorEnvelopeAt(StoreUnavailable, 503))
      .annotate(OpenApi.Summary, "List a stored chat completion's messages")
  }
}

const v5 = endpoints("V5")
const v1 = endpoints("V1")

/**
 * OpenAI's Stored Completions API under `/v5` and `/v1`: list, get, update
 * metadata, delete, and the request's messages. Another account's completion
 * answers like a missing one (404).
 */
export class StoredCompletionsGroup extends HttpApiGroup.make("storedCompletions")
  .add(v5.list)
  .add(v5.retrieve)
  .add(v5.update)
  .add(v5.delete)
  .add(v5.messages)
  .add(v1.list)
  .add(v1.retrieve)
  .add(v1.update)
  .add(v1.delete)
  .add(v1.messages)
  .middleware(Authentication)
  .annotate(OpenApi.Title, "Stored completions")
{}

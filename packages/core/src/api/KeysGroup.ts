import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as OpenApi from "@effect/platform/OpenApi"
import { Schema } from "effect"
import { ApiKeyDeleted, ApiKeyList, CreateApiKeyRequest, CreatedApiKeyObject } from "../ApiKeyObjects.js"
import { Forbidden, ResourceNotFound, StoreUnavailable } from "../GatewayError.js"
import { Authentication } from "./Authentication.js"
import { errorEnvelopeAt, ValidationFailure } from "./Errors.js"

/**
 * Gateway keys kept in the database, for admin keys only (a member key gets
 * 403): create (the secret is shown once), list, revoke.
 */
export class KeysGroup extends HttpApiGroup.make("keys")
  .add(
    HttpApiEndpoint.post("create", "/v5/admin/keys")
      .setPayload(CreateApiKeyRequest)
      .addSuccess(CreatedApiKeyObject)
      .addError(ValidationFailure)
      .addError(errorEnvelopeAt(Forbidden, 403))
      .addError(errorEnvelopeAt(StoreUnavailable, 503))
      .annotate(OpenApi.Summary, "Create an API key (admin)")
  )
  .add(
    HttpApiEndpoint.get("list", "/v5/admin/keys")
      .addSuccess(ApiKeyList)
      .addError(errorEnvelopeAt(Forbidden, 403))
      .addError(errorEnvelopeAt(StoreUnavailable, 503))
      .annotate(OpenApi.Summary, "List API keys (admin)")
  )
  .add(
    HttpApiEndpoint.del("revoke", "/v5/admin/keys/:id")
      .setPath(Schema.Struct({ id: Schema.String }))
      .addSuccess(ApiKeyDeleted)
      .addError(errorEnvelopeAt(Forbidden, 403))
      .addError(errorEnvelopeAt(ResourceNotFound, 404))
      .addError(errorEnvelopeAt(StoreUnavailable, 503))
      .annotate(OpenApi.Summary, "Revoke an API key (admin)")
  )
  .middleware(Authentication)
  .annotate(OpenApi.Title, "Admin: API keys")
{}

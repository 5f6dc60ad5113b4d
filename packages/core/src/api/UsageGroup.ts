import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as OpenApi from "@effect/platform/OpenApi"
import { InvalidRequest, StoreUnavailable } from "../GatewayError.js"
import { UsageList, UsageParams } from "../UsageSummary.js"
import { Authentication } from "./Authentication.js"
import { errorEnvelopeAt, ValidationFailure } from "./Errors.js"

/**
 * `GET /v5/usage`: requests, errors, tokens and cost from the usage ledger
 * (every completion, stored or not), for the caller's accounts (all accounts
 * for an admin key).
 */
export class UsageGroup extends HttpApiGroup.make("usage")
  .add(
    HttpApiEndpoint.get("summary", "/v5/usage")
      .setUrlParams(UsageParams)
      .addSuccess(UsageList)
      .addError(ValidationFailure)
      .addError(errorEnvelopeAt(InvalidRequest, 400))
      .addError(errorEnvelopeAt(StoreUnavailable, 503))
      .annotate(OpenApi.Summary, "Usage and cost by model, account, key or target")
  )
  .middleware(Authentication)
  .annotate(OpenApi.Title, "Usage")
{}

import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as OpenApi from "@effect/platform/OpenApi"
import { Forbidden, StoreUnavailable } from "../GatewayError.js"
import { AdminLimitsParams, LimitsStatus } from "../Limits.js"
import { Authentication } from "./Authentication.js"
import { errorEnvelopeAt, ValidationFailure } from "./Errors.js"

/**
 * The gateway's own limits, visible: the caller's (its key and the account it
 * acts for) and, for admin keys, any account's: each limit, its current use and
 * when it resets.
 */
export class LimitsGroup extends HttpApiGroup.make("limits")
  .add(
    HttpApiEndpoint.get("own", "/v5/limits")
      .addSuccess(LimitsStatus)
      .addError(errorEnvelopeAt(StoreUnavailable, 503))
      .annotate(OpenApi.Summary, "The limits of the caller's key and account, their use and resets")
  )
  .add(
    HttpApiEndpoint.get("account", "/v5/admin/limits")
      .setUrlParams(AdminLimitsParams)
      .addSuccess(LimitsStatus)
      .addError(ValidationFailure)
      .addError(errorEnvelopeAt(Forbidden, 403))
      .addError(errorEnvelopeAt(StoreUnavailable, 503))
      .annotate(OpenApi.Summary, "An account's limits (and a key's, with `key`), their use and resets (admin)")
  )
  .middleware(Authentication)
  .annotate(OpenApi.Title, "Limits")
{}

import * as HttpApiMiddleware from "@effect/platform/HttpApiMiddleware"
import * as HttpApiSecurity from "@effect/platform/HttpApiSecurity"
import { Context, Schema } from "effect"
import { AccountForbidden, Unauthenticated } from "../GatewayError.js"
import type { Principal } from "../Principal.js"
import { errorEnvelopeAt } from "./Errors.js"

/** The caller of an authenticated endpoint: its principal, and the account the request acts for. */
export interface Caller {
  readonly principal: Principal
  readonly accountId: string
}

/** The current caller, provided to handlers of authenticated endpoints by {@link Authentication}. */
export class CurrentCaller extends Context.Tag("@switchyard/core/CurrentCaller")<CurrentCaller, Caller>() {}

/**
 * The API's security: a gateway key as `x-api-key` or `Authorization: Bearer`,
 * mapped to a principal; `x-selected-account-id` must be one of its accounts.
 * Fails with 401 or 403 in OpenAI's envelope. Implemented by the gateway.
 */
export class Authentication extends HttpApiMiddleware.Tag<Authentication>()("@switchyard/core/Authentication", {
  failure: Schema.Union(errorEnvelopeAt(Unauthenticated, 401), errorEnvelopeAt(AccountForbidden, 403)),
  provides: CurrentCaller,
  security: {
    // Named as in the spec's `components.securitySchemes`.
    APIKeyHeader: HttpApiSecurity.apiKey({ key: "x-api-key", in: "header" }),
    BearerAuth: HttpApiSecurity.bearer
  }
}) {}

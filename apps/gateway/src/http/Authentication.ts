import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import { type AccountForbidden, Authentication, type Caller, selectAccount, Unauthenticated } from "@switchyard/core"
import { Authenticator } from "@switchyard/service"
import { Effect, Either, Layer } from "effect"

type Headers = Readonly<Record<string, string | ReadonlyArray<string> | undefined>>

/** The key a request presents: `x-api-key`, or `Authorization: Bearer <key>`. */
export const presentedKey = (headers: Headers): string | undefined => {
  const header = headers["x-api-key"]
  if (typeof header === "string" && header.length > 0) return header
  const authorization = headers.authorization
  if (typeof authorization === "string" && authorization.length > 7 && /^bearer /i.test(authorization)) {
    return authorization.slice(7).trim()
  }
  return undefined
}

/** The account a request selects (`x-selected-account-id`), if any. */
export const selectedAccount = (headers: Headers): string | undefined => {
  const value = headers["x-selected-account-id"]
  return typeof value === "string" ? value : undefined
}

/** A check of a request's key and account: the caller, or the 401/403 to answer. Synchronous. */
export type Gate = (headers: Headers) => Either.Either<Caller, Unauthenticated | AccountForbidden>

/**
 * The gate every request but the open ones passes before anything else:
 * authenticates the presented key and picks the account, with no Effect. The
 * listener runs it first; the HttpApi security middleware runs it again.
 */
export const makeGate = (authenticator: Authenticator["Type"]): Gate => {
  const unauthenticated = new Unauthenticated({
    message: authenticator.open
      ? "Unauthenticated."
      : "Missing or invalid API key: send it as `x-api-key: <key>` or `Authorization: Bearer <key>`."
  })
  return (headers) => {
    const principal = authenticator.authenticate(presentedKey(headers))
    if (principal === undefined) return Either.left(unauthenticated)
    return Either.map(selectAccount(principal, selectedAccount(headers)), (accountId) => ({ principal, accountId }))
  }
}

/**
 * The HttpApi security middleware (`x-api-key` or bearer): the same gate over
 * the request's headers, so either scheme answers as the listener would.
 */
export const AuthenticationLive = Layer.effect(
  Authentication,
  Effect.gen(function*() {
    const gate = makeGate(yield* Authenticator)
    const check = () =>
      Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) =>
        Either.match(gate(request.headers), { onLeft: Effect.fail, onRight: Effect.succeed }))
    return { APIKeyHeader: check, BearerAuth: check }
  })
)

import { Either, Schema } from "effect"
import { AccountForbidden } from "./GatewayError.js"
import { optional } from "./internal/fields.js"
import { LimitSet } from "./Limits.js"

/** The account a request acts for when it selects none and its key names none. */
export const DEFAULT_ACCOUNT_ID = "default"

/**
 * Who a gateway key stands for: the key's id (safe to log), an optional name,
 * the accounts it may act for (the first is its default), and whether it is an
 * admin, which may act for any account.
 */
export const Principal = Schema.Struct({
  keyId: Schema.String,
  name: optional(Schema.String),
  accountIds: Schema.Array(Schema.String),
  defaultAccountId: Schema.String,
  admin: Schema.Boolean,
  /** The key's own limits (a database key created with limits); configured limits are applied over them. */
  limits: optional(LimitSet)
}).annotations({ identifier: "Principal" })
export interface Principal extends Schema.Schema.Type<typeof Principal> {}

/** The principal of every request when no keys are configured (loopback only): an admin of `default`. */
export const anonymousAdmin: Principal = {
  keyId: "anonymous",
  accountIds: [DEFAULT_ACCOUNT_ID],
  defaultAccountId: DEFAULT_ACCOUNT_ID,
  admin: true
}

/**
 * The account a request acts for: the one it selects (`x-selected-account-id`)
 * if the principal may act for it, its default account when it selects none,
 * or `AccountForbidden`.
 */
export const selectAccount = (
  principal: Principal,
  requested: string | undefined
): Either.Either<string, AccountForbidden> => {
  if (requested === undefined || requested.length === 0) return Either.right(principal.defaultAccountId)
  if (principal.admin || principal.accountIds.includes(requested)) return Either.right(requested)
  return Either.left(new AccountForbidden({ accountId: requested }))
}

import { Schema } from "effect"
import { LimitSet } from "./Limits.js"

/** The body of `POST /v5/admin/keys`. */
export const CreateApiKeyRequest = Schema.Struct({
  name: Schema.optional(Schema.NullOr(Schema.String.pipe(Schema.maxLength(200)))),
  account_ids: Schema.NonEmptyArray(
    Schema.String.pipe(Schema.pattern(/^[^\s|:,]+$/, { message: () => "an account id has no spaces, `|`, `:` or `,`" }))
  ).annotations({ description: "The accounts the key may act for; the first is its default" }),
  limits: Schema.optional(LimitSet.annotations({ description: "The key's own rate limits and budget" }))
}).annotations({ identifier: "CreateApiKeyRequest" })
export interface CreateApiKeyRequest extends Schema.Schema.Type<typeof CreateApiKeyRequest> {}

/** A gateway key kept in the database, as the admin API shows it: never its secret. */
export const ApiKeyObject = Schema.Struct({
  id: Schema.String,
  object: Schema.Literal("api_key"),
  name: Schema.NullOr(Schema.String),
  account_ids: Schema.Array(Schema.String),
  default_account_id: Schema.String,
  /** `sk-sy-` and the next four characters of the secret. */
  prefix: Schema.String,
  last4: Schema.String,
  /** Unix seconds. */
  created_at: Schema.Int,
  last_used_at: Schema.NullOr(Schema.Int),
  /** The key's own limits, when it has any. */
  limits: Schema.optional(LimitSet)
}).annotations({ identifier: "ApiKey" })
export interface ApiKeyObject extends Schema.Schema.Type<typeof ApiKeyObject> {}

/** A key just created: the only answer that carries its secret. */
export const CreatedApiKeyObject = Schema.Struct({
  ...ApiKeyObject.fields,
  secret: Schema.String.annotations({ description: "The key itself: shown once, never stored" })
}).annotations({ identifier: "CreatedApiKey" })

/** `GET /v5/admin/keys`. */
export const ApiKeyList = Schema.Struct({
  object: Schema.Literal("list"),
  data: Schema.Array(ApiKeyObject)
}).annotations({ identifier: "ApiKeyList" })

/** The answer of `DELETE /v5/admin/keys/{id}`. */
export const ApiKeyDeleted = Schema.Struct({
  id: Schema.String,
  object: Schema.Literal("api_key.deleted"),
  deleted: Schema.Literal(true)
}).annotations({ identifier: "ApiKeyDeleted" })

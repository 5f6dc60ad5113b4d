import { Schema } from "effect"
import { ChatCompletion } from "./ChatCompletion.js"
import { ChatCompletionMessageParam } from "./Message.js"

/** The order of a list, by creation time: OpenAI's default is `asc`. */
export const ListOrderParam = Schema.Literal("asc", "desc")

/** `limit` of a list: 1 to 100 (default 20). */
export const ListLimitParam = Schema.NumberFromString.pipe(Schema.int(), Schema.between(1, 100)).annotations({
  description: "How many items to return: 1 to 100 (default 20)"
})

/**
 * The query of `GET /v5/chat/completions`. Besides these, `metadata[key]=value`
 * pairs filter by metadata (several combine with AND).
 */
export const StoredCompletionListParams = Schema.Struct({
  model: Schema.optional(Schema.String),
  after: Schema.optional(Schema.String.annotations({ description: "The id of the last completion of the previous page" })),
  limit: Schema.optional(ListLimitParam),
  order: Schema.optional(ListOrderParam)
})

/** The query of `GET /v5/chat/completions/{id}/messages`. */
export const StoredMessageListParams = Schema.Struct({
  after: Schema.optional(Schema.String),
  limit: Schema.optional(ListLimitParam),
  order: Schema.optional(ListOrderParam)
})

/** A stored chat completion: the `chat.completion` its client received, with its metadata and request id. */
export const StoredChatCompletion = Schema.Struct({
  ...ChatCompletion.fields,
  metadata: Schema.Record({ key: Schema.String, value: Schema.String }),
  request_id: Schema.String
}).annotations({ identifier: "StoredChatCompletion", parseOptions: { onExcessProperty: "preserve" } })
export interface StoredChatCompletion extends Schema.Schema.Type<typeof StoredChatCompletion> {}

/** A page of stored chat completions, as OpenAI lists them. */
export const StoredChatCompletionList = Schema.Struct({
  object: Schema.Literal("list"),
  data: Schema.Array(StoredChatCompletion),
  first_id: Schema.NullOr(Schema.String),
  last_id: Schema.NullOr(Schema.String),
  has_more: Schema.Boolean
}).annotations({ identifier: "StoredChatCompletionList" })
export interface StoredChatCompletionList extends Schema.Schema.Type<typeof StoredChatCompletionList> {}

/** The body of `POST /v5/chat/completions/{id}`: only the metadata may change. */
export const StoredCompletionUpdate = Schema.Struct({
  metadata: Schema.NullOr(Schema.Record({ key: Schema.String, value: Schema.String }))
}).annotations({ identifier: "StoredCompletionUpdate", parseOptions: { onExcessProperty: "preserve" } })

/** The answer of `DELETE /v5/chat/completions/{id}`. */
export const StoredChatCompletionDeleted = Schema.Struct({
  id: Schema.String,
  object: Schema.Literal("chat.completion.deleted"),
  deleted: Schema.Literal(true)
}).annotations({ identifier: "StoredChatCompletionDeleted" })

/** A message of a stored completion's request, with its id (`<completion id>-<index>`). */
export const StoredCompletionMessage = Schema.extend(ChatCompletionMessageParam, Schema.Struct({ id: Schema.String }))
  .annotations({ identifier: "StoredCompletionMessage" })
export type StoredCompletionMessage = typeof StoredCompletionMessage.Type

/** A page of a stored completion's request messages. */
export const StoredCompletionMessageList = Schema.Struct({
  object: Schema.Literal("list"),
  data: Schema.Array(StoredCompletionMessage),
  first_id: Schema.NullOr(Schema.String),
  last_id: Schema.NullOr(Schema.String),
  has_more: Schema.Boolean
}).annotations({ identifier: "StoredCompletionMessageList" })
export interface StoredCompletionMessageList extends Schema.Schema.Type<typeof StoredCompletionMessageList> {}

import { Schema } from "effect"

const UnixSeconds = Schema.NumberFromString.pipe(Schema.int(), Schema.nonNegative())

/** The query of `GET /v5/usage`: all optional (the last 24 hours, by model, one interval). */
export const UsageParams = Schema.Struct({
  start: Schema.optional(UnixSeconds.annotations({ description: "Unix seconds (default: 24 hours before `end`)" })),
  end: Schema.optional(UnixSeconds.annotations({ description: "Unix seconds, exclusive (default: now)" })),
  group_by: Schema.optional(Schema.Literal("model", "account", "key", "target")),
  interval: Schema.optional(Schema.Literal("hour", "day"))
})

/** Usage of one time bucket and group. */
export const UsageBucketObject = Schema.Struct({
  /** Unix seconds. */
  start: Schema.Int,
  end: Schema.Int,
  /** The group, keyed by what was grouped by: `{ "model": "openai/gpt-4o" }`. */
  group: Schema.Record({ key: Schema.String, value: Schema.NullOr(Schema.String) }),
  requests: Schema.Int,
  errors: Schema.Int,
  prompt_tokens: Schema.Int,
  completion_tokens: Schema.Int,
  total_tokens: Schema.Int,
  /** From the price catalogue; models without a known price count as 0. */
  cost_usd: Schema.Number
}).annotations({ identifier: "UsageBucket" })
export interface UsageBucketObject extends Schema.Schema.Type<typeof UsageBucketObject> {}

/** `GET /v5/usage`. */
export const UsageList = Schema.Struct({
  object: Schema.Literal("list"),
  data: Schema.Array(UsageBucketObject)
}).annotations({ identifier: "UsageList" })
export interface UsageList extends Schema.Schema.Type<typeof UsageList> {}

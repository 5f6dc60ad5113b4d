import { Schema } from "effect"
import { keepUnknownKeys, nullable } from "./internal/fields.js"
import { PydanticError } from "./ValidationError.js"
import { ChatCompletionMessageParam } from "./Message.js"
import { ModelRef } from "./ModelRef.js"
import {
  AudioParam,
  ChatCompletionTool,
  FunctionCallOption,
  FunctionDefinitionParam,
  PredictionContent,
  ResponseFormat,
  StreamOptions,
  ToolChoice
} from "./Tool.js"

type StringRecordSchema = Schema.Schema<{ readonly [x: string]: string }, { readonly [x: string]: string }>

/** At most `n` keys in a dictionary. */
const maxProperties = (n: number) => <S extends StringRecordSchema>(self: S) =>
  self.pipe(Schema.filter((record) => Object.keys(record).length <= n, {
    jsonSchema: { maxProperties: n },
    description: `an object with at most ${n} properties`
  }))

/** Dictionary keys of at most `n` characters, each failure reported at `[key, "[key]"]`. */
const maxKeyLength = (n: number) => <S extends StringRecordSchema>(self: S) =>
  self.pipe(Schema.filter(
    (record) => {
      const issues: Array<Schema.FilterIssue> = []
      for (const key of Object.keys(record)) {
        if (key.length > n) issues.push({ path: [key, "[key]"], message: `String should have at most ${n} characters` })
      }
      return issues
    },
    {
      description: `keys of at most ${n} characters`,
      [PydanticError]: { type: "string_too_long", ctx: { max_length: n } }
    }
  ))

/** Developer-defined tags: at most 16 pairs, keys up to 64 characters, values up to 512. */
export const Metadata = Schema.Record({
  key: Schema.String,
  value: Schema.String.pipe(Schema.maxLength(512))
}).pipe(maxKeyLength(64), maxProperties(16)).annotations({ identifier: "Metadata" })

/** Token id to bias, -100..100. */
export const LogitBias = Schema.Record({
  key: Schema.String,
  value: Schema.Int.pipe(Schema.between(-100, 100))
}).annotations({ identifier: "LogitBias" })

/** Up to 4 sequences where the API stops generating. */
export const Stop = Schema.Union(Schema.String, Schema.Array(Schema.String).pipe(Schema.maxItems(4)))
export type Stop = typeof Stop.Type

/**
 * The body of `POST /v5/chat/completions`: every field of the spec with its
 * constraints. Unknown top-level fields are kept, so they reach the vendor.
 */
export const ChatCompletionRequest = Schema.Struct({
  model: ModelRef.annotations({
    description: "model specified as `model_vendor/model`, for example `openai/gpt-4o`"
  }),
  messages: Schema.Array(ChatCompletionMessageParam).annotations({ description: "openai standard message format" }),
  audio: nullable(AudioParam),
  frequency_penalty: nullable(Schema.Number.pipe(Schema.between(-2, 2))),
  function_call: nullable(FunctionCallOption),
  functions: nullable(Schema.Array(FunctionDefinitionParam).pipe(Schema.maxItems(128))),
  logit_bias: nullable(LogitBias),
  logprobs: nullable(Schema.Boolean),
  max_completion_tokens: nullable(Schema.Int.pipe(Schema.greaterThanOrEqualTo(1))),
  max_tokens: nullable(Schema.Int.pipe(Schema.greaterThanOrEqualTo(1))),
  metadata: nullable(Metadata),
  modalities: nullable(Schema.Array(Schema.Literal("text", "audio"))),
  n: nullable(Schema.Int.pipe(Schema.between(1, 128))),
  parallel_tool_calls: nullable(Schema.Boolean),
  prediction: nullable(PredictionContent),
  presence_penalty: nullable(Schema.Number.pipe(Schema.between(-2, 2))),
  reasoning_effort: nullable(Schema.String),
  response_format: nullable(ResponseFormat),
  seed: nullable(Schema.Int),
  stop: nullable(Stop),
  store: nullable(Schema.Boolean),
  stream: nullable(Schema.Boolean),
  stream_options: nullable(StreamOptions),
  temperature: nullable(Schema.Number.pipe(Schema.between(0, 2))),
  tool_choice: nullable(ToolChoice),
  tools: nullable(Schema.Array(ChatCompletionTool).pipe(Schema.maxItems(128))),
  top_k: nullable(Schema.Int.pipe(Schema.greaterThanOrEqualTo(1))),
  top_logprobs: nullable(Schema.Int.pipe(Schema.between(0, 20))),
  top_p: nullable(Schema.Number.pipe(Schema.between(0, 1))),
  user: nullable(Schema.String)
}).annotations({
  identifier: "ChatCompletionRequest",
  title: "ChatCompletionRequest",
  ...keepUnknownKeys
})

/** A decoded chat completion request. Unknown top-level fields are present at run time. */
export interface ChatCompletionRequest extends Schema.Schema.Type<typeof ChatCompletionRequest> {}
/** A chat completion request as it arrives on the wire. */
export interface ChatCompletionRequestEncoded extends Schema.Schema.Encoded<typeof ChatCompletionRequest> {}

/** The typed fields of a request, so callers can tell known fields from pass-through ones. */
export const knownRequestFields: ReadonlySet<string> = new Set(Object.keys(ChatCompletionRequest.fields))

/** The fields of a request that are not part of the spec, kept for pass-through. */
export const unknownRequestFields = (request: ChatCompletionRequest): Record<string, unknown> => {
  const extra: Record<string, unknown> = {}
  for (const key of Object.keys(request)) {
    if (!knownRequestFields.has(key)) extra[key] = (request as Record<string, unknown>)[key]
  }
  return extra
}

import { Schema } from "effect"
import { keepUnknownKeys, nullable } from "./internal/fields.js"

/** A JSON Schema object, as used for tool parameters and structured output. */
export const JsonSchemaObject = Schema.Record({ key: Schema.String, value: Schema.Unknown }).annotations({
  identifier: "JsonSchemaObject"
})
export type JsonSchemaObject = typeof JsonSchemaObject.Type

/** A function the model may call: its name, description and JSON Schema parameters. */
export const FunctionDefinition = Schema.Struct({
  name: Schema.String,
  description: nullable(Schema.String),
  parameters: nullable(JsonSchemaObject),
  strict: nullable(Schema.Boolean)
}).annotations({ identifier: "FunctionDefinition", ...keepUnknownKeys })
export interface FunctionDefinition extends Schema.Schema.Type<typeof FunctionDefinition> {}

/** A function tool. */
export const FunctionTool = Schema.Struct({
  type: Schema.Literal("function"),
  function: FunctionDefinition
}).annotations({ identifier: "FunctionTool", ...keepUnknownKeys })
export interface FunctionTool extends Schema.Schema.Type<typeof FunctionTool> {}

/** A custom tool, whose input is free text or follows a grammar. */
export const CustomTool = Schema.Struct({
  type: Schema.Literal("custom"),
  custom: Schema.Struct({
    name: Schema.String,
    description: nullable(Schema.String),
    format: nullable(Schema.Record({ key: Schema.String, value: Schema.Unknown }))
  })
}).annotations({ identifier: "CustomTool", ...keepUnknownKeys })
export interface CustomTool extends Schema.Schema.Type<typeof CustomTool> {}

/** A tool the model may call. */
export const ChatCompletionTool = Schema.Union(FunctionTool, CustomTool).annotations({
  identifier: "ChatCompletionTool"
})
export type ChatCompletionTool = typeof ChatCompletionTool.Type

/** Forces a call of the named function. */
export const NamedToolChoice = Schema.Struct({
  type: Schema.Literal("function"),
  function: Schema.Struct({ name: Schema.String })
}).annotations({ identifier: "NamedToolChoice", ...keepUnknownKeys })
export interface NamedToolChoice extends Schema.Schema.Type<typeof NamedToolChoice> {}

/** Forces a call of the named custom tool. */
export const NamedCustomToolChoice = Schema.Struct({
  type: Schema.Literal("custom"),
  custom: Schema.Struct({ name: Schema.String })
}).annotations({ identifier: "NamedCustomToolChoice", ...keepUnknownKeys })
export interface NamedCustomToolChoice extends Schema.Schema.Type<typeof NamedCustomToolChoice> {}

/** Restricts the model to a subset of the tools. */
export const AllowedToolsChoice = Schema.Struct({
  type: Schema.Literal("allowed_tools"),
  allowed_tools: Schema.Struct({
    mode: Schema.Literal("auto", "required"),
    tools: Schema.Array(Schema.Record({ key: Schema.String, value: Schema.Unknown }))
  })
}).annotations({ identifier: "AllowedToolsChoice", ...keepUnknownKeys })
export interface AllowedToolsChoice extends Schema.Schema.Type<typeof AllowedToolsChoice> {}

/** Which tool the model calls: `none`, `auto`, `required`, or a specific tool. */
export const ToolChoice = Schema.Union(
  Schema.Literal("none", "auto", "required"),
  NamedToolChoice,
  NamedCustomToolChoice,
  AllowedToolsChoice
).annotations({ identifier: "ToolChoice" })
export type ToolChoice = typeof ToolChoice.Type

/** A deprecated function definition (`functions`). */
export const FunctionDefinitionParam = FunctionDefinition

/** Deprecated `function_call`: `none`, `auto` or a named function. */
export const FunctionCallOption = Schema.Union(
  Schema.Literal("none", "auto"),
  Schema.Struct({ name: Schema.String }).annotations(keepUnknownKeys)
)
export type FunctionCallOption = typeof FunctionCallOption.Type

/** Plain text output. */
export const ResponseFormatText = Schema.Struct({ type: Schema.Literal("text") }).annotations({
  identifier: "ResponseFormatText",
  ...keepUnknownKeys
})

/** Any JSON object as output. */
export const ResponseFormatJsonObject = Schema.Struct({ type: Schema.Literal("json_object") }).annotations({
  identifier: "ResponseFormatJsonObject",
  ...keepUnknownKeys
})

/** Output that follows a JSON Schema. */
export const ResponseFormatJsonSchema = Schema.Struct({
  type: Schema.Literal("json_schema"),
  json_schema: Schema.Struct({
    name: Schema.String,
    description: nullable(Schema.String),
    schema: nullable(JsonSchemaObject),
    strict: nullable(Schema.Boolean)
  }).annotations(keepUnknownKeys)
}).annotations({ identifier: "ResponseFormatJsonSchema", ...keepUnknownKeys })
export interface ResponseFormatJsonSchema extends Schema.Schema.Type<typeof ResponseFormatJsonSchema> {}

/** The format the model must output. */
export const ResponseFormat = Schema.Union(ResponseFormatText, ResponseFormatJsonObject, ResponseFormatJsonSchema)
  .annotations({ identifier: "ResponseFormat" })
export type ResponseFormat = typeof ResponseFormat.Type

/** Options for a streamed response. */
export const StreamOptions = Schema.Struct({
  include_usage: nullable(Schema.Boolean),
  include_obfuscation: nullable(Schema.Boolean)
}).annotations({ identifier: "StreamOptions", ...keepUnknownKeys })
export interface StreamOptions extends Schema.Schema.Type<typeof StreamOptions> {}

/** Audio output parameters. */
export const AudioParam = Schema.Struct({
  voice: Schema.String,
  format: Schema.String
}).annotations({ identifier: "AudioParam", ...keepUnknownKeys })

/** Predicted output, to speed up regeneration of mostly known content. */
export const PredictionContent = Schema.Struct({
  type: Schema.Literal("content"),
  content: Schema.Union(
    Schema.String,
    Schema.Array(Schema.Struct({ type: Schema.Literal("text"), text: Schema.String }))
  )
}).annotations({ identifier: "PredictionContent", ...keepUnknownKeys })

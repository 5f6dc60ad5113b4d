import { Schema } from "effect"
import { keepUnknownKeys } from "./internal/fields.js"

/** The function that the model called. */
export const Function = Schema.Struct({
  arguments: Schema.String,
  name: Schema.String
}).annotations({ identifier: "Function", description: "The function that the model called." })
export interface Function extends Schema.Schema.Type<typeof Function> {}

/** The custom tool that the model called. */
export const Custom = Schema.Struct({
  input: Schema.String,
  name: Schema.String
}).annotations({ identifier: "Custom", description: "The custom tool that the model called." })
export interface Custom extends Schema.Schema.Type<typeof Custom> {}

/** Deprecated `function_call` of an assistant message: name and JSON arguments. */
export const FunctionCall = Schema.Struct({
  arguments: Schema.String,
  name: Schema.String
}).annotations({ identifier: "FunctionCall", description: "Deprecated and replaced by `tool_calls`." })
export interface FunctionCall extends Schema.Schema.Type<typeof FunctionCall> {}

/** A call to a function tool created by the model. */
export const ChatCompletionMessageFunctionToolCall = Schema.Struct({
  id: Schema.String,
  function: Function,
  type: Schema.Literal("function")
}).annotations({ identifier: "ChatCompletionMessageFunctionToolCall", ...keepUnknownKeys })
export interface ChatCompletionMessageFunctionToolCall
  extends Schema.Schema.Type<typeof ChatCompletionMessageFunctionToolCall>
{}

/** A call to a custom tool created by the model. */
export const ChatCompletionMessageCustomToolCall = Schema.Struct({
  id: Schema.String,
  custom: Custom,
  type: Schema.Literal("custom")
}).annotations({ identifier: "ChatCompletionMessageCustomToolCall", ...keepUnknownKeys })
export interface ChatCompletionMessageCustomToolCall
  extends Schema.Schema.Type<typeof ChatCompletionMessageCustomToolCall>
{}

/** A tool call of an assistant message: a function call or a custom tool call. */
export const ChatCompletionMessageToolCall = Schema.Union(
  ChatCompletionMessageFunctionToolCall,
  ChatCompletionMessageCustomToolCall
)
export type ChatCompletionMessageToolCall = typeof ChatCompletionMessageToolCall.Type

import { Schema } from "effect"
import { keepUnknownKeys, nullable } from "./internal/fields.js"
import { ChatCompletionMessageToolCall, FunctionCall } from "./ToolCall.js"

/** A text content part. */
export const TextContentPart = Schema.Struct({
  type: Schema.Literal("text"),
  text: Schema.String
}).annotations({ identifier: "TextContentPart", ...keepUnknownKeys })
export interface TextContentPart extends Schema.Schema.Type<typeof TextContentPart> {}

/** An image content part: a URL or a `data:` URL with base64 data. */
export const ImageContentPart = Schema.Struct({
  type: Schema.Literal("image_url"),
  image_url: Schema.Struct({
    url: Schema.String,
    detail: nullable(Schema.Literal("auto", "low", "high"))
  })
}).annotations({ identifier: "ImageContentPart", ...keepUnknownKeys })
export interface ImageContentPart extends Schema.Schema.Type<typeof ImageContentPart> {}

/** An audio input content part, base64 encoded. */
export const InputAudioContentPart = Schema.Struct({
  type: Schema.Literal("input_audio"),
  input_audio: Schema.Struct({
    data: Schema.String,
    format: Schema.Literal("wav", "mp3")
  })
}).annotations({ identifier: "InputAudioContentPart", ...keepUnknownKeys })
export interface InputAudioContentPart extends Schema.Schema.Type<typeof InputAudioContentPart> {}

/** A file content part: inline base64 data or an uploaded file id. */
export const FileContentPart = Schema.Struct({
  type: Schema.Literal("file"),
  file: Schema.Struct({
    file_data: nullable(Schema.String),
    file_id: nullable(Schema.String),
    filename: nullable(Schema.String)
  })
}).annotations({ identifier: "FileContentPart", ...keepUnknownKeys })
export interface FileContentPart extends Schema.Schema.Type<typeof FileContentPart> {}

/** A refusal content part (assistant messages only). */
export const RefusalContentPart = Schema.Struct({
  type: Schema.Literal("refusal"),
  refusal: Schema.String
}).annotations({ identifier: "RefusalContentPart", ...keepUnknownKeys })
export interface RefusalContentPart extends Schema.Schema.Type<typeof RefusalContentPart> {}

/** Any part a user message may contain. */
export const UserContentPart = Schema.Union(TextContentPart, ImageContentPart, InputAudioContentPart, FileContentPart)
export type UserContentPart = typeof UserContentPart.Type

/** Any part an assistant message may contain. */
export const AssistantContentPart = Schema.Union(TextContentPart, RefusalContentPart)
export type AssistantContentPart = typeof AssistantContentPart.Type

const TextContent = Schema.Union(Schema.String, Schema.Array(TextContentPart))

/** A system message: instructions for the model. */
export const SystemMessage = Schema.Struct({
  role: Schema.Literal("system"),
  content: TextContent,
  name: nullable(Schema.String)
}).annotations({ identifier: "SystemMessage", ...keepUnknownKeys })
export interface SystemMessage extends Schema.Schema.Type<typeof SystemMessage> {}

/** A developer message: instructions that newer models follow as system messages. */
export const DeveloperMessage = Schema.Struct({
  role: Schema.Literal("developer"),
  content: TextContent,
  name: nullable(Schema.String)
}).annotations({ identifier: "DeveloperMessage", ...keepUnknownKeys })
export interface DeveloperMessage extends Schema.Schema.Type<typeof DeveloperMessage> {}

/** A user message: text or an array of text, image, audio and file parts. */
export const UserMessage = Schema.Struct({
  role: Schema.Literal("user"),
  content: Schema.Union(Schema.String, Schema.Array(UserContentPart)),
  name: nullable(Schema.String)
}).annotations({ identifier: "UserMessage", ...keepUnknownKeys })
export interface UserMessage extends Schema.Schema.Type<typeof UserMessage> {}

/** An assistant message: earlier model output, with its tool calls. */
export const AssistantMessage = Schema.Struct({
  role: Schema.Literal("assistant"),
  content: nullable(Schema.Union(Schema.String, Schema.Array(AssistantContentPart))),
  refusal: nullable(Schema.String),
  name: nullable(Schema.String),
  audio: nullable(Schema.Struct({ id: Schema.String })),
  tool_calls: nullable(Schema.Array(ChatCompletionMessageToolCall)),
  function_call: nullable(FunctionCall)
}).annotations({ identifier: "AssistantMessage", ...keepUnknownKeys })
export interface AssistantMessage extends Schema.Schema.Type<typeof AssistantMessage> {}

/** A tool message: the result of a tool call, answering `tool_call_id`. */
export const ToolMessage = Schema.Struct({
  role: Schema.Literal("tool"),
  content: TextContent,
  tool_call_id: Schema.String
}).annotations({ identifier: "ToolMessage", ...keepUnknownKeys })
export interface ToolMessage extends Schema.Schema.Type<typeof ToolMessage> {}

/** A function message (deprecated in favour of tool messages). */
export const FunctionMessage = Schema.Struct({
  role: Schema.Literal("function"),
  content: Schema.NullOr(Schema.String),
  name: Schema.String
}).annotations({ identifier: "FunctionMessage", ...keepUnknownKeys })
export interface FunctionMessage extends Schema.Schema.Type<typeof FunctionMessage> {}

/** A message in OpenAI's standard format, discriminated by `role`. */
export const ChatCompletionMessageParam = Schema.Union(
  SystemMessage,
  DeveloperMessage,
  UserMessage,
  AssistantMessage,
  ToolMessage,
  FunctionMessage
).annotations({ identifier: "ChatCompletionMessageParam" })
export type ChatCompletionMessageParam = typeof ChatCompletionMessageParam.Type

/** The roles a request message may have. */
export type MessageRole = ChatCompletionMessageParam["role"]

/** The text of a message's content: a string, or its text parts joined. */
export const contentText = (content: string | ReadonlyArray<{ readonly type: string }> | null | undefined): string => {
  if (content == null) return ""
  if (typeof content === "string") return content
  let text = ""
  for (const part of content) {
    if (part.type === "text") text += (part as TextContentPart).text
  }
  return text
}

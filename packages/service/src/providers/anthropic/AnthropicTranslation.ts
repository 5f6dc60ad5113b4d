/**
 * The translation between OpenAI's chat completions and Anthropic's Messages
 * API, by concern: the wire format (`AnthropicSchemas`), requests
 * (`AnthropicRequest`), answers (`AnthropicResponse`) and streams
 * (`AnthropicStream`).
 */
export * from "./AnthropicRequest.js"
export * from "./AnthropicResponse.js"
export * from "./AnthropicSchemas.js"
export * from "./AnthropicStream.js"

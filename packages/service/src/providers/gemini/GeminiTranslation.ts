/**
 * The translation between OpenAI's chat completions and the Gemini API, by
 * concern: the wire format (`GeminiSchemas`), requests (`GeminiRequest`),
 * answers (`GeminiResponse`) and streams (`GeminiStream`).
 */
export * from "./GeminiRequest.js"
export * from "./GeminiResponse.js"
export * from "./GeminiSchemas.js"
export * from "./GeminiStream.js"

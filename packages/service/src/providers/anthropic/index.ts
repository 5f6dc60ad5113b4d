/** anthropic/: Anthropic's Messages API: the provider (`AnthropicProvider`) and the translation, by concern (`AnthropicTranslation`). */
export * as AnthropicProvider from "./AnthropicProvider.js"
export * as AnthropicTranslation from "./AnthropicTranslation.js"

/** gemini/: the Gemini API: the provider (`GeminiProvider`) and the translation, by concern (`GeminiTranslation`). */
export * as GeminiProvider from "./GeminiProvider.js"
export * as GeminiTranslation from "./GeminiTranslation.js"

/** openai/: every OpenAI-compatible vendor: the provider (`OpenAiCompatibleProvider`) and the known vendors (`VendorPresets`). */
export * as OpenAiCompatibleProvider from "./OpenAiCompatibleProvider.js"
export * from "./VendorPresets.js"

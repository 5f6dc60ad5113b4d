/** providers/: the HTTP provider skeleton (`HttpProvider`) and one folder per vendor family, each a module with `make`, `layer` and `layerConfig`. */
export * from "./anthropic/index.js"
export * from "./echo/index.js"
export * from "./gemini/index.js"
export * as HttpProvider from "./HttpProvider.js"
export * from "./openai/index.js"
export * from "./test/index.js"

import { Schema } from "effect"

/**
 * A model reference, `vendor/model`: `openai/gpt-4o`, `ollama/llama3.2`,
 * `openrouter/meta-llama/llama-3.1-8b` (the model part may contain more slashes).
 */
export const ModelRef = Schema.String.pipe(
  Schema.pattern(/^[^/\s]+\/\S/, {
    message: () => "model must be `vendor/model`, for example `openai/gpt-4o`",
    description: "a model reference `vendor/model`",
    arbitrary: () => (fc) =>
      fc.tuple(
        fc.constantFrom("openai", "anthropic", "gemini", "echo", "ollama", "openrouter"),
        fc.stringMatching(/^[a-z0-9][a-z0-9.:/-]{0,30}$/)
      ).map(([vendor, model]) => `${vendor}/${model}`)
  }),
  Schema.brand("ModelRef")
)
export type ModelRef = typeof ModelRef.Type

/** A `ModelRef` split at its first `/`. */
export interface ParsedModelRef {
  readonly vendor: string
  readonly model: string
}

/** Splits `vendor/model` at the first `/`; `undefined` when there is no vendor. */
export const parseModelRef = (ref: string): ParsedModelRef | undefined => {
  const slash = ref.indexOf("/")
  if (slash <= 0 || slash === ref.length - 1) return undefined
  return { vendor: ref.slice(0, slash), model: ref.slice(slash + 1) }
}

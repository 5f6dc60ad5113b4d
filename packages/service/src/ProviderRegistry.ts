/**
 * The `ProviderRegistry`: which provider serves which vendor, filled by the
 * providers' layers (each registers itself), and the resolution of
 * `vendor/model` (or an alias) on every request.
 */
import { type GatewayError, InvalidRequest, ModelNotFound, parseModelRef } from "@switchyard/core"
import { Context, Effect, Layer, type Scope } from "effect"
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

/**
 * Resolves `vendor/model` (or an alias) to the provider that serves it.
 * Providers register themselves (`ProviderRegistry.registration`, which every
 * provider module's `layer` uses), so a vendor family of your own is one more
 * layer, not an edit of Switchyard's code.
 */
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
  /**
   * Routes `vendor` to `provider` while the scope lives (replacing, until
   * then, any provider registered under that name).
   */
  readonly register: (vendor: string, provider: Provider) => Effect.Effect<void, never, Scope.Scope>
}>() {
  /** A registry of the given providers (more may register later). */
  static readonly layer = (
    providers: Readonly<Record<string, Provider>> = {},
    options: RegistryOptions = {}
  ): Layer.Layer<ProviderRegistry> => Layer.sync(ProviderRegistry, () => makeRegistry(providers, options))

  /** A registry of the given providers (more may register later). */
  static readonly make = (
    providers: Readonly<Record<string, Provider>> = {},
    options: RegistryOptions = {}
  ): ProviderRegistry["Type"] => makeRegistry(providers, options)

  /**
   * A layer that builds a provider and registers it under each of `vendors`
   * in the `ProviderRegistry` of its context, for as long as the layer lives.
   */
  static readonly registration = <E, R>(
    vendors: string | ReadonlyArray<string>,
    provider: Effect.Effect<Provider, E, R>
  ): Layer.Layer<never, E, ProviderRegistry | R> =>
    Layer.scopedDiscard(Effect.gen(function*() {
      const registry = yield* ProviderRegistry
      const built = yield* provider
      for (const vendor of typeof vendors === "string" ? [vendors] : vendors) yield* registry.register(vendor, built)
    }))
}

/** Resolution is a map lookup (cached): it runs on every request. */
const makeRegistry = (
  providers: Readonly<Record<string, Provider>>,
  options: RegistryOptions
): ProviderRegistry["Type"] => {
  const table = new Map(Object.entries(providers))
  const aliases = options.aliases ?? {}
  const cache = new Map<string, Route>()
  let vendors = [...table.keys()].sort()

  const changed = () => {
    vendors = [...table.keys()].sort()
    cache.clear()
  }

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

  const models = Effect.suspend(() =>
    Effect.forEach(vendors, (vendor) =>
      table.get(vendor)!.models.pipe(
        Effect.map((list) => list.map((m) => ({ ...m, id: `${vendor}/${m.id}` }))),
        Effect.orElseSucceed((): ReadonlyArray<ModelInfo> => [])
      ), { concurrency: "unbounded" })
  ).pipe(
    Effect.map((lists) => [
      ...lists.flat(),
      ...Object.entries(aliases).map(([alias, target]) => ({
        id: alias,
        vendor: parseModelRef(target)?.vendor ?? "alias",
        ownedBy: `alias of ${target}`
      }))
    ])
  )

  const register = (vendor: string, provider: Provider) =>
    Effect.acquireRelease(
      Effect.sync(() => {
        const previous = table.get(vendor)
        table.set(vendor, provider)
        changed()
        return previous
      }),
      (previous) =>
        Effect.sync(() => {
          if (table.get(vendor) !== provider) return
          if (previous === undefined) table.delete(vendor)
          else table.set(vendor, previous)
          changed()
        })
    ).pipe(Effect.asVoid)

  return {
    resolve,
    get vendors() {
      return vendors
    },
    aliases,
    provider: (vendor) => table.get(vendor),
    models,
    register
  }
}

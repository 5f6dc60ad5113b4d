/**
 * Reading providers' settings with Effect `Config` (the environment by
 * default; tests and the gateway may install another `ConfigProvider`):
 * what every provider module's `layerConfig` shares. Keys are `Redacted`.
 */
import { Config, type ConfigError, Effect, Layer, Option, type Redacted } from "effect"

/** An optional, non-empty setting. */
export const optionalString = (name: string): Effect.Effect<string | undefined, ConfigError.ConfigError> =>
  Effect.map(Config.option(Config.nonEmptyString(name)), Option.getOrUndefined)

/** An optional secret (an API key): never a plain string, so never logged. */
export const optionalSecret = (
  name: string
): Effect.Effect<Redacted.Redacted<string> | undefined, ConfigError.ConfigError> =>
  Effect.map(Config.option(Config.redacted(Config.nonEmptyString(name))), Option.getOrUndefined)

/**
 * The layer of a provider whose options are read from configuration: the
 * provider's `layer` when `read` finds it configured, nothing otherwise.
 */
export const layerIfConfigured = <A, E, R, E2, R2>(
  read: Effect.Effect<Option.Option<A>, E, R>,
  layer: (options: A) => Layer.Layer<never, E2, R2>
): Layer.Layer<never, E | E2, R | R2> =>
  Layer.unwrapEffect(Effect.map(read, Option.match({ onNone: () => Layer.empty, onSome: layer })))

/**
 * The options of a vendor with a key and a base URL: those of its
 * configuration section, with the environment's key (the first of `keys`
 * that is set) and base URL over them; `None` when the section disables the
 * vendor, or when neither a key nor a base URL is set anywhere.
 */
export const readKeyedOptions = <O>(vendor: {
  readonly section: { readonly enabled?: boolean | undefined; readonly base_url?: string | undefined }
  readonly options: O
  readonly keys: ReadonlyArray<string>
  readonly baseUrl: string
}): Effect.Effect<Option.Option<O & { baseUrl?: string; apiKey?: Redacted.Redacted<string> }>, ConfigError.ConfigError> =>
  Effect.gen(function*() {
    if (vendor.section.enabled === false) return Option.none()
    let apiKey: Redacted.Redacted<string> | undefined
    for (const name of vendor.keys) apiKey ??= yield* optionalSecret(name)
    const baseUrl = yield* optionalString(vendor.baseUrl)
    if (apiKey === undefined && baseUrl === undefined && vendor.section.base_url === undefined) return Option.none()
    return Option.some({
      ...vendor.options,
      ...(baseUrl !== undefined ? { baseUrl } : {}),
      ...(apiKey !== undefined ? { apiKey } : {})
    })
  })

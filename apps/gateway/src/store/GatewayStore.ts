import {
  type ApiKeys,
  ApiKeyCache,
  Authenticator,
  CompletionRecorder,
  PriceCatalogue,
  type ResponsesStore,
  type StoredCompletions,
  type StoreHealth,
  type UsageLedger
} from "@switchyard/service"
import { layer as storeLayer } from "@switchyard/store"
import { type Duration, Effect, Layer } from "effect"
import type { GatewayConfig } from "../config/GatewayConfig.js"

/** The ports a store provides. */
export type StorePorts = StoredCompletions | UsageLedger | ApiKeys | ResponsesStore | StoreHealth

/**
 * A store as the gateway runs it: the store's ports, the recorder of
 * completions, and the authenticator over the configured keys and the
 * store's (cached, refreshed every 2 s unless told otherwise).
 */
export const compose = <E, R>(
  config: Pick<GatewayConfig, "apiKeys" | "adminKeys">,
  store: Layer.Layer<StorePorts, E, R>,
  options: { readonly keyRefreshInterval?: Duration.DurationInput | undefined } = {}
) => {
  const authenticator = Layer.unwrapEffect(
    Effect.map(ApiKeyCache, (cache) =>
      Authenticator.layer({ apiKeys: config.apiKeys, adminKeys: config.adminKeys }, [cache.source]))
  ).pipe(Layer.provide(ApiKeyCache.layer({ refreshInterval: options.keyRefreshInterval })), Layer.provide(store))
  return Layer.mergeAll(store, authenticator, CompletionRecorder.layer.pipe(Layer.provide(store)))
}

/**
 * The SQL store of the configuration (migrated at start) with the price
 * catalogue (which the metrics' costs read too), composed for the gateway.
 */
export const layer = (config: GatewayConfig) =>
  compose(config, storeLayer(config.store)).pipe(Layer.provideMerge(PriceCatalogue.layer(config.service.prices)))

import { ApiKeyCache, Authenticator, CompletionRecorder, PriceCatalogue } from "@switchyard/service"
import { layer as storeLayer } from "@switchyard/store"
import { Effect, Layer } from "effect"
import type { GatewayConfig } from "../config/GatewayConfig.js"

/**
 * The store as the gateway runs it: the SQL store (migrated at start), the
 * price catalogue, the recorder of completions, and the authenticator over
 * the configured keys and the database's (cached, refreshed every 2 s).
 */
export const layer = (config: GatewayConfig) => {
  const prices = PriceCatalogue.layer(config.service.prices)
  const store = storeLayer(config.store).pipe(Layer.provide(prices))
  const authenticator = Layer.unwrapEffect(
    Effect.map(ApiKeyCache, (cache) =>
      Authenticator.layer({ apiKeys: config.apiKeys, adminKeys: config.adminKeys }, [cache.source]))
  ).pipe(Layer.provide(ApiKeyCache.layer()), Layer.provide(store))
  return Layer.mergeAll(store, authenticator, CompletionRecorder.layer.pipe(Layer.provide(store)), prices)
}

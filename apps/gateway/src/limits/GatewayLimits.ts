import { LimitStore, Limits, type PriceCatalogue, type UsageLedger } from "@switchyard/service"
import { Effect, Layer } from "effect"
import type { GatewayConfig } from "../config/GatewayConfig.js"

/**
 * The limits of the configuration and of database keys: counters in Redis
 * when `SWITCHYARD_REDIS_URL` is set (shared by every replica), in memory
 * otherwise. Budgets read the usage ledger.
 */
export const layer = (config: Pick<GatewayConfig, "limits">): Layer.Layer<Limits, never, UsageLedger | PriceCatalogue> => {
  const { redisUrl, section } = config.limits
  const store = redisUrl === undefined
    ? LimitStore.layerMemory
    : Layer.unwrapEffect(
      Effect.map(Effect.promise(() => import("@switchyard/store/RedisLimitStore")), (Redis) => Redis.layer({ url: redisUrl }))
    )
  return Limits.layer(section).pipe(Layer.provide(store))
}

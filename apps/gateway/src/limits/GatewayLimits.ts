import { LimitStore, Limits, limitsConfigured, type PriceCatalogue, type UsageLedger } from "@switchyard/service"
import { Effect, Layer } from "effect"
import type { GatewayConfig } from "../config/GatewayConfig.js"

/**
 * The limits of the configuration: none when nothing is limited (no store is
 * connected); counters in Redis when `SWITCHYARD_REDIS_URL` is set (shared by
 * every replica), in memory otherwise. Budgets read the usage ledger.
 */
export const layer = (config: Pick<GatewayConfig, "limits">): Layer.Layer<Limits, never, UsageLedger | PriceCatalogue> => {
  const { redisUrl, section } = config.limits
  if (!limitsConfigured(section)) return Layer.succeed(Limits, Limits.none)
  const store = redisUrl === undefined
    ? LimitStore.layerMemory
    : Layer.unwrapEffect(
      Effect.map(Effect.promise(() => import("@switchyard/store/RedisLimitStore")), (Redis) => Redis.layer({ url: redisUrl }))
    )
  return Limits.layer(section).pipe(Layer.provide(store))
}

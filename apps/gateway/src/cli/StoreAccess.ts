import { type ApiKeys, PriceCatalogue, type StoredCompletions } from "@switchyard/service"
import { Effect, Layer, type Scope } from "effect"
import { loadConfig } from "../config/GatewayConfig.js"

/**
 * The store the server uses (same `SWITCHYARD_DATABASE_URL` / data directory
 * / config file), opened in this process for a command; migrated on opening.
 * The drivers load only when a command needs them.
 */
export const openStore = (configFile: string | undefined) =>
  Effect.gen(function*() {
    const config = yield* loadConfig({ configFile })
    const { describeLocation, layer, migrateDatabase } = yield* Effect.promise(() => import("@switchyard/store"))
    const build = Layer.build(layer(config.store).pipe(Layer.provide(PriceCatalogue.layer(config.service.prices))))
    return { config, where: describeLocation(config.store.database), build, migrate: migrateDatabase(config.store.database) }
  })

/** Runs an effect with the store's ports, closing the store (and draining its writes) afterwards. */
export const withStore = <A, E>(
  configFile: string | undefined,
  use: Effect.Effect<A, E, ApiKeys | StoredCompletions | Scope.Scope>
) =>
  Effect.scoped(Effect.gen(function*() {
    const store = yield* openStore(configFile)
    const context = yield* store.build
    return yield* Effect.provide(use, context)
  }))

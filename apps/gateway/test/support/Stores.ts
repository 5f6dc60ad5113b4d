import { type Authenticator, layerMemoryStore, PriceCatalogue, type ResponsesStore } from "@switchyard/service"
import { type DatabaseLocation, layer as sqlStore, type StoreOptions } from "@switchyard/store"
import { freshLocations, warnIfNoPostgres } from "@switchyard/store/testing"
import { type Context, Effect, Layer, Redacted, type Scope } from "effect"
import type { StoreServices } from "../../src/http/Listener.js"
import { compose } from "../../src/store/GatewayStore.js"

warnIfNoPostgres()

/** Gateway keys of a test, as plain strings. */
export interface TestKeys {
  readonly apiKeys?: ReadonlyArray<string>
  readonly adminKeys?: ReadonlyArray<string>
}

/** A store built for a test: the layer to give the gateway (as `storage`, and as `store` for its responses), and its services to look into. */
export interface BuiltStore {
  readonly layer: Layer.Layer<StoreServices | ResponsesStore | Authenticator>
  readonly context: Context.Context<StoreServices | ResponsesStore | Authenticator>
}

/** Prices for the tests: openai/gpt-4o at $2.50/$10 per million. */
export const testPrices = PriceCatalogue.layerStatic({ "openai/gpt-4o": { input_per_mtok: 2.5, output_per_mtok: 10 } })

/** A store backend the gateway tests run against. */
export interface StoreBackend {
  readonly name: "memory" | "sqlite" | "postgres"
  /** A fresh store (its own database) with these configured keys, for the scope. */
  readonly make: (keys?: TestKeys) => Effect.Effect<BuiltStore, unknown, Scope.Scope>
}

const keysConfig = (keys: TestKeys) => ({
  apiKeys: (keys.apiKeys ?? []).map((key) => Redacted.make(key)),
  adminKeys: (keys.adminKeys ?? []).map((key) => Redacted.make(key))
})

/** Builds a store composed as the gateway runs it, over a database location (or memory). */
export const buildStore = (
  location: DatabaseLocation | "memory",
  keys: TestKeys = {},
  options: Omit<StoreOptions, "database"> = {}
) =>
  Effect.gen(function*() {
    const base = location === "memory" ? layerMemoryStore : sqlStore({ ...options, database: location })
    const context = yield* Layer.build(compose(keysConfig(keys), base).pipe(Layer.provide(testPrices)))
    return { context, layer: Layer.succeedContext(context) } satisfies BuiltStore
  })

/** Memory, SQLite and (when configured) PostgreSQL. */
export const storeBackends: ReadonlyArray<StoreBackend> = [
  { name: "memory", make: (keys) => buildStore("memory", keys) },
  ...freshLocations.map(({ location, name }): StoreBackend => ({
    name,
    make: (keys) => Effect.flatMap(location, (where) => buildStore(where, keys))
  }))
]


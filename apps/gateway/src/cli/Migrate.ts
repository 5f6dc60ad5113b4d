import * as Command from "@effect/cli/Command"
import { Console, Effect, Option } from "effect"
import { configFile } from "./Options.js"
import { openStore } from "./StoreAccess.js"

/** `switchyard migrate`: applies the database migrations (the server also does at start). */
export const migrate = Command.make("migrate", { config: configFile }, (flags) =>
  Effect.gen(function*() {
    const store = yield* openStore(Option.getOrUndefined(flags.config))
    const applied = yield* store.migrate
    yield* Console.error(
      applied.length === 0
        ? `${store.where}: up to date`
        : `${store.where}: applied migration${applied.length > 1 ? "s" : ""} ${applied.join(", ")}`
    )
  })).pipe(Command.withDescription("Apply the database migrations (SWITCHYARD_DATABASE_URL or the data directory)"))

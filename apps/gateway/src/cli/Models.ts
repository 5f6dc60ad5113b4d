import * as Command from "@effect/cli/Command"
import { ChatCompletions, OpenAiCompatibleProvider, ServiceConfig, UpstreamHttp } from "@switchyard/service"
import { Console, Effect, Option } from "effect"
import { serviceConfigOf } from "../config/GatewayConfig.js"
import { completionsBase } from "./Chat.js"
import { apiKey, baseUrl, configFile } from "./Options.js"

/** `switchyard models`: the configured vendors, whether they are reachable, and their models. */
export const models = Command.make("models", { baseUrl, apiKey, config: configFile }, (flags) =>
  Effect.gen(function*() {
    if (Option.isSome(flags.baseUrl)) {
      const list = yield* OpenAiCompatibleProvider.listUpstreamModels({
        name: "gateway",
        baseUrl: completionsBase(flags.baseUrl.value),
        apiKey: Option.getOrUndefined(flags.apiKey)
      })
      for (const model of list) yield* Console.log(model.id)
      return
    }
    const config = yield* serviceConfigOf(Option.getOrUndefined(flags.config))
    yield* Effect.gen(function*() {
      const vendors = yield* ServiceConfig.openAiCompatibleVendors(config)
      const completions = yield* ChatCompletions
      const known = yield* completions.models
      yield* Console.log("VENDOR".padEnd(12) + "STATUS".padEnd(40) + "MODELS")
      for (const vendor of completions.vendors) {
        const options = vendors.find((v) => v.name === vendor)
        const listed = known.filter((m) => m.vendor === vendor).map((m) => m.id)
        const status = options === undefined
          ? { state: "ready (offline)", models: listed }
          : yield* OpenAiCompatibleProvider.listUpstreamModels(options).pipe(
            Effect.map((list) => ({ state: "reachable", models: list.map((m) => `${vendor}/${m.id}`) })),
            Effect.catchAll((error) => Effect.succeed({ state: `unreachable: ${error.message}`.slice(0, 38), models: listed })),
            Effect.timeoutTo({
              duration: "6 seconds",
              onSuccess: (result) => result,
              onTimeout: () => ({ state: "unreachable: timeout", models: listed })
            })
          )
        yield* Console.log(vendor.padEnd(12) + status.state.padEnd(40) + (status.models.join(", ") || "-"))
      }
      const routes = [...completions.routing.routes.values()]
      if (routes.length > 0) {
        yield* Console.log("\n" + "ROUTE".padEnd(24) + "STRATEGY".padEnd(28) + "TARGETS")
        for (const route of routes) {
          const strategy = route.strategy + (route.hedgeAfterMs !== undefined ? `, hedge ${route.hedgeAfterMs} ms` : "")
          const targets = route.targets.map((t) => route.strategy === "loadbalance" ? `${t.model} (${t.weight})` : t.model)
          yield* Console.log(route.name.padEnd(24) + strategy.padEnd(28) + targets.join(", "))
        }
      }
    }).pipe(Effect.provide(ServiceConfig.layer(config)))
  }).pipe(Effect.provide(UpstreamHttp.layer()))).pipe(
    Command.withDescription("List the configured vendors, whether they are reachable, and their models; then the routes")
  )

import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import { Authenticator, ChatCompletions, Responses, ServiceConfig } from "@switchyard/service"
import { describeLocation } from "@switchyard/store/StoreConfig"
import { Console, Effect, Layer, Option } from "effect"
import { Gateway, isLoopback, loadConfig } from "../config/GatewayConfig.js"
import { RequestLog } from "../http/RequestLog.js"
import { configFile } from "./Options.js"

const flag = <A>(option: Options.Options<A>, description: string) =>
  option.pipe(Options.withDescription(description), Options.optional)

/** `switchyard serve`: the gateway. Flags override the environment and the file (see the configuration module). */
export const serve = Command.make("serve", {
  host: flag(Options.text("host"), "Address to listen on (default 127.0.0.1; env SWITCHYARD_HOST)"),
  port: flag(Options.integer("port"), "Port to listen on (default 8080; env SWITCHYARD_PORT)"),
  config: configFile,
  logFormat: flag(Options.choice("log-format", ["text", "json"]), "Access log format (default text; env SWITCHYARD_LOG_FORMAT)"),
  bodyLimit: flag(Options.integer("body-limit"), "Largest request body in bytes (default 10 MiB; env SWITCHYARD_BODY_LIMIT_BYTES)"),
  shutdownGrace: flag(
    Options.integer("shutdown-grace-ms"),
    "How long in-flight requests may finish on SIGTERM (default 30000; env SWITCHYARD_SHUTDOWN_GRACE_MS)"
  )
}, (flags) =>
  Effect.gen(function*() {
    const config = yield* loadConfig({
      configFile: Option.getOrUndefined(flags.config),
      "server.host": Option.getOrUndefined(flags.host),
      "server.port": Option.getOrUndefined(flags.port),
      "server.log_format": Option.getOrUndefined(flags.logFormat),
      "server.body_limit_bytes": Option.getOrUndefined(flags.bodyLimit),
      "server.shutdown_grace_ms": Option.getOrUndefined(flags.shutdownGrace)
    })
    // The HTTP stack and the database drivers load only for `serve`: other commands start faster without them.
    const [Listener, GatewayStore] = yield* Effect.promise(() =>
      Promise.all([import("../http/Listener.js"), import("../store/GatewayStore.js")])
    )
    const tracing = config.tracing.endpoint === undefined
      ? Layer.empty
      : (yield* Effect.promise(() => import("../telemetry/OtlpTracing.js"))).layer(config.tracing)
    const layer = Listener.layer.pipe(
      Layer.provide(Responses.layer()),
      Layer.provideMerge(ServiceConfig.layer(config.service)),
      Layer.provideMerge(GatewayStore.layer(config)),
      Layer.provide(RequestLog.layer(config.logFormat)),
      Layer.provide(Layer.succeed(Gateway, config)),
      Layer.provide(tracing)
    )
    yield* Effect.gen(function*() {
      const server = yield* Listener.Server
      const completions = yield* ChatCompletions
      const authenticator = yield* Authenticator
      yield* Console.error(`Switchyard listening on ${server.url} (vendors: ${completions.vendors.join(", ")})`)
      yield* Console.error(`  OpenAI SDK: baseURL "${server.url}/v5"   docs: ${server.url}/docs   dashboard: ${server.url}/dashboard`)
      yield* Console.error(`  store: ${describeLocation(config.store.database)}`)
      const telemetry = [
        config.metrics.enabled ? `metrics: ${server.url}/metrics${config.metrics.requireKey ? " (admin key)" : ""}` : undefined,
        config.tracing.endpoint !== undefined ? `traces: ${config.tracing.endpoint} (${config.tracing.protocol})` : undefined
      ].filter((line) => line !== undefined)
      if (telemetry.length > 0) yield* Console.error(`  ${telemetry.join("   ")}`)
      if (authenticator.open) {
        yield* Console.error(
          `WARNING: no API keys configured (SWITCHYARD_API_KEYS, or \`switchyard keys create\`): the gateway is open to anyone who can reach ${server.host}.` +
            (isLoopback(config.host) ? "" : " This is only allowed on loopback addresses.")
        )
      }
      return yield* Effect.never
    }).pipe(Effect.provide(layer))
  })).pipe(Command.withDescription("Run the gateway: an OpenAI-compatible HTTP server"))

import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import { ChatCompletions, OpenAiCompatibleProvider, ServiceConfig, UpstreamHttp } from "@switchyard/service"
import { Config, Console, Effect, Layer, Option } from "effect"
import { type ChatBackend, type ChatOptions, completionsBase, httpBackend, inProcessBackend, interactive, readPipedStdin, runTurn } from "./Chat.js"
import { type ConfigFile, Gateway, isLoopback, readConfigFile, resolveConfig } from "./GatewayConfig.js"
import { RequestLog } from "./RequestLog.js"
import * as Server from "./Server.js"

const env = {
  string: (name: string) => Config.nonEmptyString(name),
  integer: (name: string) => Config.integer(name)
}

const configFile = Options.file("config", { exists: "yes" }).pipe(
  Options.withFallbackConfig(env.string("SWITCHYARD_CONFIG")),
  Options.withDescription("A configuration file (JSON or YAML): vendors, aliases, retry policy, server settings"),
  Options.optional
)

const serve = Command.make("serve", {
  host: Options.text("host").pipe(
    Options.withFallbackConfig(env.string("SWITCHYARD_HOST")),
    Options.withDescription("Address to listen on (default 127.0.0.1)"),
    Options.optional
  ),
  port: Options.integer("port").pipe(
    Options.withFallbackConfig(env.integer("SWITCHYARD_PORT")),
    Options.withDescription("Port to listen on (default 8080)"),
    Options.optional
  ),
  config: configFile,
  logFormat: Options.choice("log-format", ["text", "json"]).pipe(
    Options.withFallbackConfig(Config.literal("text", "json")("SWITCHYARD_LOG_FORMAT")),
    Options.withDescription("Access log format (default text)"),
    Options.optional
  ),
  bodyLimit: Options.integer("body-limit").pipe(
    Options.withFallbackConfig(env.integer("SWITCHYARD_BODY_LIMIT_BYTES")),
    Options.withDescription("Largest request body in bytes (default 10 MiB)"),
    Options.optional
  ),
  shutdownGrace: Options.integer("shutdown-grace-ms").pipe(
    Options.withFallbackConfig(env.integer("SWITCHYARD_SHUTDOWN_GRACE_MS")),
    Options.withDescription("How long in-flight requests may finish on SIGTERM (default 30000)"),
    Options.optional
  )
}, (flags) =>
  Effect.gen(function*() {
    const apiKeys = yield* Config.option(Config.string("SWITCHYARD_API_KEYS"))
    const config = yield* resolveConfig({
      host: Option.getOrUndefined(flags.host),
      port: Option.getOrUndefined(flags.port),
      configFile: Option.getOrUndefined(flags.config),
      apiKeys: Option.getOrUndefined(apiKeys),
      logFormat: Option.getOrUndefined(flags.logFormat),
      bodyLimitBytes: Option.getOrUndefined(flags.bodyLimit),
      shutdownGraceMs: Option.getOrUndefined(flags.shutdownGrace)
    })
    const layer = Server.layer.pipe(
      Layer.provideMerge(ServiceConfig.layer(config.service)),
      Layer.provide(RequestLog.layer(config.logFormat)),
      Layer.provide(Layer.succeed(Gateway, config))
    )
    yield* Effect.gen(function*() {
      const server = yield* Server.Server
      const completions = yield* ChatCompletions
      yield* Console.error(`Switchyard listening on ${server.url} (vendors: ${completions.vendors.join(", ")})`)
      yield* Console.error(`  OpenAI SDK: baseURL "${server.url}/v5"   docs: ${server.url}/docs`)
      if (config.apiKeys.length === 0) {
        yield* Console.error(
          `WARNING: no API keys configured (SWITCHYARD_API_KEYS): the gateway is open to anyone who can reach ${server.host}.` +
            (isLoopback(config.host) ? "" : " This is only allowed on loopback addresses.")
        )
      }
      return yield* Effect.never
    }).pipe(Effect.provide(layer))
  })).pipe(Command.withDescription("Run the gateway: an OpenAI-compatible HTTP server"))

const baseUrl = Options.text("base-url").pipe(
  Options.withFallbackConfig(env.string("SWITCHYARD_BASE_URL").pipe(Config.orElse(() => env.string("SGP_CLIENT_BASE_URL")))),
  Options.withDescription("Talk to a running gateway (or an SGP deployment) at this URL instead of running in-process"),
  Options.optional
)
const apiKey = Options.redacted("api-key").pipe(
  Options.withFallbackConfig(Config.redacted(env.string("SWITCHYARD_API_KEY").pipe(Config.orElse(() => env.string("SGP_API_KEY"))))),
  Options.withDescription("The gateway's API key (with --base-url)"),
  Options.optional
)
const account = Options.text("account").pipe(
  Options.withFallbackConfig(env.string("SGP_ACCOUNT_ID")),
  Options.withDescription("The account to act for (sent as x-selected-account-id)"),
  Options.optional
)

const loadConfigFile = (file: Option.Option<string>): Effect.Effect<ConfigFile, unknown> =>
  Option.match(file, { onNone: () => Effect.succeed({}), onSome: readConfigFile })

const chat = Command.make("chat", {
  prompt: Args.text({ name: "prompt" }).pipe(Args.withDescription("What to ask; read from stdin when piped"), Args.optional),
  model: Options.text("model").pipe(
    Options.withAlias("m"),
    Options.withFallbackConfig(env.string("SWITCHYARD_MODEL")),
    Options.withDefault("echo/echo"),
    Options.withDescription("vendor/model, e.g. openai/gpt-4o (default echo/echo)")
  ),
  system: Options.text("system").pipe(Options.withDescription("A system message"), Options.optional),
  temperature: Options.float("temperature").pipe(Options.withDescription("Sampling temperature, 0..2"), Options.optional),
  maxTokens: Options.integer("max-tokens").pipe(Options.withDescription("Most tokens to generate"), Options.optional),
  json: Options.boolean("json").pipe(Options.withDescription("Print the whole chat.completion as JSON")),
  noStream: Options.boolean("no-stream").pipe(Options.withDescription("Wait for the whole answer instead of streaming")),
  baseUrl,
  apiKey,
  account,
  config: configFile
}, (flags) =>
  Effect.gen(function*() {
    const options: ChatOptions = {
      model: flags.model,
      system: flags.system,
      temperature: flags.temperature,
      maxTokens: flags.maxTokens,
      json: flags.json,
      stream: !flags.noStream
    }
    const backend: ChatBackend = Option.isSome(flags.baseUrl)
      ? yield* httpBackend({ baseUrl: flags.baseUrl.value, apiKey: flags.apiKey, account: flags.account })
      : yield* inProcessBackend(yield* loadConfigFile(flags.config))
    const piped = yield* readPipedStdin
    const prompt = Option.isSome(piped) && Option.isSome(flags.prompt)
      ? Option.some(`${piped.value}\n\n${flags.prompt.value}`)
      : Option.orElse(piped, () => flags.prompt)
    if (Option.isNone(prompt)) {
      if (process.stdin.isTTY) return yield* interactive(backend, options)
      return yield* Effect.fail(new Error("no prompt: pass one as an argument or pipe it on stdin"))
    }
    yield* runTurn(backend, options, [{ role: "user", content: prompt.value }])
  }).pipe(Effect.scoped)).pipe(Command.withDescription("Chat with a model: in-process, or through a gateway with --base-url"))

const models = Command.make("models", { baseUrl, apiKey, config: configFile }, (flags) =>
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
    const config = yield* loadConfigFile(flags.config)
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
    }).pipe(Effect.provide(ServiceConfig.layer(config)))
  }).pipe(Effect.provide(UpstreamHttp.layer()))).pipe(Command.withDescription("List the configured vendors, whether they are reachable, and their models"))

/** The `switchyard` command. */
export const command = Command.make("switchyard").pipe(
  Command.withDescription("Switchyard: an OpenAI-compatible chat completions gateway"),
  Command.withSubcommands([serve, chat, models])
)

/** Runs the CLI with the given arguments (`process.argv`). */
export const run = Command.run(command, { name: "switchyard", version: "0.1.0" })

import { ServiceConfig } from "@switchyard/service"
import { Context, Effect, ParseResult, Redacted, Schema } from "effect"
import * as Fs from "node:fs/promises"
import * as Path from "node:path"
import * as Yaml from "yaml"

/** The `server` section of a configuration file. */
export const ServerSection = Schema.Struct({
  host: Schema.optional(Schema.String),
  port: Schema.optional(Schema.Int.pipe(Schema.between(0, 65535))),
  body_limit_bytes: Schema.optional(Schema.Int.pipe(Schema.positive())),
  shutdown_grace_ms: Schema.optional(Schema.Number.pipe(Schema.nonNegative())),
  keep_alive_ms: Schema.optional(Schema.Number.pipe(Schema.positive())),
  log_format: Schema.optional(Schema.Literal("text", "json"))
})

/** A configuration file (`--config switchyard.json` or `.yaml`): the server section and the service's settings. */
export const ConfigFile = Schema.Struct({
  server: Schema.optional(ServerSection),
  ...ServiceConfig.ServiceConfig.fields
}).annotations({ identifier: "ConfigFile", parseOptions: { onExcessProperty: "error" } })
export interface ConfigFile extends Schema.Schema.Type<typeof ConfigFile> {}

/** Everything the gateway runs with, resolved from flags, environment, file and defaults. */
export interface GatewayConfig {
  readonly host: string
  readonly port: number
  readonly apiKeys: ReadonlyArray<Redacted.Redacted<string>>
  readonly bodyLimitBytes: number
  readonly shutdownGraceMs: number
  readonly keepAliveMs: number
  readonly logFormat: "text" | "json"
  readonly service: ServiceConfig.ServiceConfig
}

/** The resolved configuration, as a service. */
export class Gateway extends Context.Tag("@switchyard/gateway/GatewayConfig")<Gateway, GatewayConfig>() {}

/** A configuration problem: the message names the setting. */
export class ConfigProblem extends Schema.TaggedError<ConfigProblem>()("ConfigProblem", {
  message: Schema.String
}) {}

const formatIssue = (file: string, error: ParseResult.ParseError): string =>
  ParseResult.ArrayFormatter.formatErrorSync(error)
    .map((issue) => `${file}: ${issue.path.length > 0 ? issue.path.join(".") : "(top level)"}: ${issue.message}`)
    .join("\n")

/** Reads and validates a JSON or YAML configuration file. */
export const readConfigFile = (file: string): Effect.Effect<ConfigFile, ConfigProblem> =>
  Effect.gen(function*() {
    const text = yield* Effect.tryPromise({
      try: () => Fs.readFile(file, "utf8"),
      catch: (error) => new ConfigProblem({ message: `Cannot read config file ${file}: ${(error as Error).message}` })
    })
    const ext = Path.extname(file).toLowerCase()
    const raw = yield* Effect.try({
      try: (): unknown => ext === ".yaml" || ext === ".yml" ? Yaml.parse(text) : JSON.parse(text),
      catch: (error) => new ConfigProblem({ message: `Cannot parse config file ${file}: ${(error as Error).message}` })
    })
    return yield* Schema.decodeUnknown(ConfigFile, { errors: "all" })(raw ?? {}).pipe(
      Effect.mapError((error) => new ConfigProblem({ message: formatIssue(file, error) }))
    )
  })

/** What flags and environment variables give (each optional). */
export interface ConfigInputs {
  readonly host?: string | undefined
  readonly port?: number | undefined
  readonly configFile?: string | undefined
  readonly apiKeys?: string | undefined
  readonly logFormat?: "text" | "json" | undefined
  readonly bodyLimitBytes?: number | undefined
  readonly shutdownGraceMs?: number | undefined
}

/** Splits `SWITCHYARD_API_KEYS` (comma-separated). */
export const parseApiKeys = (value: string | undefined): Array<Redacted.Redacted<string>> =>
  (value ?? "").split(",").map((key) => key.trim()).filter((key) => key.length > 0).map((key) => Redacted.make(key))

/** Resolves the configuration: flags and environment over the file over the defaults. */
export const resolveConfig = (inputs: ConfigInputs): Effect.Effect<GatewayConfig, ConfigProblem> =>
  Effect.gen(function*() {
    const checks: Array<[number | undefined, string, (n: number) => boolean, string]> = [
      [inputs.port, "port (--port / SWITCHYARD_PORT)", (n) => n >= 0 && n <= 65535, "an integer from 0 to 65535"],
      [inputs.bodyLimitBytes, "body limit (--body-limit / SWITCHYARD_BODY_LIMIT_BYTES)", (n) => n > 0, "a positive integer"],
      [
        inputs.shutdownGraceMs,
        "shutdown grace (--shutdown-grace-ms / SWITCHYARD_SHUTDOWN_GRACE_MS)",
        (n) => n >= 0,
        "a non-negative integer"
      ]
    ]
    for (const [value, name, valid, expected] of checks) {
      if (value !== undefined && !(Number.isInteger(value) && valid(value))) {
        return yield* new ConfigProblem({ message: `Invalid ${name}: ${value}; expected ${expected}` })
      }
    }
    const file = inputs.configFile !== undefined ? yield* readConfigFile(inputs.configFile) : undefined
    const server = file?.server ?? {}
    const { server: _, ...service } = file ?? {}
    return {
      host: inputs.host ?? server.host ?? "127.0.0.1",
      port: inputs.port ?? server.port ?? 8080,
      apiKeys: parseApiKeys(inputs.apiKeys),
      bodyLimitBytes: inputs.bodyLimitBytes ?? server.body_limit_bytes ?? 10 * 1024 * 1024,
      shutdownGraceMs: inputs.shutdownGraceMs ?? server.shutdown_grace_ms ?? 30_000,
      keepAliveMs: server.keep_alive_ms ?? 15_000,
      logFormat: inputs.logFormat ?? server.log_format ?? "text",
      service
    }
  })

/** Whether a host is a loopback address (safe to serve without keys). */
export const isLoopback = (host: string): boolean =>
  host === "localhost" || host === "::1" || host === "[::1]" || /^127(\.\d{1,3}){3}$/.test(host)

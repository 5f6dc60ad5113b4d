import { LimitsSection, ServiceConfig } from "@switchyard/service"
import { StoreSection } from "@switchyard/store/StoreConfig"
import { Effect, ParseResult, Schema } from "effect"
import * as Fs from "node:fs/promises"
import * as Path from "node:path"
import * as Yaml from "yaml"

/** The `server` section: where and how the gateway listens. */
export const ServerSection = Schema.Struct({
  host: Schema.optional(Schema.String),
  port: Schema.optional(Schema.Int.pipe(Schema.between(0, 65535))),
  body_limit_bytes: Schema.optional(Schema.Int.pipe(Schema.positive())),
  shutdown_grace_ms: Schema.optional(Schema.Number.pipe(Schema.nonNegative())),
  keep_alive_ms: Schema.optional(Schema.Number.pipe(Schema.positive())),
  log_format: Schema.optional(Schema.Literal("text", "json"))
})

/** The `auth` section: gateway keys (`key`, `key:account`, `key:acct1|acct2`), usually from the environment. */
export const AuthSection = Schema.Struct({
  api_keys: Schema.optional(Schema.Array(Schema.String)),
  admin_keys: Schema.optional(Schema.Array(Schema.String))
})

/** The `metrics` section: `GET /metrics` (Prometheus). */
export const MetricsSection = Schema.Struct({
  enabled: Schema.optional(Schema.Boolean),
  require_key: Schema.optional(Schema.Boolean)
})

/** The `tracing` section (the exporter itself is configured by OpenTelemetry's `OTEL_*` variables). */
export const TracingSection = Schema.Struct({
  capture_content: Schema.optional(Schema.Boolean)
})

/**
 * The configuration tree as a file (`--config switchyard.yaml` or `.json`):
 * the gateway's sections and the service's settings. Unknown keys are errors.
 * Each later section (store, limits, metrics, tracing) is added here; `routes` and
 * `circuit_breaker` come with the service's fields.
 */
export const ConfigFile = Schema.Struct({
  server: Schema.optional(ServerSection),
  auth: Schema.optional(AuthSection),
  store: Schema.optional(StoreSection),
  limits: Schema.optional(LimitsSection),
  metrics: Schema.optional(MetricsSection),
  tracing: Schema.optional(TracingSection),
  ...ServiceConfig.ServiceConfig.fields
}).annotations({ identifier: "ConfigFile", parseOptions: { onExcessProperty: "error" } })
export interface ConfigFile extends Schema.Schema.Type<typeof ConfigFile> {}

/** A configuration problem: the message names the setting and where it came from. */
export class ConfigProblem extends Schema.TaggedError<ConfigProblem>()("ConfigProblem", {
  message: Schema.String
}) {}

// An optional section that fails is also reported as "Expected undefined" at each level: noise beside the real problem.
const formatIssue = (file: string, error: ParseResult.ParseError): string => {
  const issues = ParseResult.ArrayFormatter.formatErrorSync(error)
  const real = issues.filter((issue) => !issue.message.startsWith("Expected undefined, actual"))
  return (real.length > 0 ? real : issues)
    .map((issue) => `${file}: ${issue.path.length > 0 ? issue.path.join(".") : "(top level)"}: ${issue.message}`)
    .join("\n")
}

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

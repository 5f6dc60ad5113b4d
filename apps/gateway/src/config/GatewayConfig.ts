import { type LimitsSection, type ServiceConfig, splitKeyList } from "@switchyard/service"
import { resolveDatabase, type StoreOptions } from "@switchyard/store/StoreConfig"
import { Config, ConfigError, ConfigProvider, Context, Effect, Either, Option, Redacted } from "effect"
import { type ConfigFile, ConfigProblem, readConfigFile } from "./ConfigFile.js"
import { type MetricsConfig, metricsSection, type TracingConfig, tracingSection } from "./TelemetryConfig.js"

/** Everything the gateway runs with, resolved from flags, environment, file and defaults. */
export interface GatewayConfig {
  readonly host: string
  readonly port: number
  readonly apiKeys: ReadonlyArray<Redacted.Redacted<string>>
  readonly adminKeys: ReadonlyArray<Redacted.Redacted<string>>
  readonly bodyLimitBytes: number
  readonly shutdownGraceMs: number
  readonly keepAliveMs: number
  readonly logFormat: "text" | "json"
  readonly metrics: MetricsConfig
  readonly tracing: TracingConfig
  /** Where stored completions, keys and usage live, and how they are written. */
  readonly store: StoreOptions
  /** The `limits:` section, and the Redis that replicas share for them (in memory without one). */
  readonly limits: LimitsOptions
  readonly service: ServiceConfig.ServiceConfig
}

/** Rate limits, concurrency limits and budgets: the file's section, and where the counters live. */
export interface LimitsOptions {
  readonly section: LimitsSection
  readonly redisUrl: Redacted.Redacted<string> | undefined
}

/** The resolved configuration, as a service. */
export class Gateway extends Context.Tag("@switchyard/gateway/GatewayConfig")<Gateway, GatewayConfig>() {}

/**
 * Where each setting of the tree may also come from: its environment variable
 * and its flag. The `server` and `auth` sections map to `SWITCHYARD_<KEY>`.
 */
export const SETTINGS: ReadonlyArray<{ readonly path: string; readonly env: string; readonly flag?: string }> = [
  { path: "server.host", env: "SWITCHYARD_HOST", flag: "--host" },
  { path: "server.port", env: "SWITCHYARD_PORT", flag: "--port" },
  { path: "server.body_limit_bytes", env: "SWITCHYARD_BODY_LIMIT_BYTES", flag: "--body-limit" },
  { path: "server.shutdown_grace_ms", env: "SWITCHYARD_SHUTDOWN_GRACE_MS", flag: "--shutdown-grace-ms" },
  { path: "server.keep_alive_ms", env: "SWITCHYARD_KEEP_ALIVE_MS" },
  { path: "server.log_format", env: "SWITCHYARD_LOG_FORMAT", flag: "--log-format" },
  { path: "auth.api_keys", env: "SWITCHYARD_API_KEYS" },
  { path: "auth.admin_keys", env: "SWITCHYARD_ADMIN_KEYS" },
  { path: "metrics.enabled", env: "SWITCHYARD_METRICS_ENABLED" },
  { path: "metrics.require_key", env: "SWITCHYARD_METRICS_REQUIRE_KEY" },
  { path: "tracing.capture_content", env: "SWITCHYARD_TRACING_CAPTURE_CONTENT" },
  { path: "store.database_url", env: "SWITCHYARD_DATABASE_URL" },
  { path: "store.data_dir", env: "SWITCHYARD_DATA_DIR" },
  { path: "store.retention_days", env: "SWITCHYARD_RETENTION_DAYS" },
  { path: "limits.redis_url", env: "SWITCHYARD_REDIS_URL" }
]

const describe = (path: string): string => {
  const setting = SETTINGS.find((s) => s.path === path || s.env === path)
  if (setting === undefined) return path
  return `${setting.path} (${[setting.flag, setting.env].filter((name) => name !== undefined).join(" / ")})`
}

const inRange = (name: string, min: number, max: number, integer: boolean) =>
  (integer ? Config.integer(name) : Config.number(name)).pipe(
    Config.mapOrFail((value) =>
      value >= min && value <= max
        ? Either.right(value)
        : Either.left(ConfigError.InvalidData([], `Expected ${integer ? "an integer" : "a number"} from ${min} to ${max}, got ${value}`))
    )
  )

// One comma-separated value whatever the source (a file's list is joined first): a sequence
// would let a file's list shadow the environment's value in the layered provider.
const keyList = (name: string) =>
  Config.redacted(name).pipe(
    Config.map((value) => splitKeyList(Redacted.value(value))),
    Config.withDefault([])
  )

/** The `server` section, read with `Config`. */
const server = Config.all({
  host: Config.nonEmptyString("host").pipe(Config.withDefault("127.0.0.1")),
  port: inRange("port", 0, 65535, true).pipe(Config.withDefault(8080)),
  bodyLimitBytes: inRange("body_limit_bytes", 1, Number.MAX_SAFE_INTEGER, true).pipe(Config.withDefault(10 * 1024 * 1024)),
  shutdownGraceMs: inRange("shutdown_grace_ms", 0, Number.MAX_SAFE_INTEGER, false).pipe(Config.withDefault(30_000)),
  keepAliveMs: inRange("keep_alive_ms", 1, Number.MAX_SAFE_INTEGER, false).pipe(Config.withDefault(15_000)),
  logFormat: Config.literal("text", "json")("log_format").pipe(Config.withDefault("text" as const))
}).pipe(Config.nested("server"))

/** The `auth` section: secrets, kept redacted. */
const auth = Config.all({ apiKeys: keyList("api_keys"), adminKeys: keyList("admin_keys") }).pipe(Config.nested("auth"))

/** The `store` section: the database URL is a secret (it may hold a password). */
const store = Config.all({
  databaseUrl: Config.option(Config.redacted(Config.nonEmptyString("database_url"))),
  dataDir: Config.nonEmptyString("data_dir").pipe(Config.withDefault(".switchyard")),
  retentionDays: inRange("retention_days", 0, 100_000, false).pipe(Config.withDefault(30)),
  queueCapacity: Config.option(inRange("queue_capacity", 1, 1_000_000, true)),
  batchSize: Config.option(inRange("batch_size", 1, 5_000, true))
}).pipe(Config.nested("store"))

/** The `limits` section's settings that may come from the environment (the rest is the file's): the Redis URL is a secret. */
const limits = Config.all({
  redisUrl: Config.option(Config.redacted(Config.nonEmptyString("redis_url")))
}).pipe(Config.nested("limits"))

/** The configuration tree's `Config` (the service's settings come from the file, decoded by its own Schema). */
export const GatewayConfigTree = Config.all({ server, auth, store, limits, metrics: metricsSection, tracing: tracingSection })

/** Flags given on the command line, by setting path (`server.port`). */
export type Flags = Readonly<Record<string, string | number | undefined>>

/**
 * The environment as the tree's provider: the `server` and `auth` sections are
 * `SWITCHYARD_`, the `metrics` and `tracing` sections `SWITCHYARD_METRICS_` and
 * `SWITCHYARD_TRACING_`, keys upper-cased (`server.port` → `SWITCHYARD_PORT`,
 * `metrics.require_key` → `SWITCHYARD_METRICS_REQUIRE_KEY`); OpenTelemetry's
 * variables are read by their own names. (`mapInputPath` rather than
 * `nested`/`unnested`, which would split every value on commas.)
 */
const environmentOf = (env: ConfigProvider.ConfigProvider): ConfigProvider.ConfigProvider =>
  ConfigProvider.mapInputPath(env, (name) =>
    name === "server" || name === "auth" || name === "store" || name === "limits"
      ? "SWITCHYARD"
      : name === "metrics" || name === "tracing"
      ? `SWITCHYARD_${name.toUpperCase()}`
      : name.toUpperCase())

const problemOf = (error: ConfigError.ConfigError): ConfigProblem => {
  const lines: Array<string> = []
  const walk = (e: ConfigError.ConfigError): void => {
    switch (e._op) {
      case "And":
      case "Or":
        walk(e.left)
        walk(e.right)
        return
      case "InvalidData":
        lines.push(`${describe(e.path[0]?.startsWith("SWITCHYARD") === true ? e.path.join("_") : e.path.join("."))}: ${e.message}`)
        return
      default:
        return
    }
  }
  walk(error)
  return new ConfigProblem({ message: lines.length > 0 ? [...new Set(lines)].join("\n") : String(error) })
}

/**
 * Reads the configuration, in one place: flags over the environment over the
 * file (`--config`, else `SWITCHYARD_CONFIG`) over the defaults, through one
 * layered `ConfigProvider`. The environment is the current provider (the
 * process environment unless a test provides another).
 */
export const loadConfig = (flags: Flags & { readonly configFile?: string | undefined } = {}): Effect.Effect<GatewayConfig, ConfigProblem> =>
  Effect.gen(function*() {
    const ambient = yield* Effect.configProviderWith(Effect.succeed)
    const fromEnv = yield* Config.option(Config.nonEmptyString("SWITCHYARD_CONFIG")).pipe(Effect.orElseSucceed(() => Option.none()))
    const location = flags.configFile ?? Option.getOrUndefined(fromEnv)
    const file: ConfigFile = location !== undefined ? yield* readConfigFile(location) : {}
    const flagMap = new Map<string, string>()
    for (const [path, value] of Object.entries(flags)) if (value !== undefined && path !== "configFile") flagMap.set(path, String(value))
    const provider = ConfigProvider.fromMap(flagMap).pipe(
      ConfigProvider.orElse(() => environmentOf(ambient)),
      ConfigProvider.orElse(() =>
        ConfigProvider.fromJson({
          server: file.server ?? {},
          metrics: file.metrics ?? {},
          tracing: file.tracing ?? {},
          auth: {
            ...(file.auth?.api_keys !== undefined ? { api_keys: file.auth.api_keys.join(",") } : {}),
            ...(file.auth?.admin_keys !== undefined ? { admin_keys: file.auth.admin_keys.join(",") } : {})
          },
          store: file.store ?? {},
          limits: file.limits?.redis_url !== undefined ? { redis_url: file.limits.redis_url } : {}
        })
      )
    )
    const tree = yield* Effect.withConfigProvider(GatewayConfigTree, provider).pipe(Effect.mapError(problemOf))
    const database = yield* resolveDatabase(
      Option.getOrUndefined(Option.map(tree.store.databaseUrl, Redacted.value)),
      tree.store.dataDir
    ).pipe(Effect.mapError((error) => new ConfigProblem({ message: `store.database_url (SWITCHYARD_DATABASE_URL): ${error.message}` })))
    const storeOptions: StoreOptions = {
      database,
      retentionDays: tree.store.retentionDays,
      queueCapacity: Option.getOrUndefined(tree.store.queueCapacity),
      batchSize: Option.getOrUndefined(tree.store.batchSize)
    }
    return {
      ...tree.server,
      ...tree.auth,
      store: storeOptions,
      limits: { section: file.limits ?? {}, redisUrl: Option.getOrUndefined(tree.limits.redisUrl) },
      metrics: tree.metrics,
      tracing: tree.tracing,
      service: serviceSection(file)
    }
  })

const serviceSection = (
  { auth: _auth, limits: _limits, metrics: _metrics, server: _server, store: _store, tracing: _tracing, ...service }: ConfigFile
): ServiceConfig.ServiceConfig => service

/** The service's settings of a configuration file (none without a file), for the commands that run it in-process. */
export const serviceConfigOf = (location: string | undefined): Effect.Effect<ServiceConfig.ServiceConfig, ConfigProblem> =>
  location === undefined ? Effect.succeed({}) : Effect.map(readConfigFile(location), serviceSection)

/** Whether a host is a loopback address (safe to serve without keys). */
export const isLoopback = (host: string): boolean =>
  host === "localhost" || host === "::1" || host === "[::1]" || /^127(\.\d{1,3}){3}$/.test(host)

import { Config, ConfigError, Either, Option, Redacted } from "effect"

export interface MetricsConfig {
  readonly enabled: boolean
  readonly requireKey: boolean
}

export type OtlpProtocol = "http/protobuf" | "http/json"

export interface TracingConfig {
  /** Where spans go (the OTLP/HTTP traces URL); tracing is off without one. */
  readonly endpoint: string | undefined
  readonly protocol: OtlpProtocol
  readonly headers: ReadonlyArray<readonly [string, Redacted.Redacted<string>]>
  readonly serviceName: string
  readonly resourceAttributes: Readonly<Record<string, string>>
  readonly sampler: Sampler
  readonly samplerArg: number | undefined
  /** How often batches of spans are sent (`OTEL_BSP_SCHEDULE_DELAY`). */
  readonly scheduleDelayMs: number
  /** How long one export may take (`OTEL_EXPORTER_OTLP_TRACES_TIMEOUT`, `OTEL_EXPORTER_OTLP_TIMEOUT`). */
  readonly exportTimeoutMs: number
  readonly captureContent: boolean
}

/** Tracing off, with the defaults of the rest. */
export const TRACING_OFF: TracingConfig = {
  endpoint: undefined,
  protocol: "http/protobuf",
  headers: [],
  serviceName: "switchyard",
  resourceAttributes: {},
  sampler: "parentbased_always_on",
  samplerArg: undefined,
  scheduleDelayMs: 5_000,
  exportTimeoutMs: 10_000,
  captureContent: false
}

const invalid = (name: string, message: string) => ConfigError.InvalidData([name], message)

/** `k1=v1,k2=v2` with percent-encoded values (the OTel list format). */
export const parseKeyValues = (text: string): Either.Either<Array<[string, string]>, string> => {
  const pairs: Array<[string, string]> = []
  for (const item of text.split(",")) {
    if (item.trim().length === 0) continue
    const at = item.indexOf("=")
    if (at <= 0) return Either.left(`Expected key=value pairs separated by commas, got \`${item.trim().slice(0, 40)}\``)
    try {
      pairs.push([decodeURIComponent(item.slice(0, at).trim()), decodeURIComponent(item.slice(at + 1).trim())])
    } catch {
      return Either.left(`Invalid percent-encoding in \`${item.trim().slice(0, 40)}\``)
    }
  }
  return Either.right(pairs)
}

const keyValues = (name: string) =>
  Config.redacted(name).pipe(
    Config.mapOrFail((value) => Either.mapLeft(parseKeyValues(Redacted.value(value)), (message) => invalid(name, message))),
    Config.withDefault([] as Array<[string, string]>)
  )

const optionalString = (name: string) => Config.option(Config.nonEmptyString(name)).pipe(Config.map(Option.getOrUndefined))

const optionalInteger = (name: string) => Config.option(Config.integer(name)).pipe(Config.map(Option.getOrUndefined))

const PROTOCOLS = ["http/protobuf", "http/json", "grpc"] as const

const protocol = (name: string) =>
  Config.option(Config.literal(...PROTOCOLS)(name)).pipe(
    Config.mapOrFail((value) =>
      Option.isSome(value) && value.value === "grpc"
        ? Either.left(invalid(name, "grpc is not supported: use http/protobuf (the default) or http/json"))
        : Either.right(Option.getOrUndefined(value) as OtlpProtocol | undefined)
    )
  )

export type Sampler = typeof SAMPLERS[number]

const SAMPLERS = [
  "always_on",
  "always_off",
  "traceidratio",
  "parentbased_always_on",
  "parentbased_always_off",
  "parentbased_traceidratio"
] as const

const samplerArg = Config.option(Config.number("OTEL_TRACES_SAMPLER_ARG")).pipe(
  Config.mapOrFail((value) =>
    Option.isSome(value) && (value.value < 0 || value.value > 1)
      ? Either.left(invalid("OTEL_TRACES_SAMPLER_ARG", `Expected a ratio from 0 to 1, got ${value.value}`))
      : Either.right(Option.getOrUndefined(value))
  )
)

const withSlash = (url: string) => url.endsWith("/") ? url : `${url}/`

/** The `metrics` section (`SWITCHYARD_METRICS_*` in the environment). */
export const metricsSection = Config.all({
  enabled: Config.boolean("enabled").pipe(Config.withDefault(true)),
  requireKey: Config.boolean("require_key").pipe(Config.withDefault(false))
}).pipe(Config.nested("metrics"))

/**
 * The `tracing` section and OpenTelemetry's standard variables: tracing is on
 * when `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (used as is) or
 * `OTEL_EXPORTER_OTLP_ENDPOINT` (+ `/v1/traces`) is set.
 */
export const tracingSection = Config.all({
  captureContent: Config.boolean("capture_content").pipe(Config.withDefault(false), Config.nested("tracing")),
  tracesEndpoint: optionalString("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"),
  endpoint: optionalString("OTEL_EXPORTER_OTLP_ENDPOINT"),
  tracesProtocol: protocol("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"),
  protocol: protocol("OTEL_EXPORTER_OTLP_PROTOCOL"),
  headers: keyValues("OTEL_EXPORTER_OTLP_HEADERS"),
  tracesHeaders: keyValues("OTEL_EXPORTER_OTLP_TRACES_HEADERS"),
  serviceName: Config.nonEmptyString("OTEL_SERVICE_NAME").pipe(Config.withDefault("switchyard")),
  resourceAttributes: keyValues("OTEL_RESOURCE_ATTRIBUTES"),
  sampler: Config.literal(...SAMPLERS)("OTEL_TRACES_SAMPLER").pipe(Config.withDefault("parentbased_always_on" as const)),
  samplerArg,
  scheduleDelayMs: Config.integer("OTEL_BSP_SCHEDULE_DELAY").pipe(Config.withDefault(5_000)),
  tracesTimeoutMs: optionalInteger("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT"),
  timeoutMs: optionalInteger("OTEL_EXPORTER_OTLP_TIMEOUT"),
  disabled: Config.boolean("OTEL_SDK_DISABLED").pipe(Config.withDefault(false))
}).pipe(
  Config.map((raw): TracingConfig => {
    const endpoint = raw.disabled
      ? undefined
      : raw.tracesEndpoint ?? (raw.endpoint !== undefined ? `${withSlash(raw.endpoint)}v1/traces` : undefined)
    const headers = new Map<string, string>([...raw.headers, ...raw.tracesHeaders])
    return {
      endpoint,
      protocol: raw.tracesProtocol ?? raw.protocol ?? "http/protobuf",
      headers: [...headers].map(([name, value]) => [name, Redacted.make(value)] as const),
      serviceName: raw.serviceName,
      resourceAttributes: Object.fromEntries(raw.resourceAttributes),
      sampler: raw.sampler,
      samplerArg: raw.samplerArg,
      scheduleDelayMs: raw.scheduleDelayMs,
      exportTimeoutMs: raw.tracesTimeoutMs ?? raw.timeoutMs ?? 10_000,
      captureContent: raw.captureContent
    }
  })
)

import { describe, expect, it } from "@effect/vitest"
import { splitKeyList } from "@switchyard/service"
import { ConfigProvider, Effect, Redacted } from "effect"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { readConfigFile } from "../src/config/ConfigFile.js"
import { type Flags, isLoopback, loadConfig } from "../src/config/GatewayConfig.js"
import { TRACING_OFF } from "../src/config/TelemetryConfig.js"

/** The configuration for these flags and environment variables (the process environment is not read). */
const resolveConfig = (flags: Flags & { readonly configFile?: string }, env: Record<string, string> = {}) =>
  loadConfig(flags).pipe(Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)), { pathDelim: "_" })))

const tempFile = (name: string, content: string) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "switchyard-config-"))
      const file = Path.join(dir, name)
      Fs.writeFileSync(file, content)
      return file
    }),
    (file) => Effect.sync(() => Fs.rmSync(Path.dirname(file), { recursive: true, force: true }))
  )

describe("loadConfig", () => {
  it.effect("has defaults: loopback, port 8080, 10 MiB bodies, 30 s grace, 15 s keep-alives, text logs, no keys, open metrics, no tracing", () =>
    Effect.gen(function*() {
      const config = yield* resolveConfig({})
      expect(config).toEqual({
        host: "127.0.0.1",
        port: 8080,
        apiKeys: [],
        adminKeys: [],
        bodyLimitBytes: 10 * 1024 * 1024,
        shutdownGraceMs: 30_000,
        keepAliveMs: 15_000,
        logFormat: "text",
        store: {
          database: { _tag: "sqlite", filename: Path.resolve(".switchyard", "switchyard.db") },
          retentionDays: 30,
          queueCapacity: undefined,
          batchSize: undefined
        },
        limits: { section: {}, redisUrl: undefined },
        metrics: { enabled: true, requireKey: false },
        tracing: TRACING_OFF,
        service: {}
      })
    }))

  it.scoped("takes the file's server section and service settings; flags and environment win over the file", () =>
    Effect.gen(function*() {
      const file = yield* tempFile(
        "switchyard.yaml",
        [
          "server:",
          "  host: 127.0.0.2",
          "  port: 9000",
          "  body_limit_bytes: 2048",
          "  keep_alive_ms: 250",
          "  log_format: json",
          "retry:",
          "  max_retries: 1",
          "aliases:",
          "  fast: echo/echo"
        ].join("\n")
      )
      const fromFile = yield* resolveConfig({ configFile: file })
      expect(fromFile).toMatchObject({
        host: "127.0.0.2",
        port: 9000,
        bodyLimitBytes: 2048,
        keepAliveMs: 250,
        logFormat: "json",
        service: { retry: { max_retries: 1 }, aliases: { fast: "echo/echo" } }
      })
      expect(fromFile.service).not.toHaveProperty("server")
      const overridden = yield* resolveConfig(
        { configFile: file, "server.port": 9100, "server.log_format": "text" },
        { SWITCHYARD_HOST: "127.0.0.3", SWITCHYARD_BODY_LIMIT_BYTES: "10", SWITCHYARD_PORT: "9200" }
      )
      expect(overridden).toMatchObject({ host: "127.0.0.3", port: 9100, logFormat: "text", bodyLimitBytes: 10, keepAliveMs: 250 })
    }))

  it.effect("splits SWITCHYARD_API_KEYS on commas, trimming and dropping empties; keys stay redacted", () =>
    Effect.gen(function*() {
      const keys = splitKeyList(" key-one , key-two,,key-three ")
      expect(keys.map((key) => Redacted.value(key))).toEqual(["key-one", "key-two", "key-three"])
      expect(String(keys[0])).not.toContain("key-one")
      expect(JSON.stringify(keys)).not.toContain("key-one")
      expect(splitKeyList("")).toEqual([])
      const config = yield* resolveConfig({}, { SWITCHYARD_API_KEYS: "k1, k2:acct_1|acct_2,,", SWITCHYARD_ADMIN_KEYS: "root" })
      expect(config.apiKeys.map((key) => Redacted.value(key))).toEqual(["k1", "k2:acct_1|acct_2"])
      expect(config.adminKeys.map((key) => Redacted.value(key))).toEqual(["root"])
      expect(JSON.stringify(config)).not.toContain("acct_1")
    }))

  it.scoped("environment keys win over the file's; the file's are used without them", () =>
    Effect.gen(function*() {
      const file = yield* tempFile("keys.yaml", "auth:\n  api_keys: [file-one, file-two]\n")
      const fromFile = yield* resolveConfig({ configFile: file })
      expect(fromFile.apiKeys.map((key) => Redacted.value(key))).toEqual(["file-one", "file-two"])
      const fromEnv = yield* resolveConfig({ configFile: file }, { SWITCHYARD_API_KEYS: "env-key" })
      expect(fromEnv.apiKeys.map((key) => Redacted.value(key))).toEqual(["env-key"])
    }))

  it.effect("an out-of-range port is a problem naming the setting", () =>
    Effect.gen(function*() {
      for (const port of [-1, 65536, 99999, 1.5]) {
        const problem = yield* Effect.flip(resolveConfig({ "server.port": port }))
        expect(problem._tag).toBe("ConfigProblem")
        expect(problem.message).toContain("SWITCHYARD_PORT")
        expect(problem.message).toContain(String(port))
      }
      const fromEnv = yield* Effect.flip(resolveConfig({}, { SWITCHYARD_PORT: "abc" }))
      expect(fromEnv.message).toContain("SWITCHYARD_PORT")
      expect(fromEnv.message).toContain("abc")
    }))
})

describe("loadConfig: the metrics and tracing sections", () => {
  it.scoped("metrics come from the file's `metrics` section, overridden by SWITCHYARD_METRICS_*; capture from `tracing`", () =>
    Effect.gen(function*() {
      const file = yield* tempFile(
        "switchyard.yaml",
        ["metrics:", "  require_key: true", "tracing:", "  capture_content: true"].join("\n")
      )
      const fromFile = yield* resolveConfig({ configFile: file })
      expect(fromFile.metrics).toEqual({ enabled: true, requireKey: true })
      expect(fromFile.tracing.captureContent).toBe(true)
      expect(fromFile.service).toEqual({})
      const fromEnv = yield* resolveConfig({ configFile: file }, {
        SWITCHYARD_METRICS_REQUIRE_KEY: "false",
        SWITCHYARD_METRICS_ENABLED: "false"
      })
      expect(fromEnv.metrics).toEqual({ enabled: false, requireKey: false })
      const problem = yield* Effect.flip(resolveConfig({}, { SWITCHYARD_METRICS_ENABLED: "perhaps" }))
      expect(problem.message).toContain("SWITCHYARD_METRICS_ENABLED")
    }))

  it.effect("tracing is on with OTEL_EXPORTER_OTLP_ENDPOINT (+ /v1/traces) or the traces endpoint (as is, and it wins)", () =>
    Effect.gen(function*() {
      const base = yield* resolveConfig({}, { OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318" })
      expect(base.tracing).toMatchObject({ endpoint: "http://collector:4318/v1/traces", protocol: "http/protobuf" })
      const slash = yield* resolveConfig({}, { OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318/otlp/" })
      expect(slash.tracing.endpoint).toBe("http://collector:4318/otlp/v1/traces")
      const traces = yield* resolveConfig({}, {
        OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318",
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://traces:9999/custom"
      })
      expect(traces.tracing.endpoint).toBe("http://traces:9999/custom")
      const disabled = yield* resolveConfig({}, { OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318", OTEL_SDK_DISABLED: "true" })
      expect(disabled.tracing.endpoint).toBeUndefined()
    }))

  it.effect("reads the protocol, headers (percent-decoded, redacted), service name, resource attributes and sampler", () =>
    Effect.gen(function*() {
      const config = yield* resolveConfig({}, {
        OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318",
        OTEL_EXPORTER_OTLP_PROTOCOL: "http/protobuf",
        OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "http/json",
        OTEL_EXPORTER_OTLP_HEADERS: "authorization=Bearer%20abc, x-team=search",
        OTEL_EXPORTER_OTLP_TRACES_HEADERS: "x-team=traces",
        OTEL_SERVICE_NAME: "gateway-eu",
        OTEL_RESOURCE_ATTRIBUTES: "deployment.environment=prod",
        OTEL_TRACES_SAMPLER: "parentbased_traceidratio",
        OTEL_TRACES_SAMPLER_ARG: "0.25",
        OTEL_BSP_SCHEDULE_DELAY: "1000"
      })
      expect(config.tracing).toMatchObject({
        protocol: "http/json",
        serviceName: "gateway-eu",
        resourceAttributes: { "deployment.environment": "prod" },
        sampler: "parentbased_traceidratio",
        samplerArg: 0.25,
        scheduleDelayMs: 1000
      })
      expect(config.tracing.headers.map(([name, value]) => [name, Redacted.value(value)])).toEqual([
        ["authorization", "Bearer abc"],
        ["x-team", "traces"]
      ])
      expect(String(config.tracing.headers[0]![1])).not.toContain("abc")
    }))

  it.effect("grpc, an unknown sampler or a ratio out of range are problems naming the variable", () =>
    Effect.gen(function*() {
      const grpc = yield* Effect.flip(resolveConfig({}, { OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" }))
      expect(grpc.message).toContain("OTEL_EXPORTER_OTLP_PROTOCOL")
      expect(grpc.message).toContain("http/json")
      const sampler = yield* Effect.flip(resolveConfig({}, { OTEL_TRACES_SAMPLER: "sometimes" }))
      expect(sampler.message).toContain("OTEL_TRACES_SAMPLER")
      const ratio = yield* Effect.flip(resolveConfig({}, { OTEL_TRACES_SAMPLER_ARG: "2" }))
      expect(ratio.message).toContain("OTEL_TRACES_SAMPLER_ARG")
    }))
})

describe("readConfigFile", () => {
  it.scoped("a wrong type is a problem naming the file and the setting", () =>
    Effect.gen(function*() {
      const file = yield* tempFile("bad.json", JSON.stringify({ server: { port: "eighty" } }))
      const problem = yield* Effect.flip(readConfigFile(file))
      expect(problem.message).toContain(file)
      expect(problem.message).toContain("server.port")
    }))

  it.scoped("an unknown top-level key is a problem naming it", () =>
    Effect.gen(function*() {
      const file = yield* tempFile("typo.json", JSON.stringify({ retries: { max_retries: 1 } }))
      const problem = yield* Effect.flip(readConfigFile(file))
      expect(problem.message).toContain("retries")
      expect(problem.message).toContain("is unexpected")
    }))

  it.scoped("a file that is not JSON is a problem naming the file", () =>
    Effect.gen(function*() {
      const file = yield* tempFile("broken.json", "{ nope")
      const problem = yield* Effect.flip(readConfigFile(file))
      expect(problem.message).toContain(`Cannot parse config file ${file}`)
    }))

  it.effect("a missing file is a problem naming it", () =>
    Effect.gen(function*() {
      const file = Path.join(Os.tmpdir(), "switchyard-does-not-exist.json")
      const problem = yield* Effect.flip(readConfigFile(file))
      expect(problem.message).toContain(`Cannot read config file ${file}`)
    }))

  it.scoped("the routes and circuit_breaker sections are read as written (YAML)", () =>
    Effect.gen(function*() {
      const file = yield* tempFile(
        "routes.yaml",
        [
          "routes:",
          "  smart:",
          "    strategy: loadbalance",
          "    targets:",
          "      - { model: openai/gpt-4o, weight: 3 }",
          "      - model: anthropic/claude-sonnet-4-5",
          "    retries_per_target: 1",
          "    fallback_on: [rate_limited, timeout]",
          "    hedge_after_ms: 1500",
          "circuit_breaker: { failure_threshold: 4, cooldown_ms: 10000 }"
        ].join("\n")
      )
      expect(yield* readConfigFile(file)).toEqual({
        routes: {
          smart: {
            strategy: "loadbalance",
            targets: [{ model: "openai/gpt-4o", weight: 3 }, { model: "anthropic/claude-sonnet-4-5" }],
            retries_per_target: 1,
            fallback_on: ["rate_limited", "timeout"],
            hedge_after_ms: 1500
          }
        },
        circuit_breaker: { failure_threshold: 4, cooldown_ms: 10000 }
      })
    }))

  it.scoped("an unknown route field, an unknown fallback kind or an empty target list is a problem naming it", () =>
    Effect.gen(function*() {
      const file = yield* tempFile(
        "routes.json",
        JSON.stringify({
          routes: {
            smart: { targets: [{ model: "openai/gpt-4o" }], fallback_after: 3 },
            fast: { targets: [{ model: "groq/llama" }], fallback_on: ["bad_request"] },
            empty: { targets: [] }
          },
          circuit_breaker: { threshold: 2 }
        })
      )
      const problem = yield* Effect.flip(readConfigFile(file))
      expect(problem.message).toContain("routes.smart.fallback_after: is unexpected")
      expect(problem.message).toContain("routes.fast.fallback_on.0: Expected")
      expect(problem.message).toContain("bad_request")
      expect(problem.message).toContain("routes.empty.targets")
      expect(problem.message).toContain("circuit_breaker.threshold: is unexpected")
    }))

  it.scoped("an empty YAML file is an empty configuration", () =>
    Effect.gen(function*() {
      const file = yield* tempFile("empty.yml", "")
      expect(yield* readConfigFile(file)).toEqual({})
    }))
})

describe("isLoopback", () => {
  it("accepts loopback addresses only", () => {
    for (const host of ["127.0.0.1", "127.1.2.3", "localhost", "::1", "[::1]"]) expect(isLoopback(host), host).toBe(true)
    for (const host of ["0.0.0.0", "::", "192.168.1.10", "example.com", "127.0.0.1.example.com"]) {
      expect(isLoopback(host), host).toBe(false)
    }
  })
})

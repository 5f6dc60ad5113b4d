import { type LimitsSection, layerMemoryStore, PriceCatalogue, type PriceOverrides, Responses } from "@switchyard/service"
import type { DatabaseLocation, StoreOptions } from "@switchyard/store/StoreConfig"
import { Layer, Redacted } from "effect"
import { Gateway, type GatewayConfig } from "./config/GatewayConfig.js"
import { TRACING_OFF } from "./config/TelemetryConfig.js"
import * as Listener from "./http/Listener.js"
import { RequestLog } from "./http/RequestLog.js"
import { compose, layer as sqlStore } from "./store/GatewayStore.js"

export { type RunningServer, Server, StartupError } from "./http/Listener.js"

/** A key given as a string or, better, as a `Redacted` string. */
export type Key = string | Redacted.Redacted<string>

/** How to serve an embedded gateway; every setting has the CLI's default, but the store, which is in memory. */
export interface Options {
  /** Address to listen on (default `127.0.0.1`; without keys only loopback addresses are allowed). */
  readonly host?: string
  /** Port to listen on (default 8080; `0` picks a free one: read it from `Server`). */
  readonly port?: number
  /** Gateway keys callers send as `Authorization: Bearer …` (`sk-…` or `account:sk-…`); none: open. */
  readonly apiKeys?: ReadonlyArray<Key>
  /** Keys that may act for any account. */
  readonly adminKeys?: ReadonlyArray<Key>
  /** Largest request body in bytes (default 10 MiB). */
  readonly bodyLimitBytes?: number
  /** How long in-flight requests may finish when the layer is released (default 30 000 ms). */
  readonly shutdownGraceMs?: number
  /** The interval of `: keep-alive` comments on a silent stream (default 15 000 ms). */
  readonly keepAliveMs?: number
  /** The access log: off (default), or one line per request to stdout or to your sink. */
  readonly accessLog?: "off" | "text" | "json" | {
    readonly format: "text" | "json"
    readonly sink: (text: string) => void
  }
  /** `GET /metrics` (Prometheus): on by default, open unless `requireKey`. */
  readonly metrics?: { readonly enabled?: boolean; readonly requireKey?: boolean }
  /**
   * Where stored completions, responses, keys and usage live: in memory (default, lost when the
   * layer is released) or the gateway's SQL store (SQLite or PostgreSQL, migrated at start).
   */
  readonly store?: "memory" | StoreOptions
  /** Model prices for the usage ledger's costs, over the built-in table. */
  readonly prices?: PriceOverrides
  /**
   * Rate limits, concurrency limits and budgets (the config file's `limits:` section; none by
   * default), counted in memory or, with `redisUrl`, in a Redis that replicas share.
   */
  readonly limits?: LimitsSection
  readonly redisUrl?: string | Redacted.Redacted<string>
}

const redacted = (keys: ReadonlyArray<Key> = []) => keys.map((key) => typeof key === "string" ? Redacted.make(key) : key)

// The memory store has no location; this one is never opened.
const UNUSED: DatabaseLocation = { _tag: "sqlite", filename: ":memory:" }

/** The full gateway configuration of the options, with the CLI's defaults. */
export const configOf = (options: Options = {}): GatewayConfig => ({
  host: options.host ?? "127.0.0.1",
  port: options.port ?? 8080,
  apiKeys: redacted(options.apiKeys),
  adminKeys: redacted(options.adminKeys),
  bodyLimitBytes: options.bodyLimitBytes ?? 10 * 1024 * 1024,
  shutdownGraceMs: options.shutdownGraceMs ?? 30_000,
  keepAliveMs: options.keepAliveMs ?? 15_000,
  logFormat: typeof options.accessLog === "object" ? options.accessLog.format : options.accessLog === "json" ? "json" : "text",
  metrics: { enabled: options.metrics?.enabled ?? true, requireKey: options.metrics?.requireKey ?? false },
  tracing: TRACING_OFF,
  store: options.store === undefined || options.store === "memory" ? { database: UNUSED } : options.store,
  limits: {
    section: options.limits ?? {},
    redisUrl: typeof options.redisUrl === "string" ? Redacted.make(options.redisUrl) : options.redisUrl
  },
  service: options.prices === undefined ? {} : { prices: options.prices }
})

const requestLog = (accessLog: Options["accessLog"]): Layer.Layer<RequestLog> =>
  accessLog === undefined || accessLog === "off"
    ? Layer.succeed(RequestLog, { write: () => {}, flush: () => {} })
    : typeof accessLog === "object"
    ? RequestLog.layer(accessLog.format, accessLog.sink)
    : RequestLog.layer(accessLog)

const storeOf = (config: GatewayConfig, options: Options) =>
  options.store === undefined || options.store === "memory"
    ? compose(config, layerMemoryStore).pipe(Layer.provideMerge(PriceCatalogue.layer(options.prices)))
    : sqlStore(config)

/**
 * The gateway's HTTP server (chat completions, Responses, stored completions,
 * models, keys, usage, `/docs`, `/metrics`) as a layer of your own program,
 * over the `ChatCompletions` you provide (`ServiceConfig.layer(...)`, your own
 * providers, or a `TestProvider` in tests). Up while the layer is; releasing it
 * drains the server as SIGTERM does.
 */
export const layer = (options: Options = {}) => {
  const config = configOf(options)
  return Listener.layer.pipe(
    Layer.provide(Responses.layer()),
    Layer.provide(storeOf(config, options)),
    Layer.provide(requestLog(options.accessLog)),
    Layer.provide(Layer.succeed(Gateway, config))
  )
}

import type { ChatCompletion, ChatCompletionChunk } from "@switchyard/core"
import {
  Authenticator,
  ChatCompletions,
  CompletionRecorder,
  layerMemoryStore,
  type LimitsSection,
  PriceCatalogue,
  type PriceOverrides,
  Responses,
  ResponsesStore,
  ServiceConfig
} from "@switchyard/service"
import type { StoreOptions } from "@switchyard/store"
import { FakeUpstream } from "@switchyard/service/testing"
import { type Clock, ConfigProvider, Context, Effect, ExecutionStrategy, Exit, Layer, type Random, Redacted, Scope } from "effect"
import * as Http from "node:http"
import { Gateway, type GatewayConfig } from "../../src/config/GatewayConfig.js"
import { TRACING_OFF } from "../../src/config/TelemetryConfig.js"
import * as Server from "../../src/http/Listener.js"
import * as GatewayLimits from "../../src/limits/GatewayLimits.js"
import { RequestLog } from "../../src/http/RequestLog.js"
import type { SpanSink } from "../../src/telemetry/RequestSpans.js"

/** Gateway settings for a test: loopback, an ephemeral port, plain-string keys. */
export interface GatewayOverrides {
  readonly apiKeys?: ReadonlyArray<string>
  readonly adminKeys?: ReadonlyArray<string>
  readonly host?: string
  readonly bodyLimitBytes?: number
  readonly shutdownGraceMs?: number
  readonly keepAliveMs?: number
  readonly store?: StoreOptions
  readonly metrics?: { readonly enabled?: boolean; readonly requireKey?: boolean }
  /** The `limits:` section; its counters in Redis at `redisUrl` when given (in memory otherwise). */
  readonly limits?: LimitsSection
  readonly redisUrl?: string
}

/** The configuration the tests run with, unless they say otherwise. */
export const gatewayConfig = (overrides: GatewayOverrides = {}): GatewayConfig => ({
  host: overrides.host ?? "127.0.0.1",
  port: 0,
  apiKeys: (overrides.apiKeys ?? []).map((key) => Redacted.make(key)),
  adminKeys: (overrides.adminKeys ?? []).map((key) => Redacted.make(key)),
  bodyLimitBytes: overrides.bodyLimitBytes ?? 1024 * 1024,
  shutdownGraceMs: overrides.shutdownGraceMs ?? 2_000,
  keepAliveMs: overrides.keepAliveMs ?? 15_000,
  logFormat: "text",
  store: overrides.store ?? { database: { _tag: "sqlite", filename: "/nonexistent/switchyard.db" } },
  limits: { section: overrides.limits ?? {}, redisUrl: overrides.redisUrl !== undefined ? Redacted.make(overrides.redisUrl) : undefined },
  metrics: { enabled: overrides.metrics?.enabled ?? true, requireKey: overrides.metrics?.requireKey ?? false },
  tracing: TRACING_OFF,
  service: {}
})

/** Stored completions, usage, keys and the recorder in memory, with these prices (none by default). */
export const memoryStoreWith = (prices: PriceOverrides = {}): Layer.Layer<Server.StoreServices | PriceCatalogue> =>
  CompletionRecorder.layer.pipe(
    Layer.provideMerge(layerMemoryStore),
    Layer.provideMerge(PriceCatalogue.layerStatic(prices))
  )

/** Stored completions, usage, keys and the recorder in memory: the store of tests that need no database. */
export const memoryStore: Layer.Layer<Server.StoreServices | PriceCatalogue> = memoryStoreWith()

/** The authenticator a configuration describes. */
export const authenticatorLayer = (config: GatewayConfig) =>
  Authenticator.layer({ apiKeys: config.apiKeys, adminKeys: config.adminKeys })

/** The access log lines a gateway wrote, collected from its sink. */
export interface AccessLog {
  readonly sink: (text: string) => void
  /** Everything written so far. */
  readonly text: () => string
  /** Waits until a line satisfies the predicate (the log is flushed every 50 ms); returns it. */
  readonly line: (predicate: (line: string) => boolean, timeoutMs?: number) => Effect.Effect<string>
}

export const makeAccessLog = (): AccessLog => {
  let written = ""
  const text = () => written
  return {
    sink: (batch) => {
      written += batch
    },
    text,
    line: (predicate, timeoutMs = 10_000) =>
      Effect.promise(() =>
        waitUntil(() => written.split("\n").find((line) => line.length > 0 && predicate(line)), timeoutMs, () =>
          `no access log line matched; the log was:\n${written}`)
      )
  }
}

/** Polls until `probe` returns a value, or fails after `timeoutMs` with `describe()`. */
export const waitUntil = <A>(probe: () => A | undefined, timeoutMs: number, describe: () => string): Promise<A> =>
  new Promise((resolve, reject) => {
    const deadline = Date.now() + timeoutMs
    const tick = () => {
      const value = probe()
      if (value !== undefined) return resolve(value)
      if (Date.now() > deadline) return reject(new Error(describe()))
      setTimeout(tick, 10)
    }
    tick()
  })

/** A running gateway in front of a fake upstream, with its access log. */
export interface TestGateway {
  readonly url: string
  readonly port: number
  readonly server: Http.Server
  readonly inFlight: () => number
  readonly upstream: FakeUpstream.FakeUpstream
  readonly log: AccessLog
  /** Closes the server's own scope (a drain, as on SIGTERM); the fake upstream stays up. */
  readonly shutdown: Effect.Effect<void>
}

/** The configured key of the `openai` vendor in these tests. */
export const UPSTREAM_KEY = "sk-upstream-configured"

export interface StartOptions {
  readonly gateway?: GatewayOverrides
  /** The service's configuration file section (default: no retries). */
  readonly service?: ServiceConfig.ServiceConfig
  /** The fake upstream's handler (default: a text answer, streamed or not). */
  readonly upstream?: FakeUpstream.FakeHandler
  /** Replaces the service built from the configuration (e.g. a TestProvider). */
  readonly completions?: Layer.Layer<ChatCompletions>
  /** The randomness the gateway runs with (load balancing), for deterministic tests. */
  readonly random?: Random.Random
  /** Model prices of the in-memory store (`prices:` of the configuration; none by default). */
  readonly prices?: PriceOverrides
  /** Where spans go (`OtlpTracing.layer`). */
  readonly tracing?: Layer.Layer<SpanSink>
  /** More of the upstream environment (`OPENAI_BASE_URL` and `OPENAI_API_KEY` are set). */
  readonly env?: ReadonlyArray<readonly [string, string]>
  /** Where responses are kept (default: a fresh in-memory store). */
  readonly store?: Layer.Layer<ResponsesStore>
  /**
   * Replaces the in-memory stored completions, usage ledger and keys, and the
   * authenticator of the configured keys (e.g. the gateway's SQL store with database keys).
   */
  readonly storage?: Layer.Layer<Server.StoreServices | Authenticator, unknown>
  /** The clock the limits read (windows, budget periods): a test's, to move time. */
  readonly limitsClock?: Clock.Clock
}

/**
 * Starts a real gateway on an ephemeral port for the scope: `openai/*` goes
 * to a fake upstream over real HTTP (`OPENAI_BASE_URL`, `OPENAI_API_KEY`),
 * `echo/*` is served offline, and access log lines are collected.
 */
export const startGateway = (options: StartOptions = {}): Effect.Effect<TestGateway, unknown, Scope.Scope> =>
  Effect.gen(function*() {
    const upstream = yield* FakeUpstream.scoped(options.upstream ?? answerText("Hello from upstream"))
    const log = makeAccessLog()
    const env = ConfigProvider.fromMap(
      new Map([
        ["OPENAI_BASE_URL", upstream.baseUrl],
        ["OPENAI_API_KEY", UPSTREAM_KEY],
        ...(options.env ?? [])
      ])
    )
    const completions = options.completions ??
      ServiceConfig.layer(options.service ?? { retry: { max_retries: 0 } }).pipe(
        Layer.provide(Layer.setConfigProvider(env))
      )
    const config = gatewayConfig(options.gateway)
    const layer = Server.layer.pipe(
      Layer.provide(Responses.layer().pipe(Layer.provide(options.store ?? ResponsesStore.layerMemory()))),
      Layer.provideMerge(completions),
      Layer.provide(GatewayLimits.layer(config).pipe(
        Layer.provide(PriceCatalogue.layerStatic(options.prices ?? {})),
        Layer.provide(options.limitsClock !== undefined ? Layer.setClock(options.limitsClock) : Layer.empty)
      )),
      Layer.provide(options.storage ?? Layer.merge(memoryStoreWith(options.prices), authenticatorLayer(config))),
      Layer.provide(RequestLog.layer("text", log.sink)),
      Layer.provide(Layer.succeed(Gateway, config)),
      Layer.provide(options.tracing ?? Layer.empty)
    )
    const serverScope = yield* Scope.fork(yield* Effect.scope, ExecutionStrategy.sequential)
    const built = Layer.buildWithScope(layer, serverScope)
    const server = Context.get(
      yield* (options.random !== undefined ? Effect.withRandom(built, options.random) : built),
      Server.Server
    )
    return {
      url: server.url,
      port: server.port,
      server: server.server,
      inFlight: server.inFlight,
      upstream,
      log,
      shutdown: Scope.close(serverScope, Exit.void)
    }
  })

// ---------------------------------------------------------------------------
// Upstream answers

const CREATED = 1_700_000_000

/** A chat.completion as an OpenAI-compatible upstream sends it. */
export const completionBody = (content: string, model = "gpt-4o"): ChatCompletion => ({
  id: "chatcmpl-upstream",
  object: "chat.completion",
  created: CREATED,
  model,
  choices: [{
    index: 0,
    message: { role: "assistant", content, refusal: null },
    finish_reason: "stop",
    logprobs: null
  }],
  usage: { prompt_tokens: 9, completion_tokens: 4, total_tokens: 13 }
})

/** One chat.completion.chunk. */
export const chunk = (
  delta: ChatCompletionChunk["choices"][number]["delta"],
  finishReason: ChatCompletionChunk["choices"][number]["finish_reason"] = null
): ChatCompletionChunk => ({
  id: "chatcmpl-upstream",
  object: "chat.completion.chunk",
  created: CREATED,
  model: "gpt-4o",
  choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }]
})

/** The usage chunk that ends a stream with `include_usage`. */
export const usageChunk = (usage = { prompt_tokens: 9, completion_tokens: 3, total_tokens: 12 }): ChatCompletionChunk => ({
  id: "chatcmpl-upstream",
  object: "chat.completion.chunk",
  created: CREATED,
  model: "gpt-4o",
  choices: [],
  usage
})

/** The chunks of a streamed text answer, one per word. */
export const textChunks = (text: string): Array<ChatCompletionChunk> => [
  chunk({ role: "assistant", content: "" }),
  ...text.split(/(?= )/).map((piece) => chunk({ content: piece })),
  chunk({}, "stop")
]

interface UpstreamRequestBody {
  readonly stream?: boolean
  readonly stream_options?: { readonly include_usage?: boolean }
}

/** An upstream that answers `text`: as a completion, or streamed (with usage when asked). */
export const answerText = (text: string, sse: FakeUpstream.SseOptions = {}): FakeUpstream.FakeHandler => (request, response) => {
  const body = (request.json ?? {}) as UpstreamRequestBody
  if (body.stream !== true) return FakeUpstream.sendJson(response, 200, completionBody(text))
  const usage = body.stream_options?.include_usage === true ? [usageChunk()] : []
  return FakeUpstream.sendSse(response, [...textChunks(text), ...usage], sse)
}

// ---------------------------------------------------------------------------
// Raw HTTP

/** A whole response. */
export interface RawResponse {
  readonly status: number
  readonly headers: Http.IncomingHttpHeaders
  readonly body: Buffer
  readonly text: string
}

export interface RawRequest {
  readonly method?: string
  readonly headers?: Http.OutgoingHttpHeaders
  /** A body with its content-length; an array is sent in pieces with chunked transfer encoding. */
  readonly body?: string | Buffer | ReadonlyArray<string | Buffer>
}

/** One request on a fresh connection, with node:http (no header added but `host`). */
export const request = (url: string, options: RawRequest = {}): Promise<RawResponse> =>
  new Promise((resolve, reject) => {
    const headers: Http.OutgoingHttpHeaders = { ...options.headers }
    const body = options.body
    if (typeof body === "string" || Buffer.isBuffer(body)) headers["content-length"] = Buffer.byteLength(body)
    const req = Http.request(url, { method: options.method ?? "GET", headers, agent: false })
    let settled = false
    req.on("response", (res) => {
      const parts: Array<Buffer> = []
      res.on("data", (part: Buffer) => parts.push(part))
      res.on("end", () => {
        settled = true
        const all = Buffer.concat(parts)
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: all, text: all.toString("utf8") })
      })
      res.on("error", (error) => {
        if (!settled) reject(error)
      })
    })
    req.on("error", (error) => {
      // The server may close the connection once it has answered (a 413 before the whole body was sent).
      if (!settled) reject(error)
    })
    if (Array.isArray(body)) {
      for (const piece of body) req.write(piece)
      req.end()
    } else {
      req.end(body as string | Buffer | undefined)
    }
  })

/** `POST` a JSON body (a string is sent as is). */
export const postJson = (url: string, body: unknown, headers: Http.OutgoingHttpHeaders = {}): Promise<RawResponse> =>
  request(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body)
  })

// ---------------------------------------------------------------------------
// Streams, read as they arrive

/** A response being received: its bytes with their arrival times. */
export interface OpenStream {
  readonly status: number
  readonly headers: Http.IncomingHttpHeaders
  /** Every piece received so far, with `performance.now()` at its arrival. */
  readonly arrivals: ReadonlyArray<{ readonly at: number; readonly text: string }>
  readonly text: () => string
  /** Resolves once the body ends or the connection closes; `complete` says whether it ended properly. */
  readonly closed: Promise<{ readonly complete: boolean }>
  /** Waits until the text received so far satisfies the predicate. */
  readonly until: (predicate: (text: string) => boolean, timeoutMs?: number) => Promise<void>
  /** Destroys the connection, as a client that goes away. */
  readonly abort: () => void
}

/** Sends a request and resolves with the response as soon as its headers arrive. */
export const openStream = (url: string, body: unknown, headers: Http.OutgoingHttpHeaders = {}): Promise<OpenStream> =>
  new Promise((resolve, reject) => {
    const payload = JSON.stringify(body)
    const req = Http.request(url, {
      method: "POST",
      agent: false,
      headers: { "content-type": "application/json", "content-length": Buffer.byteLength(payload), ...headers }
    })
    req.on("error", reject)
    req.on("response", (res) => {
      const arrivals: Array<{ at: number; text: string }> = []
      let text = ""
      const closed = new Promise<{ complete: boolean }>((done) => {
        res.on("end", () => done({ complete: true }))
        res.on("close", () => done({ complete: res.complete }))
        res.on("error", () => done({ complete: false }))
      })
      res.setEncoding("utf8")
      res.on("data", (piece: string) => {
        arrivals.push({ at: performance.now(), text: piece })
        text += piece
      })
      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        arrivals,
        text: () => text,
        closed,
        until: (predicate, timeoutMs = 10_000) =>
          waitUntil(() => predicate(text) ? true : undefined, timeoutMs, () => `the stream never matched; received:\n${text}`)
            .then(() => undefined),
        abort: () => {
          req.destroy()
          res.destroy()
        }
      })
    })
    req.end(payload)
  })

/** The events of an SSE body, in order: `data:` payloads and comments (`: keep-alive`), as their raw blocks. */
export const sseBlocks = (text: string): Array<string> => text.split("\n\n").filter((block) => block.length > 0)

/** The JSON payloads of the `data:` events, `[DONE]` excluded. */
export const sseData = (text: string): Array<unknown> =>
  sseBlocks(text)
    .filter((block) => block.startsWith("data: ") && block !== "data: [DONE]")
    .map((block) => JSON.parse(block.slice("data: ".length)) as unknown)

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

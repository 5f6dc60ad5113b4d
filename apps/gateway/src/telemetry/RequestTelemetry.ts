import { apiRoutes, SwitchyardApi } from "@switchyard/core"
import {
  ChatCompletions,
  labelsOf,
  type MetricLabels,
  PriceCatalogue,
  randomId,
  recordCall,
  SwitchyardMetrics
} from "@switchyard/service"
import { Context, Effect, Layer, Option } from "effect"
import type { IncomingMessage } from "node:http"
import { Gateway } from "../config/GatewayConfig.js"
import { type Exchange, upstreamMs } from "../http/Respond.js"
import { recordSpans, SpanSink } from "./RequestSpans.js"

const snake = (name: string) => name.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`)

/** `chat_completions`, `responses`, `responses_retrieve`, `models`, `health`, `ready`, `metrics`, … */
const labelOfRoute = (group: string, endpoint: string): string => {
  const name = endpoint.replace(/V\d+$/, "")
  if (group === "chat") return "chat_completions"
  if (group === "health" || group === "docs" || group === "metrics") return name
  return name === "create" || name === "list" ? group : `${group}_${snake(name)}`
}

interface RouteLabel {
  readonly route: string
  readonly endpoint: string
}

const routes = apiRoutes(SwitchyardApi)
const STATIC = new Map<string, RouteLabel>()
const TEMPLATES: Array<RouteLabel & { readonly method: string; readonly pattern: RegExp }> = []
for (const { group, method, name, path } of routes) {
  const label = { route: path, endpoint: labelOfRoute(group, name) }
  if (!path.includes("/:")) STATIC.set(`${method} ${path}`, label)
  else TEMPLATES.push({ ...label, method, pattern: new RegExp(`^${path.replace(/\/:[^/]+/g, "/[^/]+")}$`) })
}

/** The route template of a request and its `endpoint` label, if it is one of the API's. */
export const routeOf = (method: string, path: string): RouteLabel | undefined => {
  const label = STATIC.get(`${method} ${path}`)
  if (label !== undefined || TEMPLATES.length === 0) return label
  return TEMPLATES.find((template) => template.method === method && template.pattern.test(path))
}

/** The `endpoint` label of a request: its route's, or `other`. */
export const endpointOf = (method: string, path: string): string => routeOf(method, path)?.endpoint ?? "other"

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/

/** The caller's trace from a W3C `traceparent` header (version 00), if valid. */
export const parentOf = (
  header: string | ReadonlyArray<string> | undefined
): { readonly traceId: string; readonly spanId: string; readonly sampled: boolean } | undefined => {
  if (typeof header !== "string") return undefined
  const match = TRACEPARENT.exec(header.trim())
  if (match === null || /^0+$/.test(match[1]!) || /^0+$/.test(match[2]!)) return undefined
  return { traceId: match[1]!, spanId: match[2]!, sampled: (parseInt(match[3]!, 16) & 1) === 1 }
}

/** Timings of a finished request, for the access log. */
export interface RequestTimings {
  readonly gatewayMs: number | undefined
  readonly upstreamMs: number | undefined
  readonly ttfcMs: number | undefined
}

/**
 * What the listener reports about every request: metrics (in-flight, counts,
 * durations, the call's attempts and tokens) and, when tracing, its spans (a
 * SERVER span continuing the caller's `traceparent`, a CLIENT span per
 * upstream attempt), recorded when it is over. Plain calls, no Effect step;
 * with metrics and tracing off, nothing but the timings of the access log.
 */
export class RequestTelemetry extends Context.Tag("@switchyard/gateway/RequestTelemetry")<RequestTelemetry, {
  /** At arrival: the endpoint label, the in-flight gauge, the SERVER span. */
  readonly begin: (req: IncomingMessage, exchange: Exchange, path: string) => void
  /** When a stream's headers are written. */
  readonly streamOpened: (exchange: Exchange) => void
  /** At the end (the response closed): the metrics and the spans; the timings for the log. */
  readonly end: (req: IncomingMessage, exchange: Exchange, path: string, now: number) => RequestTimings
}>() {}

const seconds = (ms: number) => ms / 1000

const make = Effect.gen(function*() {
  const config = yield* Gateway
  const completions = yield* ChatCompletions
  const sink = yield* SpanSink
  const metrics = config.metrics.enabled
  const labels: MetricLabels = yield* labelsOf(completions)
  const prices = Option.getOrUndefined(yield* Effect.serviceOption(PriceCatalogue))
  const costOf = (exchange: Exchange): number | undefined => {
    const usage = exchange.usage
    const target = exchange.call?.target
    if (prices === undefined || usage === undefined || target === undefined) return undefined
    return prices.cost(target, {
      promptTokens: usage.prompt_tokens,
      cachedTokens: usage.prompt_tokens_details?.cached_tokens ?? 0,
      completionTokens: usage.completion_tokens
    })
  }

  const vendorOf = (exchange: Exchange): string => {
    if (exchange.call?.vendor !== undefined) return labels.vendor(exchange.call.vendor)
    const model = exchange.model
    const slash = model === undefined ? -1 : model.indexOf("/")
    return slash > 0 ? labels.vendor(model!.slice(0, slash)) : ""
  }

  if (metrics) SwitchyardMetrics.openStreams.add([], 0)

  return RequestTelemetry.of({
    begin: (req, exchange, path) => {
      const route = routeOf(req.method ?? "GET", path)
      const endpoint = route?.endpoint ?? "other"
      exchange.endpoint = endpoint
      exchange.route = route?.route
      if (metrics) SwitchyardMetrics.inFlight.add([endpoint], 1)
      if (sink !== undefined) {
        const parent = parentOf(req.headers.traceparent)
        const traceId = parent?.traceId ?? randomId(16)
        const spanId = randomId()
        exchange.trace = {
          traceId,
          spanId,
          parentSpanId: spanId,
          remoteParent: parent?.spanId,
          sampled: sink.sample(traceId, parent?.sampled)
        }
      }
    },
    streamOpened: (exchange) => {
      if (exchange.streamOpen === true) return
      exchange.streamOpen = true
      if (metrics) SwitchyardMetrics.openStreams.add([], 1)
    },
    end: (req, exchange, path, now) => {
      const duration = now - exchange.started
      const call = exchange.call
      const upstream = upstreamMs(exchange, now)
      const ttfc = exchange.firstChunkAt === undefined ? undefined : exchange.firstChunkAt - exchange.started
      if (metrics) {
        const endpoint = exchange.endpoint ?? "other"
        const model = labels.model(exchange.model)
        const vendor = vendorOf(exchange)
        const stream = exchange.stream === true ? "true" : "false"
        SwitchyardMetrics.inFlight.add([endpoint], -1)
        SwitchyardMetrics.requests.inc([endpoint, model, vendor, String(exchange.status ?? 0), stream])
        SwitchyardMetrics.requestDuration.observe([endpoint, model, vendor, stream], seconds(duration))
        SwitchyardMetrics.overhead.observe([endpoint], seconds(Math.max(0, duration - upstream)))
        if (exchange.streamOpen === true) SwitchyardMetrics.openStreams.add([], -1)
        if (ttfc !== undefined) SwitchyardMetrics.timeToFirstChunk.observe([model, vendor], seconds(ttfc))
        if (call !== undefined) {
          recordCall(labels, {
            record: call,
            usage: exchange.usage,
            endedAt: now,
            stream: exchange.stream === true,
            costUsd: costOf(exchange)
          })
        }
      }
      if (sink !== undefined && exchange.trace?.sampled === true) recordSpans(sink, exchange.trace, req, exchange, path, now)
      return call === undefined
        ? { gatewayMs: undefined, upstreamMs: undefined, ttfcMs: undefined }
        : { gatewayMs: Math.max(0, duration - upstream), upstreamMs: upstream, ttfcMs: ttfc }
    }
  })
})

/** The listener's telemetry, over the gateway's configuration and the service (for bounded labels). */
export const layer: Layer.Layer<RequestTelemetry, never, Gateway | ChatCompletions> = Layer.effect(RequestTelemetry, make)

import { type Attributes, type AttributeValue, type HrTime, SpanKind, SpanStatusCode, TraceFlags } from "@opentelemetry/api"
import type { InstrumentationScope } from "@opentelemetry/core"
import type { Resource } from "@opentelemetry/resources"
import type { ReadableSpan, SpanProcessor } from "@opentelemetry/sdk-trace-base"
import {
  completionAttributes,
  genAiProviderName,
  genAiRequestAttributes,
  serverOf,
  type TraceContext
} from "@switchyard/service"
import { Context } from "effect"
import type { IncomingMessage } from "node:http"
import type { Exchange } from "../http/Respond.js"

/** Whether a new trace is recorded: from the caller's flag when it sent a `traceparent`, else by the root sampler. */
export type Sampler = (traceId: string, parentSampled: boolean | undefined) => boolean

/** The samplers of `OTEL_TRACES_SAMPLER`, with `OTEL_TRACES_SAMPLER_ARG` as the ratio. */
export const sampler = (name: string, ratio: number): Sampler => {
  const byRatio = (traceId: string) => parseInt(traceId.slice(-8), 16) < ratio * 0x100000000
  const root = name.endsWith("always_on") ? () => true : name.endsWith("always_off") ? () => false : byRatio
  return name.startsWith("parentbased_")
    ? (traceId, parentSampled) => parentSampled ?? root(traceId)
    : (traceId) => root(traceId)
}

/** Where finished spans go: an OpenTelemetry span processor (a batch processor and an OTLP exporter). */
export interface SpanSinkService {
  readonly processor: SpanProcessor
  readonly resource: Resource
  readonly scope: InstrumentationScope
  readonly sample: Sampler
  readonly captureContent: boolean
}

/** The span sink when tracing is on (`OtlpTracing.layer`); `undefined` otherwise. */
export class SpanSink extends Context.Reference<SpanSink>()("@switchyard/gateway/SpanSink", {
  defaultValue: (): SpanSinkService | undefined => undefined
}) {}

/** A request's place in its trace. */
export interface ExchangeTrace extends TraceContext {
  /** The request's SERVER span (`parentSpanId` of its attempts). */
  readonly spanId: string
  /** The caller's span, from its `traceparent`. */
  readonly remoteParent: string | undefined
}

const hrTime = (at: number): HrTime => {
  const ms = performance.timeOrigin + at
  const seconds = Math.floor(ms / 1000)
  return [seconds, Math.min(999_999_999, Math.round((ms - seconds * 1000) * 1e6))]
}

const duration = (from: number, to: number): HrTime => {
  const ns = Math.max(0, Math.round((to - from) * 1e6))
  return [Math.floor(ns / 1e9), ns % 1e9]
}

const attributeValue = (value: unknown): AttributeValue =>
  typeof value === "string" || typeof value === "number" || typeof value === "boolean"
    ? value
    : Array.isArray(value)
    ? value as Array<string>
    : JSON.stringify(value) ?? String(value)

const OK = { code: SpanStatusCode.UNSET }

const readable = (
  sink: SpanSinkService,
  name: string,
  kind: SpanKind,
  traceId: string,
  spanId: string,
  parent: { readonly spanId: string; readonly remote: boolean } | undefined,
  from: number,
  to: number,
  attributes: Attributes,
  status: ReadableSpan["status"]
): ReadableSpan => {
  const context = { traceId, spanId, traceFlags: TraceFlags.SAMPLED }
  return {
    name,
    kind,
    spanContext: () => context,
    ...(parent !== undefined
      ? { parentSpanContext: { traceId, spanId: parent.spanId, traceFlags: TraceFlags.SAMPLED, isRemote: parent.remote } }
      : {}),
    startTime: hrTime(from),
    endTime: hrTime(to),
    duration: duration(from, to),
    status,
    attributes,
    links: [],
    events: [],
    ended: true,
    resource: sink.resource,
    instrumentationScope: sink.scope,
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0
  }
}

/**
 * Records a finished request's spans, after the OpenTelemetry HTTP and GenAI
 * semantic conventions: the SERVER span (`POST /v5/chat/completions`) and a
 * CLIENT span per upstream attempt of its call record (`chat {model}`; retries,
 * fallbacks and hedges each their own, under the request's), with the
 * request's sampling parameters and, on the answering attempt, the answer's
 * id, model, finish reasons and usage. Built from what the request left
 * behind, when it is over: no span object lives during the request, and the
 * spans go to the batch processor in one call each.
 */
export const recordSpans = (
  sink: SpanSinkService,
  trace: ExchangeTrace,
  req: IncomingMessage,
  exchange: Exchange,
  path: string,
  now: number
): void => {
  const method = req.method ?? "GET"
  const status = exchange.status ?? 0
  const server: Attributes = {
    "http.request.method": method,
    "url.path": path,
    "url.scheme": "http",
    "network.protocol.version": req.httpVersion,
    "http.response.status_code": status,
    "switchyard.request_id": exchange.requestId
  }
  if (exchange.route !== undefined) server["http.route"] = exchange.route
  if (req.socket.localPort !== undefined) server["server.port"] = req.socket.localPort
  if (req.socket.remoteAddress !== undefined) server["client.address"] = req.socket.remoteAddress
  const agent = req.headers["user-agent"]
  if (agent !== undefined) server["user_agent.original"] = agent.slice(0, 256)
  if (exchange.account !== undefined) server["switchyard.account"] = exchange.account
  if (exchange.keyId !== undefined) server["switchyard.key_id"] = exchange.keyId
  if (exchange.model !== undefined) server["gen_ai.request.model"] = exchange.model
  const call = exchange.call
  if (call?.target !== undefined) server["switchyard.target"] = call.target
  if (status >= 500) server["error.type"] = String(status)
  sink.processor.onEnd(readable(
    sink,
    exchange.route !== undefined ? `${method} ${exchange.route}` : method,
    SpanKind.SERVER,
    trace.traceId,
    trace.spanId,
    trace.remoteParent === undefined ? undefined : { spanId: trace.remoteParent, remote: true },
    exchange.started,
    now,
    server,
    status >= 500 ? { code: SpanStatusCode.ERROR, message: exchange.error ?? `HTTP ${status}` } : OK
  ))
  if (call === undefined) return
  const parent = { spanId: trace.spanId, remote: false }
  for (const attempt of call.attempts) {
    if (attempt.spanId === undefined) continue
    const slash = attempt.target.indexOf("/")
    const model = attempt.target.slice(slash + 1)
    const raw = exchange.request !== undefined
      ? genAiRequestAttributes(exchange.request, attempt.vendor, model, sink.captureContent)
      : { "gen_ai.operation.name": "chat", "gen_ai.provider.name": genAiProviderName(attempt.vendor), "gen_ai.request.model": model }
    raw["switchyard.attempt.kind"] = attempt.kind
    raw["switchyard.request_id"] = exchange.requestId
    const where = attempt.url === undefined ? null : serverOf(attempt.url)
    if (where !== null) {
      raw["server.address"] = where.address
      raw["server.port"] = where.port
    }
    const outcome = attempt.outcome ?? "cancelled"
    const answering = outcome === "ok"
    if (!answering) raw["error.type"] = outcome
    else if (exchange.completion !== undefined) Object.assign(raw, completionAttributes(exchange.completion, sink.captureContent))
    else if (exchange.description !== undefined) Object.assign(raw, exchange.description.attributes())
    else if (exchange.usage !== undefined) {
      raw["gen_ai.usage.input_tokens"] = exchange.usage.prompt_tokens
      raw["gen_ai.usage.output_tokens"] = exchange.usage.completion_tokens
    }
    const attributes: Attributes = {}
    for (const key in raw) attributes[key] = attributeValue(raw[key])
    const end = answering && exchange.stream === true ? now : attempt.startedAt + (attempt.durationMs ?? now - attempt.startedAt)
    sink.processor.onEnd(readable(
      sink,
      `chat ${model}`,
      SpanKind.CLIENT,
      trace.traceId,
      attempt.spanId,
      parent,
      attempt.startedAt,
      end,
      attributes,
      outcome === "ok" || outcome === "cancelled" ? OK : { code: SpanStatusCode.ERROR, message: attempt.error ?? outcome }
    ))
  }
}

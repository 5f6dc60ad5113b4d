/**
 * Every metric Switchyard records, defined once with Effect's `Metric` (the
 * global registry, which the gateway exports to Prometheus): the gateway's
 * requests, the upstream attempts, tokens and cost, and the OpenTelemetry
 * GenAI client metrics under their Prometheus names. Other modules (routing,
 * limits) define theirs the same way; they land in the same registry.
 */
import type { CompletionUsage } from "@switchyard/core"
import { type CallRecord } from "../CallRecord.js"
import { counter, gauge, histogram } from "./LabelledMetric.js"
import type { MetricLabels } from "./MetricLabels.js"
import { OTHER } from "./MetricLabels.js"

/** The GenAI semantic conventions' buckets for token counts. */
export const TOKEN_BUCKETS = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864]
/** The GenAI semantic conventions' buckets for operation durations (seconds). */
export const OPERATION_DURATION_BUCKETS = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92]
/** The GenAI semantic conventions' buckets for the time to the first token (seconds). */
export const FIRST_CHUNK_BUCKETS = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10]
/** Buckets for whole requests, up to minutes-long streams (seconds). */
export const REQUEST_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 80, 160, 320]
/** Buckets for the gateway's own time per request (seconds). */
export const OVERHEAD_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1]

/** The metrics, by what they count. */
export const SwitchyardMetrics = {
  requests: counter(
    "switchyard_requests_total",
    "Answered HTTP requests, by endpoint, model, answering vendor, status code and whether streamed",
    ["endpoint", "model", "vendor", "status", "stream"]
  ),
  requestDuration: histogram(
    "switchyard_request_duration_seconds",
    "Duration of whole HTTP requests (streams until their last byte)",
    ["endpoint", "model", "vendor", "stream"],
    REQUEST_DURATION_BUCKETS
  ),
  timeToFirstChunk: histogram(
    "switchyard_time_to_first_chunk_seconds",
    "Time from a streamed request's arrival to its first chunk sent",
    ["model", "vendor"],
    FIRST_CHUNK_BUCKETS
  ),
  overhead: histogram(
    "switchyard_overhead_seconds",
    "The gateway's own time per request: its duration minus the time spent waiting on vendors",
    ["endpoint"],
    OVERHEAD_BUCKETS
  ),
  inFlight: gauge("switchyard_in_flight_requests", "Requests being answered", ["endpoint"]),
  openStreams: gauge("switchyard_open_streams", "Streamed answers in progress", []),
  upstreamAttempts: counter(
    "switchyard_upstream_attempts_total",
    "Upstream attempts (first tries, retries, fallbacks, hedges) by how they ended",
    ["vendor", "model", "outcome"]
  ),
  retries: counter("switchyard_retries_total", "Upstream attempts that retried the same target", ["vendor", "model"]),
  fallbacks: counter("switchyard_fallbacks_total", "Upstream attempts that fell back to another target", [
    "route",
    "from",
    "to"
  ]),
  hedges: counter(
    "switchyard_hedges_total",
    "Hedged attempts, by which attempt answered (primary, hedge, or none)",
    ["route", "winner"]
  ),
  circuitOpen: gauge("switchyard_circuit_open", "Whether a target's circuit breaker is open (1) or closed (0)", ["target"]),
  tokens: counter("switchyard_tokens_total", "Tokens used, by type: input, output, cached (input), reasoning (output)", [
    "vendor",
    "model",
    "type"
  ]),
  cost: counter("switchyard_cost_usd_total", "Cost of the tokens used, in USD, from the price catalogue", ["vendor", "model"]),
  genAiTokenUsage: histogram(
    "gen_ai_client_token_usage",
    "Tokens per operation (OpenTelemetry GenAI gen_ai.client.token.usage)",
    ["gen_ai_operation_name", "gen_ai_provider_name", "gen_ai_request_model", "gen_ai_token_type"],
    TOKEN_BUCKETS
  ),
  genAiOperationDuration: histogram(
    "gen_ai_client_operation_duration_seconds",
    "Duration of each upstream operation (OpenTelemetry GenAI gen_ai.client.operation.duration)",
    ["gen_ai_operation_name", "gen_ai_provider_name", "gen_ai_request_model", "error_type"],
    OPERATION_DURATION_BUCKETS
  )
} as const

/**
 * The `gen_ai.provider.name` of a vendor: the semantic conventions' name for
 * the vendors they list, the vendor's own name otherwise.
 */
export const genAiProviderName = (vendor: string): string => GEN_AI_PROVIDERS[vendor] ?? vendor

const GEN_AI_PROVIDERS: Readonly<Record<string, string>> = {
  openai: "openai",
  anthropic: "anthropic",
  gemini: "gcp.gemini",
  groq: "groq",
  deepseek: "deepseek",
  mistral: "mistral_ai",
  perplexity: "perplexity",
  xai: "x_ai"
}

const modelName = (label: string): string => {
  if (label === OTHER || label === "") return label
  const slash = label.indexOf("/")
  return slash === -1 ? label : label.slice(slash + 1)
}

/** What a finished call reports, for `recordCall`. */
export interface FinishedCall {
  readonly record: CallRecord
  /** The usage the answer reported, if any. */
  readonly usage?: CompletionUsage | null | undefined
  /** When the call ended (`performance.now()`): a streamed answer's last attempt lasts until then. */
  readonly endedAt: number
  /** Whether the answer was streamed. */
  readonly stream: boolean
  /** The cost of `usage` in USD, if known. */
  readonly costUsd?: number | undefined
}

/**
 * Counts what a finished call's record says: its upstream attempts, retries,
 * fallbacks and hedges, its tokens and cost, and the GenAI client metrics.
 * Plain updates, no Effect step: call it once per call, when it is over.
 */
export const recordCall = (labels: MetricLabels, call: FinishedCall): void => {
  const { record } = call
  const attempts = record.attempts
  const route = labels.route(record.route)
  let hedged = false
  let previous: string | undefined
  for (let index = 0; index < attempts.length; index++) {
    const attempt = attempts[index]!
    const vendor = labels.vendor(attempt.vendor)
    const model = labels.model(attempt.target)
    const outcome = attempt.outcome ?? "cancelled"
    SwitchyardMetrics.upstreamAttempts.inc([vendor, model, outcome])
    if (attempt.kind === "retry") SwitchyardMetrics.retries.inc([vendor, model])
    else if (attempt.kind === "fallback") SwitchyardMetrics.fallbacks.inc([route, previous ?? "", model])
    else if (attempt.kind === "hedge") hedged = true
    const answering = call.stream && outcome === "ok" && attempt.target === record.target
    const seconds = ((answering ? call.endedAt - attempt.startedAt : attempt.durationMs ?? 0)) / 1000
    SwitchyardMetrics.genAiOperationDuration.observe(
      ["chat", genAiProviderName(vendor), modelName(model), outcome === "ok" ? "" : outcome],
      seconds
    )
    if (attempt.kind !== "hedge") previous = model
  }
  if (hedged) {
    const winner = attempts.find((attempt) => attempt.outcome === "ok")
    SwitchyardMetrics.hedges.inc([route, winner === undefined ? "none" : winner.kind === "hedge" ? "hedge" : "primary"])
  }
  const usage = call.usage
  if (usage == null || record.target === undefined) return
  const vendor = labels.vendor(record.vendor)
  const model = labels.model(record.target)
  const tokens = SwitchyardMetrics.tokens
  tokens.inc([vendor, model, "input"], usage.prompt_tokens)
  tokens.inc([vendor, model, "output"], usage.completion_tokens)
  tokens.inc([vendor, model, "cached"], usage.prompt_tokens_details?.cached_tokens ?? 0)
  tokens.inc([vendor, model, "reasoning"], usage.completion_tokens_details?.reasoning_tokens ?? 0)
  const provider = genAiProviderName(vendor)
  const requestModel = modelName(model)
  SwitchyardMetrics.genAiTokenUsage.observe(["chat", provider, requestModel, "input"], usage.prompt_tokens)
  SwitchyardMetrics.genAiTokenUsage.observe(["chat", provider, requestModel, "output"], usage.completion_tokens)
  if (call.costUsd !== undefined) SwitchyardMetrics.cost.inc([vendor, model], call.costUsd)
}

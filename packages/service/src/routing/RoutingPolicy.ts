/**
 * The routing policy: named routes (a model name clients call, served by
 * several targets with fallbacks, weights and hedging) and the circuit
 * breakers' settings. A value: the same Schema decodes the `routes:` and
 * `circuit_breaker:` sections of a configuration file and checks one built in
 * code, so the file and the code look the same.
 */
import { type GatewayError, type ModelRef, parseModelRef } from "@switchyard/core"
import { Schema } from "effect"

/**
 * The kinds of upstream failure a route may fall back on (and that count
 * against a circuit breaker). A client error (400, 404, 422 from the vendor,
 * a content filter, an unsupported parameter) is none of them: it never
 * falls back.
 */
export const FallbackReason = Schema.Literal(
  "rate_limited",
  "overloaded",
  "unavailable",
  "timeout",
  "server_error",
  "upstream_auth"
)
export type FallbackReason = typeof FallbackReason.Type

/** Every kind of fallback: the default of `fallback_on`. */
export const allFallbackReasons: ReadonlyArray<FallbackReason> = FallbackReason.literals

/** One target of a route: a `vendor/model`, and its weight for load balancing. */
export const RouteTarget = Schema.Struct({
  model: Schema.String.pipe(Schema.pattern(/^[^/\s]+\/\S/, {
    message: () => "a target must be a `vendor/model`, for example `openai/gpt-4o`"
  })),
  /** Load balancing only (default 1). */
  weight: Schema.optional(Schema.Number.pipe(Schema.positive(), Schema.finite()))
}).annotations({ identifier: "RouteTarget" })
export interface RouteTarget extends Schema.Schema.Type<typeof RouteTarget> {}

/**
 * How a route orders its targets: `fallback` tries them in order;
 * `loadbalance` picks one by weight, then tries the others in descending
 * weight order as its fallbacks.
 */
export const RouteStrategy = Schema.Literal("fallback", "loadbalance")
export type RouteStrategy = typeof RouteStrategy.Type

/** A route: a model name clients call, served by its targets. */
export const RouteDefinition = Schema.Struct({
  /** Default `fallback`. */
  strategy: Schema.optional(RouteStrategy),
  targets: Schema.NonEmptyArray(RouteTarget),
  /** Retries of one target before moving on; default 0 with several targets, the global retry policy with one. */
  retries_per_target: Schema.optional(Schema.Int.pipe(Schema.between(0, 10))),
  /** The failures that move on to the next target (default: all of them). */
  fallback_on: Schema.optional(Schema.Array(FallbackReason)),
  /**
   * When the current target has sent no first chunk (no answer, for a
   * non-streaming call) after this long, the next target is started too; the
   * first to answer wins and the other is cancelled.
   */
  hedge_after_ms: Schema.optional(Schema.Number.pipe(Schema.positive(), Schema.finite()))
}).annotations({ identifier: "RouteDefinition" })
export interface RouteDefinition extends Schema.Schema.Type<typeof RouteDefinition> {}

/** The circuit breakers' settings: one breaker per target (`vendor/model`), shared by every route and direct call. */
export const CircuitBreakerPolicy = Schema.Struct({
  /** Default true. */
  enabled: Schema.optional(Schema.Boolean),
  /** Consecutive failures (of the kinds a route falls back on) that open a breaker (default 5). */
  failure_threshold: Schema.optional(Schema.Int.pipe(Schema.positive())),
  /** How long a breaker stays open before one probe request is let through (default 30 s). */
  cooldown_ms: Schema.optional(Schema.Number.pipe(Schema.positive(), Schema.finite()))
}).annotations({ identifier: "CircuitBreakerPolicy" })
export interface CircuitBreakerPolicy extends Schema.Schema.Type<typeof CircuitBreakerPolicy> {}

/**
 * The routing policy a `ChatCompletions` honours: its routes by name and the
 * circuit breakers' settings. Its fields are the `routes:` and
 * `circuit_breaker:` sections of a configuration file.
 */
export const RoutingPolicy = Schema.Struct({
  routes: Schema.optional(Schema.Record({ key: Schema.String.pipe(Schema.minLength(1)), value: RouteDefinition })),
  circuit_breaker: Schema.optional(CircuitBreakerPolicy)
}).annotations({ identifier: "RoutingPolicy" })
export interface RoutingPolicy extends Schema.Schema.Type<typeof RoutingPolicy> {}

/** The circuit breakers' settings with their defaults filled in. */
export interface BreakerSettings {
  readonly enabled: boolean
  readonly failureThreshold: number
  readonly cooldownMs: number
}

/** The defaults: on, 5 consecutive failures, 30 s open. */
export const breakerSettings = (policy: CircuitBreakerPolicy = {}): BreakerSettings => ({
  enabled: policy.enabled ?? true,
  failureThreshold: policy.failure_threshold ?? 5,
  cooldownMs: policy.cooldown_ms ?? 30_000
})

/**
 * The kind of fallback an error stands for, or `undefined` for a client
 * error (which never falls back, and never counts against a breaker).
 */
export const fallbackReasonOf = (error: GatewayError): FallbackReason | undefined => {
  switch (error._tag) {
    case "UpstreamRateLimited":
      return "rate_limited"
    case "UpstreamOverloaded":
      return "overloaded"
    case "UpstreamTimeout":
      return "timeout"
    case "UpstreamUnavailable":
      return error.upstreamStatus === 500 || error.upstreamStatus === 502 ? "server_error" : "unavailable"
    case "UpstreamBadResponse":
      return "server_error"
    case "UpstreamRejected": {
      const status = error.upstreamStatus
      if (status === 401 || status === 403) return "upstream_auth"
      if (status === 408) return "timeout"
      if (status === 429) return "rate_limited"
      return status >= 500 ? "server_error" : undefined
    }
    // A provider that has no key for its vendor fails before sending anything: the target's credentials.
    case "Unauthenticated":
      return "upstream_auth"
    default:
      return undefined
  }
}

/**
 * Whether a failure counts against its target's circuit breaker: a kind the
 * route falls back on, upstream. A provider that has no key for its vendor
 * fails before sending anything: it falls back, but the vendor is not failing.
 */
export const countsAgainstBreaker = (error: GatewayError, fallbackOn: ReadonlySet<FallbackReason>): boolean => {
  if (error._tag === "Unauthenticated") return false
  const reason = fallbackReasonOf(error)
  return reason !== undefined && fallbackOn.has(reason)
}

/** A problem in a routing policy, naming the setting. */
export class RoutingPolicyError extends Schema.TaggedError<RoutingPolicyError>()("RoutingPolicyError", {
  message: Schema.String
}) {}

/**
 * What is wrong with a policy given the configured vendors and aliases, one
 * line per problem naming the setting (`routes.smart.targets.1.model: …`):
 * a target of an unknown vendor, a target naming another route (routes do
 * not nest), a target listed twice, a route named like an alias.
 */
export const routingProblems = (
  policy: RoutingPolicy,
  configured: { readonly vendors: ReadonlyArray<string>; readonly aliases: Readonly<Record<string, string>> }
): ReadonlyArray<string> => {
  const problems: Array<string> = []
  const routes = policy.routes ?? {}
  const vendors = new Set(configured.vendors)
  for (const [name, route] of Object.entries(routes)) {
    if (Object.hasOwn(configured.aliases, name)) {
      problems.push(`routes.${name}: \`${name}\` is also an alias; a name is either an alias or a route`)
    }
    const seen = new Set<string>()
    route.targets.forEach((target, index) => {
      const at = `routes.${name}.targets.${index}.model`
      if (Object.hasOwn(routes, target.model)) {
        problems.push(`${at}: \`${target.model}\` is a route; a target must be a \`vendor/model\` (routes do not nest)`)
        return
      }
      const ref = parseModelRef(configured.aliases[target.model] ?? target.model)
      if (ref === undefined || !vendors.has(ref.vendor)) {
        problems.push(
          `${at}: unknown vendor \`${ref?.vendor ?? target.model}\` (configured vendors: ${configured.vendors.join(", ") || "none"})`
        )
      }
      if (seen.has(target.model)) problems.push(`${at}: \`${target.model}\` is listed twice`)
      seen.add(target.model)
    })
  }
  return problems
}

/**
 * A route's name as a request's `model`. Requests decode `model` as a
 * `vendor/model`; a route is a model name the service resolves too, so a
 * server (or a library user) puts a route's name in a decoded request with this.
 */
export const routeModel = (name: string): ModelRef => name as ModelRef

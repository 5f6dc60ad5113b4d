/**
 * The `Routing` service: a routing policy made ready for requests (each
 * route's targets in both orders, its fallback kinds, its retries) and the
 * circuit breakers, with a read-only view of the breakers for metrics.
 */
import { parseModelRef } from "@switchyard/core"
import { Clock, Context, Effect, Layer } from "effect"
import { ProviderRegistry } from "../ProviderRegistry.js"
import { CircuitBreakers, type CircuitState } from "./CircuitBreaker.js"
import {
  allFallbackReasons,
  breakerSettings,
  type FallbackReason,
  type RouteDefinition,
  type RouteStrategy,
  type RoutingPolicy,
  RoutingPolicyError,
  routingProblems
} from "./RoutingPolicy.js"

/** One target of a route, ready: its `vendor/model` (as configured), vendor and model for the breaker, weight. */
export interface PlannedTarget {
  readonly model: string
  readonly vendor: string
  readonly upstreamModel: string
  readonly weight: number
}

/** A route made ready for requests. */
export interface RoutePlan {
  readonly name: string
  readonly strategy: RouteStrategy
  /** In the configured order. */
  readonly targets: ReadonlyArray<PlannedTarget>
  /** By descending weight (ties in the configured order): a load-balanced route's fallbacks. */
  readonly byWeight: ReadonlyArray<PlannedTarget>
  /** Retries of one target, or `undefined` for the global retry policy. */
  readonly retriesPerTarget: number | undefined
  readonly fallbackOn: ReadonlySet<FallbackReason>
  readonly hedgeAfterMs: number | undefined
}

/**
 * Routes and circuit breakers, as `ChatCompletions` uses them. Build one with
 * `Routing.layer(policy)` (checked against the registry's vendors), or let
 * `ChatCompletions` build it from its options.
 */
export class Routing extends Context.Tag("@switchyard/service/Routing")<Routing, {
  /** The policy, as given. */
  readonly policy: RoutingPolicy
  /** The routes by name. */
  readonly routes: ReadonlyMap<string, RoutePlan>
  /** The breaker of every target (shared by routes and direct calls). */
  readonly breakers: CircuitBreakers
  /** The fallback kinds of a direct call (all of them), which count against its target's breaker. */
  readonly directFallbackOn: ReadonlySet<FallbackReason>
  /**
   * The breakers that have state, now (any other target's is closed): for
   * metrics (`switchyard_circuit_open{target}`) and diagnostics.
   */
  readonly circuits: Effect.Effect<ReadonlyArray<CircuitState>>
}>() {
  /** Checks a policy against the registry's vendors and aliases, and makes it ready. */
  static readonly make = (policy: RoutingPolicy = {}) => makeRouting(policy)

  /** The routing service of a policy, over the `ProviderRegistry` in context. */
  static readonly layer = (policy: RoutingPolicy = {}): Layer.Layer<Routing, RoutingPolicyError, ProviderRegistry> =>
    Layer.effect(Routing, makeRouting(policy))
}

const plan = (name: string, route: RouteDefinition, aliases: Readonly<Record<string, string>>): RoutePlan => {
  const targets = route.targets.map((target): PlannedTarget => {
    const ref = parseModelRef(aliases[target.model] ?? target.model)!
    return { model: target.model, vendor: ref.vendor, upstreamModel: ref.model, weight: target.weight ?? 1 }
  })
  return {
    name,
    strategy: route.strategy ?? "fallback",
    targets,
    byWeight: targets.map((target, index) => ({ target, index }))
      .sort((a, b) => b.target.weight - a.target.weight || a.index - b.index)
      .map(({ target }) => target),
    retriesPerTarget: route.retries_per_target ?? (targets.length > 1 ? 0 : undefined),
    fallbackOn: new Set(route.fallback_on ?? allFallbackReasons),
    hedgeAfterMs: route.hedge_after_ms
  }
}

const makeRouting = (policy: RoutingPolicy): Effect.Effect<Routing["Type"], RoutingPolicyError, ProviderRegistry> =>
  Effect.gen(function*() {
    const registry = yield* ProviderRegistry
    const problems = routingProblems(policy, { vendors: registry.vendors, aliases: registry.aliases })
    if (problems.length > 0) return yield* Effect.fail(new RoutingPolicyError({ message: problems.join("\n") }))
    const routes = new Map<string, RoutePlan>()
    for (const [name, route] of Object.entries(policy.routes ?? {})) routes.set(name, plan(name, route, registry.aliases))
    const breakers = new CircuitBreakers(breakerSettings(policy.circuit_breaker))
    return {
      policy,
      routes,
      breakers,
      directFallbackOn: new Set(allFallbackReasons),
      circuits: Effect.map(Clock.currentTimeMillis, (now) => breakers.states(now))
    }
  })

/**
 * Running one request over a route's targets: their order (in turn, or a
 * weighted pick first), fallbacks in turn, or hedged (the next target started
 * while the current one is still silent; the first to answer wins, the others
 * are interrupted, which closes their connections). Each attempt on a target
 * is the caller's `run`: it is free to switch targets until it has returned
 * (a stream's `run` returns with its first chunks), never after.
 */
import {
  AllTargetsFailed,
  describeError,
  type GatewayError,
  NoHealthyTarget
} from "@switchyard/core"
import { Cause, Deferred, Effect, Exit, Fiber, Option, Scope } from "effect"
import type { AttemptKind } from "../CallRecord.js"
import type { CircuitBreakers } from "./CircuitBreaker.js"
import type { PlannedTarget, RoutePlan } from "./Routing.js"
import { fallbackReasonOf } from "./RoutingPolicy.js"

/** One attempt on a target: the caller's call of that target, as a first try, a fallback or a hedge. */
export type RunTarget<A, R> = (target: PlannedTarget, kind: AttemptKind) => Effect.Effect<A, GatewayError, R>

interface TargetError {
  readonly target: string
  readonly error: GatewayError
}

/** Whether a route moves on after this failure: a breaker that refused the target, or a kind it falls back on. */
const movesOn = (route: RoutePlan, error: GatewayError): boolean => {
  if (error._tag === "NoHealthyTarget") return true
  const reason = fallbackReasonOf(error)
  return reason !== undefined && route.fallbackOn.has(reason)
}

const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000))

/**
 * The failure of a route whose every target failed or was skipped: 503
 * `no_healthy_target` when no target was even tried (every breaker open),
 * else the last failure's answer with a message naming every target and why.
 */
export const exhausted = (route: string, failures: ReadonlyArray<TargetError>): GatewayError => {
  let last: GatewayError | undefined
  let retryAfterMs = Number.POSITIVE_INFINITY
  for (const { error } of failures) {
    if (error._tag === "NoHealthyTarget") retryAfterMs = Math.min(retryAfterMs, error.retryAfterMs)
    else last = error
  }
  if (last === undefined) {
    return new NoHealthyTarget({ model: route, targets: failures.map((failure) => failure.target), retryAfterMs })
  }
  return new AllTargetsFailed({
    model: route,
    failures: failures.map(({ error, target }) => ({
      target,
      reason: error._tag === "NoHealthyTarget"
        ? `skipped, circuit breaker open (retry in ${seconds(error.retryAfterMs)} s)`
        : error.message
    })),
    last: describeError(last)
  })
}

/**
 * The order a request tries a route's targets in. `fallback`: as configured.
 * `loadbalance`: one picked at random by weight among the targets whose
 * breaker would let it through (`random` in [0, 1)), then the others by
 * descending weight.
 */
export const orderTargets = (
  route: RoutePlan,
  random: number,
  breakers: CircuitBreakers,
  nowMs: number
): ReadonlyArray<PlannedTarget> => {
  if (route.strategy === "fallback") return route.targets
  let total = 0
  for (const target of route.targets) {
    if (breakers.blockedFor(target.vendor, target.upstreamModel, nowMs) === 0) total += target.weight
  }
  const healthy = total > 0
  if (!healthy) for (const target of route.targets) total += target.weight
  let point = random * total
  let picked = route.targets[route.targets.length - 1]!
  for (const target of route.targets) {
    if (healthy && breakers.blockedFor(target.vendor, target.upstreamModel, nowMs) !== 0) continue
    point -= target.weight
    if (point < 0) {
      picked = target
      break
    }
  }
  return [picked, ...route.byWeight.filter((target) => target !== picked)]
}

/**
 * Tries the targets one after the other: the next one only once the current
 * one has failed in a way the route falls back on (or its breaker refused
 * it). A client error is returned as it is.
 */
export const runInTurn = <A, R>(
  route: RoutePlan,
  order: ReadonlyArray<PlannedTarget>,
  run: RunTarget<A, R>
): Effect.Effect<A, GatewayError, R> => {
  let failures: Array<TargetError> | undefined
  const from = (index: number, kind: AttemptKind): Effect.Effect<A, GatewayError, R> => {
    const target = order[index]!
    return Effect.catchAll(run(target, kind), (error) => {
      if (!movesOn(route, error)) return Effect.fail(error)
      ;(failures ??= []).push({ target: target.model, error })
      return index + 1 < order.length ? from(index + 1, "fallback") : Effect.fail(exhausted(route.name, failures))
    })
  }
  return from(0, "first")
}

/**
 * Tries the targets hedged: each target started is given `hedgeAfterMs` to
 * answer before the next one is started too; a failure starts the next one at
 * once when nothing else is running. The first answer wins: the other
 * attempts are interrupted (their connections closed) before it is returned,
 * and an answer that arrives after the winner's is handed to `release`. A
 * client error ends it all with that error.
 */
export const runHedged = <A>(
  route: RoutePlan,
  order: ReadonlyArray<PlannedTarget>,
  hedgeAfterMs: number,
  run: RunTarget<A, never>,
  release: (late: A) => Effect.Effect<void>
): Effect.Effect<A, GatewayError> =>
  Effect.acquireUseRelease(
    Scope.make(),
    (scope) =>
      Effect.flatMap(Deferred.make<A, GatewayError>(), (result) => {
        const failures: Array<TargetError> = []
        let next = 0
        let running = 0
        let settled = false
        let timer: Fiber.RuntimeFiber<void> | undefined
        const settle = (exit: Exit.Exit<A, GatewayError>) => {
          settled = true
          Deferred.unsafeDone(result, exit)
        }

        const ended = (target: PlannedTarget, kind: AttemptKind, exit: Exit.Exit<A, GatewayError>): Effect.Effect<void> => {
          running--
          if (Exit.isSuccess(exit)) {
            if (settled) return release(exit.value)
            settle(exit)
            return Effect.void
          }
          if (settled) return Effect.void
          const failure = Cause.failureOption(exit.cause)
          if (Option.isNone(failure)) {
            if (!Cause.isInterruptedOnly(exit.cause)) settle(Exit.failCause(exit.cause))
            return Effect.void
          }
          const error = failure.value
          if (!movesOn(route, error)) {
            settle(exit)
            return Effect.void
          }
          failures.push({ target: target.model, error })
          // A target its breaker refused is replaced at once; a failed one only when nothing else runs.
          if (error._tag === "NoHealthyTarget") return launch(kind)
          return running === 0 ? launch("fallback") : Effect.void
        }

        const launch = (kind: AttemptKind): Effect.Effect<void> =>
          Effect.suspend(() => {
            if (settled) return Effect.void
            if (next === order.length) {
              if (running === 0) settle(Exit.fail(exhausted(route.name, failures)))
              return Effect.void
            }
            const target = order[next++]!
            running++
            const previous = timer
            timer = undefined
            const attempt = Effect.uninterruptibleMask((restore) =>
              Effect.flatMap(Effect.exit(restore(run(target, kind))), (exit) => Effect.suspend(() => ended(target, kind, exit)))
            )
            const started = Effect.zipRight(
              previous !== undefined ? Fiber.interruptFork(previous) : Effect.void,
              Effect.forkIn(attempt, scope)
            )
            if (next === order.length) return Effect.asVoid(started)
            const hedge = Effect.zipRight(
              Effect.sleep(hedgeAfterMs),
              Effect.suspend(() => {
                timer = undefined
                return launch("hedge")
              })
            )
            return Effect.zipRight(
              started,
              Effect.map(Effect.forkIn(hedge, scope), (fiber) => {
                timer = fiber
              })
            )
          })

        return Effect.zipRight(launch("first"), Deferred.await(result))
      }),
    (scope, exit) => Scope.close(scope, exit)
  )

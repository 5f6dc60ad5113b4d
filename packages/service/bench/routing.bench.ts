/**
 * The routing benchmark: `npm run bench:routing -w @switchyard/service`.
 *
 * (a) The routing decision alone (synchronous): the route lookup, the order
 *     of a load-balanced route's targets (a weighted pick) and the breakers'
 *     admission, per request.
 * (b) CPU per request through `ChatCompletions.create` over a provider that
 *     answers at once (no I/O, so the service's own cost is all there is):
 *     a model called directly, a route with one target, a fallback route whose
 *     first target answers, a load-balanced route, and a hedged route.
 * (c) Effect's `ExecutionPlan` for the same fallback (`Effect.withExecutionPlan`,
 *     one step per target providing it, `while` deciding the fallback) against
 *     the hand-written `runInTurn`, both over the same instant calls.
 *
 * Each figure is the median of BENCH_ROUNDS interleaved rounds of
 * BENCH_REQUESTS requests (the machine may be shared: read the ratios).
 */
import { type ChatCompletion, ChatCompletionRequest, type GatewayError } from "@switchyard/core"
import { Context, Effect, ExecutionPlan, Schema } from "effect"
import {
  ChatCompletions,
  CircuitBreakers,
  makeCallRecord,
  makeContext,
  makeProvider,
  orderTargets,
  type PlannedTarget,
  ProviderRegistry,
  routeModel,
  Routing,
  type RoutingPolicy,
  runInTurn
} from "../src/index.js"

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 20_000)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5)
const DECISIONS = 1_000_000

const completion: ChatCompletion = {
  id: "chatcmpl-bench",
  object: "chat.completion",
  created: 1_700_000_000,
  model: "m",
  choices: [{ index: 0, message: { role: "assistant", content: "ok", refusal: null }, finish_reason: "stop", logprobs: null }],
  usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 }
}

const instant = makeProvider({
  family: "bench",
  supportsN: true,
  // As the HTTP providers: their transport enforces the timeouts (no Effect timer per call).
  nativeTimeouts: true,
  create: () => Effect.succeed(completion),
  open: () => Effect.die("not used"),
  models: Effect.succeed([])
})

const policy: RoutingPolicy = {
  routes: {
    one: { targets: [{ model: "a/m" }] },
    two: { targets: [{ model: "a/m" }, { model: "b/m" }] },
    lb: { strategy: "loadbalance", targets: [{ model: "a/m", weight: 3 }, { model: "b/m", weight: 1 }] },
    hedged: { targets: [{ model: "a/m" }, { model: "b/m" }], hedge_after_ms: 1_000 }
  }
}

const median = (values: ReadonlyArray<number>) => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)]!
const fmt = (us: number) => us < 10 ? us.toFixed(2) : us.toFixed(1)

const cpuMicros = () => {
  const usage = process.cpuUsage()
  return usage.user + usage.system
}

/** CPU µs per iteration of `body`, run REQUESTS times in one fiber. */
const perRequest = (body: Effect.Effect<unknown, unknown>) =>
  Effect.suspend(() => {
    const start = cpuMicros()
    return Effect.map(
      Effect.forEach(Array.from({ length: REQUESTS }), () => body, { discard: true }),
      () => (cpuMicros() - start) / REQUESTS
    )
  })

const program = Effect.gen(function*() {
  const registry = ProviderRegistry.make({ a: instant, b: instant })
  const service = yield* ChatCompletions.make({ routing: policy }).pipe(Effect.provideService(ProviderRegistry, registry))
  const request = Schema.decodeUnknownSync(ChatCompletionRequest)({ model: "a/m", messages: [{ role: "user", content: "Hi" }] })
  const ask = (model: string) => ({ ...request, model: routeModel(model) })

  // (a) ------------------------------------------------------------------
  const routing = yield* Routing.make(policy).pipe(Effect.provideService(ProviderRegistry, registry))
  const breakers = new CircuitBreakers({ enabled: true, failureThreshold: 5, cooldownMs: 30_000 })
  const lb = routing.routes.get("lb")!
  const decide = (name: string): number => {
    const route = routing.routes.get(name)
    if (route === undefined) return breakers.admit("a", "m", 0)
    const order: ReadonlyArray<PlannedTarget> = route.strategy === "loadbalance"
      ? orderTargets(route, Math.random(), breakers, Date.now())
      : route.targets
    return breakers.admit(order[0]!.vendor, order[0]!.upstreamModel, 0)
  }
  const decisions: Record<string, Array<number>> = { "a/m": [], two: [], lb: [] }
  for (let round = 0; round < ROUNDS; round++) {
    for (const name of Object.keys(decisions)) {
      const start = process.hrtime.bigint()
      let sink = 0
      for (let i = 0; i < DECISIONS; i++) sink += decide(name)
      decisions[name]!.push(Number(process.hrtime.bigint() - start) / 1_000 / DECISIONS + sink * 0)
    }
  }
  void lb

  // (b) ------------------------------------------------------------------
  const cases: Record<string, Effect.Effect<unknown, unknown>> = {
    "direct a/m": Effect.suspend(() => service.create(ask("a/m"), makeContext({ requestId: "r", record: makeCallRecord() }))),
    "route, 1 target": Effect.suspend(() => service.create(ask("one"), makeContext({ requestId: "r", record: makeCallRecord() }))),
    "route, fallback (first answers)": Effect.suspend(() =>
      service.create(ask("two"), makeContext({ requestId: "r", record: makeCallRecord() }))
    ),
    "route, loadbalance 3:1": Effect.suspend(() => service.create(ask("lb"), makeContext({ requestId: "r", record: makeCallRecord() }))),
    "route, hedged (first answers)": Effect.suspend(() =>
      service.create(ask("hedged"), makeContext({ requestId: "r", record: makeCallRecord() }))
    )
  }

  // (c) ------------------------------------------------------------------
  class Target extends Context.Tag("bench/Target")<Target, PlannedTarget>() {}
  const two = routing.routes.get("two")!
  const call = Effect.flatMap(Target, () => instant.create(undefined as never))
  const movesOn = (error: GatewayError) => error._tag !== "UpstreamRejected"
  const steps = two.targets.map((target) => ({ provide: Context.make(Target, target), while: movesOn }))
  const staticPlan = ExecutionPlan.make(steps[0]!, steps[1]!)
  const plans: Record<string, Effect.Effect<unknown, unknown>> = {
    "runInTurn (hand-written)": Effect.suspend(() => runInTurn(two, two.targets, () => instant.create(undefined as never))),
    "ExecutionPlan, built once": Effect.suspend(() => Effect.withExecutionPlan(call, staticPlan)),
    "ExecutionPlan, built per request": Effect.suspend(() =>
      Effect.withExecutionPlan(
        call,
        ExecutionPlan.make(
          { provide: Context.make(Target, two.targets[0]!), while: movesOn },
          { provide: Context.make(Target, two.targets[1]!), while: movesOn }
        )
      )
    ),
    "the call alone": Effect.suspend(() => instant.create(undefined as never))
  }

  const results: Record<string, Array<number>> = {}
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, body] of [...Object.entries(cases), ...Object.entries(plans)]) {
      ;(results[name] ??= []).push(yield* perRequest(body))
    }
  }

  console.log(`Routing benchmark (Node ${process.version}; median of ${ROUNDS} rounds; a shared machine: read the ratios)\n`)
  console.log("(a) the routing decision alone (µs per request)")
  for (const [name, values] of Object.entries(decisions)) {
    console.log(`  ${(name === "a/m" ? "direct model (lookup miss + breaker)" : name === "two" ? "fallback route" : "loadbalance route (weighted pick)").padEnd(44)}${fmt(median(values))}`)
  }
  console.log("\n(b) CPU per request through ChatCompletions.create, instant provider (µs)")
  const direct = median(results["direct a/m"]!)
  for (const name of Object.keys(cases)) {
    const value = median(results[name]!)
    console.log(`  ${name.padEnd(44)}${fmt(value).padStart(6)}   ${(value - direct >= 0 ? "+" : "") + fmt(value - direct)} vs direct`)
  }
  console.log("\n(c) a two-target fallback whose first target answers (µs per request)")
  const alone = median(results["the call alone"]!)
  for (const name of Object.keys(plans)) {
    const value = median(results[name]!)
    console.log(`  ${name.padEnd(44)}${fmt(value).padStart(6)}   ${(value - alone >= 0 ? "+" : "") + fmt(value - alone)} over the call`)
  }
})

Effect.runPromise(program).catch((error) => {
  console.error(error)
  process.exit(1)
})

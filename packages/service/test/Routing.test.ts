/**
 * Routes over several scripted targets: fallbacks, load balancing, hedging and
 * circuit breakers, in virtual time (`TestClock`), with the call's record as
 * the observability helper reads it.
 */
import {
  type AllTargetsFailed,
  aggregateChunks,
  type NoHealthyTarget,
  Unauthenticated,
  UpstreamRejected,
  UpstreamTimeout
} from "@switchyard/core"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Random, Redacted, Stream, TestClock } from "effect"
import {
  ChatCompletions,
  type ChatCompletionsOptions,
  makeCallRecord,
  makeContext,
  type ProviderCall,
  ProviderRegistry,
  routeModel,
  Routing,
  type RoutingPolicy,
  TestProvider,
  type TestStep
} from "../src/index.js"
import { decodeRequest, failureOf } from "./support.js"

type Scripts = Readonly<Record<string, ReadonlyArray<TestStep>>>

/** The real service over one scripted provider per vendor (`a`, `b`, …), with the given routing. */
const routed = (scripts: Scripts, routing: RoutingPolicy, options: ChatCompletionsOptions = {}) =>
  Effect.gen(function*() {
    const providers: Record<string, TestProvider["Type"]> = {}
    for (const [vendor, script] of Object.entries(scripts)) providers[vendor] = yield* TestProvider.make({ vendors: [vendor], script })
    const registry = ProviderRegistry.make(
      Object.fromEntries(Object.entries(providers).map(([vendor, fake]) => [vendor, fake.provider]))
    )
    const service = yield* ChatCompletions.make({ ...options, routing }).pipe(Effect.provideService(ProviderRegistry, registry))
    const calls = (vendor: string): Effect.Effect<ReadonlyArray<ProviderCall>> => providers[vendor]!.calls
    return { service, calls }
  })

const ask = (model: string, extra: Record<string, unknown> = {}) => ({
  ...decodeRequest({ model: "placeholder/x", messages: [{ role: "user", content: "Hi" }], ...extra }),
  model: routeModel(model)
})

const attemptsOf = (record: ReturnType<typeof makeCallRecord>) =>
  record.attempts.map((attempt) => [attempt.target, attempt.kind, attempt.outcome])

const rejected400 = TestProvider.fail(
  new UpstreamRejected({ vendor: "a", upstreamStatus: 400, message: "max_tokens is too large", code: "invalid_value" })
)

const smart = (targets: readonly [string, ...Array<string>], extra: Record<string, unknown> = {}): RoutingPolicy => ({
  routes: { smart: { targets: [{ model: targets[0] }, ...targets.slice(1).map((model) => ({ model }))], ...extra } }
})

describe("routes: fallbacks in turn", () => {
  it.effect("a 503 from the first target falls back to the second; the record names the route, both attempts and the answering target", () =>
    Effect.gen(function*() {
      const { calls, service } = yield* routed(
        { a: [TestProvider.unavailable(503, "a")], b: [TestProvider.reply("from b")] },
        smart(["a/one", "b/two"])
      )
      const record = makeCallRecord()
      const completion = yield* service.create(ask("smart"), makeContext({ record }))
      expect(completion.choices[0]!.message.content).toBe("from b")
      expect(attemptsOf(record)).toEqual([["a/one", "first", "unavailable"], ["b/two", "fallback", "ok"]])
      expect(record).toMatchObject({ route: "smart", target: "b/two", vendor: "b" })
      expect((yield* calls("b"))[0]).toMatchObject({ vendor: "b", model: "two", attemptKind: "fallback" })
    }))

  it.effect("a client error (400) goes straight back: no fallback, the second target is never called", () =>
    Effect.gen(function*() {
      const { calls, service } = yield* routed({ a: [rejected400], b: [TestProvider.reply("from b")] }, smart(["a/one", "b/two"]))
      const error = failureOf(yield* Effect.exit(service.create(ask("smart"), makeContext())))
      expect(error).toMatchObject({ _tag: "UpstreamRejected", upstreamStatus: 400, message: "max_tokens is too large" })
      expect(yield* calls("b")).toHaveLength(0)
    }))

  it.effect("when every target fails, the answer is the last failure's, with a message naming each target and why", () =>
    Effect.gen(function*() {
      const { service } = yield* routed(
        { a: [TestProvider.unavailable(503, "a")], b: [TestProvider.rateLimited(7_000, "b")] },
        smart(["a/one", "b/two"])
      )
      const error = failureOf(yield* Effect.exit(service.create(ask("smart"), makeContext()))) as AllTargetsFailed
      expect(error._tag).toBe("AllTargetsFailed")
      expect(error.last).toMatchObject({ status: 429, type: "rate_limit_error", retryAfterMs: 7_000 })
      expect(error.message).toBe(
        "Every target of `smart` failed: a/one: Upstream answered 503 (scripted); b/two: Rate limit reached (scripted)"
      )
    }))

  it.effect("fallback_on limits what falls back: a timeout moves on, a 503 does not", () =>
    Effect.gen(function*() {
      const routing = smart(["a/one", "b/two"], { fallback_on: ["timeout"] })
      const timeout = yield* routed(
        { a: [TestProvider.fail(new UpstreamTimeout({ vendor: "a", phase: "first_byte" }))], b: [TestProvider.reply("b")] },
        routing
      )
      expect((yield* timeout.service.create(ask("smart"), makeContext())).choices[0]!.message.content).toBe("b")
      const unavailable = yield* routed({ a: [TestProvider.unavailable(503, "a")], b: [TestProvider.reply("b")] }, routing)
      const error = failureOf(yield* Effect.exit(unavailable.service.create(ask("smart"), makeContext())))
      expect(error).toMatchObject({ _tag: "UpstreamUnavailable", upstreamStatus: 503 })
      expect(yield* unavailable.calls("b")).toHaveLength(0)
    }))

  it.effect("retries_per_target: none by default with several targets; when set, each target is retried with backoff first", () =>
    Effect.gen(function*() {
      const scripts = { a: [TestProvider.unavailable(503, "a")], b: [TestProvider.reply("b")] }
      const plain = yield* routed(scripts, smart(["a/one", "b/two"]))
      yield* plain.service.create(ask("smart"), makeContext())
      expect(yield* plain.calls("a")).toHaveLength(1)

      const retried = yield* routed(scripts, smart(["a/one", "b/two"], { retries_per_target: 1 }))
      const record = makeCallRecord()
      const fiber = yield* Effect.fork(retried.service.create(ask("smart"), makeContext({ record })))
      yield* TestClock.adjust(1_000)
      yield* Fiber.join(fiber)
      expect(yield* retried.calls("a")).toHaveLength(2)
      expect(attemptsOf(record)).toEqual([
        ["a/one", "first", "unavailable"],
        ["a/one", "retry", "unavailable"],
        ["b/two", "fallback", "ok"]
      ])
    }))

  it.effect("a route with one target takes the global retry policy, as a direct call does", () =>
    Effect.gen(function*() {
      const { calls, service } = yield* routed(
        { a: [TestProvider.unavailable(503, "a"), TestProvider.unavailable(503, "a"), TestProvider.reply("third")] },
        smart(["a/one"])
      )
      const record = makeCallRecord()
      const fiber = yield* Effect.fork(service.create(ask("smart"), makeContext({ record })))
      yield* TestClock.adjust(10_000)
      expect((yield* Fiber.join(fiber)).choices[0]!.message.content).toBe("third")
      expect(yield* calls("a")).toHaveLength(3)
      expect(record.attempts.map((a) => a.kind)).toEqual(["first", "retry", "retry"])
      expect(record).toMatchObject({ route: "smart", target: "a/one" })
    }))

  it.effect("streams fall back before the first chunk; a cut after it ends the stream with the error, and nothing else is called", () =>
    Effect.gen(function*() {
      const before = yield* routed(
        { a: [TestProvider.unavailable(503, "a")], b: [TestProvider.reply("streamed by b")] },
        smart(["a/one", "b/two"])
      )
      const chunks = yield* Stream.runCollect(before.service.stream(ask("smart", { stream: true }), makeContext()))
      expect(aggregateChunks([...chunks]).choices[0]!.message.content).toBe("streamed by b")

      const after = yield* routed(
        { a: [TestProvider.cut("partial answer from a", 2)], b: [TestProvider.reply("never")] },
        smart(["a/one", "b/two"])
      )
      const seen: Array<string> = []
      const exit = yield* Effect.exit(
        Stream.runForEach(after.service.stream(ask("smart", { stream: true }), makeContext()), (chunk) =>
          Effect.sync(() => seen.push(chunk.choices[0]?.delta.content ?? "")))
      )
      expect(seen.join("")).toBe("part")
      expect(failureOf(exit)).toMatchObject({ _tag: "UpstreamUnavailable", message: "Connection reset by upstream (scripted)" })
      expect(yield* after.calls("b")).toHaveLength(0)
    }))

  it.effect("n > 1 is fanned out on a target that cannot answer n itself, after a fallback too", () =>
    Effect.gen(function*() {
      const providers = {
        a: yield* TestProvider.make({ vendors: ["a"], script: [TestProvider.unavailable(503, "a")] }),
        b: yield* TestProvider.make({ vendors: ["b"], script: [TestProvider.reply("one of n")], supportsN: false })
      }
      const registry = ProviderRegistry.make({ a: providers.a.provider, b: providers.b.provider })
      const service = yield* ChatCompletions.make({ routing: smart(["a/one", "b/two"]) }).pipe(
        Effect.provideService(ProviderRegistry, registry)
      )
      const completion = yield* service.create(ask("smart", { n: 3 }), makeContext())
      expect(completion.choices.map((choice) => choice.index)).toEqual([0, 1, 2])
      expect(yield* providers.b.calls).toHaveLength(3)
    }))
})

describe("routes: load balancing", () => {
  it.effect("3:1 weights over 400 requests land within a few percent of 300:100 (seeded Random)", () =>
    Effect.gen(function*() {
      const { calls, service } = yield* routed(
        { a: [TestProvider.reply("a")], b: [TestProvider.reply("b")] },
        { routes: { lb: { strategy: "loadbalance", targets: [{ model: "a/one", weight: 3 }, { model: "b/two", weight: 1 }] } } }
      )
      yield* Effect.forEach(Array.from({ length: 400 }), () => service.create(ask("lb"), makeContext()), { discard: true })
      const a = (yield* calls("a")).length
      expect(a + (yield* calls("b")).length).toBe(400)
      expect(Math.abs(a - 300)).toBeLessThanOrEqual(16)
    }).pipe(Effect.withRandom(Random.make("switchyard-routing"))))

  it.effect("the pick's fallbacks are the other targets by descending weight", () =>
    Effect.gen(function*() {
      const { calls, service } = yield* routed(
        { a: [TestProvider.unavailable(503, "a")], b: [TestProvider.unavailable(503, "b")], c: [TestProvider.reply("c")] },
        {
          routes: {
            lb: {
              strategy: "loadbalance",
              targets: [{ model: "c/three", weight: 1 }, { model: "b/two", weight: 5 }, { model: "a/one", weight: 100 }]
            }
          }
        }
      )
      const record = makeCallRecord()
      yield* service.create(ask("lb"), makeContext({ record }))
      // The pick is `a` (weight 100 of 106 at this seed), then b (5) before c (1).
      expect(record.attempts.map((attempt) => attempt.target)).toEqual(["a/one", "b/two", "c/three"])
      expect(yield* calls("c")).toHaveLength(1)
    }).pipe(Effect.withRandom(Random.make("switchyard-routing"))))
})

describe("circuit breakers", () => {
  const breaker = { failure_threshold: 2, cooldown_ms: 10_000 }

  it.effect("opens after the threshold (no call while open), lets one probe through after the cooldown, and closes on its success", () =>
    Effect.gen(function*() {
      const { calls, service } = yield* routed(
        { a: [TestProvider.unavailable(503, "a"), TestProvider.unavailable(503, "a"), TestProvider.reply("recovered")] },
        { circuit_breaker: breaker },
        { policy: { maxRetries: 0 } }
      )
      const direct = ask("a/one")
      for (let i = 0; i < 2; i++) yield* Effect.exit(service.create(direct, makeContext()))
      expect(yield* service.routing.circuits).toEqual([
        { target: "a/one", status: "open", consecutiveFailures: 2, halfOpenInMs: 10_000 }
      ])

      yield* TestClock.adjust(4_000)
      const open = failureOf(yield* Effect.exit(service.create(direct, makeContext()))) as NoHealthyTarget
      expect(open).toMatchObject({ _tag: "NoHealthyTarget", model: "a/one", retryAfterMs: 6_000 })
      expect(yield* calls("a")).toHaveLength(2)

      yield* TestClock.adjust(6_000)
      expect((yield* service.routing.circuits)[0]).toMatchObject({ status: "half_open", halfOpenInMs: 0 })
      const probe = yield* service.create(direct, makeContext())
      expect(probe.choices[0]!.message.content).toBe("recovered")
      expect(yield* service.routing.circuits).toEqual([])
      expect(yield* calls("a")).toHaveLength(3)
    }))

  it.effect("streams cut after their first chunk count against the breaker: two cuts open it", () =>
    Effect.gen(function*() {
      const { calls, service } = yield* routed(
        { a: [TestProvider.cut("partial answer", 2), TestProvider.cut("partial answer", 2), TestProvider.reply("never")] },
        { circuit_breaker: breaker },
        { policy: { maxRetries: 0 } }
      )
      const streamed = ask("a/one", { stream: true })
      for (let i = 0; i < 2; i++) {
        const exit = yield* Effect.exit(Stream.runDrain(service.stream(streamed, makeContext())))
        expect(failureOf(exit)).toMatchObject({ _tag: "UpstreamUnavailable" })
      }
      expect(yield* service.routing.circuits).toEqual([
        { target: "a/one", status: "open", consecutiveFailures: 2, halfOpenInMs: 10_000 }
      ])
      const refused = failureOf(yield* Effect.exit(Stream.runDrain(service.stream(streamed, makeContext()))))
      expect(refused).toMatchObject({ _tag: "NoHealthyTarget" })
      expect(yield* calls("a")).toHaveLength(2)
    }))

  it.effect("a failed probe opens it for another cooldown; a client error neither counts nor opens it", () =>
    Effect.gen(function*() {
      const { calls, service } = yield* routed(
        { a: [TestProvider.unavailable(503, "a")], b: [rejected400] },
        { circuit_breaker: breaker },
        { policy: { maxRetries: 0 } }
      )
      for (let i = 0; i < 2; i++) yield* Effect.exit(service.create(ask("a/one"), makeContext()))
      yield* TestClock.adjust(10_000)
      yield* Effect.exit(service.create(ask("a/one"), makeContext()))
      expect(yield* calls("a")).toHaveLength(3)
      expect((yield* service.routing.circuits)[0]).toMatchObject({ status: "open", halfOpenInMs: 10_000 })

      for (let i = 0; i < 5; i++) yield* Effect.exit(service.create(ask("b/two"), makeContext()))
      expect(yield* calls("b")).toHaveLength(5)
      expect((yield* service.routing.circuits).map((circuit) => circuit.target)).toEqual(["a/one"])
    }))

  it.effect("a route skips a target whose breaker is open, without an attempt on it; all open → no healthy target, retry after the soonest", () =>
    Effect.gen(function*() {
      const { calls, service } = yield* routed(
        { a: [TestProvider.unavailable(503, "a")], b: [TestProvider.unavailable(503, "b")] },
        { ...smart(["a/one", "b/two"]), circuit_breaker: breaker },
        { policy: { maxRetries: 0 } }
      )
      for (let i = 0; i < 2; i++) yield* Effect.exit(service.create(ask("a/one"), makeContext()))
      yield* TestClock.adjust(3_000)
      const record = makeCallRecord()
      const first = failureOf(yield* Effect.exit(service.create(ask("smart"), makeContext({ record }))))
      expect(first).toMatchObject({ _tag: "AllTargetsFailed", last: { status: 503 } })
      expect(first.message).toContain("a/one: skipped, circuit breaker open (retry in 7 s)")
      expect(attemptsOf(record)).toEqual([["b/two", "fallback", "unavailable"]])
      yield* Effect.exit(service.create(ask("smart"), makeContext()))
      expect(yield* calls("a")).toHaveLength(2)
      expect(yield* calls("b")).toHaveLength(2)

      const none = failureOf(yield* Effect.exit(service.create(ask("smart"), makeContext()))) as NoHealthyTarget
      expect(none).toMatchObject({ _tag: "NoHealthyTarget", model: "smart", targets: ["a/one", "b/two"], retryAfterMs: 7_000 })
      expect(yield* calls("b")).toHaveLength(2)
    }))

  it.effect("calls with the caller's own provider key neither count against a breaker nor are refused by it", () =>
    Effect.gen(function*() {
      const { calls, service } = yield* routed(
        { a: [TestProvider.rateLimited(undefined, "a"), TestProvider.rateLimited(undefined, "a"), TestProvider.rateLimited(undefined, "a"), TestProvider.reply("configured key")] },
        { circuit_breaker: breaker },
        { policy: { maxRetries: 0 } }
      )
      const own = makeContext({ providerKey: Redacted.make("sk-caller-own") })
      for (let i = 0; i < 3; i++) yield* Effect.exit(service.create(ask("a/one"), own))
      expect(yield* service.routing.circuits).toEqual([])
      expect((yield* service.create(ask("a/one"), makeContext())).choices[0]!.message.content).toBe("configured key")
      expect(yield* calls("a")).toHaveLength(4)
    }))

  it.effect("a target without a key for its vendor falls back, but never opens its breaker", () =>
    Effect.gen(function*() {
      const { service } = yield* routed(
        { a: [TestProvider.fail(new Unauthenticated({ message: "No API key for `a`" }))], b: [TestProvider.reply("b")] },
        { ...smart(["a/one", "b/two"]), circuit_breaker: breaker }
      )
      for (let i = 0; i < 3; i++) {
        expect((yield* service.create(ask("smart"), makeContext())).choices[0]!.message.content).toBe("b")
      }
      expect(yield* service.routing.circuits).toEqual([])
    }))

  it.effect("a probe that is cancelled hands the probe to the next request", () =>
    Effect.gen(function*() {
      const { calls, service } = yield* routed(
        {
          a: [
            TestProvider.unavailable(503, "a"),
            TestProvider.unavailable(503, "a"),
            TestProvider.stall([], { latencyMs: 1 }),
            TestProvider.reply("after the cancelled probe")
          ]
        },
        { circuit_breaker: breaker },
        { policy: { maxRetries: 0 } }
      )
      for (let i = 0; i < 2; i++) yield* Effect.exit(service.create(ask("a/one"), makeContext()))
      yield* TestClock.adjust(10_000)
      const probe = yield* Effect.fork(service.create(ask("a/one"), makeContext()))
      yield* TestClock.adjust(1)
      const meanwhile = failureOf(yield* Effect.exit(service.create(ask("a/one"), makeContext())))
      expect(meanwhile._tag).toBe("NoHealthyTarget")
      yield* Fiber.interrupt(probe)
      const next = yield* service.create(ask("a/one"), makeContext())
      expect(next.choices[0]!.message.content).toBe("after the cancelled probe")
      expect(yield* calls("a")).toHaveLength(4)
    }))
})

describe("routes: hedging in virtual time", () => {
  const hedged = smart(["a/one", "b/two"], { hedge_after_ms: 1_000 })

  it.effect("a silent first target gets a hedge after hedge_after_ms; the hedge wins and the first is cancelled", () =>
    Effect.gen(function*() {
      const { calls, service } = yield* routed(
        { a: [TestProvider.reply("slow a", { latencyMs: 5_000 })], b: [TestProvider.reply("quick b", { latencyMs: 100 })] },
        hedged
      )
      const record = makeCallRecord()
      const fiber = yield* Effect.fork(service.create(ask("smart"), makeContext({ record })))
      yield* TestClock.adjust(999)
      expect(yield* calls("b")).toHaveLength(0)
      yield* TestClock.adjust(1)
      expect(yield* calls("b")).toHaveLength(1)
      yield* TestClock.adjust(100)
      const completion = yield* Fiber.join(fiber)
      expect(completion.choices[0]!.message.content).toBe("quick b")
      expect(attemptsOf(record)).toEqual([["a/one", "first", "cancelled"], ["b/two", "hedge", "ok"]])
      expect(record.target).toBe("b/two")
    }))

  it.effect("a stream's hedge wins with its first chunk; the first target's stream is cancelled and never relayed", () =>
    Effect.gen(function*() {
      const { service } = yield* routed(
        { a: [TestProvider.stall([], { latencyMs: 10 })], b: [TestProvider.reply("hedged stream", { delayMs: 10 })] },
        hedged
      )
      const record = makeCallRecord()
      const fiber = yield* Effect.fork(Stream.runCollect(service.stream(ask("smart", { stream: true }), makeContext({ record }))))
      yield* TestClock.adjust(1_000)
      expect(record.attempts.map((attempt) => attempt.outcome)).toEqual(["cancelled", "ok"])
      yield* TestClock.adjust(1_000)
      const chunks = yield* Fiber.join(fiber)
      expect(aggregateChunks([...chunks]).choices[0]!.message.content).toBe("hedged stream")
    }))

  it.effect("a first target that answers within hedge_after_ms is the only one called", () =>
    Effect.gen(function*() {
      const { calls, service } = yield* routed(
        { a: [TestProvider.reply("a in time", { latencyMs: 900 })], b: [TestProvider.reply("b")] },
        hedged
      )
      const fiber = yield* Effect.fork(service.create(ask("smart"), makeContext()))
      yield* TestClock.adjust(5_000)
      expect((yield* Fiber.join(fiber)).choices[0]!.message.content).toBe("a in time")
      expect(yield* calls("b")).toHaveLength(0)
    }))

  it.effect("a first target that fails early falls back at once, without waiting for the hedge delay", () =>
    Effect.gen(function*() {
      const { calls, service } = yield* routed(
        {
          a: [TestProvider.fail(new UpstreamTimeout({ vendor: "a", phase: "upstream" }), { latencyMs: 10 })],
          b: [TestProvider.reply("b", { latencyMs: 10 })]
        },
        hedged
      )
      const record = makeCallRecord()
      const fiber = yield* Effect.fork(service.create(ask("smart"), makeContext({ record })))
      yield* TestClock.adjust(20)
      expect((yield* Fiber.join(fiber)).choices[0]!.message.content).toBe("b")
      expect(yield* calls("b")).toHaveLength(1)
      expect(attemptsOf(record)).toEqual([["a/one", "first", "timeout"], ["b/two", "fallback", "ok"]])
    }))

  it.effect("a client error from either attempt ends the hedged call with that error", () =>
    Effect.gen(function*() {
      const { service } = yield* routed(
        { a: [TestProvider.reply("slow", { latencyMs: 5_000 })], b: [TestProvider.fail(new UpstreamRejected({ vendor: "b", upstreamStatus: 404, message: "no such model" }), { latencyMs: 10 })] },
        hedged
      )
      const record = makeCallRecord()
      const fiber = yield* Effect.fork(service.create(ask("smart"), makeContext({ record })))
      yield* TestClock.adjust(1_010)
      const error = failureOf(yield* Fiber.await(fiber))
      expect(error).toMatchObject({ _tag: "UpstreamRejected", upstreamStatus: 404 })
      expect(attemptsOf(record)).toEqual([["a/one", "first", "cancelled"], ["b/two", "hedge", "rejected"]])
    }))
})

describe("routing policy checks and listing", () => {
  it.effect("an unknown vendor, a nested route, a target listed twice and a route named like an alias are errors naming them", () =>
    Effect.gen(function*() {
      const fake = yield* TestProvider.make({ vendors: ["a"], script: [TestProvider.reply("")] })
      const registry = ProviderRegistry.make({ a: fake.provider }, { aliases: { fast: "a/one" } })
      const error = yield* Effect.flip(
        Routing.make({
          routes: {
            "team/smart": { targets: [{ model: "a/one" }, { model: "nowhere/model" }] },
            outer: { targets: [{ model: "team/smart" }, { model: "a/one" }, { model: "a/one" }] },
            fast: { targets: [{ model: "a/one" }] }
          }
        }).pipe(Effect.provideService(ProviderRegistry, registry))
      )
      expect(error._tag).toBe("RoutingPolicyError")
      expect(error.message.split("\n")).toEqual([
        "routes.team/smart.targets.1.model: unknown vendor `nowhere` (configured vendors: a)",
        "routes.outer.targets.0.model: `team/smart` is a route; a target must be a `vendor/model` (routes do not nest)",
        "routes.outer.targets.2.model: `a/one` is listed twice",
        "routes.fast: `fast` is also an alias; a name is either an alias or a route"
      ])
    }))

  it.effect("models lists the routes beside the vendors' models; a route named like a model replaces it", () =>
    Effect.gen(function*() {
      const { service } = yield* routed(
        { a: [TestProvider.reply("a")], b: [TestProvider.reply("b")] },
        { routes: { smart: { targets: [{ model: "a/one" }, { model: "b/two" }] }, "a/test-model": { targets: [{ model: "b/two" }] } } }
      )
      const models = yield* service.models
      expect(models.filter((model) => model.id === "a/test-model")).toEqual([
        { id: "a/test-model", vendor: "route", ownedBy: "route of b/two" }
      ])
      expect(models).toContainEqual({ id: "smart", vendor: "route", ownedBy: "route of a/one, b/two" })
      expect(models).toContainEqual({ id: "b/test-model", vendor: "b" })
      const record = makeCallRecord()
      yield* service.create(ask("a/test-model"), makeContext({ record }))
      expect(record.target).toBe("b/two")
    }))
})

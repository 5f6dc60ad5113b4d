import { describe, expect, it } from "@effect/vitest"
import type { ServiceConfig } from "@switchyard/service"
import { FakeUpstream, FakeVendors } from "@switchyard/service/testing"
import { Effect, Random } from "effect"
import * as Net from "node:net"
import OpenAI from "openai"
import {
  answerText,
  openStream,
  postJson,
  request,
  sleep,
  sseData,
  startGateway,
  type StartOptions,
  type TestGateway,
  textChunks,
  waitUntil
} from "./support/Harness.js"

const TIMEOUT = 30_000
const messages = [{ role: "user" as const, content: "Say hello" }]

type Handler = FakeUpstream.FakeHandler

const failWith = (status: number, message: string, headers: Record<string, string> = {}): Handler => (_request, response) =>
  FakeUpstream.sendJson(response, status, { error: { message, type: status < 500 ? "invalid_request_error" : "server_error" } }, headers)

/** A gateway whose custom OpenAI-compatible vendors are fake upstreams, with the given routes and breaker. */
const routedGateway = (
  vendors: Readonly<Record<string, FakeUpstream.FakeUpstream | string>>,
  routing: Pick<ServiceConfig.ServiceConfig, "routes" | "circuit_breaker" | "timeouts">,
  options: Omit<StartOptions, "service"> = {}
) =>
  startGateway({
    ...options,
    service: {
      retry: { max_retries: 0 },
      vendors: Object.fromEntries(
        Object.entries(vendors).map(([name, upstream]) => [name, { base_url: typeof upstream === "string" ? upstream : upstream.baseUrl }])
      ),
      ...routing
    }
  })

const route = (...models: ReadonlyArray<string>) => ({ targets: models.map((model) => ({ model })) as [{ model: string }] })

const client = (gateway: TestGateway) => new OpenAI({ baseURL: `${gateway.url}/v5`, apiKey: "none", maxRetries: 0 })

const complete = (gateway: TestGateway, model: string, extra: Record<string, unknown> = {}) =>
  Effect.promise(() => postJson(`${gateway.url}/v5/chat/completions`, { model, messages, ...extra }))

/** A port nothing listens on: connecting to it is refused. */
const closedPort = Effect.promise(() =>
  new Promise<number>((resolve) => {
    const server = Net.createServer()
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as Net.AddressInfo).port
      server.close(() => resolve(port))
    })
  })
)

describe("routes: fallback across vendors, over real HTTP", () => {
  it.scopedLive("a 503 falls back to the next vendor; the openai SDK gets the answer and x-switchyard-target names it", () =>
    Effect.gen(function*() {
      const first = yield* FakeUpstream.scoped(failWith(503, "The server is overloaded"))
      const second = yield* FakeUpstream.scoped(answerText("Hello from the second vendor"))
      const gateway = yield* routedGateway({ first, second }, { routes: { smart: route("first/big", "second/small") } })
      const { data, response } = yield* Effect.promise(() =>
        client(gateway).chat.completions.create({ model: "smart", messages }).withResponse()
      )
      expect(data.choices[0]?.message.content).toBe("Hello from the second vendor")
      expect(response.headers.get("x-switchyard-target")).toBe("second/small")
      expect(first.requests.map((r) => (r.json as { model: string }).model)).toEqual(["big"])
      expect(second.requests.map((r) => (r.json as { model: string }).model)).toEqual(["small"])
      const line = yield* gateway.log.line((line) => line.includes(response.headers.get("x-request-id")!))
      expect(line).toContain("model=smart")
      expect(line).toContain("target=second/small")
    }), TIMEOUT)

  const fallbackCases: ReadonlyArray<{ readonly name: string; readonly first: Handler | "refused" | "silent"; readonly timeouts?: ServiceConfig.ServiceConfig["timeouts"] }> = [
    { name: "a 429", first: failWith(429, "Rate limit reached", { "retry-after": "30" }) },
    { name: "a refused connection", first: "refused" },
    { name: "a timeout", first: "silent", timeouts: { total_ms: 700 } },
    { name: "an upstream 401 (the vendor rejects the provider key)", first: failWith(401, "Incorrect API key provided") }
  ]
  for (const { first, name, timeouts } of fallbackCases) {
    it.scopedLive(`${name} falls back to the next vendor`, () =>
      Effect.gen(function*() {
        const upstream = first === "refused"
          ? `http://127.0.0.1:${yield* closedPort}/v1`
          : yield* FakeUpstream.scoped(first === "silent" ? () => undefined : first)
        const second = yield* FakeUpstream.scoped(answerText("second answers"))
        const gateway = yield* routedGateway(
          { first: upstream, second },
          { routes: { smart: route("first/big", "second/small") }, ...(timeouts !== undefined ? { timeouts } : {}) }
        )
        const completion = yield* Effect.promise(() => client(gateway).chat.completions.create({ model: "smart", messages }))
        expect(completion.choices[0]?.message.content).toBe("second answers")
        if (typeof upstream !== "string") expect(upstream.requests).toHaveLength(1)
        expect(second.requests).toHaveLength(1)
      }), TIMEOUT)
  }

  it.scopedLive("a 400 from the vendor goes straight back to the client: no fallback", () =>
    Effect.gen(function*() {
      const first = yield* FakeUpstream.scoped(failWith(400, "max_tokens is too large for this model"))
      const second = yield* FakeUpstream.scoped(answerText("never"))
      const gateway = yield* routedGateway({ first, second }, { routes: { smart: route("first/big", "second/small") } })
      const response = yield* complete(gateway, "smart")
      expect(response.status).toBe(400)
      expect(JSON.parse(response.text)).toMatchObject({ error: { message: "max_tokens is too large for this model" } })
      expect(second.requests).toHaveLength(0)
    }), TIMEOUT)

  it.scopedLive("every target failing: the last failure's status, a message naming every target and why", () =>
    Effect.gen(function*() {
      const first = yield* FakeUpstream.scoped(failWith(503, "first is down"))
      const second = yield* FakeUpstream.scoped(failWith(429, "second is busy", { "retry-after": "7" }))
      const gateway = yield* routedGateway({ first, second }, { routes: { smart: route("first/big", "second/small") } })
      const response = yield* complete(gateway, "smart")
      expect(response.status).toBe(429)
      expect(response.headers["retry-after"]).toBe("7")
      expect(JSON.parse(response.text)).toEqual({
        error: {
          message: "Every target of `smart` failed: first/big: first is down; second/small: second is busy",
          type: "rate_limit_error",
          param: null,
          code: "rate_limit_exceeded"
        }
      })
    }), TIMEOUT)

  it.scopedLive("a stream falls back before its first chunk (openai SDK), with x-switchyard-target on the stream", () =>
    Effect.gen(function*() {
      const first = yield* FakeUpstream.scoped(failWith(502, "Bad gateway"))
      const second = yield* FakeUpstream.scoped(answerText("streamed by the second vendor"))
      const gateway = yield* routedGateway({ first, second }, { routes: { smart: route("first/big", "second/small") } })
      const { content, target } = yield* Effect.promise(async () => {
        const { data, response } = await client(gateway).chat.completions.create({ model: "smart", messages, stream: true })
          .withResponse()
        let content = ""
        for await (const chunk of data) content += chunk.choices[0]?.delta.content ?? ""
        return { content, target: response.headers.get("x-switchyard-target") }
      })
      expect(content).toBe("streamed by the second vendor")
      expect(target).toBe("second/small")
      expect(first.requests).toHaveLength(1)
    }), TIMEOUT)

  it.scopedLive("a stream cut after its first chunk ends with the in-band error; the second target is never called", () =>
    Effect.gen(function*() {
      const first = yield* FakeUpstream.scoped((_request, response) =>
        FakeUpstream.sendSse(response, textChunks("a partial answer that breaks"), { resetAfter: 2 })
      )
      const second = yield* FakeUpstream.scoped(answerText("never"))
      const gateway = yield* routedGateway({ first, second }, { routes: { smart: route("first/big", "second/small") } })
      const stream = yield* Effect.promise(() =>
        openStream(`${gateway.url}/v5/chat/completions`, { model: "smart", messages, stream: true })
      )
      expect(stream.status).toBe(200)
      expect(stream.headers["x-switchyard-target"]).toBe("first/big")
      yield* Effect.promise(() => stream.closed)
      const events = sseData(stream.text())
      expect(events.at(-1)).toMatchObject({ error: { code: "upstream_unavailable" } })
      expect(stream.text()).not.toContain("[DONE]")
      expect(second.requests).toHaveLength(0)

      const sdkError = yield* Effect.promise(async () => {
        const data = await client(gateway).chat.completions.create({ model: "smart", messages, stream: true })
        try {
          for await (const _ of data) { /* reading */ }
          return undefined
        } catch (error) {
          return error
        }
      })
      expect(sdkError).toBeInstanceOf(OpenAI.APIError)
      expect(second.requests).toHaveLength(0)
    }), TIMEOUT)

  it.scopedLive("the Anthropic and Gemini translations work through routes, streamed or not", () =>
    Effect.gen(function*() {
      const first = yield* FakeUpstream.scoped(failWith(503, "The server is overloaded"))
      const anthropic = yield* FakeUpstream.scoped(FakeVendors.anthropic)
      const gemini = yield* FakeUpstream.scoped(FakeVendors.gemini)
      const gateway = yield* startGateway({
        service: {
          retry: { max_retries: 0 },
          vendors: { first: { base_url: first.baseUrl } },
          anthropic: { base_url: anthropic.baseUrl },
          gemini: { base_url: `${gemini.origin}/v1beta` },
          routes: {
            claude: route("first/big", "anthropic/claude-sonnet-4-5"),
            flash: route("first/big", "gemini/gemini-2.5-flash")
          }
        }
      })
      const { data, response } = yield* Effect.promise(() =>
        client(gateway).chat.completions.create({ model: "claude", messages }).withResponse()
      )
      expect(data.choices[0]?.message.content).toBe(FakeVendors.Conversation.greeting.join(""))
      expect(response.headers.get("x-switchyard-target")).toBe("anthropic/claude-sonnet-4-5")
      expect(anthropic.requests[0]?.json).toMatchObject({ model: "claude-sonnet-4-5" })
      const streamed = yield* Effect.promise(async () => {
        const { data, response } = await client(gateway).chat.completions.create({ model: "flash", messages, stream: true })
          .withResponse()
        let content = ""
        for await (const chunk of data) content += chunk.choices[0]?.delta.content ?? ""
        return { content, target: response.headers.get("x-switchyard-target") }
      })
      expect(streamed).toEqual({ content: FakeVendors.Conversation.greeting.join(""), target: "gemini/gemini-2.5-flash" })
      expect(first.requests).toHaveLength(2)
    }), TIMEOUT)

  it.scopedLive("the Responses API takes routes too: a fallback, and x-switchyard-target on its answer", () =>
    Effect.gen(function*() {
      const first = yield* FakeUpstream.scoped(failWith(503, "The server is overloaded"))
      const second = yield* FakeUpstream.scoped(answerText("a response from the second vendor"))
      const gateway = yield* routedGateway({ first, second }, { routes: { smart: route("first/big", "second/small") } })
      const response = yield* Effect.promise(() => postJson(`${gateway.url}/v5/responses`, { model: "smart", input: "Say hello" }))
      expect(response.status).toBe(200)
      expect(response.headers["x-switchyard-target"]).toBe("second/small")
      expect(JSON.parse(response.text)).toMatchObject({ object: "response", status: "completed" })
      expect(response.text).toContain("a response from the second vendor")
      expect(first.requests).toHaveLength(1)
    }), TIMEOUT)

  it.scopedLive("x-switchyard-target is on direct calls too, streamed or not; /v5/models and /v1/models list the routes", () =>
    Effect.gen(function*() {
      const second = yield* FakeUpstream.scoped(answerText("direct"))
      const gateway = yield* routedGateway({ second }, { routes: { smart: route("second/small", "openai/gpt-4o") } })
      const plain = yield* complete(gateway, "openai/gpt-4o")
      expect(plain.headers["x-switchyard-target"]).toBe("openai/gpt-4o")
      const stream = yield* Effect.promise(() =>
        openStream(`${gateway.url}/v5/chat/completions`, { model: "second/other", messages, stream: true })
      )
      expect(stream.headers["x-switchyard-target"]).toBe("second/other")
      yield* Effect.promise(() => stream.closed)
      for (const path of ["/v5/models", "/v1/models"]) {
        const list = JSON.parse((yield* Effect.promise(() => request(`${gateway.url}${path}`))).text) as {
          data: Array<{ id: string; owned_by: string }>
        }
        expect(list.data).toContainEqual({ id: "smart", object: "model", created: 0, owned_by: "route of second/small, openai/gpt-4o" })
      }
    }), TIMEOUT)
})

describe("routes: load balancing over real HTTP", () => {
  it.scopedLive("3:1 weights over 400 requests land within a few percent of 300:100", () =>
    Effect.gen(function*() {
      const heavy = yield* FakeUpstream.scoped(answerText("heavy"))
      const light = yield* FakeUpstream.scoped(answerText("light"))
      const gateway = yield* routedGateway(
        { heavy, light },
        { routes: { lb: { strategy: "loadbalance", targets: [{ model: "heavy/m", weight: 3 }, { model: "light/m", weight: 1 }] } } },
        { random: Random.make("gateway-routing") }
      )
      const targets = yield* Effect.forEach(
        Array.from({ length: 400 }),
        () => Effect.map(complete(gateway, "lb"), (response) => response.headers["x-switchyard-target"]),
        { concurrency: 8 }
      )
      expect(heavy.requests.length + light.requests.length).toBe(400)
      expect(Math.abs(heavy.requests.length - 300)).toBeLessThanOrEqual(16)
      expect(targets.filter((target) => target === "heavy/m")).toHaveLength(heavy.requests.length)
    }), TIMEOUT)
})

describe("circuit breakers over real HTTP", () => {
  it.scopedLive("open after the threshold: the failing upstream sees no connection during the cooldown; then a probe, and it closes", () =>
    Effect.gen(function*() {
      const flaky = yield* FakeUpstream.scoped(failWith(503, "down"))
      const steady = yield* FakeUpstream.scoped(answerText("steady"))
      const gateway = yield* routedGateway(
        { flaky, steady },
        { routes: { smart: route("flaky/m", "steady/m") }, circuit_breaker: { failure_threshold: 3, cooldown_ms: 1_500 } }
      )
      for (let i = 0; i < 3; i++) expect((yield* complete(gateway, "smart")).headers["x-switchyard-target"]).toBe("steady/m")
      expect(flaky.requests).toHaveLength(3)
      const connections = flaky.connections()

      const opened = performance.now()
      for (let i = 0; i < 5; i++) {
        const response = yield* complete(gateway, "smart")
        expect(response.status).toBe(200)
        expect(response.headers["x-switchyard-target"]).toBe("steady/m")
      }
      const direct = yield* complete(gateway, "flaky/m")
      expect(direct.status).toBe(503)
      expect(JSON.parse(direct.text)).toMatchObject({ error: { code: "no_healthy_target" } })
      expect(performance.now() - opened).toBeLessThan(1_500)
      expect(flaky.requests).toHaveLength(3)
      expect(flaky.connections()).toBe(connections)

      flaky.setHandler(answerText("flaky is back"))
      yield* Effect.promise(() => sleep(1_600 - (performance.now() - opened)))
      const probe = yield* complete(gateway, "smart")
      expect(probe.headers["x-switchyard-target"]).toBe("flaky/m")
      expect(flaky.requests).toHaveLength(4)
      const after = yield* complete(gateway, "smart")
      expect(after.headers["x-switchyard-target"]).toBe("flaky/m")
      expect(flaky.requests).toHaveLength(5)
    }), TIMEOUT)

  it.scopedLive("every target's breaker open: 503 no_healthy_target at once, with retry-after until the first half-opens", () =>
    Effect.gen(function*() {
      const first = yield* FakeUpstream.scoped(failWith(503, "first down"))
      const second = yield* FakeUpstream.scoped(failWith(500, "second broken"))
      const gateway = yield* routedGateway(
        { first, second },
        { routes: { smart: route("first/m", "second/m") }, circuit_breaker: { failure_threshold: 2, cooldown_ms: 20_000 } }
      )
      for (let i = 0; i < 2; i++) expect((yield* complete(gateway, "smart")).status).toBe(502)
      const response = yield* complete(gateway, "smart")
      expect(response.status).toBe(503)
      expect(Number(response.headers["retry-after"])).toBeGreaterThanOrEqual(19)
      expect(Number(response.headers["retry-after"])).toBeLessThanOrEqual(20)
      expect(JSON.parse(response.text)).toMatchObject({
        error: { type: "upstream_error", code: "no_healthy_target", message: expect.stringContaining("first/m, second/m") }
      })
      expect(response.headers["x-switchyard-target"]).toBeUndefined()
      expect(first.requests).toHaveLength(2)
      expect(second.requests).toHaveLength(2)
    }), TIMEOUT)
})

describe("hedged requests over real HTTP", () => {
  it.scopedLive("the second target wins the hedge; the first's upstream connection is closed within 100 ms of the winner's first chunk", () =>
    Effect.gen(function*() {
      const slow = yield* FakeUpstream.scoped((_request, response) => {
        response.writeHead(200, { "content-type": "text/event-stream" })
        response.flushHeaders()
      })
      const quick = yield* FakeUpstream.scoped(answerText("the hedge answers", { delayMs: 5 }))
      const gateway = yield* routedGateway(
        { slow, quick },
        { routes: { hedged: { ...route("slow/m", "quick/m"), hedge_after_ms: 300 } } }
      )
      const aborted = slow.nextAbort().then(() => performance.now())
      const started = performance.now()
      const stream = yield* Effect.promise(() =>
        openStream(`${gateway.url}/v5/chat/completions`, { model: "hedged", messages, stream: true, stream_options: { include_usage: true } })
      )
      yield* Effect.promise(() => stream.until((text) => text.includes('"content"')))
      const firstChunk = stream.arrivals[0]!.at
      expect(firstChunk - started).toBeGreaterThanOrEqual(290)
      expect(stream.headers["x-switchyard-target"]).toBe("quick/m")
      const closedAt = yield* Effect.promise(() => aborted)
      expect(closedAt - firstChunk).toBeLessThan(100)
      yield* Effect.promise(() => stream.closed)
      expect(sseData(stream.text()).map((event) => (event as { choices: Array<{ delta: { content?: string } }> }).choices[0]?.delta.content ?? "").join(""))
        .toBe("the hedge answers")
      expect(slow.requests).toHaveLength(1)
      expect(quick.requests).toHaveLength(1)
      yield* Effect.promise(() =>
        waitUntil(() => gateway.log.text().includes("target=quick/m") ? true : undefined, 5_000, () => gateway.log.text())
      )
    }), TIMEOUT)
})

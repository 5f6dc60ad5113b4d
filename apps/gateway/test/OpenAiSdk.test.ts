import { describe, expect, it } from "@effect/vitest"
import { FakeUpstream } from "@switchyard/service/testing"
import { Effect } from "effect"
import OpenAI from "openai"
import {
  chunk,
  completionBody,
  request,
  startGateway,
  type TestGateway,
  textChunks,
  UPSTREAM_KEY
} from "./support/Harness.js"

type APIError = InstanceType<typeof OpenAI.APIError>

const GATEWAY_KEY = "sy-gateway-key-1"
const messages = [{ role: "user" as const, content: "Say hello" }]

const client = (gateway: TestGateway, options: ConstructorParameters<typeof OpenAI>[0] = {}) =>
  new OpenAI({ baseURL: `${gateway.url}/v5`, apiKey: GATEWAY_KEY, maxRetries: 0, ...options })

/** Runs a call that must fail, and returns what it threw. */
const rejection = (call: () => Promise<unknown>) =>
  Effect.promise(() =>
    call().then(
      (value) => {
        throw new Error(`expected a failure, got ${JSON.stringify(value)}`)
      },
      (error: unknown) => error
    )
  )

const TIMEOUT = 20_000

describe("the official openai SDK against the gateway and a fake upstream", () => {
  it.scopedLive("creates a completion through the /v5 base URL", () =>
    Effect.gen(function*() {
      const gateway = yield* startGateway({ gateway: { apiKeys: [GATEWAY_KEY] } })
      const completion = yield* Effect.promise(() =>
        client(gateway).chat.completions.create({ model: "openai/gpt-4o", messages })
      )
      expect(completion.object).toBe("chat.completion")
      expect(completion.choices[0]?.message.content).toBe("Hello from upstream")
      expect(completion.choices[0]?.finish_reason).toBe("stop")
      expect(completion.usage).toMatchObject({ prompt_tokens: 9, completion_tokens: 4, total_tokens: 13 })
      const upstream = gateway.upstream.requests
      expect(upstream).toHaveLength(1)
      expect(upstream[0]?.path).toBe("/v1/chat/completions")
      expect(upstream[0]?.json).toMatchObject({ model: "gpt-4o", messages })
      expect(upstream[0]?.headers.authorization).toBe(`Bearer ${UPSTREAM_KEY}`)
    }), TIMEOUT)

  it.scopedLive("works with the /v1 base URL too", () =>
    Effect.gen(function*() {
      const gateway = yield* startGateway({ gateway: { apiKeys: [GATEWAY_KEY] } })
      const completion = yield* Effect.promise(() =>
        client(gateway, { baseURL: `${gateway.url}/v1` }).chat.completions.create({ model: "openai/gpt-4o", messages })
      )
      expect(completion.choices[0]?.message.content).toBe("Hello from upstream")
      const streamed: Array<string> = []
      yield* Effect.promise(async () => {
        const stream = await client(gateway, { baseURL: `${gateway.url}/v1` }).chat.completions.create({
          model: "openai/gpt-4o",
          messages,
          stream: true
        })
        for await (const part of stream) streamed.push(part.choices[0]?.delta.content ?? "")
      })
      expect(streamed.join("")).toBe("Hello from upstream")
    }), TIMEOUT)

  it.scopedLive("streams, with the usage on the last chunk when stream_options.include_usage is set", () =>
    Effect.gen(function*() {
      const gateway = yield* startGateway({ gateway: { apiKeys: [GATEWAY_KEY] } })
      const chunks = yield* Effect.promise(async () => {
        const stream = await client(gateway).chat.completions.create({
          model: "openai/gpt-4o",
          messages,
          stream: true,
          stream_options: { include_usage: true }
        })
        const out: Array<OpenAI.Chat.Completions.ChatCompletionChunk> = []
        for await (const part of stream) out.push(part)
        return out
      })
      expect(chunks.map((c) => c.choices[0]?.delta.content ?? "").join("")).toBe("Hello from upstream")
      const last = chunks[chunks.length - 1]!
      expect(last.choices).toEqual([])
      expect(last.usage).toMatchObject({ prompt_tokens: 9, completion_tokens: 3, total_tokens: 12 })
      for (const earlier of chunks.slice(0, -1)) expect(earlier.usage ?? null).toBeNull()
      expect(gateway.upstream.requests[0]?.json).toMatchObject({ stream: true, stream_options: { include_usage: true } })
    }), TIMEOUT)

  it.scopedLive("reassembles tool call arguments split across upstream chunks (stream helper)", () =>
    Effect.gen(function*() {
      const args = JSON.stringify({ city: "Paris", unit: "celsius" })
      const pieces = [args.slice(0, 3), args.slice(3, 11), args.slice(11, 20), args.slice(20)]
      const gateway = yield* startGateway({
        gateway: { apiKeys: [GATEWAY_KEY] },
        upstream: (_request, response) =>
          FakeUpstream.sendSse(response, [
            chunk({
              role: "assistant",
              content: null,
              tool_calls: [{ index: 0, id: "call_1", type: "function", function: { name: "get_weather", arguments: "" } }]
            }),
            ...pieces.map((piece) => chunk({ tool_calls: [{ index: 0, function: { arguments: piece } }] })),
            chunk({}, "tool_calls")
          ])
      })
      const final = yield* Effect.promise(() =>
        client(gateway).chat.completions.stream({
          model: "openai/gpt-4o",
          messages: [{ role: "user", content: "Weather in Paris?" }],
          tools: [{
            type: "function",
            function: {
              name: "get_weather",
              parameters: { type: "object", properties: { city: { type: "string" }, unit: { type: "string" } } }
            }
          }]
        }).finalChatCompletion()
      )
      const choice = final.choices[0]!
      expect(choice.finish_reason).toBe("tool_calls")
      expect(choice.message.tool_calls).toHaveLength(1)
      const call = choice.message.tool_calls![0]!
      expect(call).toMatchObject({ id: "call_1", type: "function" })
      expect(call.type === "function" ? call.function : undefined).toMatchObject({ name: "get_weather", arguments: args })
      expect(JSON.parse(args)).toEqual({ city: "Paris", unit: "celsius" })
      expect(gateway.upstream.requests[0]?.json).toMatchObject({ tools: [{ function: { name: "get_weather" } }] })
    }), TIMEOUT)

  it.scopedLive("accepts the gateway key as Authorization: Bearer or as x-api-key", () =>
    Effect.gen(function*() {
      const gateway = yield* startGateway({ gateway: { apiKeys: ["other-key", GATEWAY_KEY] } })
      const bearer = yield* Effect.promise(() =>
        client(gateway).chat.completions.create({ model: "openai/gpt-4o", messages })
      )
      expect(bearer.choices[0]?.message.content).toBe("Hello from upstream")
      const viaHeader = yield* Effect.promise(() =>
        client(gateway, { apiKey: "unused", defaultHeaders: { authorization: null, "x-api-key": GATEWAY_KEY } })
          .chat.completions.create({ model: "openai/gpt-4o", messages })
      )
      expect(viaHeader.choices[0]?.message.content).toBe("Hello from upstream")
    }), TIMEOUT)

  it.scopedLive("a wrong or missing gateway key is an AuthenticationError (401), and nothing goes upstream", () =>
    Effect.gen(function*() {
      const gateway = yield* startGateway({ gateway: { apiKeys: [GATEWAY_KEY] } })
      const wrong = yield* rejection(() =>
        client(gateway, { apiKey: "not-the-key" }).chat.completions.create({ model: "openai/gpt-4o", messages })
      )
      expect(wrong).toBeInstanceOf(OpenAI.AuthenticationError)
      expect((wrong as APIError).status).toBe(401)
      expect((wrong as APIError).requestID).toMatch(/\S/)
      const missing = yield* rejection(() =>
        client(gateway, { defaultHeaders: { authorization: null } }).chat.completions.create({
          model: "openai/gpt-4o",
          messages
        })
      )
      expect(missing).toBeInstanceOf(OpenAI.AuthenticationError)
      const wrongHeader = yield* rejection(() =>
        client(gateway, { defaultHeaders: { authorization: null, "x-api-key": "not-the-key" } }).models.list()
      )
      expect(wrongHeader).toBeInstanceOf(OpenAI.AuthenticationError)
      expect(gateway.upstream.requests).toHaveLength(0)
    }), TIMEOUT)

  it.scopedLive("an invalid request is an UnprocessableEntityError (422) with the validation code", () =>
    Effect.gen(function*() {
      const gateway = yield* startGateway({ gateway: { apiKeys: [GATEWAY_KEY] } })
      const error = yield* rejection(() =>
        client(gateway).chat.completions.create({ model: "openai/gpt-4o", messages, temperature: 5 })
      )
      expect(error).toBeInstanceOf(OpenAI.UnprocessableEntityError)
      const apiError = error as APIError
      expect(apiError.status).toBe(422)
      expect(apiError.code).toBe("validation_error")
      expect(apiError.param).toBe("temperature")
      expect(apiError.message).toContain("temperature")
      expect(gateway.upstream.requests).toHaveLength(0)
    }), TIMEOUT)

  it.scopedLive("an unknown vendor is a NotFoundError (404)", () =>
    Effect.gen(function*() {
      const gateway = yield* startGateway({ gateway: { apiKeys: [GATEWAY_KEY] } })
      const error = yield* rejection(() => client(gateway).chat.completions.create({ model: "nope/some-model", messages }))
      expect(error).toBeInstanceOf(OpenAI.NotFoundError)
      expect((error as APIError).code).toBe("model_not_found")
      expect((error as APIError).message).toContain("nope")
    }), TIMEOUT)

  it.scopedLive("an upstream 429 is a RateLimitError with retry-after and retry-after-ms passed on", () =>
    Effect.gen(function*() {
      const gateway = yield* startGateway({
        gateway: { apiKeys: [GATEWAY_KEY] },
        // Retries allowed, but a retry-after of 120 s is over the 60 s the policy waits for: passed on at once.
        service: { retry: { max_retries: 2, max_retry_after_ms: 60_000 } },
        upstream: (_request, response) =>
          FakeUpstream.sendJson(
            response,
            429,
            { error: { message: "Rate limit reached for gpt-4o", type: "rate_limit_error", code: "rate_limit_exceeded" } },
            { "retry-after": "120" }
          )
      })
      for (const stream of [false, true]) {
        const error = yield* rejection(() =>
          client(gateway).chat.completions.create({ model: "openai/gpt-4o", messages, stream })
        )
        expect(error, `stream: ${stream}`).toBeInstanceOf(OpenAI.RateLimitError)
        const apiError = error as APIError
        expect(apiError.headers?.get("retry-after")).toBe("120")
        expect(apiError.headers?.get("retry-after-ms")).toBe("120000")
        expect(apiError.message).toContain("Rate limit reached for gpt-4o")
      }
      expect(gateway.upstream.requests).toHaveLength(2)
    }), TIMEOUT)

  it.scopedLive("a stream that fails mid-way makes the SDK's iteration throw (in-band error), after the first chunks", () =>
    Effect.gen(function*() {
      const gateway = yield* startGateway({
        gateway: { apiKeys: [GATEWAY_KEY] },
        upstream: (_request, response) => FakeUpstream.sendSse(response, textChunks("one two three four"), { resetAfter: 3 })
      })
      const received: Array<string> = []
      const outcome = yield* Effect.promise(async () => {
        const stream = await client(gateway).chat.completions.create({ model: "openai/gpt-4o", messages, stream: true })
        try {
          for await (const part of stream) received.push(part.choices[0]?.delta.content ?? "")
          return { threw: false as const }
        } catch (error) {
          return { threw: true as const, error }
        }
      })
      expect(outcome.threw).toBe(true)
      expect(outcome.threw && outcome.error).toBeInstanceOf(OpenAI.APIError)
      expect(received.join("")).toBe("one two")
    }), TIMEOUT)

  it.scopedLive("lists models in OpenAI's format through the SDK", () =>
    Effect.gen(function*() {
      const gateway = yield* startGateway({ gateway: { apiKeys: [GATEWAY_KEY] } })
      const ids: Array<string> = []
      yield* Effect.promise(async () => {
        for await (const model of client(gateway).models.list()) ids.push(model.id)
      })
      expect(ids).toContain("echo/echo")
      expect(ids).toContain("openai/gpt-4o")
    }), TIMEOUT)
})

describe("caller keys and accounts", () => {
  const CALLER_KEY = "sk-caller-secret-0123456789"

  it.scopedLive("x-openai-api-key replaces the configured key upstream, and shows in no log line, body or header", () =>
    Effect.gen(function*() {
      const gateway = yield* startGateway({ gateway: { apiKeys: [GATEWAY_KEY] } })
      const headers = { "x-api-key": GATEWAY_KEY, "x-openai-api-key": CALLER_KEY }
      const plain = yield* Effect.promise(() =>
        request(`${gateway.url}/v5/chat/completions`, {
          method: "POST",
          headers: { ...headers, "content-type": "application/json" },
          body: JSON.stringify({ model: "openai/gpt-4o", messages })
        })
      )
      const streamed = yield* Effect.promise(() =>
        request(`${gateway.url}/v5/chat/completions`, {
          method: "POST",
          headers: { ...headers, "content-type": "application/json" },
          body: JSON.stringify({ model: "openai/gpt-4o", messages, stream: true })
        })
      )
      const { data: sdk, response: sdkResponse } = yield* Effect.promise(() =>
        client(gateway, { defaultHeaders: { "x-openai-api-key": CALLER_KEY } }).chat.completions.create({
          model: "openai/gpt-4o",
          messages
        }).withResponse()
      )
      expect(plain.status).toBe(200)
      expect(streamed.status).toBe(200)
      expect(sdk.choices[0]?.message.content).toBe("Hello from upstream")

      const upstream = gateway.upstream.requests
      expect(upstream).toHaveLength(3)
      for (const received of upstream) {
        expect(received.headers.authorization).toBe(`Bearer ${CALLER_KEY}`)
        // Neither the gateway's own key nor the caller-key header travels upstream.
        expect(JSON.stringify(received.headers)).not.toContain(GATEWAY_KEY)
        expect(received.headers["x-openai-api-key"]).toBeUndefined()
        expect(received.body).not.toContain(CALLER_KEY)
      }

      for (const response of [plain, streamed]) {
        expect(response.text).not.toContain(CALLER_KEY)
        expect(JSON.stringify(response.headers)).not.toContain(CALLER_KEY)
      }
      yield* gateway.log.line((line) => line.includes(String(plain.headers["x-request-id"])))
      yield* gateway.log.line((line) => line.includes(String(streamed.headers["x-request-id"])))
      yield* gateway.log.line((line) => line.includes(String(sdkResponse.headers.get("x-request-id"))))
      expect(gateway.log.text().split("\n").filter((line) => line.includes("/v5/chat/completions"))).toHaveLength(3)
      expect(gateway.log.text()).not.toContain(CALLER_KEY)
      expect(gateway.log.text()).not.toContain(GATEWAY_KEY)
    }), TIMEOUT)

  it.scopedLive("without x-openai-api-key the configured key is used", () =>
    Effect.gen(function*() {
      const gateway = yield* startGateway()
      yield* Effect.promise(() => client(gateway).chat.completions.create({ model: "openai/gpt-4o", messages }))
      expect(gateway.upstream.requests[0]?.headers.authorization).toBe(`Bearer ${UPSTREAM_KEY}`)
    }), TIMEOUT)

  it.scopedLive("x-selected-account-id appears in the access log line of the request", () =>
    Effect.gen(function*() {
      // The key may act for acct_4242 (a bare key acts for `default` only: another account is a 403).
      const gateway = yield* startGateway({ gateway: { apiKeys: [`${GATEWAY_KEY}:default|acct_4242`] } })
      const { response } = yield* Effect.promise(() =>
        client(gateway, { defaultHeaders: { "x-selected-account-id": "acct_4242" } }).chat.completions.create({
          model: "openai/gpt-4o",
          messages
        }).withResponse()
      )
      const requestId = response.headers.get("x-request-id")
      expect(requestId).toMatch(/\S/)
      const line = yield* gateway.log.line((line) => line.includes(requestId!))
      expect(line).toContain("POST /v5/chat/completions 200")
      expect(line).toContain("account=acct_4242")
      expect(line).toContain("model=openai/gpt-4o")
    }), TIMEOUT)
})

describe("the upstream answer is passed through unchanged", () => {
  it.scopedLive("a non-streamed completion keeps the upstream's id, model and usage", () =>
    Effect.gen(function*() {
      const gateway = yield* startGateway({
        upstream: (_request, response) => FakeUpstream.sendJson(response, 200, completionBody("exact", "gpt-4o-2024"))
      })
      const completion = yield* Effect.promise(() => client(gateway).chat.completions.create({ model: "openai/gpt-4o", messages }))
      expect(completion).toMatchObject({
        id: "chatcmpl-upstream",
        model: "gpt-4o-2024",
        choices: [{ message: { content: "exact" } }],
        usage: { total_tokens: 13 }
      })
    }), TIMEOUT)
})

// A resilient pipeline: a route `smart` tries OpenAI first (with one retry) and falls back to
// another target when it keeps failing. The "OpenAI" here is a local fake that answers 503 twice,
// so the run shows a retry, then a fallback; point OPENAI_BASE_URL elsewhere and it is the real one.
import { ChatCompletionRequest } from "@switchyard/core"
import { ChatCompletions, makeCallRecord, makeContext, routeModel, ServiceConfig } from "@switchyard/service"
import { FakeUpstream } from "@switchyard/service/testing"
import { ConfigProvider, Effect, Layer, Schema } from "effect"

const summarize = (text: string) =>
  Effect.gen(function*() {
    const completions = yield* ChatCompletions
    const request = yield* Schema.decodeUnknown(ChatCompletionRequest)({
      model: "openai/gpt-4o",
      messages: [{ role: "system", content: "Summarize in one line." }, { role: "user", content: text }]
    })
    const record = makeCallRecord()
    // A request names a route by its `model` (the gateway does this for `"model": "smart"` over HTTP).
    const completion = yield* completions.create({ ...request, model: routeModel("smart") }, makeContext({ record }))
    const attempts = record.attempts.map((attempt) => `${attempt.kind} ${attempt.target}: ${attempt.outcome}`)
    return { answer: completion.choices[0]?.message.content, answeredBy: record.target, attempts }
  })

const program = Effect.gen(function*() {
  const flaky = yield* FakeUpstream.scoped((_request, response) =>
    FakeUpstream.sendJson(response, 503, { error: { message: "overloaded", type: "server_error" } })
  )
  const service = ServiceConfig.layer({
    retry: { max_retries: 1, initial_delay_ms: 50 },
    routes: {
      smart: {
        strategy: "fallback",
        targets: [{ model: "openai/gpt-4o" }, { model: "echo/backup" }],
        retries_per_target: 1
      }
    }
  }).pipe(
    // Vendor keys and base URLs come from the environment; here, from a map.
    Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map([
      ["OPENAI_BASE_URL", flaky.baseUrl],
      ["OPENAI_API_KEY", "sk-example"]
    ]))))
  )
  const result = yield* Effect.provide(summarize("Switchyard routes chat completions."), service)
  console.log(result)
  if (result.answeredBy !== "echo/backup" || flaky.requests.length !== 2) {
    return yield* Effect.die(new Error(`expected two OpenAI attempts, then the fallback: ${JSON.stringify(result)}`))
  }
})

Effect.runPromise(Effect.scoped(program)).catch((error) => {
  console.error(error)
  process.exit(1)
})

// A small program as a user writes it: the library in-process, and the gateway embedded over it.
import { ChatCompletionRequest } from "@switchyard/core"
import { Gateway } from "@switchyard/gateway"
import { ChatCompletions, makeContext, ServiceConfig } from "@switchyard/service"
import { Effect, Layer, Schema, Stream } from "effect"
import * as assert from "node:assert/strict"

const request = Schema.decodeUnknownSync(ChatCompletionRequest)({
  model: "echo/demo",
  messages: [{ role: "user", content: "ping from a consumer" }]
})

const program = Effect.gen(function*() {
  const completions = yield* ChatCompletions
  const completion = yield* completions.create(request, makeContext())
  assert.equal(completion.choices[0]?.message.content, "ping from a consumer")
  const streamed = yield* Stream.runFold(completions.stream(request, makeContext()), "", (text, chunk) =>
    text + (chunk.choices[0]?.delta.content ?? ""))
  assert.equal(streamed, "ping from a consumer")

  const server = yield* Gateway.Server
  const answer = yield* Effect.promise(() =>
    fetch(`${server.url}/v5/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "echo/demo", messages: [{ role: "user", content: "over HTTP" }] })
    }).then((response) => response.json() as Promise<{ choices: Array<{ message: { content: string } }> }>)
  )
  assert.equal(answer.choices[0]?.message.content, "over HTTP")
  yield* Effect.log(`consumer program: ok (${server.url})`)
})

Effect.runPromise(program.pipe(Effect.provide(Gateway.layer({ port: 0 }).pipe(Layer.provideMerge(ServiceConfig.layer())))))
  .catch((error) => {
    console.error(error)
    process.exit(1)
  })

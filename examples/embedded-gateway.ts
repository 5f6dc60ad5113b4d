// The gateway's HTTP server inside your own Effect program, over your own ChatCompletions: here
// the offline echo vendor and a route; any OpenAI client can call it. Releasing the layer (the end
// of the program, or SIGINT under NodeRuntime.runMain) drains it.
import { Gateway } from "@switchyard/gateway"
import { ServiceConfig } from "@switchyard/service"
import { Effect, Layer } from "effect"
import OpenAI from "openai"

const Service = ServiceConfig.layer({ routes: { assistant: { targets: [{ model: "echo/assistant" }] } } })
const Server = Gateway.layer({ port: 0, apiKeys: ["sk-my-gateway"], accessLog: "text" }).pipe(Layer.provide(Service))

const program = Effect.gen(function*() {
  const server = yield* Gateway.Server
  const client = new OpenAI({ baseURL: `${server.url}/v5`, apiKey: "sk-my-gateway" })
  const completion = yield* Effect.promise(() =>
    client.chat.completions.create({ model: "assistant", messages: [{ role: "user", content: "Hello, gateway!" }] })
  )
  console.log(`${server.url} answered: ${completion.choices[0]?.message.content}`)
  if (completion.choices[0]?.message.content !== "Hello, gateway!") return yield* Effect.die(new Error("unexpected answer"))
})

Effect.runPromise(program.pipe(Effect.provide(Server))).catch((error) => {
  console.error(error)
  process.exit(1)
})

import * as LanguageModel from "@effect/ai/LanguageModel"
import * as Prompt from "@effect/ai/Prompt"
import type * as Response from "@effect/ai/Response"
import * as Tool from "@effect/ai/Tool"
import * as Toolkit from "@effect/ai/Toolkit"
import * as OpenAiClient from "@effect/ai-openai/OpenAiClient"
import * as OpenAiLanguageModel from "@effect/ai-openai/OpenAiLanguageModel"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { describe, expect, layer } from "@effect/vitest"
import { Chunk, Effect, Layer, Option, Redacted, Schema, Stream } from "effect"
import {
  afterTool,
  ALICE,
  Conversation,
  Fakes,
  gatewayUrl,
  greeting,
  lastTurns,
  vendorGateway,
  VENDORS
} from "./support/Vendors.js"

/**
 * `@effect/ai-openai`'s `OpenAiLanguageModel`, the Effect ecosystem's own
 * client of the Responses API, is the judge: with `apiUrl` pointed at the
 * gateway it runs `generateText` and `streamText`, tools (a call, its result
 * sent back) and multi-turn state, unchanged, against `openai/*`,
 * `anthropic/*` and `gemini/*`.
 */

const TIMEOUT = 30_000

const ClientLive = Layer.unwrapEffect(
  Effect.map(gatewayUrl, (url) => OpenAiClient.layer({ apiUrl: `${url}/v1`, apiKey: Redacted.make(ALICE) }))
).pipe(Layer.provide(NodeHttpClient.layerUndici))

const GetWeather = Tool.make("get_weather", {
  description: "The current weather in a city",
  parameters: { city: Schema.String },
  success: Schema.Struct({ sky: Schema.String, celsius: Schema.Number })
})
const WeatherToolkit = Toolkit.make(GetWeather)
const WeatherHandlers = WeatherToolkit.toLayer({
  get_weather: ({ city }) => Effect.succeed({ sky: city === "Paris" ? "clear" : "unknown", celsius: 24 })
})

const responseIdOf = (parts: ReadonlyArray<Response.AnyPart>): string | undefined => {
  const metadata = parts.find((part): part is Response.ResponseMetadataPart => part.type === "response-metadata")
  return metadata === undefined ? undefined : Option.getOrUndefined(metadata.id)
}

layer(vendorGateway(), { excludeTestServices: true })("@effect/ai-openai's OpenAiLanguageModel over every vendor", (it) => {
  for (const { model, vendor } of VENDORS) {
    const withModel = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
      effect.pipe(Effect.provide(OpenAiLanguageModel.model(model)), Effect.provide(ClientLive))

    describe(vendor, () => {
      it.effect("generateText: the text, the finish reason, the usage", () =>
        withModel(Effect.gen(function*() {
          const response = yield* LanguageModel.generateText({ prompt: "Say hello" })
          expect(response.text).toBe(greeting)
          expect(response.finishReason).toBe("stop")
          expect(response.usage.inputTokens).toBe(Conversation.usage.prompt)
          expect(response.usage.outputTokens).toBe(Conversation.usage.completion)
          expect(responseIdOf(response.content)).toMatch(/^resp_/)
        })), TIMEOUT)

      it.effect("streamText: text deltas that make the text, the response's id, a finish part", () =>
        withModel(Effect.gen(function*() {
          const parts = Chunk.toReadonlyArray(yield* Stream.runCollect(LanguageModel.streamText({ prompt: "Say hello" })))
          const deltas = parts.flatMap((part) => part.type === "text-delta" ? [part.delta] : [])
          expect(deltas.join("")).toBe(greeting)
          expect(deltas.length).toBeGreaterThan(1)
          expect(responseIdOf(parts as ReadonlyArray<Response.AnyPart>)).toMatch(/^resp_/)
          const finish = parts.find((part) => part.type === "finish")
          expect(finish?.type === "finish" && finish.reason).toBe("stop")
          expect(finish?.type === "finish" && finish.usage.inputTokens).toBe(Conversation.usage.prompt)
        })), TIMEOUT)

      it.effect("tools: the call is made and run; its result sent back with the history gives the answer (streamed too)", () =>
        withModel(Effect.gen(function*() {
          const prompt = Prompt.make("What's the weather in Paris?")
          const first = yield* LanguageModel.generateText({ prompt, toolkit: WeatherToolkit })
          expect(first.finishReason).toBe("tool-calls")
          expect(first.toolCalls.map((c) => [c.name, c.params])).toEqual([["get_weather", Conversation.toolCall.args]])
          expect(first.toolResults.map((r) => r.result)).toEqual([{ sky: "clear", celsius: 24 }])
          const history = Prompt.merge(prompt, Prompt.fromResponseParts(first.content))
          const second = yield* LanguageModel.generateText({ prompt: history, toolkit: WeatherToolkit })
          expect(second.text).toBe(afterTool)
          const streamed = Chunk.toReadonlyArray(
            yield* Stream.runCollect(LanguageModel.streamText({ prompt: history, toolkit: WeatherToolkit }))
          )
          expect(streamed.flatMap((part) => part.type === "text-delta" ? [part.delta] : []).join("")).toBe(afterTool)
          const firstStreamed = Chunk.toReadonlyArray(
            yield* Stream.runCollect(LanguageModel.streamText({ prompt, toolkit: WeatherToolkit }))
          )
          expect(firstStreamed.filter((part) => part.type === "tool-call").map((part) => part.type === "tool-call" && part.params))
            .toEqual([Conversation.toolCall.args])
        }).pipe(Effect.provide(WeatherHandlers))), TIMEOUT)

      it.effect("multi-turn state: the conversation sent whole, or continued by previous_response_id", () =>
        withModel(Effect.gen(function*() {
          const fakes = yield* Fakes
          const prompt = Prompt.make("Hello there")
          const first = yield* LanguageModel.generateText({ prompt })
          const whole = yield* LanguageModel.generateText({
            prompt: Prompt.merge(Prompt.merge(prompt, Prompt.fromResponseParts(first.content)), "Say hello again")
          })
          expect(whole.text).toBe(greeting)
          expect(lastTurns(fakes[vendor])).toHaveLength(3)
          const chained = yield* LanguageModel.generateText({ prompt: "Say hello again" }).pipe(
            OpenAiLanguageModel.withConfigOverride({ previous_response_id: responseIdOf(first.content)! })
          )
          expect(chained.text).toBe(greeting)
          const turns = lastTurns(fakes[vendor])
          expect(turns).toHaveLength(3)
          expect(JSON.stringify(turns[0])).toContain("Hello there")
        })), TIMEOUT)
    })
  }
})

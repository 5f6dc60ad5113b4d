import { createOpenAI } from "@ai-sdk/openai"
import { describe, expect, layer } from "@effect/vitest"
import { generateObject, generateText, stepCountIs, streamObject, streamText, tool } from "ai"
import { Effect } from "effect"
import { z } from "zod"
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
 * The Vercel AI SDK 5's `openai(...)` provider, which speaks the Responses API
 * by default, is the judge: `generateText`, `streamText`, tool calls over two
 * steps (the second refers to the first's items by `item_reference`),
 * `generateObject` and `previousResponseId`, unchanged, against `openai/*`,
 * `anthropic/*` and `gemini/*` through the gateway.
 */

const TIMEOUT = 30_000

/** The request bodies the provider sent to the gateway (recorded, then sent as they were). */
const sent: Array<Record<string, unknown>> = []
const recording: typeof fetch = (input, init) => {
  if (typeof init?.body === "string") sent.push(JSON.parse(init.body) as Record<string, unknown>)
  return fetch(input, init)
}

const providerFor = Effect.map(gatewayUrl, (url) => createOpenAI({ baseURL: `${url}/v1`, apiKey: ALICE, fetch: recording }))

const call = <A>(f: () => Promise<A>) => Effect.promise(f)

const Weather = z.object({ city: z.string(), temperature_c: z.number(), conditions: z.string() })

const weatherTool = (seen: Array<unknown>) =>
  tool({
    description: "The current weather in a city",
    inputSchema: z.object({ city: z.string() }),
    execute: async (input) => {
      seen.push(input)
      return { sky: "clear", celsius: 24 }
    }
  })

const usage = { inputTokens: Conversation.usage.prompt, outputTokens: Conversation.usage.completion }

layer(vendorGateway(), { excludeTestServices: true })("the Vercel AI SDK's openai(...) provider over every vendor", (it) => {
  for (const { model, vendor } of VENDORS) {
    describe(vendor, () => {
      it.effect("generateText: the text, the finish reason, the usage, the response id (stored)", () =>
        Effect.gen(function*() {
          const openai = yield* providerFor
          const url = yield* gatewayUrl
          const result = yield* call(() => generateText({ model: openai(model), prompt: "Say hello", system: "Be brief." }))
          expect(result.text).toBe(greeting)
          expect(result.finishReason).toBe("stop")
          expect(result.usage).toMatchObject(usage)
          expect(result.warnings ?? []).toEqual([])
          const id = result.providerMetadata?.openai?.responseId as string
          expect(id).toMatch(/^resp_/)
          expect(result.response.id).toBe(id)
          const stored = yield* call(() =>
            fetch(`${url}/v1/responses/${id}`, { headers: { authorization: `Bearer ${ALICE}` } }).then((r) => r.json()))
          expect(stored).toMatchObject({ id, status: "completed", instructions: null })
        }), TIMEOUT)

      it.effect("streamText: the text in pieces, the finish reason, the usage", () =>
        Effect.gen(function*() {
          const openai = yield* providerFor
          const { deltas, result } = yield* call(async () => {
            const result = streamText({ model: openai(model), prompt: "Say hello" })
            const deltas: Array<string> = []
            for await (const delta of result.textStream) deltas.push(delta)
            return { deltas, result }
          })
          expect(deltas.join("")).toBe(greeting)
          expect(deltas.length).toBeGreaterThan(1)
          expect(yield* call(() => Promise.resolve(result.finishReason))).toBe("stop")
          expect(yield* call(() => Promise.resolve(result.usage))).toMatchObject(usage)
          const metadata = yield* call(() => Promise.resolve(result.providerMetadata))
          expect(metadata?.openai?.responseId).toMatch(/^resp_/)
        }), TIMEOUT)

      it.effect("tools over two steps (generateText): the call, the tool run, the answer; the second step refers to the call by item_reference", () =>
        Effect.gen(function*() {
          const fakes = yield* Fakes
          const openai = yield* providerFor
          const seen: Array<unknown> = []
          const result = yield* call(() =>
            generateText({
              model: openai(model),
              prompt: "What's the weather in Paris?",
              tools: { get_weather: weatherTool(seen) },
              stopWhen: stepCountIs(3)
            }))
          expect(seen).toEqual([Conversation.toolCall.args])
          expect(result.steps).toHaveLength(2)
          expect(result.steps[0]!.finishReason).toBe("tool-calls")
          expect(result.steps[0]!.toolCalls.map((c) => [c.toolName, c.input])).toEqual([["get_weather", Conversation.toolCall.args]])
          expect(result.text).toBe(afterTool)
          expect(result.finishReason).toBe("stop")
          const second = sent[sent.length - 1]!.input as ReadonlyArray<Record<string, unknown>>
          expect(second.map((item) => item.type ?? item.role)).toEqual(["user", "item_reference", "function_call_output"])
          expect(second[1]!.id).toMatch(/^fc_/)
          // The vendor got the whole conversation back: the question, the call, its result.
          const turns = lastTurns(fakes[vendor])
          expect(turns).toHaveLength(3)
          expect(JSON.stringify(turns[1])).toContain("get_weather")
          expect(JSON.stringify(turns[2])).toContain("celsius")
        }), TIMEOUT)

      it.effect("tools over two steps (streamText)", () =>
        Effect.gen(function*() {
          const openai = yield* providerFor
          const seen: Array<unknown> = []
          const { text, steps } = yield* call(async () => {
            const result = streamText({
              model: openai(model),
              prompt: "What's the weather in Paris?",
              tools: { get_weather: weatherTool(seen) },
              stopWhen: stepCountIs(3)
            })
            let text = ""
            for await (const delta of result.textStream) text += delta
            return { text, steps: await result.steps }
          })
          expect(seen).toEqual([Conversation.toolCall.args])
          expect(steps).toHaveLength(2)
          expect(steps[0]!.toolCalls.map((c) => c.toolName)).toEqual(["get_weather"])
          expect(text).toBe(afterTool)
        }), TIMEOUT)

      it.effect("generateObject and streamObject: the object, through text.format json_schema", () =>
        Effect.gen(function*() {
          const openai = yield* providerFor
          const generated = yield* call(() =>
            generateObject({ model: openai(model), schema: Weather, prompt: "Describe the weather in Paris as JSON" }))
          expect(generated.object).toEqual(Conversation.structured)
          const streamed = yield* call(async () => {
            const result = streamObject({ model: openai(model), schema: Weather, prompt: "Describe the weather in Paris as JSON" })
            for await (const _ of result.partialObjectStream) void _
            return await result.object
          })
          expect(streamed).toEqual(Conversation.structured)
        }), TIMEOUT)

      it.effect("multi-turn state: previousResponseId carries the conversation", () =>
        Effect.gen(function*() {
          const fakes = yield* Fakes
          const openai = yield* providerFor
          const first = yield* call(() => generateText({ model: openai(model), prompt: "Hello there" }))
          const second = yield* call(() =>
            generateText({
              model: openai(model),
              prompt: "Say hello again",
              providerOptions: { openai: { previousResponseId: first.providerMetadata!.openai!.responseId as string } }
            }))
          expect(second.text).toBe(greeting)
          const turns = lastTurns(fakes[vendor])
          expect(turns).toHaveLength(3)
          expect(JSON.stringify(turns[0])).toContain("Hello there")
          expect(JSON.stringify(turns[2])).toContain("Say hello again")
        }), TIMEOUT)
    })
  }
})

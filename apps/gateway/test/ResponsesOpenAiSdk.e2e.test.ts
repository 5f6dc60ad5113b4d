import { describe, expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import OpenAI from "openai"
import { zodTextFormat } from "openai/helpers/zod"
import type { ResponseInputItem, ResponseStreamEvent } from "openai/resources/responses/responses"
import { z } from "zod"
import {
  afterTool,
  ALICE,
  BOB,
  Conversation,
  Fakes,
  gatewayUrl,
  greeting,
  lastTurns,
  rejection,
  structuredSchema,
  vendorGateway,
  VENDORS,
  weatherArgs,
  weatherParameters
} from "./support/Vendors.js"

/**
 * The official `openai` SDK is the judge: its Responses API methods
 * (`create`, `parse`, `stream`, `retrieve`, `delete`, `inputItems.list`) run
 * unchanged against the gateway, which serves them from fake OpenAI,
 * Anthropic and Gemini servers over real HTTP.
 */

const TIMEOUT = 30_000

const clientFor = (key: string, version: "v1" | "v5" = "v1") =>
  Effect.map(gatewayUrl, (url) => new OpenAI({ baseURL: `${url}/${version}`, apiKey: key, maxRetries: 0 }))

const call = <A>(f: () => Promise<A>) => Effect.promise(f)

const tools: Array<OpenAI.Responses.FunctionTool> = [{
  type: "function",
  name: "get_weather",
  description: "The current weather in a city",
  parameters: { ...weatherParameters },
  strict: true
}]

const usage = { input_tokens: Conversation.usage.prompt, output_tokens: Conversation.usage.completion }

layer(vendorGateway(), { excludeTestServices: true })("the openai SDK's Responses API over every vendor", (it) => {
  for (const { model, vendor } of VENDORS) {
    describe(vendor, () => {
      it.effect("responses.create: text; the stored response is retrieved as it was answered", () =>
        Effect.gen(function*() {
          const client = yield* clientFor(ALICE)
          const response = yield* call(() => client.responses.create({ model, input: "Say hello", instructions: "Be brief." }))
          expect(response.id).toMatch(/^resp_/)
          expect(response.object).toBe("response")
          expect(response.status).toBe("completed")
          expect(response.model).toBe(model)
          expect(response.output_text).toBe(greeting)
          expect(response.output).toHaveLength(1)
          expect(response.output[0]).toMatchObject({ type: "message", role: "assistant", status: "completed" })
          expect(response.output[0]!.id).toMatch(/^msg_/)
          expect(response.usage).toMatchObject({ ...usage, total_tokens: usage.input_tokens + usage.output_tokens })
          expect(response.incomplete_details).toBeNull()
          expect(response.error).toBeNull()
          expect(response.instructions).toBe("Be brief.")
          const retrieved = yield* call(() => client.responses.retrieve(response.id))
          expect(retrieved).toEqual(response)
        }), TIMEOUT)

      it.effect("responses.create with tools: a function_call, then its function_call_output sent back, then the answer", () =>
        Effect.gen(function*() {
          const client = yield* clientFor(ALICE)
          const input: Array<ResponseInputItem> = [{ role: "user", content: "What's the weather in Paris?" }]
          const first = yield* call(() => client.responses.create({ model, input, tools, store: false }))
          expect(first.status).toBe("completed")
          const calls = first.output.filter((item) => item.type === "function_call")
          expect(calls).toHaveLength(1)
          const fc = calls[0]!
          expect(fc).toMatchObject({ type: "function_call", name: "get_weather", arguments: weatherArgs, status: "completed" })
          expect(fc.id).toMatch(/^fc_/)
          expect(fc.call_id.length).toBeGreaterThan(0)
          // Stateless: the call goes back with its output (`store: false` kept nothing to chain on).
          const second = yield* call(() =>
            client.responses.create({
              model,
              tools,
              store: false,
              input: [...input, fc, { type: "function_call_output", call_id: fc.call_id, output: JSON.stringify({ sky: "clear" }) }]
            }))
          expect(second.output_text).toBe(afterTool)
          const missing = yield* rejection(() => client.responses.retrieve(first.id))
          expect(missing).toBeInstanceOf(OpenAI.NotFoundError)
        }), TIMEOUT)

      it.effect("text.format json_schema: responses.create and responses.parse give the object", () =>
        Effect.gen(function*() {
          const client = yield* clientFor(ALICE)
          const response = yield* call(() =>
            client.responses.create({
              model,
              input: "Describe the weather in Paris as JSON",
              text: { format: { type: "json_schema", name: "weather", schema: { ...structuredSchema }, strict: true } }
            }))
          expect(JSON.parse(response.output_text)).toEqual(Conversation.structured)
          expect(response.text?.format).toMatchObject({ type: "json_schema", name: "weather" })
          const Weather = z.object({ city: z.string(), temperature_c: z.number(), conditions: z.string() })
          const parsed = yield* call(() =>
            client.responses.parse({
              model,
              input: "Describe the weather in Paris as JSON",
              text: { format: zodTextFormat(Weather, "weather") }
            }))
          expect(parsed.output_parsed).toEqual(Conversation.structured)
        }), TIMEOUT)

      it.effect("responses.stream(): the events and the final response; the same id everywhere and in the store", () =>
        Effect.gen(function*() {
          const client = yield* clientFor(ALICE)
          const stream = client.responses.stream({ model, input: "Say hello" })
          const events: Array<ResponseStreamEvent> = []
          const deltas: Array<string> = []
          stream.on("response.output_text.delta", (event) => deltas.push(event.delta))
          yield* call(async () => {
            for await (const event of stream) events.push(event)
          })
          const final = yield* call(() => stream.finalResponse())
          expect(final.status).toBe("completed")
          expect(final.output_text).toBe(greeting)
          expect(deltas.join("")).toBe(greeting)
          expect(final.usage).toMatchObject(usage)
          expect(events[0]!.type).toBe("response.created")
          expect(events[1]!.type).toBe("response.in_progress")
          expect(events[events.length - 1]!.type).toBe("response.completed")
          expect(events.map((event) => event.sequence_number)).toEqual(events.map((_, i) => i))
          for (const event of events) {
            if ("response" in event) expect(event.response.id).toBe(final.id)
          }
          const retrieved = yield* call(() => client.responses.retrieve(final.id))
          expect(retrieved.output_text).toBe(greeting)
          // The SDK adds `output_text` (and `parsed`) to what it hands out; the wire objects are equal.
          const wire = (response: object) => JSON.parse(JSON.stringify(response, (key, value) => key === "output_text" || key === "parsed" ? undefined : value))
          const completed = events[events.length - 1]!
          expect(completed.type).toBe("response.completed")
          expect(wire((completed as { readonly response: object }).response)).toEqual(wire(retrieved))
        }), TIMEOUT)

      it.effect("responses.stream() with tools: the call streamed, its output sent back through previous_response_id, the answer streamed", () =>
        Effect.gen(function*() {
          const client = yield* clientFor(ALICE)
          const argumentDeltas: Array<string> = []
          const first = client.responses.stream({ model, input: "What's the weather in Paris?", tools })
          first.on("response.function_call_arguments.delta", (event) => argumentDeltas.push(event.delta))
          const called = yield* call(() => first.finalResponse())
          const fc = called.output.find((item) => item.type === "function_call")!
          expect(fc).toMatchObject({ name: "get_weather", arguments: weatherArgs })
          expect(argumentDeltas.join("")).toBe(weatherArgs)
          const second = yield* call(() =>
            client.responses.stream({
              model,
              tools,
              previous_response_id: called.id,
              input: [{ type: "function_call_output", call_id: fc.call_id, output: "sunny" }]
            }).finalResponse())
          expect(second.output_text).toBe(afterTool)
          expect(second.previous_response_id).toBe(called.id)
        }), TIMEOUT)

      it.effect("previous_response_id: three turns; the vendor gets the whole history, instructions only of the turn that sent them", () =>
        Effect.gen(function*() {
          const fakes = yield* Fakes
          const client = yield* clientFor(ALICE)
          const one = yield* call(() => client.responses.create({ model, input: "Hello there", instructions: "Be brief." }))
          expect(one.output_text).toBe(greeting)
          const two = yield* call(() =>
            client.responses.create({ model, input: "What's the weather in Paris?", tools, previous_response_id: one.id }))
          const fc = two.output.find((item) => item.type === "function_call")!
          expect(fc.name).toBe("get_weather")
          // Turn two sent no instructions: the first turn's are not carried over (as OpenAI does).
          const turnTwo = lastTurns(fakes[vendor])
          expect(turnTwo).toHaveLength(3)
          expect(JSON.stringify(fakes[vendor].requests[fakes[vendor].requests.length - 1]!.json)).not.toContain("Be brief.")
          const three = yield* call(() =>
            client.responses.create({
              model,
              tools,
              previous_response_id: two.id,
              input: [{ type: "function_call_output", call_id: fc.call_id, output: "sunny" }]
            }))
          expect(three.output_text).toBe(afterTool)
          // user, assistant (greeting), user, assistant (the call), the call's result.
          const turns = lastTurns(fakes[vendor])
          expect(turns).toHaveLength(5)
          expect(JSON.stringify(turns[0])).toContain("Hello there")
          expect(JSON.stringify(turns[1])).toContain("How can")
          expect(JSON.stringify(turns[2])).toContain("weather in Paris")
          expect(JSON.stringify(turns[3])).toContain("get_weather")
          expect(JSON.stringify(turns[4])).toContain("sunny")
        }), TIMEOUT)

      it.effect("inputItems.list: this response's input only, newest first by default, cursor pages", () =>
        Effect.gen(function*() {
          const client = yield* clientFor(ALICE)
          const one = yield* call(() => client.responses.create({ model, input: "Hello there" }))
          const input: Array<ResponseInputItem> = [
            { role: "developer", content: "Answer in English." },
            { role: "user", content: "Say hello" },
            { role: "user", content: [{ type: "input_text", text: "Please." }] }
          ]
          const two = yield* call(() => client.responses.create({ model, input, previous_response_id: one.id }))
          const page = yield* call(() => client.responses.inputItems.list(two.id))
          const texts = page.data.map((item) => item.type === "message" ? JSON.stringify(item.content) : item.type)
          expect(texts).toHaveLength(3)
          expect(texts[0]).toContain("Please.")
          expect(texts[2]).toContain("Answer in English.")
          for (const item of page.data) expect(item.id).toMatch(/^msg_/)
          expect(page.has_more).toBe(false)
          const ascending = yield* call(() => client.responses.inputItems.list(two.id, { order: "asc" }))
          expect(ascending.data.map((item) => item.id)).toEqual(page.data.map((item) => item.id).reverse())
          // Pages of one, followed by the SDK's cursor.
          const ids = yield* call(async () => {
            const all: Array<string> = []
            for await (const item of client.responses.inputItems.list(two.id, { limit: 1 })) all.push(item.id!)
            return all
          })
          expect(ids).toEqual(page.data.map((item) => item.id))
          const first = yield* call(() => client.responses.inputItems.list(two.id, { limit: 2 }))
          expect(first.data).toHaveLength(2)
          expect(first.has_more).toBe(true)
        }), TIMEOUT)

      it.effect("delete: the answer names it; it is gone for retrieve, input items and previous_response_id", () =>
        Effect.gen(function*() {
          const client = yield* clientFor(ALICE)
          const url = yield* gatewayUrl
          const response = yield* call(() => client.responses.create({ model, input: "Say hello" }))
          const deleted = yield* call(() =>
            fetch(`${url}/v1/responses/${response.id}`, { method: "DELETE", headers: { authorization: `Bearer ${ALICE}` } })
              .then(async (answer) => ({ status: answer.status, body: await answer.json() })))
          expect(deleted).toEqual({ status: 200, body: { id: response.id, object: "response", deleted: true } })
          const again = yield* rejection(() => client.responses.delete(response.id))
          expect(again).toBeInstanceOf(OpenAI.NotFoundError)
          expect(yield* rejection(() => client.responses.retrieve(response.id))).toBeInstanceOf(OpenAI.NotFoundError)
          expect(yield* rejection(() => client.responses.inputItems.list(response.id))).toBeInstanceOf(OpenAI.NotFoundError)
          const chained = yield* rejection(() => client.responses.create({ model, input: "Hi", previous_response_id: response.id }))
          expect(chained).toBeInstanceOf(OpenAI.BadRequestError)
          expect((chained as InstanceType<typeof OpenAI.BadRequestError>).code).toBe("previous_response_not_found")
          expect((chained as InstanceType<typeof OpenAI.BadRequestError>).param).toBe("previous_response_id")
          // The SDK's own delete resolves on a fresh response.
          const other = yield* call(() => client.responses.create({ model, input: "Say hello" }))
          yield* call(() => client.responses.delete(other.id))
        }), TIMEOUT)
    })
  }

  describe("every vendor", () => {
    it.effect("another account's response (or item) is answered exactly as a missing one, for every operation", () =>
      Effect.gen(function*() {
        const alice = yield* clientFor(ALICE)
        const bob = yield* clientFor(BOB, "v5")
        const mine = yield* call(() => alice.responses.create({ model: VENDORS[1].model, input: "Say hello" }))
        const missing = "resp_" + "0".repeat(48)
        const outcome = (f: () => Promise<unknown>) =>
          Effect.map(rejection(f), (error) => {
            const api = error as InstanceType<typeof OpenAI.APIError>
            return { status: api.status, type: api.type, code: api.code, param: api.param, message: api.message }
          })
        const same = (theirs: { readonly message: string }, absent: { readonly message: string }) =>
          expect({ ...theirs, message: theirs.message.replace(mine.id, "ID") }).toEqual({
            ...absent,
            message: absent.message.replace(missing, "ID")
          })
        const retrieved = yield* outcome(() => bob.responses.retrieve(mine.id))
        expect(retrieved.status).toBe(404)
        same(retrieved, yield* outcome(() => bob.responses.retrieve(missing)))
        same(yield* outcome(() => bob.responses.inputItems.list(mine.id)), yield* outcome(() => bob.responses.inputItems.list(missing)))
        same(yield* outcome(() => bob.responses.delete(mine.id)), yield* outcome(() => bob.responses.delete(missing)))
        const chained = yield* outcome(() => bob.responses.create({ model: VENDORS[1].model, input: "Hi", previous_response_id: mine.id }))
        expect(chained.status).toBe(400)
        same(chained, yield* outcome(() => bob.responses.create({ model: VENDORS[1].model, input: "Hi", previous_response_id: missing })))
        const item = mine.output[0]!.id!
        const referenced = yield* outcome(() => bob.responses.create({ model: VENDORS[1].model, input: [{ type: "item_reference", id: item }] }))
        expect(referenced.status).toBe(404)
        expect({ ...referenced, message: referenced.message.replace(item, "ID") }).toEqual(
          yield* Effect.map(
            outcome(() => bob.responses.create({ model: VENDORS[1].model, input: [{ type: "item_reference", id: "msg_missing" }] })),
            (absent) => ({ ...absent, message: absent.message.replace("msg_missing", "ID") })
          )
        )
        // Still there for its owner.
        expect((yield* call(() => alice.responses.retrieve(mine.id))).output_text).toBe(greeting)
      }), TIMEOUT)

    it.effect("what the facade cannot honour is a 400 naming the field, before any vendor is called", () =>
      Effect.gen(function*() {
        const fakes = yield* Fakes
        const client = yield* clientFor(ALICE)
        const before = fakes.openai.requests.length
        const refused = (body: Record<string, unknown>) =>
          Effect.map(
            rejection(() => client.responses.create({ model: VENDORS[0].model, input: "Hi", ...body } as never)),
            (error) => {
              expect(error).toBeInstanceOf(OpenAI.BadRequestError)
              return (error as InstanceType<typeof OpenAI.BadRequestError>).param
            }
          )
        expect(yield* refused({ tools: [{ type: "web_search" }] })).toBe("tools[0].type")
        expect(yield* refused({ background: true })).toBe("background")
        expect(yield* refused({ conversation: "conv_123" })).toBe("conversation")
        expect(yield* refused({ include: ["file_search_call.results"] })).toBe("include[0]")
        expect(yield* refused({ reasoning: { summary: "auto" } })).toBe("reasoning.summary")
        expect(yield* refused({ frobnicate: 1 })).toBe("frobnicate")
        expect(fakes.openai.requests.length).toBe(before)
        const referenced = yield* rejection(() =>
          client.responses.create({ model: VENDORS[0].model, input: [{ type: "item_reference", id: "msg_nope" }] }))
        expect(referenced).toBeInstanceOf(OpenAI.NotFoundError)
        expect((referenced as InstanceType<typeof OpenAI.NotFoundError>).param).toBe("input[0]")
      }), TIMEOUT)
  })
})

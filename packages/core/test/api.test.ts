import { describe, expect, it } from "@effect/vitest"
import { openApiDocument } from "../src/index.js"
import { completions, requests, textStream, toolCallStream } from "./fixtures/openai-examples.js"
import { detailOf } from "./support/json.js"
import { type JsonSchema, type Spec, SpecValidator } from "./support/spec.js"

interface Operation {
  readonly requestBody?: { readonly content: Record<string, { readonly schema: JsonSchema }> }
  readonly responses: Record<string, { readonly content?: Record<string, { readonly schema: JsonSchema }> }>
}

const document = openApiDocument() as unknown as Spec & {
  readonly paths: Record<string, Record<string, Operation>>
  readonly components: { readonly schemas: Record<string, unknown> }
}

/**
 * Effect writes `Schema.Unknown` as `{"$id": "/schemas/unknown"}`, once per
 * use. In JSON Schema 2020-12 an `$id` names a schema, so ajv refuses the
 * document ("resolves to more than one schema"). Those `$id`s carry no
 * constraint; drop them to validate with the rest.
 */
const withoutEffectIds = (node: unknown): unknown =>
  Array.isArray(node)
    ? node.map(withoutEffectIds)
    : typeof node === "object" && node !== null
    ? Object.fromEntries(
      Object.entries(node)
        .filter(([key, value]) => !(key === "$id" && typeof value === "string" && value.startsWith("/schemas/")))
        .map(([key, value]) => [key, withoutEffectIds(value)])
    )
    : node

const generated = new SpecValidator(withoutEffectIds(document) as Spec, "generated")
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` })

describe("the generated OpenAPI document", () => {
  for (const path of ["/v5/chat/completions", "/v1/chat/completions"]) {
    it(`POST ${path}: the request, the JSON and SSE answers and the 422 are those of the spec`, () => {
      const post = document.paths[path]?.["post"]
      expect(post?.requestBody?.content["application/json"]?.schema).toStrictEqual(ref("ChatCompletionRequest"))
      const ok = post?.responses["200"]?.content
      expect(ok?.["application/json"]?.schema).toMatchObject({ anyOf: [ref("ChatCompletion"), ref("ChatCompletionChunk")] })
      expect(ok?.["text/event-stream"]?.schema).toStrictEqual(ref("ChatCompletionChunk"))
      expect(post?.responses["422"]?.content?.["application/json"]?.schema).toStrictEqual(ref("HTTPValidationError"))
      expect(document.components.schemas["HTTPValidationError"]).toMatchObject({
        properties: { detail: { type: "array", items: ref("ValidationError") } }
      })
      for (const status of ["400", "401", "404", "413", "415", "429", "502", "503", "504"]) {
        expect(post?.responses[status]?.content?.["application/json"]?.schema, status).toStrictEqual(ref("ErrorEnvelope"))
      }
    })
  }

  it("accepts OpenAI's documented requests, vendor-prefixed, in its ChatCompletionRequest", () => {
    for (const [name, body] of Object.entries(requests)) {
      const routed = { ...body, model: `openai/${String(body.model)}` }
      expect(generated.validate("ChatCompletionRequest", routed).errors, name).toEqual([])
    }
  })

  it("rejects in its ChatCompletionRequest what our Schema rejects for a bound or a type", () => {
    const base = { model: "openai/gpt-4o", messages: [{ role: "user", content: "Hi" }] }
    for (const patch of [{ model: "gpt-4o" }, { temperature: 3 }, { n: 0 }, { stop: ["a", "b", "c", "d", "e"] }, {
      messages: [{ role: "robot", content: "Hi" }]
    }]) {
      const body = { ...base, ...patch }
      expect(detailOf(body), JSON.stringify(patch)).toBeDefined()
      expect(generated.validate("ChatCompletionRequest", body).valid, JSON.stringify(patch)).toBe(false)
    }
  })

  it("accepts OpenAI's documented responses and chunks, nulls included", () => {
    for (const [name, body] of Object.entries(completions)) {
      expect(generated.validate("ChatCompletion", body).errors, name).toEqual([])
    }
    for (const chunk of [...textStream, ...toolCallStream]) {
      expect(generated.validate("ChatCompletionChunk", chunk).errors).toEqual([])
    }
  })

  for (const version of ["v5", "v1"]) {
    it(`/${version}/responses: the request, the JSON answer or its events, the stored response's GET, DELETE and input items`, () => {
      const post = document.paths[`/${version}/responses`]?.["post"]
      expect(post?.requestBody?.content["application/json"]?.schema).toStrictEqual(ref("CreateResponseRequest"))
      const ok = post?.responses["200"]?.content
      const json = ok?.["application/json"]?.schema.anyOf as ReadonlyArray<JsonSchema>
      const events = ok?.["text/event-stream"]?.schema.anyOf as ReadonlyArray<JsonSchema>
      expect(json[0]).toStrictEqual(ref("ResponseObject"))
      expect(events).toStrictEqual(json.slice(1))
      expect(events).toContainEqual(ref("ResponseCompletedEvent"))
      expect(events).toContainEqual(ref("ResponseErrorEvent"))
      expect(post?.responses["422"]?.content?.["application/json"]?.schema).toStrictEqual(ref("HTTPValidationError"))
      const item = document.paths[`/${version}/responses/{response_id}`]!
      expect(item["get"]?.responses["200"]?.content?.["application/json"]?.schema).toStrictEqual(ref("ResponseObject"))
      expect(item["delete"]?.responses["200"]?.content?.["application/json"]?.schema).toStrictEqual(ref("ResponseDeleted"))
      expect(item["get"]?.responses["404"]?.content?.["application/json"]?.schema).toStrictEqual(ref("ErrorEnvelope"))
      const list = document.paths[`/${version}/responses/{response_id}/input_items`]?.["get"]
      expect(list?.responses["200"]?.content?.["application/json"]?.schema).toStrictEqual(ref("ResponseItemList"))
    })
  }

  it("accepts in its CreateResponseRequest what the clients send: text, items, tools, JSON output, chaining", () => {
    for (
      const body of [
        { model: "anthropic/claude-sonnet-4-5", input: "Hello" },
        {
          model: "openai/gpt-4.1",
          instructions: "Be brief.",
          input: [
            { role: "user", content: [{ type: "input_text", text: "Weather?" }] },
            { type: "function_call", call_id: "call_1", name: "get_weather", arguments: "{}" },
            { type: "function_call_output", call_id: "call_1", output: "sunny" },
            { type: "item_reference", id: "msg_1" }
          ],
          tools: [{ type: "function", name: "get_weather", parameters: { type: "object" }, strict: true }],
          tool_choice: { type: "function", name: "get_weather" },
          text: { format: { type: "json_schema", name: "w", schema: { type: "object" }, strict: true } },
          include: [],
          previous_response_id: "resp_1",
          stream: true
        }
      ]
    ) {
      expect(generated.validate("CreateResponseRequest", body).errors).toEqual([])
    }
  })
})

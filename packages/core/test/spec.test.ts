import { describe, expect, it } from "@effect/vitest"
import { FastCheck, Option, Schema, SchemaAST } from "effect"
import { existsSync, readFileSync } from "node:fs"
import {
  Annotation,
  AnnotationURLCitation,
  ChatCompletion,
  ChatCompletionAudio,
  ChatCompletionChoice,
  ChatCompletionChunk,
  ChatCompletionChunkChoice,
  ChatCompletionMessage,
  ChatCompletionMessageCustomToolCall,
  ChatCompletionMessageFunctionToolCall,
  ChatCompletionRequest,
  ChatCompletionTokenLogprob,
  ChoiceDelta,
  ChoiceDeltaFunctionCall,
  ChoiceDeltaToolCall,
  ChoiceDeltaToolCallFunction,
  ChoiceLogprobs,
  CompletionTokensDetails,
  CompletionUsage,
  Custom,
  errorResponse,
  Function as FunctionSchema,
  FunctionCall,
  fromParseIssue,
  HTTPValidationError,
  jsonInvalid,
  PromptTokensDetails,
  requestValidationError,
  TopLogprob,
  ValidationError
} from "../src/index.js"
import { decodeRequest, detailOf, jsonArbitrary, overTheWire, PROPERTY_TIMEOUT } from "./support/json.js"
import { makeValidators, sharedSpecPath, specPath, type SpecValidator } from "./support/spec.js"

/** Every component of the spec and the Schema of ours that stands for it. */
const components: Readonly<Record<string, Schema.Schema.AnyNoContext>> = {
  ChatCompletionRequest,
  ChatCompletion,
  ChatCompletionChunk,
  HTTPValidationError,
  ValidationError,
  openai__types__chat__chat_completion__Choice: ChatCompletionChoice,
  openai__types__chat__chat_completion_chunk__Choice: ChatCompletionChunkChoice,
  openai__types__chat__chat_completion_message__AnnotationURLCitation: AnnotationURLCitation,
  CompletionUsage,
  CompletionTokensDetails,
  PromptTokensDetails,
  ChoiceLogprobs,
  ChatCompletionTokenLogprob,
  TopLogprob,
  ChatCompletionMessage,
  Annotation,
  ChatCompletionAudio,
  FunctionCall,
  ChatCompletionMessageFunctionToolCall,
  ChatCompletionMessageCustomToolCall,
  Function: FunctionSchema,
  Custom,
  ChoiceDelta,
  ChoiceDeltaFunctionCall,
  ChoiceDeltaToolCall,
  ChoiceDeltaToolCallFunction
}

const {
  raw: rawSpec,
  requests: requestSpec,
  responseComponents,
  responses: responseSpec,
  spec
} = makeValidators()

/** The validator a component is compared with: responses with the nullable overlay, requests with theirs. */
const validatorFor = (component: string): SpecValidator =>
  component === "ChatCompletionRequest" ? requestSpec : responseComponents.has(component) ? responseSpec : rawSpec

const propertySignatures = (schema: Schema.Schema.AnyNoContext) => {
  const ast = schema.ast
  if (!SchemaAST.isTypeLiteral(ast)) throw new Error(`${String(ast)} is not a struct`)
  return ast.propertySignatures
}

describe("the spec fixture", () => {
  it.skipIf(!existsSync(sharedSpecPath))("is a byte-identical copy of the shared spec", () => {
    expect(readFileSync(specPath).equals(readFileSync(sharedSpecPath))).toBe(true)
  })

  it("has a Schema of ours for every component, under the component's name", () => {
    expect(Object.keys(components).sort()).toEqual(Object.keys(spec.components.schemas).sort())
    for (const [name, schema] of Object.entries(components)) {
      expect(Option.getOrUndefined(SchemaAST.getIdentifierAnnotation(schema.ast)), name).toBe(name)
    }
  })

  /**
   * Properties we require although the spec does not. Only for components we
   * produce and never decode from a vendor: FastAPI always sends `detail`, the
   * spec's generator just does not mark it required.
   */
  const requiredOnlyByUs: Readonly<Record<string, ReadonlyArray<string>>> = { HTTPValidationError: ["detail"] }

  it("declares every property of each component, with the same required ones", () => {
    for (const [name, schema] of Object.entries(components)) {
      const component = spec.components.schemas[name]!
      const ours = propertySignatures(schema)
      const ourNames = new Set(ours.map((ps) => String(ps.name)))
      for (const property of Object.keys(component.properties ?? {})) {
        expect(ourNames.has(property), `${name}.${property}`).toBe(true)
      }
      const ourRequired = ours.filter((ps) => !ps.isOptional).map((ps) => String(ps.name)).filter((p) => p !== "_tag")
      expect([...ourRequired].sort(), name).toEqual([...(component.required ?? []), ...(requiredOnlyByUs[name] ?? [])].sort())
    }
  })
})

describe("the nullable overlay", () => {
  const openAiChunk = {
    id: "chatcmpl-1",
    object: "chat.completion.chunk",
    created: 1694268190,
    model: "gpt-4o-mini",
    system_fingerprint: "fp_44709d6fcb",
    choices: [{ index: 0, delta: { role: "assistant", content: "" }, logprobs: null, finish_reason: null }]
  }

  it("is needed: the raw spec rejects OpenAI's own `finish_reason: null` chunk", () => {
    const verdict = rawSpec.validate("ChatCompletionChunk", openAiChunk)
    expect(verdict.valid).toBe(false)
    expect(verdict.errors.map((e) => e.instancePath)).toContain("/choices/0/finish_reason")
  })

  it("accepts that chunk once optional response properties may be null", () => {
    expect(responseSpec.validate("ChatCompletionChunk", openAiChunk)).toEqual({ valid: true, errors: [] })
  })

  it("leaves required properties and non-null types alone", () => {
    expect(responseSpec.validate("ChatCompletionChunk", { ...openAiChunk, id: null }).valid).toBe(false)
    expect(responseSpec.validate("ChatCompletionChunk", { ...openAiChunk, choices: [{ index: 0, delta: null }] }).valid)
      .toBe(false)
    expect(
      responseSpec.validate("ChatCompletionChunk", {
        ...openAiChunk,
        choices: [{ index: 0, delta: {}, finish_reason: "done" }]
      }).valid
    ).toBe(false)
  })

  it("applies to the response components only", () => {
    expect([...responseComponents]).not.toContain("ChatCompletionRequest")
    expect([...responseComponents]).not.toContain("HTTPValidationError")
    expect(responseComponents.size).toBe(Object.keys(spec.components.schemas).length - 3)
  })
})

describe("values produced by our Schemas conform to the spec", () => {
  for (const [name, schema] of Object.entries(components)) {
    it(`${name}: Arbitrary values, encoded and sent as JSON, validate against the spec component`, () => {
      const encode = Schema.encodeSync(schema)
      const validator = validatorFor(name)
      FastCheck.assert(
        FastCheck.property(jsonArbitrary(schema), (value) => {
          const verdict = validator.validate(name, overTheWire(encode(value)))
          expect(verdict.errors).toEqual([])
        }),
        { numRuns: 60 }
      )
    }, PROPERTY_TIMEOUT)
  }

  it("the 422 body built from real parse failures validates as HTTPValidationError", () => {
    const bodies: ReadonlyArray<unknown> = [
      {},
      [],
      "text",
      { model: "gpt-4o", messages: [{ role: "bogus" }], temperature: 9, n: 1.5, stop: [1], metadata: { a: 1 } },
      { model: "openai/gpt-4o", messages: [{ role: "user", content: [{ type: "video" }] }], tools: "x" }
    ]
    for (const body of bodies) {
      const detail = detailOf(body)
      expect(detail).toBeDefined()
      const response = errorResponse(requestValidationError({ detail: detail ?? [] }))
      expect(rawSpec.validate("HTTPValidationError", overTheWire(response.body)).errors).toEqual([])
    }
    expect(rawSpec.validate("HTTPValidationError", jsonInvalid(new SyntaxError("x"), "")).errors).toEqual([])
  })

  it("any JSON body we reject gets at least one 422 item, each located under body", () => {
    FastCheck.assert(
      FastCheck.property(FastCheck.jsonValue(), (body) => {
        const result = decodeRequest(body)
        if (result._tag === "Left") {
          const { detail } = fromParseIssue(result.left.issue)
          expect(detail.length).toBeGreaterThan(0)
          for (const item of detail) expect(item.loc[0]).toBe("body")
        }
      }),
      { numRuns: 300 }
    )
  }, PROPERTY_TIMEOUT)
})

// ---------------------------------------------------------------------------
// A corpus of request bodies, judged by the spec (ajv, the raw spec) and by
// our Schema. They agree, except for the listed divergences.
// ---------------------------------------------------------------------------

const user = { role: "user", content: "Hello" }
const base = { model: "openai/gpt-4o", messages: [user] }
const fn = (name: string) => ({ type: "function", function: { name, parameters: { type: "object", properties: {} } } })
const pairs = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, "v"]))

interface Case {
  readonly name: string
  readonly body: unknown
  /** The raw spec's verdict. */
  readonly spec: boolean
  /** Our Schema's verdict. */
  readonly ours: boolean
  /** Where our first 422 item points, for bodies we reject. */
  readonly loc?: ReadonlyArray<string | number>
  /** Why the two verdicts differ; present exactly when they do. */
  readonly divergence?: string
}

const agree = (name: string, body: unknown, valid: boolean, loc?: ReadonlyArray<string | number>): Case =>
  loc === undefined ? { name, body, spec: valid, ours: valid } : { name, body, spec: valid, ours: valid, loc }

const corpus: ReadonlyArray<Case> = [
  // Valid for both.
  agree("a minimal request", base, true),
  agree("a model whose name contains slashes", { ...base, model: "openrouter/meta-llama/llama-3.1-8b" }, true),
  agree("an empty message list", { ...base, messages: [] }, true),
  agree("every message role", {
    ...base,
    messages: [
      { role: "system", content: "Be brief." },
      { role: "developer", content: [{ type: "text", text: "Answer in French." }] },
      { role: "user", content: "Weather in Paris?", name: "alice" },
      {
        role: "assistant",
        content: null,
        tool_calls: [{ id: "call_1", type: "function", function: { name: "get_weather", arguments: "{\"city\":\"Paris\"}" } }]
      },
      { role: "tool", tool_call_id: "call_1", content: "{\"temp\":21}" },
      { role: "function", name: "get_weather", content: "{\"temp\":21}" }
    ]
  }, true),
  agree("user content parts: text, image, audio, file", {
    ...base,
    messages: [{
      role: "user",
      content: [
        { type: "text", text: "What is in this image?" },
        { type: "image_url", image_url: { url: "https://example.com/cat.png", detail: "low" } },
        { type: "input_audio", input_audio: { data: "UklGRg==", format: "wav" } },
        { type: "file", file: { file_id: "file-abc", filename: "report.pdf" } }
      ]
    }]
  }, true),
  agree("an assistant refusal part and a custom tool call", {
    ...base,
    messages: [
      user,
      {
        role: "assistant",
        content: [{ type: "refusal", refusal: "I can't help with that." }],
        tool_calls: [{ id: "call_2", type: "custom", custom: { name: "sql", input: "select 1" } }]
      }
    ]
  }, true),
  agree("tools with tool_choice auto", { ...base, tools: [fn("a"), fn("b")], tool_choice: "auto" }, true),
  agree("a named tool choice", { ...base, tools: [fn("a")], tool_choice: { type: "function", function: { name: "a" } } }, true),
  agree("an allowed_tools choice", {
    ...base,
    tools: [fn("a")],
    tool_choice: { type: "allowed_tools", allowed_tools: { mode: "auto", tools: [{ type: "function", function: { name: "a" } }] } }
  }, true),
  agree("a custom tool", { ...base, tools: [{ type: "custom", custom: { name: "sql", format: { type: "text" } } }] }, true),
  agree("response_format json_schema", {
    ...base,
    response_format: { type: "json_schema", json_schema: { name: "answer", schema: { type: "object" }, strict: true } }
  }, true),
  agree("response_format json_object", { ...base, response_format: { type: "json_object" } }, true),
  agree("streaming with usage", { ...base, stream: true, stream_options: { include_usage: true } }, true),
  agree("stop as a string", { ...base, stop: "\n" }, true),
  agree("stop as four strings", { ...base, stop: ["a", "b", "c", "d"] }, true),
  agree("sampling parameters at their bounds", {
    ...base,
    temperature: 2,
    top_p: 0,
    frequency_penalty: -2,
    presence_penalty: 2,
    top_logprobs: 20,
    logprobs: true
  }, true),
  agree("sampling parameters at their other bounds", {
    ...base,
    temperature: 0,
    top_p: 1,
    frequency_penalty: 2,
    presence_penalty: -2,
    top_logprobs: 0
  }, true),
  agree("logit_bias at ±100", { ...base, logit_bias: { "50256": -100, "15339": 100 } }, true),
  agree("metadata with 16 pairs", { ...base, metadata: pairs(16) }, true),
  agree("integers: n, seed, max_tokens, max_completion_tokens, top_k", {
    ...base,
    n: 2,
    seed: -42,
    max_tokens: 256,
    max_completion_tokens: 1024,
    top_k: 40
  }, true),
  agree("audio output", { ...base, modalities: ["text", "audio"], audio: { voice: "alloy", format: "wav" } }, true),
  agree("predicted output", { ...base, prediction: { type: "content", content: "the old file" } }, true),
  agree("reasoning, store and parallel_tool_calls", {
    ...base,
    reasoning_effort: "low",
    store: true,
    parallel_tool_calls: false
  }, true),
  agree("deprecated functions with a named function_call", {
    ...base,
    functions: [{ name: "a", parameters: { type: "object" } }],
    function_call: { name: "a" }
  }, true),
  agree("unknown top-level fields", { ...base, user: "u-1", safety_identifier: "s", x_vendor: { anything: [1, 2] } }, true),
  agree("unknown fields inside a message", { ...base, messages: [{ ...user, cache_control: { type: "ephemeral" } }] }, true),

  // Invalid for both.
  agree("no model", { messages: [user] }, false, ["body", "model"]),
  agree("no messages", { model: "openai/gpt-4o" }, false, ["body", "messages"]),
  agree("a model that is a number", { ...base, model: 4 }, false, ["body", "model"]),
  agree("messages that are a string", { ...base, messages: "Hello" }, false, ["body", "messages"]),
  agree("a message that is a string", { ...base, messages: ["Hello"] }, false, ["body", "messages", 0]),
  agree("temperature above 2", { ...base, temperature: 2.5 }, false, ["body", "temperature"]),
  agree("temperature below 0", { ...base, temperature: -0.1 }, false, ["body", "temperature"]),
  agree("top_p above 1", { ...base, top_p: 1.5 }, false, ["body", "top_p"]),
  agree("frequency_penalty below -2", { ...base, frequency_penalty: -3 }, false, ["body", "frequency_penalty"]),
  agree("presence_penalty above 2", { ...base, presence_penalty: 2.1 }, false, ["body", "presence_penalty"]),
  agree("top_logprobs above 20", { ...base, top_logprobs: 21 }, false, ["body", "top_logprobs"]),
  agree("top_logprobs below 0", { ...base, top_logprobs: -1 }, false, ["body", "top_logprobs"]),
  agree("a fractional n", { ...base, n: 1.5 }, false, ["body", "n"]),
  agree("a fractional max_tokens", { ...base, max_tokens: 10.5 }, false, ["body", "max_tokens"]),
  agree("a seed that is a string", { ...base, seed: "42" }, false, ["body", "seed"]),
  agree("stream as a string", { ...base, stream: "true" }, false, ["body", "stream"]),
  agree("logprobs as a number", { ...base, logprobs: 1 }, false, ["body", "logprobs"]),
  agree("stop as a number", { ...base, stop: 5 }, false, ["body", "stop"]),
  agree("stop with a number in it", { ...base, stop: ["a", 1] }, false, ["body", "stop", 1]),
  agree("a fractional logit_bias", { ...base, logit_bias: { "1": 1.5 } }, false, ["body", "logit_bias", "1"]),
  agree("a metadata value that is a number", { ...base, metadata: { a: 1 } }, false, ["body", "metadata", "a"]),
  agree("tools as an object", { ...base, tools: { a: fn("a") } }, false, ["body", "tools"]),
  agree("a tool that is a string", { ...base, tools: ["a"] }, false, ["body", "tools", 0]),
  agree("tool_choice as a number", { ...base, tool_choice: 1 }, false, ["body", "tool_choice"]),
  agree("response_format as a string", { ...base, response_format: "json" }, false, ["body", "response_format"]),
  agree("modalities as a string", { ...base, modalities: "text" }, false, ["body", "modalities"]),
  agree("stream_options as an array", { ...base, stream_options: [] }, false, ["body", "stream_options"]),
  agree("audio as a string", { ...base, audio: "alloy" }, false, ["body", "audio"]),
  agree("a body that is an array", [base], false, ["body"]),
  agree("a body that is a string", "hello", false, ["body"]),
  agree("a body that is null", null, false, ["body"]),

  // Deliberate divergences: ours is stricter than the spec.
  {
    name: "a model without a vendor",
    body: { ...base, model: "gpt-4o" },
    spec: true,
    ours: false,
    loc: ["body", "model"],
    divergence: "the gateway routes on `vendor/model`, as the spec's description says; the spec types it as any string"
  },
  {
    name: "a message without a role",
    body: { ...base, messages: [{ content: "Hello" }] },
    spec: true,
    ours: false,
    loc: ["body", "messages", 0, "role"],
    divergence: "messages are typed by role; the spec only says `object`"
  },
  {
    name: "a message with an unknown role",
    body: { ...base, messages: [{ role: "robot", content: "Hello" }] },
    spec: true,
    ours: false,
    loc: ["body", "messages", 0, "role"],
    divergence: "messages are typed by role"
  },
  {
    name: "a tool message without tool_call_id",
    body: { ...base, messages: [{ role: "tool", content: "42" }] },
    spec: true,
    ours: false,
    loc: ["body", "messages", 0, "tool_call_id"],
    divergence: "messages are typed by role"
  },
  {
    name: "a user content part of an unknown type",
    body: { ...base, messages: [{ role: "user", content: [{ type: "video", video: "x" }] }] },
    spec: true,
    ours: false,
    loc: ["body", "messages", 0, "content", 0, "type"],
    divergence: "content parts are typed"
  },
  {
    name: "n = 0",
    body: { ...base, n: 0 },
    spec: true,
    ours: false,
    loc: ["body", "n"],
    divergence: "n must be at least 1 (OpenAI: 1..128)"
  },
  {
    name: "n = 129",
    body: { ...base, n: 129 },
    spec: true,
    ours: false,
    loc: ["body", "n"],
    divergence: "n must be at most 128"
  },
  {
    name: "max_tokens = 0",
    body: { ...base, max_tokens: 0 },
    spec: true,
    ours: false,
    loc: ["body", "max_tokens"],
    divergence: "token limits must be at least 1"
  },
  {
    name: "top_k = 0",
    body: { ...base, top_k: 0 },
    spec: true,
    ours: false,
    loc: ["body", "top_k"],
    divergence: "top_k must be at least 1"
  },
  {
    name: "five stop sequences",
    body: { ...base, stop: ["a", "b", "c", "d", "e"] },
    spec: true,
    ours: false,
    loc: ["body", "stop"],
    divergence: "the spec's description says up to 4 but does not set maxItems"
  },
  {
    name: "129 tools",
    body: { ...base, tools: Array.from({ length: 129 }, (_, i) => fn(`f${i}`)) },
    spec: true,
    ours: false,
    loc: ["body", "tools"],
    divergence: "the spec's description says max 128 but does not set maxItems"
  },
  {
    name: "129 functions",
    body: { ...base, functions: Array.from({ length: 129 }, (_, i) => ({ name: `f${i}` })) },
    spec: true,
    ours: false,
    loc: ["body", "functions"],
    divergence: "same limit as tools"
  },
  {
    name: "a tool without its function",
    body: { ...base, tools: [{ type: "function" }] },
    spec: true,
    ours: false,
    loc: ["body", "tools", 0, "function"],
    divergence: "tools are typed"
  },
  {
    name: "metadata with 17 pairs",
    body: { ...base, metadata: pairs(17) },
    spec: true,
    ours: false,
    loc: ["body", "metadata"],
    divergence: "OpenAI's metadata limits: 16 pairs"
  },
  {
    name: "a metadata key of 65 characters",
    body: { ...base, metadata: { ["k".repeat(65)]: "v" } },
    spec: true,
    ours: false,
    loc: ["body", "metadata", "k".repeat(65), "[key]"],
    divergence: "OpenAI's metadata limits: keys up to 64 characters"
  },
  {
    name: "a metadata value of 513 characters",
    body: { ...base, metadata: { k: "v".repeat(513) } },
    spec: true,
    ours: false,
    loc: ["body", "metadata", "k"],
    divergence: "OpenAI's metadata limits: values up to 512 characters"
  },
  {
    name: "a logit_bias above 100",
    body: { ...base, logit_bias: { "1": 101 } },
    spec: true,
    ours: false,
    loc: ["body", "logit_bias", "1"],
    divergence: "the spec's description says -100..100 but sets no bounds"
  },
  {
    name: "a logit_bias below -100",
    body: { ...base, logit_bias: { "1": -101 } },
    spec: true,
    ours: false,
    loc: ["body", "logit_bias", "1"],
    divergence: "the spec's description says -100..100 but sets no bounds"
  },
  {
    name: "an unknown tool_choice string",
    body: { ...base, tool_choice: "sometimes" },
    spec: true,
    ours: false,
    loc: ["body", "tool_choice"],
    divergence: "tool_choice is typed: none, auto, required or a tool"
  },
  {
    name: "a tool_choice object of an unknown type",
    body: { ...base, tool_choice: { type: "any" } },
    spec: true,
    ours: false,
    loc: ["body", "tool_choice", "type"],
    divergence: "tool_choice is typed"
  },
  {
    name: "an unknown response_format type",
    body: { ...base, response_format: { type: "xml" } },
    spec: true,
    ours: false,
    loc: ["body", "response_format", "type"],
    divergence: "response_format is typed: text, json_object or json_schema"
  },
  {
    name: "an unknown modality",
    body: { ...base, modalities: ["video"] },
    spec: true,
    ours: false,
    loc: ["body", "modalities", 0],
    divergence: "modalities are text and audio"
  },
  {
    name: "stream_options with a non-boolean include_usage",
    body: { ...base, stream_options: { include_usage: "yes" } },
    spec: true,
    ours: false,
    loc: ["body", "stream_options", "include_usage"],
    divergence: "stream_options is typed"
  },
  {
    name: "audio without voice and format",
    body: { ...base, audio: {} },
    spec: true,
    ours: false,
    loc: ["body", "audio", "voice"],
    divergence: "audio is typed"
  },
  {
    name: "a prediction of an unknown type",
    body: { ...base, prediction: { type: "diff", content: "x" } },
    spec: true,
    ours: false,
    loc: ["body", "prediction", "type"],
    divergence: "prediction is typed"
  },
  {
    name: "a function_call object without a name",
    body: { ...base, function_call: {} },
    spec: true,
    ours: false,
    loc: ["body", "function_call", "name"],
    divergence: "function_call is typed"
  },

  // Deliberate divergences: ours is more lenient than the spec.
  {
    name: "null for optional fields",
    body: { ...base, temperature: null, stop: null, tools: null, metadata: null, stream: null },
    spec: false,
    ours: true,
    divergence: "null means absent, as in OpenAI's API and pydantic models"
  },
  {
    name: "function_call \"none\"",
    body: { ...base, functions: [{ name: "a" }], function_call: "none" },
    spec: false,
    ours: true,
    divergence: "OpenAI documents function_call as \"none\", \"auto\" or {name}; the spec says object only"
  },
  {
    name: "function_call \"auto\"",
    body: { ...base, functions: [{ name: "a" }], function_call: "auto" },
    spec: false,
    ours: true,
    divergence: "OpenAI documents function_call as \"none\", \"auto\" or {name}; the spec says object only"
  }
]

describe("a corpus of request bodies, judged by the spec and by our Schema", () => {
  it("is large and covers both verdicts", () => {
    const agreeing = corpus.filter((c) => c.divergence === undefined)
    expect(agreeing.length).toBeGreaterThanOrEqual(40)
    expect(agreeing.some((c) => c.ours) && agreeing.some((c) => !c.ours)).toBe(true)
    expect(new Set(corpus.map((c) => c.name)).size).toBe(corpus.length)
  })

  it("lists a divergence exactly where the verdicts differ", () => {
    for (const c of corpus) expect(c.divergence !== undefined, c.name).toBe(c.spec !== c.ours)
  })

  for (const c of corpus) {
    const label = c.divergence === undefined
      ? `${c.ours ? "both accept" : "both reject"} ${c.name}`
      : `${c.ours ? "only we accept" : "only the spec accepts"} ${c.name}`
    it(label, () => {
      expect(rawSpec.validate("ChatCompletionRequest", c.body).valid, "spec").toBe(c.spec)
      const detail = detailOf(c.body)
      expect(detail === undefined, "ours").toBe(c.ours)
      if (c.loc !== undefined) expect(detail?.[0]?.loc).toEqual(c.loc)
    })
  }
})

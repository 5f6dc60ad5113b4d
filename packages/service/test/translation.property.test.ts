import {
  type ChatCompletionChunk,
  ChatCompletionRequest,
  ChunkAggregator,
  type GatewayError
} from "@switchyard/core"
import { describe, expect, it } from "@effect/vitest"
import { Arbitrary, Either, FastCheck as fc, Schema } from "effect"
import { AnthropicTranslation, GeminiTranslation } from "../src/index.js"
import { isDropped, paramKey } from "../src/providers/VendorTranslation.js"
import { decodeRequest } from "./support.js"

// ---------------------------------------------------------------------------
// Random requests from Schemas: the whole spec, and the part each vendor supports.
// ---------------------------------------------------------------------------

const ToolName = Schema.String.annotations({ arbitrary: () => (fc) => fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_]{0,11}$/) })
const CallId = Schema.String.annotations({ arbitrary: () => (fc) => fc.stringMatching(/^call_[A-Za-z0-9]{4,8}$/) })
const Arguments = Schema.String.annotations({
  arbitrary: () => (fc) =>
    fc.dictionary(
      fc.stringMatching(/^[a-z]{1,6}$/),
      fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.integer(), { maxLength: 3 })),
      { maxKeys: 3 }
    ).map((args) => JSON.stringify(args))
})
const Base64 = Schema.String.annotations({ arbitrary: () => (fc) => fc.base64String({ maxLength: 24 }) })
const DataUrl = Schema.String.annotations({
  arbitrary: () => (fc) =>
    fc.tuple(fc.constantFrom("image/png", "image/jpeg", "image/webp"), fc.base64String({ minLength: 4, maxLength: 24 }))
      .map(([type, data]) => `data:${type};base64,${data}`)
})
const HttpsUrl = Schema.String.annotations({ arbitrary: () => (fc) => fc.webUrl({ validSchemes: ["https"] }) })
const ParametersSchema = Schema.Record({ key: Schema.String, value: Schema.Unknown }).annotations({
  arbitrary: () => (fc) =>
    fc.constantFrom<Record<string, unknown>>(
      { type: "object" },
      { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
      { type: "object", properties: { n: { type: "integer" }, tags: { type: "array", items: { type: "string" } } } }
    )
})
const Unit = Schema.Number.pipe(Schema.between(0, 1))

const TextPart = Schema.Struct({ type: Schema.Literal("text"), text: Schema.String })
const SystemMessage = Schema.Struct({
  role: Schema.Literal("system", "developer"),
  content: Schema.Union(Schema.String, Schema.Array(TextPart).pipe(Schema.maxItems(2)))
})
const AssistantMessage = Schema.Struct({
  role: Schema.Literal("assistant"),
  content: Schema.String,
  tool_calls: Schema.optional(Schema.Array(Schema.Struct({
    id: CallId,
    type: Schema.Literal("function"),
    function: Schema.Struct({ name: ToolName, arguments: Arguments })
  })).pipe(Schema.maxItems(2)))
})
const ToolMessage = Schema.Struct({
  role: Schema.Literal("tool"),
  tool_call_id: CallId,
  content: Schema.Union(Schema.String, Schema.Array(TextPart).pipe(Schema.maxItems(2)))
})
const FunctionTool = Schema.Struct({
  type: Schema.Literal("function"),
  function: Schema.Struct({ name: ToolName, description: Schema.optional(Schema.String), parameters: Schema.optional(ParametersSchema) })
})
const NamedChoice = Schema.Struct({ type: Schema.Literal("function"), function: Schema.Struct({ name: ToolName }) })
const Stop = Schema.optional(Schema.Union(Schema.String, Schema.Array(Schema.String).pipe(Schema.maxItems(4))))

/** What Anthropic supports: the request fields it honours, in the shapes it can take. */
const AnthropicSubset = Schema.Struct({
  model: Schema.Literal("anthropic/claude-sonnet-4-5"),
  messages: Schema.Array(Schema.Union(
    SystemMessage,
    Schema.Struct({
      role: Schema.Literal("user"),
      content: Schema.Union(
        Schema.String,
        Schema.Array(Schema.Union(
          TextPart,
          Schema.Struct({ type: Schema.Literal("image_url"), image_url: Schema.Struct({ url: Schema.Union(DataUrl, HttpsUrl) }) })
        )).pipe(Schema.maxItems(3))
      )
    }),
    AssistantMessage,
    ToolMessage
  )).pipe(Schema.minItems(1), Schema.maxItems(6)),
  max_completion_tokens: Schema.optional(Schema.Int.pipe(Schema.between(25_000, 64_000))),
  max_tokens: Schema.optional(Schema.Int.pipe(Schema.between(25_000, 64_000))),
  temperature: Schema.optional(Unit),
  top_p: Schema.optional(Unit),
  top_k: Schema.optional(Schema.Int.pipe(Schema.between(1, 500))),
  stop: Stop,
  tools: Schema.optional(Schema.Array(FunctionTool).pipe(Schema.maxItems(3))),
  tool_choice: Schema.optional(Schema.Union(Schema.Literal("auto", "none", "required"), NamedChoice)),
  parallel_tool_calls: Schema.optional(Schema.Boolean),
  user: Schema.optional(Schema.String),
  metadata: Schema.optional(Schema.Struct({ user_id: Schema.String.pipe(Schema.maxLength(64)) })),
  reasoning_effort: Schema.optional(Schema.Literal("none", "minimal", "low", "medium", "high")),
  response_format: Schema.optional(Schema.Union(
    Schema.Struct({ type: Schema.Literal("text", "json_object") }),
    Schema.Struct({
      type: Schema.Literal("json_schema"),
      json_schema: Schema.Struct({ name: ToolName, schema: Schema.optional(ParametersSchema) })
    })
  )),
  stream: Schema.optional(Schema.Boolean)
})

/** What Gemini supports. */
const GeminiSubset = Schema.Struct({
  model: Schema.Literal("gemini/gemini-2.5-flash"),
  messages: Schema.Array(Schema.Union(
    SystemMessage,
    Schema.Struct({
      role: Schema.Literal("user"),
      content: Schema.Union(
        Schema.String,
        Schema.Array(Schema.Union(
          TextPart,
          Schema.Struct({ type: Schema.Literal("image_url"), image_url: Schema.Struct({ url: DataUrl }) }),
          Schema.Struct({ type: Schema.Literal("input_audio"), input_audio: Schema.Struct({ data: Base64, format: Schema.Literal("wav", "mp3") }) })
        )).pipe(Schema.maxItems(3))
      )
    }),
    AssistantMessage,
    ToolMessage
  )).pipe(Schema.minItems(1), Schema.maxItems(6)),
  max_completion_tokens: Schema.optional(Schema.Int.pipe(Schema.between(1, 64_000))),
  max_tokens: Schema.optional(Schema.Int.pipe(Schema.between(1, 64_000))),
  temperature: Schema.optional(Schema.Number.pipe(Schema.between(0, 2))),
  top_p: Schema.optional(Unit),
  top_k: Schema.optional(Schema.Int.pipe(Schema.between(1, 500))),
  stop: Stop,
  n: Schema.optional(Schema.Int.pipe(Schema.between(1, 4))),
  seed: Schema.optional(Schema.Int),
  presence_penalty: Schema.optional(Schema.Number.pipe(Schema.between(-2, 2))),
  frequency_penalty: Schema.optional(Schema.Number.pipe(Schema.between(-2, 2))),
  logprobs: Schema.optional(Schema.Boolean),
  top_logprobs: Schema.optional(Schema.Int.pipe(Schema.between(0, 20))),
  tools: Schema.optional(Schema.Array(FunctionTool).pipe(Schema.maxItems(3))),
  tool_choice: Schema.optional(Schema.Union(Schema.Literal("auto", "none", "required"), NamedChoice)),
  parallel_tool_calls: Schema.optional(Schema.Literal(true)),
  reasoning_effort: Schema.optional(Schema.Literal("none", "minimal", "low", "medium", "high")),
  response_format: Schema.optional(Schema.Union(
    Schema.Struct({ type: Schema.Literal("text", "json_object") }),
    Schema.Struct({
      type: Schema.Literal("json_schema"),
      json_schema: Schema.Struct({ name: ToolName, schema: Schema.optional(ParametersSchema) })
    })
  )),
  stream: Schema.optional(Schema.Boolean)
})

type Wire = Record<string, unknown>

/** Anthropic cannot combine a forced-tool response_format with thinking or a tool_choice, nor share its name with a tool. */
const anthropicRequests = Arbitrary.make(AnthropicSubset).filter((r) => {
  const format = r.response_format
  if (format === undefined || format.type === "text") return true
  const name = format.type === "json_schema" ? format.json_schema.name : "json_response"
  return (r.tool_choice === undefined || r.tool_choice === "auto") &&
    (r.reasoning_effort === undefined || r.reasoning_effort === "none") &&
    !(r.tools ?? []).some((tool) => tool.function.name === name)
}).map((r) => decodeRequest(JSON.parse(JSON.stringify(r))))

/** Gemini's tool results must answer an earlier call: each tool message is pointed at one, or left out. */
const geminiRequests = Arbitrary.make(GeminiSubset).map((r) => {
  const ids: Array<string> = []
  const messages = r.messages.flatMap((message, i): Array<Wire> => {
    if (message.role === "assistant") for (const call of message.tool_calls ?? []) ids.push(call.id)
    if (message.role !== "tool") return [message]
    return ids.length === 0 ? [] : [{ ...message, tool_call_id: ids[i % ids.length]! }]
  })
  const { top_logprobs, ...rest } = r
  return decodeRequest(JSON.parse(JSON.stringify({
    ...rest,
    ...(r.logprobs === true && top_logprobs !== undefined ? { top_logprobs } : {}),
    messages: messages.length > 0 ? messages : [{ role: "user", content: "Hi" }]
  })))
})

// ---------------------------------------------------------------------------
// A canonical form of a request: what a vendor keeps of it, in one shape.
// ---------------------------------------------------------------------------

type Part = { readonly text: string } | { readonly image: string } | { readonly audio: { readonly format: string; readonly data: string } }
type Turn =
  | { role: "user"; parts: Array<Part> }
  | { role: "assistant"; texts: Array<string>; calls: Array<{ id?: string; name: string; args: unknown }> }
  | { role: "tool"; id?: string; name?: string; text: string }

const num = (n: number | null | undefined) => (n == null ? undefined : n === 0 ? 0 : n)
const texts = (content: string | ReadonlyArray<{ readonly text: string }>): Array<string> =>
  typeof content === "string" ? [content] : content.map((part) => part.text)

/**
 * The conversation as the vendor sees it: system texts hoisted, consecutive
 * user (and assistant) turns merged, empty assistant turns gone; tool call
 * ids only where the vendor keeps them, the answered function's name where it
 * does not.
 */
const conversation = (request: ChatCompletionRequest, keepIds: boolean) => {
  const system: Array<string> = []
  const turns: Array<Turn> = []
  const names = new Map<string, string>()
  for (const message of request.messages) {
    const last = turns[turns.length - 1]
    switch (message.role) {
      case "system":
      case "developer":
        system.push(...texts(message.content))
        break
      case "user": {
        const parts: Array<Part> = typeof message.content === "string"
          ? [{ text: message.content }]
          : message.content.map((part): Part => {
            switch (part.type) {
              case "text":
                return { text: part.text }
              case "image_url":
                return { image: part.image_url.url }
              case "input_audio":
                return { audio: { format: part.input_audio.format, data: part.input_audio.data } }
              default:
                throw new Error(`not in the subset: ${part.type}`)
            }
          })
        if (parts.length === 0) break
        if (last?.role === "user") last.parts.push(...parts)
        else turns.push({ role: "user", parts })
        break
      }
      case "assistant": {
        const said = message.content == null ? [] : texts(message.content as string).filter((text) => text.length > 0)
        const calls = (message.tool_calls ?? []).map((call) => {
          if (call.type !== "function") throw new Error("not in the subset")
          names.set(call.id, call.function.name)
          return {
            ...(keepIds ? { id: call.id } : {}),
            name: call.function.name,
            args: call.function.arguments === "" ? {} : JSON.parse(call.function.arguments)
          }
        })
        if (said.length === 0 && calls.length === 0) break
        if (last?.role === "assistant") {
          last.texts.push(...said)
          last.calls.push(...calls)
        } else turns.push({ role: "assistant", texts: said, calls })
        break
      }
      case "tool":
        turns.push({
          role: "tool",
          ...(keepIds ? { id: message.tool_call_id } : { name: names.get(message.tool_call_id)! }),
          text: texts(message.content).join("")
        })
        break
      case "function":
        throw new Error("not in the subset")
    }
  }
  return { system, turns }
}

const stopOf = (stop: ChatCompletionRequest["stop"]) => {
  const list = stop == null ? [] : typeof stop === "string" ? [stop] : [...stop]
  return list.length > 0 ? list : undefined
}

const choiceOf = (choice: ChatCompletionRequest["tool_choice"]) =>
  choice == null ? undefined : typeof choice === "string" ? choice : choice.type === "function" ? { name: choice.function.name } : choice

const anthropicBudgets = AnthropicTranslation.defaultTranslationOptions.thinkingBudgets

/** Everything Anthropic honours of a request, canonically. */
const anthropicCanonical = (r: ChatCompletionRequest) => {
  const format = r.response_format
  const json = format == null || format.type === "text"
    ? undefined
    : format.type === "json_object"
    ? { name: "json_response", schema: { type: "object" } }
    : { name: format.json_schema.name, schema: format.json_schema.schema ?? { type: "object" } }
  const tools = (r.tools ?? []).map((tool) =>
    tool.type === "function"
      ? {
        name: tool.function.name,
        ...(tool.function.description != null ? { description: tool.function.description } : {}),
        parameters: tool.function.parameters ?? { type: "object", properties: {} }
      }
      : undefined
  )
  const choice = json !== undefined || tools.length === 0 ? undefined : choiceOf(r.tool_choice) ?? "auto"
  const effort = r.reasoning_effort != null && r.reasoning_effort !== "none" ? r.reasoning_effort : undefined
  return {
    ...conversation(r, true),
    max: r.max_completion_tokens ?? r.max_tokens ?? 4096 + (effort !== undefined ? anthropicBudgets[effort]! : 0),
    temperature: num(r.temperature),
    top_p: num(r.top_p),
    top_k: r.top_k ?? undefined,
    stop: stopOf(r.stop),
    tools: tools.length > 0 ? tools : undefined,
    choice,
    parallel: r.parallel_tool_calls === false && ((tools.length > 0 && choice !== "none") || json !== undefined) ? false : undefined,
    user: r.user ?? r.metadata?.user_id,
    effort,
    json
  }
}

/** Everything Gemini honours of a request, canonically. */
const geminiCanonical = (r: ChatCompletionRequest) => {
  const format = r.response_format
  const tools = (r.tools ?? []).map((tool) =>
    tool.type === "function"
      ? {
        name: tool.function.name,
        ...(tool.function.description != null ? { description: tool.function.description } : {}),
        ...(tool.function.parameters != null ? { parameters: tool.function.parameters } : {})
      }
      : undefined
  )
  return {
    ...conversation(r, false),
    max: r.max_completion_tokens ?? r.max_tokens ?? undefined,
    temperature: num(r.temperature),
    top_p: num(r.top_p),
    top_k: r.top_k ?? undefined,
    stop: stopOf(r.stop),
    n: r.n != null && r.n > 1 ? r.n : undefined,
    seed: num(r.seed),
    presence: num(r.presence_penalty),
    frequency: num(r.frequency_penalty),
    logprobs: r.logprobs === true ? { top: r.top_logprobs != null && r.top_logprobs > 0 ? r.top_logprobs : undefined } : undefined,
    tools: tools.length > 0 ? tools : undefined,
    choice: tools.length > 0 ? choiceOf(r.tool_choice) : undefined,
    effort: r.reasoning_effort ?? undefined,
    json: format == null || format.type === "text"
      ? undefined
      : format.type === "json_schema" && format.json_schema.schema != null
      ? { schema: format.json_schema.schema }
      : {}
  }
}

// ---------------------------------------------------------------------------
// Back again: each vendor's request read as a chat completion request.
// ---------------------------------------------------------------------------

const anthropicBack = (call: AnthropicTranslation.AnthropicCall): ChatCompletionRequest => {
  const body = call.body
  const messages: Array<Wire> = []
  const system = body.system === undefined ? [] : typeof body.system === "string" ? [body.system] : body.system.map((b) => b.text)
  for (const text of system) messages.push({ role: "system", content: text })
  for (const message of body.messages) {
    const blocks = typeof message.content === "string" ? [{ type: "text" as const, text: message.content }] : message.content
    if (message.role === "assistant") {
      const said = blocks.flatMap((b) => (b.type === "text" ? [b.text] : []))
      const calls = blocks.flatMap((b) =>
        b.type === "tool_use" ? [{ id: b.id, type: "function", function: { name: b.name, arguments: JSON.stringify(b.input) } }] : []
      )
      messages.push({
        role: "assistant",
        content: said.length === 0 ? null : said.map((text) => ({ type: "text", text })),
        ...(calls.length > 0 ? { tool_calls: calls } : {})
      })
      continue
    }
    let parts: Array<Wire> = []
    const flush = () => {
      if (parts.length > 0) messages.push({ role: "user", content: parts })
      parts = []
    }
    for (const block of blocks) {
      if (block.type === "tool_result") {
        flush()
        messages.push({ role: "tool", tool_call_id: block.tool_use_id, content: block.content })
      } else if (block.type === "text") parts.push({ type: "text", text: block.text })
      else if (block.type === "image") {
        const source = block.source
        parts.push({
          type: "image_url",
          image_url: { url: source.type === "url" ? source.url : `data:${source.media_type};base64,${source.data}` }
        })
      } else throw new Error(`unexpected block ${block.type}`)
    }
    flush()
  }
  const forced = call.jsonTool === undefined ? undefined : body.tools?.find((tool) => tool.name === call.jsonTool)
  const tools = (body.tools ?? []).filter((tool) => tool.name !== call.jsonTool)
  const choice = body.tool_choice
  const effort = body.thinking?.type === "enabled"
    ? Object.entries(anthropicBudgets).find(([, budget]) => budget === (body.thinking as { budget_tokens: number }).budget_tokens)?.[0]
    : undefined
  return decodeRequest({
    model: `anthropic/${body.model}`,
    messages,
    max_completion_tokens: body.max_tokens,
    ...(body.temperature !== undefined ? { temperature: body.temperature } : {}),
    ...(body.top_p !== undefined ? { top_p: body.top_p } : {}),
    ...(body.top_k !== undefined ? { top_k: body.top_k } : {}),
    ...(body.stop_sequences !== undefined ? { stop: body.stop_sequences } : {}),
    ...(body.metadata?.user_id !== undefined ? { user: body.metadata.user_id } : {}),
    ...(effort !== undefined ? { reasoning_effort: effort } : {}),
    ...(tools.length > 0
      ? {
        tools: tools.map((tool) => ({
          type: "function",
          function: { name: tool.name, ...(tool.description !== undefined ? { description: tool.description } : {}), parameters: tool.input_schema }
        }))
      }
      : {}),
    ...(forced !== undefined
      ? { response_format: { type: "json_schema", json_schema: { name: forced.name, schema: forced.input_schema } } }
      : choice !== undefined
      ? {
        tool_choice: choice.type === "auto"
          ? "auto"
          : choice.type === "none"
          ? "none"
          : choice.type === "any"
          ? "required"
          : { type: "function", function: { name: (choice as { name: string }).name } }
      }
      : {}),
    ...(choice !== undefined && "disable_parallel_tool_use" in choice && choice.disable_parallel_tool_use === true
      ? { parallel_tool_calls: false }
      : {})
  })
}

const geminiBudgets = GeminiTranslation.defaultTranslationOptions.thinkingBudgets

const geminiBack = (body: GeminiTranslation.GenerateContentRequest): ChatCompletionRequest => {
  const messages: Array<Wire> = []
  for (const part of body.systemInstruction?.parts ?? []) messages.push({ role: "system", content: part.text ?? "" })
  const ids = new Map<string, string>()
  let counter = 0
  for (const content of body.contents) {
    const parts = content.parts ?? []
    if (content.role === "model") {
      const said = parts.flatMap((p) => (p.text !== undefined ? [p.text] : []))
      const calls = parts.flatMap((p) => {
        if (p.functionCall === undefined) return []
        const id = `call_${counter++}`
        ids.set(p.functionCall.name, id)
        return [{ id, type: "function", function: { name: p.functionCall.name, arguments: JSON.stringify(p.functionCall.args ?? {}) } }]
      })
      messages.push({
        role: "assistant",
        content: said.length === 0 ? null : said.map((text) => ({ type: "text", text })),
        ...(calls.length > 0 ? { tool_calls: calls } : {})
      })
      continue
    }
    let user: Array<Wire> = []
    const flush = () => {
      if (user.length > 0) messages.push({ role: "user", content: user })
      user = []
    }
    for (const part of parts) {
      if (part.functionResponse !== undefined) {
        flush()
        const response = part.functionResponse.response
        const keys = Object.keys(response)
        messages.push({
          role: "tool",
          tool_call_id: ids.get(part.functionResponse.name)!,
          content: keys.length === 1 && keys[0] === "content" && typeof response.content === "string"
            ? response.content
            : JSON.stringify(response)
        })
      } else if (part.text !== undefined) user.push({ type: "text", text: part.text })
      else if (part.inlineData !== undefined) {
        const { data, mimeType } = part.inlineData
        user.push(
          mimeType.startsWith("audio/")
            ? { type: "input_audio", input_audio: { data, format: mimeType === "audio/wav" ? "wav" : "mp3" } }
            : { type: "image_url", image_url: { url: `data:${mimeType};base64,${data}` } }
        )
      } else throw new Error("unexpected part")
    }
    flush()
  }
  const config = body.generationConfig ?? {}
  const declarations = body.tools?.[0]?.functionDeclarations ?? []
  const mode = body.toolConfig?.functionCallingConfig
  const budget = config.thinkingConfig?.thinkingBudget
  return decodeRequest({
    model: "gemini/gemini-2.5-flash",
    messages,
    ...(config.maxOutputTokens !== undefined ? { max_completion_tokens: config.maxOutputTokens } : {}),
    ...(config.temperature !== undefined ? { temperature: config.temperature } : {}),
    ...(config.topP !== undefined ? { top_p: config.topP } : {}),
    ...(config.topK !== undefined ? { top_k: config.topK } : {}),
    ...(config.stopSequences !== undefined ? { stop: config.stopSequences } : {}),
    ...(config.candidateCount !== undefined ? { n: config.candidateCount } : {}),
    ...(config.seed !== undefined ? { seed: config.seed } : {}),
    ...(config.presencePenalty !== undefined ? { presence_penalty: config.presencePenalty } : {}),
    ...(config.frequencyPenalty !== undefined ? { frequency_penalty: config.frequencyPenalty } : {}),
    ...(config.responseLogprobs === true ? { logprobs: true } : {}),
    ...(config.logprobs !== undefined ? { top_logprobs: config.logprobs } : {}),
    ...(budget !== undefined ? { reasoning_effort: Object.entries(geminiBudgets).find(([, b]) => b === budget)![0] } : {}),
    ...(config.responseMimeType === "application/json"
      ? {
        response_format: config.responseJsonSchema !== undefined
          ? { type: "json_schema", json_schema: { name: "response", schema: config.responseJsonSchema } }
          : { type: "json_object" }
      }
      : {}),
    ...(declarations.length > 0
      ? {
        tools: declarations.map((d) => ({
          type: "function",
          function: {
            name: d.name,
            ...(d.description !== undefined ? { description: d.description } : {}),
            ...(d.parametersJsonSchema !== undefined ? { parameters: d.parametersJsonSchema } : {})
          }
        }))
      }
      : {}),
    ...(mode !== undefined
      ? {
        tool_choice: mode.mode === "AUTO"
          ? "auto"
          : mode.mode === "NONE"
          ? "none"
          : mode.allowedFunctionNames !== undefined
          ? { type: "function", function: { name: mode.allowedFunctionNames[0] } }
          : "required"
      }
      : {})
  })
}

const right = <A>(result: Either.Either<A, GatewayError>): A => {
  if (Either.isLeft(result)) throw new Error(`translation failed: ${result.left.message}`)
  return result.right
}

const decodeMessagesRequest = Schema.decodeUnknownSync(AnthropicTranslation.MessagesRequest)
const decodeGenerateContentRequest = Schema.decodeUnknownSync(GeminiTranslation.GenerateContentRequest)

describe("Translation round trips (property)", () => {
  it("Anthropic: every field Anthropic supports survives OpenAI → Anthropic → OpenAI", () => {
    fc.assert(
      fc.property(anthropicRequests, (request) => {
        const call = right(AnthropicTranslation.toAnthropicRequest(request, "claude-sonnet-4-5"))
        decodeMessagesRequest(JSON.parse(JSON.stringify(call.body)))
        expect(anthropicCanonical(anthropicBack(call))).toEqual(anthropicCanonical(request))
      }),
      { numRuns: 300 }
    )
  })

  it("Gemini: every field Gemini supports survives OpenAI → Gemini → OpenAI", () => {
    fc.assert(
      fc.property(geminiRequests, (request) => {
        const body = right(GeminiTranslation.toGeminiRequest(request))
        decodeGenerateContentRequest(JSON.parse(JSON.stringify(body)))
        expect(geminiCanonical(geminiBack(body))).toEqual(geminiCanonical(request))
      }),
      { numRuns: 300 }
    )
  })
})

// ---------------------------------------------------------------------------
// Nothing is dropped silently: any request of the whole spec.
// ---------------------------------------------------------------------------

/** Random requests of the whole spec, with a random subset of their fields (so that some translate). */
const anyRequests = Arbitrary.make(ChatCompletionRequest).chain((request) => {
  const optional = Object.keys(request).filter((key) => key !== "model" && key !== "messages")
  return fc.subarray(optional).map((keep) => {
    const picked: Wire = { model: request.model, messages: request.messages }
    for (const key of keep) picked[key] = (request as unknown as Wire)[key]
    return decodeRequest(JSON.parse(JSON.stringify(picked)))
  })
})

const translators = {
  anthropic: (request: ChatCompletionRequest, drop: boolean | ReadonlyArray<string>) =>
    Either.map(
      AnthropicTranslation.toAnthropicRequest(request, "m", { ...AnthropicTranslation.defaultTranslationOptions, dropUnsupportedParams: drop }),
      (call) => call.body as unknown
    ),
  gemini: (request: ChatCompletionRequest, drop: boolean | ReadonlyArray<string>) =>
    GeminiTranslation.toGeminiRequest(request, { ...GeminiTranslation.defaultTranslationOptions, dropUnsupportedParams: drop }) as Either.Either<
      unknown,
      GatewayError
    >
}

describe("Unsupported parameters are never dropped silently (property)", () => {
  for (const [vendor, translate] of Object.entries(translators)) {
    it(`${vendor}: a translation that succeeds drops nothing; each rejection names a field of the request, which drop_unsupported_params then drops`, () => {
      fc.assert(
        fc.property(anyRequests, (request) => {
          const strict = translate(request, false)
          const lenient = translate(request, true)
          if (Either.isRight(strict)) {
            // Nothing was unsupported, so dropping every unsupported parameter changes nothing.
            expect(lenient).toEqual(strict)
            return
          }
          // Drop the named parameters one by one: each rejection makes progress, and the end is what `true` gives.
          const dropped: Array<string> = []
          let result: Either.Either<unknown, GatewayError> = strict
          while (Either.isLeft(result) && result.left._tag === "UnsupportedParameter") {
            const param = result.left.param
            expect(Object.keys(request)).toContain(paramKey(param).split(".")[0])
            expect(isDropped(dropped, param)).toBe(false)
            dropped.push(paramKey(param))
            result = translate(request, dropped)
          }
          if (Either.isLeft(result)) {
            expect(result.left._tag).toBe("InvalidRequest")
            expect(Either.isLeft(lenient)).toBe(true)
          } else expect(result).toEqual(lenient)
        }),
        { numRuns: 300 }
      )
    })
  }
})

// ---------------------------------------------------------------------------
// Streams and whole answers agree.
// ---------------------------------------------------------------------------

const text = fc.string({ maxLength: 12 })
const input = fc.dictionary(fc.stringMatching(/^[a-z]{1,5}$/), fc.oneof(fc.string(), fc.integer(), fc.boolean()), { maxKeys: 3 })

const anthropicBlock = fc.oneof(
  text.map((t) => ({ type: "text" as const, text: t })),
  fc.tuple(fc.stringMatching(/^toolu_[A-Za-z0-9]{6}$/), fc.constantFrom("get_weather", "lookup"), input).map(([id, name, args]) => ({
    type: "tool_use" as const,
    id,
    name,
    input: args
  })),
  fc.tuple(text, fc.base64String({ minLength: 4, maxLength: 16 })).map(([thinking, signature]) => ({
    type: "thinking" as const,
    thinking,
    signature
  }))
)

const anthropicMessages = fc.record({
  content: fc.array(anthropicBlock, { maxLength: 4 }),
  stop_reason: fc.constantFrom("end_turn", "max_tokens", "stop_sequence", "tool_use", "refusal"),
  usage: fc.record({
    input_tokens: fc.nat(5000),
    output_tokens: fc.nat(5000),
    cache_creation_input_tokens: fc.nat(100),
    cache_read_input_tokens: fc.nat(100)
  })
}).map((m): AnthropicTranslation.Message => ({
  id: "msg_prop",
  type: "message",
  role: "assistant",
  model: "claude-sonnet-4-5-20250929",
  stop_sequence: null,
  ...m
}))

/** The events Anthropic streams for a message: its text and tool input cut in two. */
const anthropicEvents = (message: AnthropicTranslation.Message): Array<Wire> => {
  const halves = (s: string) => [s.slice(0, Math.ceil(s.length / 2)), s.slice(Math.ceil(s.length / 2))]
  const events: Array<Wire> = [
    { type: "message_start", message: { ...message, content: [], stop_reason: null, usage: { ...message.usage, output_tokens: 1 } } },
    { type: "ping" }
  ]
  message.content.forEach((block, index) => {
    if (block.type === "text") {
      events.push({ type: "content_block_start", index, content_block: { type: "text", text: "" } })
      for (const piece of halves((block as { text: string }).text)) {
        events.push({ type: "content_block_delta", index, delta: { type: "text_delta", text: piece } })
      }
    } else if (block.type === "tool_use") {
      const b = block as { id: string; name: string; input: unknown }
      events.push({ type: "content_block_start", index, content_block: { type: "tool_use", id: b.id, name: b.name, input: {} } })
      for (const piece of halves(JSON.stringify(b.input))) {
        events.push({ type: "content_block_delta", index, delta: { type: "input_json_delta", partial_json: piece } })
      }
    } else {
      const b = block as { thinking: string; signature: string }
      events.push({ type: "content_block_start", index, content_block: { type: "thinking", thinking: "" } })
      for (const piece of halves(b.thinking)) events.push({ type: "content_block_delta", index, delta: { type: "thinking_delta", thinking: piece } })
      events.push({ type: "content_block_delta", index, delta: { type: "signature_delta", signature: b.signature } })
    }
    events.push({ type: "content_block_stop", index })
  })
  events.push(
    { type: "message_delta", delta: { stop_reason: message.stop_reason, stop_sequence: null }, usage: { output_tokens: message.usage.output_tokens } },
    { type: "message_stop" }
  )
  return events
}

const aggregate = (chunks: ReadonlyArray<ChatCompletionChunk>) => {
  const aggregator = new ChunkAggregator()
  for (const chunk of chunks) aggregator.push(chunk)
  return aggregator.result()
}

describe("Streams and whole answers agree (property)", () => {
  it("Anthropic: the chunks of a message's events aggregate to the message's completion", () => {
    fc.assert(
      fc.property(anthropicMessages, fc.boolean(), (message, json) => {
        const jsonTool = json ? "lookup" : undefined
        const translator = new AnthropicTranslation.AnthropicStreamTranslator({
          vendor: "anthropic",
          model: "claude",
          created: 7,
          jsonTool,
          includeUsage: true
        })
        const chunks: Array<ChatCompletionChunk> = []
        for (const event of anthropicEvents(message)) expect(translator.event(event, chunks)).toBeUndefined()
        expect(translator.complete).toBe(true)
        expect(chunks[0]!.choices[0]!.delta.role).toBe("assistant")
        expect(chunks.filter((chunk) => chunk.choices[0]?.delta.role !== undefined)).toHaveLength(1)
        expect(aggregate(chunks)).toEqual(AnthropicTranslation.fromAnthropicMessage(message, { created: 7, jsonTool }))
      }),
      { numRuns: 300 }
    )
  })

  const geminiPart = fc.oneof(
    text.map((t) => ({ text: t })),
    text.map((t) => ({ text: t, thought: true })),
    fc.tuple(fc.constantFrom("get_weather", "lookup"), input).map(([name, args]) => ({ functionCall: { name, args } }))
  )
  const geminiResponses = fc.record({
    candidates: fc.array(
      fc.record({
        parts: fc.array(geminiPart, { maxLength: 4 }),
        finishReason: fc.constantFrom("STOP", "MAX_TOKENS", "SAFETY", "RECITATION")
      }),
      { minLength: 1, maxLength: 3 }
    ),
    usage: fc.record({
      promptTokenCount: fc.nat(5000),
      candidatesTokenCount: fc.nat(5000),
      totalTokenCount: fc.nat(10000),
      thoughtsTokenCount: fc.nat(100)
    })
  })

  it("Gemini: streamed events (a part each) aggregate to the whole response's completion", () => {
    fc.assert(
      fc.property(geminiResponses, ({ candidates, usage }) => {
        const whole: GeminiTranslation.GenerateContentResponse = {
          candidates: candidates.map((c, index) => ({ content: { role: "model", parts: c.parts }, finishReason: c.finishReason, index })),
          usageMetadata: usage,
          modelVersion: "gemini-2.5-flash",
          responseId: "resp_1"
        }
        const events: Array<Wire> = []
        candidates.forEach((c, index) => {
          c.parts.forEach((part) => events.push({ candidates: [{ content: { role: "model", parts: [part] }, index }], responseId: "resp_1", modelVersion: "gemini-2.5-flash" }))
          events.push({ candidates: [{ content: { role: "model", parts: [] }, finishReason: c.finishReason, index }], responseId: "resp_1", modelVersion: "gemini-2.5-flash" })
        })
        events.push({ usageMetadata: usage, responseId: "resp_1", modelVersion: "gemini-2.5-flash" })
        const translator = new GeminiTranslation.GeminiStreamTranslator({ vendor: "gemini", model: "g", created: 7, includeUsage: true })
        const chunks: Array<ChatCompletionChunk> = []
        for (const event of events) expect(translator.event(event, chunks)).toBeUndefined()
        expect(translator.end(chunks)).toBeUndefined()

        const expected = right(GeminiTranslation.fromGeminiResponse(whole, { vendor: "gemini", model: "g", created: 7 }))
        const streamed = aggregate(chunks)
        // Tool call ids are generated on each side: compare them by position.
        const withoutIds = (completion: typeof expected) => ({
          ...completion,
          choices: completion.choices.map((choice) => ({
            ...choice,
            message: {
              ...choice.message,
              ...(choice.message.tool_calls != null
                ? { tool_calls: choice.message.tool_calls.map((call) => ({ ...call, id: "id" })) }
                : {})
            }
          }))
        })
        expect(withoutIds(streamed)).toEqual(withoutIds(expected))
        const ids = streamed.choices.flatMap((choice) => (choice.message.tool_calls ?? []).map((call) => call.id))
        expect(new Set(ids).size).toBe(ids.length)
      }),
      { numRuns: 300 }
    )
  })
})

// ---------------------------------------------------------------------------
// Every field of the spec is accounted for, for each vendor.
// ---------------------------------------------------------------------------

const weatherTool = { type: "function", function: { name: "get_weather", parameters: { type: "object" } } }

/** A non-neutral value of each request field, with what it needs beside it (tool settings need tools). */
const samples: Record<string, { readonly patch: Wire; readonly needs?: Wire }> = {
  audio: { patch: { audio: { voice: "alloy", format: "mp3" } } },
  frequency_penalty: { patch: { frequency_penalty: 0.5 } },
  function_call: { patch: { function_call: "auto" } },
  functions: { patch: { functions: [{ name: "f" }] } },
  logit_bias: { patch: { logit_bias: { "1": 5 } } },
  logprobs: { patch: { logprobs: true } },
  max_completion_tokens: { patch: { max_completion_tokens: 30_000 } },
  max_tokens: { patch: { max_tokens: 30_000 } },
  metadata: { patch: { metadata: { team: "a" } } },
  modalities: { patch: { modalities: ["text", "audio"] } },
  n: { patch: { n: 2 } },
  parallel_tool_calls: { patch: { parallel_tool_calls: false }, needs: { tools: [weatherTool] } },
  prediction: { patch: { prediction: { type: "content", content: "x" } } },
  presence_penalty: { patch: { presence_penalty: 0.5 } },
  reasoning_effort: { patch: { reasoning_effort: "low" } },
  response_format: { patch: { response_format: { type: "json_object" } } },
  seed: { patch: { seed: 1 } },
  stop: { patch: { stop: "END" } },
  store: { patch: { store: true } },
  temperature: { patch: { temperature: 0.5 } },
  tool_choice: { patch: { tool_choice: "required" }, needs: { tools: [weatherTool] } },
  tools: { patch: { tools: [weatherTool] } },
  top_k: { patch: { top_k: 5 } },
  top_logprobs: { patch: { top_logprobs: 2 } },
  top_p: { patch: { top_p: 0.5 } },
  user: { patch: { user: "u-1" } }
}

/** Fields the providers handle outside the translated body: the route, and how the answer is delivered. */
const outsideTheBody = ["model", "messages", "stream", "stream_options"]

describe("Every request field is translated or rejected, never ignored", () => {
  it("the samples cover every field of ChatCompletionRequest", () => {
    expect([...Object.keys(samples), ...outsideTheBody].sort()).toEqual(Object.keys(ChatCompletionRequest.fields).sort())
  })

  for (const [vendor, translate] of Object.entries(translators)) {
    it(`${vendor}: each field either changes the vendor's request or fails with a 400 naming it`, () => {
      for (const [field, { needs, patch }] of Object.entries(samples)) {
        const base = { model: "x/y", messages: [{ role: "user", content: "Hi" }], ...needs }
        const without = translate(decodeRequest(base), false)
        const withField = translate(decodeRequest({ ...base, ...patch }), false)
        expect(Either.isRight(without), `${vendor} without ${field}`).toBe(true)
        if (Either.isLeft(withField)) {
          expect(["UnsupportedParameter", "InvalidRequest"], `${vendor} ${field}`).toContain(withField.left._tag)
          expect((withField.left as { param?: string }).param?.split(".")[0], `${vendor} ${field}`).toBe(field)
        } else {
          expect(withField.right, `${vendor} ignored ${field}`).not.toEqual((without as Either.Right<GatewayError, unknown>).right)
        }
      }
    })
  }
})

import type {
  AssistantMessage,
  ChatCompletionMessageParam,
  ChatCompletionMessageToolCall,
  ChatCompletionRequest,
  CreateResponseRequest,
  InputContentPart,
  InputFilePart,
  InputImagePart,
  InputItem,
  ModelRef,
  ResponseFunctionToolEcho,
  ResponseInputMessage,
  ResponseItem,
  ResponseObject,
  ResponseOutputContent,
  ResponseToolChoiceEcho,
  UserContentPart
} from "@switchyard/core"
import type { IdGenerator } from "./ResponseIds.js"

/**
 * The translation of a Responses request into a chat completion request:
 * input items to stored items (with ids), items to chat messages, settings to
 * chat parameters, and the settings a response echoes.
 */

type InputPart = ResponseInputMessage["content"][number]

const textOf = (parts: ReadonlyArray<InputContentPart>): string => {
  let text = ""
  for (const part of parts) {
    if (part.type === "input_text" || part.type === "output_text") text += (part as { readonly text: string }).text
  }
  return text
}

const inputPart = (part: InputContentPart): InputPart => {
  switch (part.type) {
    case "input_image": {
      const image = part as InputImagePart
      return {
        type: "input_image",
        image_url: image.image_url ?? null,
        ...(image.detail != null ? { detail: image.detail } : {})
      }
    }
    case "input_file": {
      const file = part as InputFilePart
      return {
        type: "input_file",
        file_data: file.file_data ?? null,
        ...(file.filename != null ? { filename: file.filename } : {})
      }
    }
    default:
      return { type: "input_text", text: (part as { readonly text: string }).text }
  }
}

const outputPart = (part: InputContentPart): ResponseOutputContent =>
  part.type === "refusal"
    ? { type: "refusal", refusal: (part as { readonly refusal: string }).refusal }
    : { type: "output_text", text: (part as { readonly text: string }).text, annotations: [] }

/**
 * The request's input as items with ids, in order: messages (`msg_…`),
 * function calls (`fc_…`), function outputs, reasoning; an `item_reference`
 * is replaced by the item it names, found in `referenced`. Ids a client
 * gave are kept. Run `responsesRequestIssue` first: unsupported parts are
 * not expected here.
 */
export const toItems = (
  input: CreateResponseRequest["input"],
  referenced: ReadonlyMap<string, ResponseItem>,
  newId: IdGenerator
): Array<ResponseItem> => {
  if (input === undefined) return []
  if (typeof input === "string") {
    return [{ id: newId("msg"), type: "message", role: "user", status: "completed", content: [{ type: "input_text", text: input }] }]
  }
  const items: Array<ResponseItem> = []
  for (const item of input) items.push(toItem(item, referenced, newId))
  return items
}

const toItem = (item: InputItem, referenced: ReadonlyMap<string, ResponseItem>, newId: IdGenerator): ResponseItem => {
  if ("role" in item) {
    const id = item.id ?? newId("msg")
    if (item.role === "assistant") {
      const content = typeof item.content === "string"
        ? [{ type: "output_text" as const, text: item.content, annotations: [] }]
        : item.content.map(outputPart)
      return { id, type: "message", role: "assistant", status: "completed", content }
    }
    const content = typeof item.content === "string"
      ? [{ type: "input_text" as const, text: item.content }]
      : item.content.map(inputPart)
    return { id, type: "message", role: item.role, status: "completed", content }
  }
  switch (item.type) {
    case "function_call": {
      const call = item as Extract<InputItem, { readonly call_id: string; readonly name: string }>
      return {
        id: call.id ?? newId("fc"),
        type: "function_call",
        call_id: call.call_id,
        name: call.name,
        arguments: call.arguments,
        status: "completed"
      }
    }
    case "function_call_output": {
      const result = item as Extract<InputItem, { readonly output: unknown }>
      return {
        id: result.id ?? newId("fco"),
        type: "function_call_output",
        call_id: result.call_id,
        output: typeof result.output === "string" ? result.output : textOf(result.output),
        status: "completed"
      }
    }
    case "reasoning": {
      const reasoning = item as Extract<InputItem, { readonly summary: unknown }>
      return { id: reasoning.id ?? newId("rs"), type: "reasoning", summary: reasoning.summary }
    }
    default: {
      // An item reference (its `type` is optional); `Responses` resolved every one before.
      const id = (item as { readonly id: string }).id
      return referenced.get(id)!
    }
  }
}

/** The ids an input refers to with `item_reference`, with where (`input[3]`), for resolution. */
export const referencedIds = (input: CreateResponseRequest["input"]): Array<{ readonly id: string; readonly at: string }> => {
  if (input === undefined || typeof input === "string") return []
  const ids: Array<{ id: string; at: string }> = []
  for (let i = 0; i < input.length; i++) {
    const item = input[i]!
    if (!("role" in item) && (item.type === "item_reference" || item.type == null)) {
      ids.push({ id: (item as { readonly id: string }).id, at: `input[${i}]` })
    }
  }
  return ids
}

const userContent = (content: ReadonlyArray<InputPart>): string | Array<UserContentPart> => {
  if (content.length === 1 && content[0]!.type === "input_text") return content[0]!.text
  return content.map((part): UserContentPart => {
    switch (part.type) {
      case "input_text":
        return { type: "text", text: part.text }
      case "input_image":
        return {
          type: "image_url",
          image_url: { url: part.image_url ?? "", ...(part.detail != null ? { detail: part.detail } : {}) }
        }
      case "input_file":
        return {
          type: "file",
          file: { file_data: part.file_data ?? null, ...(part.filename != null ? { filename: part.filename } : {}) }
        }
    }
  })
}

const instructionText = (content: ReadonlyArray<InputPart>): string => {
  let text = ""
  for (const part of content) if (part.type === "input_text") text += part.text
  return text
}

/**
 * The chat messages of a conversation's items: messages keep their role;
 * function calls join the assistant message before them as `tool_calls`
 * (or start one); function outputs become `tool` messages; reasoning, which
 * chat models do not take back, is left out.
 */
export const toMessages = (items: ReadonlyArray<ResponseItem>): Array<ChatCompletionMessageParam> => {
  const messages: Array<ChatCompletionMessageParam> = []
  // The assistant message function calls attach to, while nothing else came after it.
  let assistant: { content: string | null; refusal: string | null; tool_calls: Array<ChatCompletionMessageToolCall> } | undefined
  const flush = () => {
    if (assistant === undefined) return
    const message: AssistantMessage = {
      role: "assistant",
      content: assistant.content,
      ...(assistant.refusal !== null ? { refusal: assistant.refusal } : {}),
      ...(assistant.tool_calls.length > 0 ? { tool_calls: assistant.tool_calls } : {})
    }
    messages.push(message)
    assistant = undefined
  }
  for (const item of items) {
    switch (item.type) {
      case "message": {
        flush()
        if (item.role === "assistant") {
          let text: string | null = null
          let refusal: string | null = null
          for (const part of item.content) {
            if (part.type === "output_text") text = (text ?? "") + part.text
            else refusal = (refusal ?? "") + part.refusal
          }
          assistant = { content: text, refusal, tool_calls: [] }
        } else if (item.role === "user") {
          messages.push({ role: "user", content: userContent(item.content) })
        } else {
          messages.push({ role: item.role, content: instructionText(item.content) })
        }
        break
      }
      case "function_call": {
        assistant ??= { content: null, refusal: null, tool_calls: [] }
        assistant.tool_calls.push({
          id: item.call_id,
          type: "function",
          function: { name: item.name, arguments: item.arguments }
        })
        break
      }
      case "function_call_output": {
        flush()
        messages.push({ role: "tool", tool_call_id: item.call_id, content: item.output })
        break
      }
      case "reasoning":
        break
    }
  }
  flush()
  return messages
}

/** The function tools of a request, as a response echoes them. */
export const echoTools = (request: CreateResponseRequest): Array<ResponseFunctionToolEcho> => {
  const tools: Array<ResponseFunctionToolEcho> = []
  for (const tool of request.tools ?? []) {
    if (tool.type !== "function") continue
    const fn = tool as Extract<typeof tool, { readonly name: string }>
    tools.push({
      type: "function",
      name: fn.name,
      description: fn.description ?? null,
      parameters: fn.parameters ?? null,
      strict: fn.strict ?? null
    })
  }
  return tools
}

const echoToolChoice = (request: CreateResponseRequest): ResponseToolChoiceEcho => {
  const choice = request.tool_choice
  if (choice == null) return "auto"
  if (typeof choice === "string") return choice
  return { type: "function", name: (choice as { readonly name: string }).name }
}

/** What every version of a response carries: its id, creation time, and the request's settings echoed. */
export type ResponseBase = Omit<ResponseObject, "status" | "output" | "usage" | "error" | "incomplete_details" | "completed_at">

/** The settings of a request as its response echoes them (OpenAI's defaults where it gave none). */
export const responseBase = (request: CreateResponseRequest, id: string, createdAt: number): ResponseBase => ({
  id,
  object: "response",
  created_at: createdAt,
  background: false,
  instructions: request.instructions ?? null,
  max_output_tokens: request.max_output_tokens ?? null,
  max_tool_calls: null,
  model: request.model,
  parallel_tool_calls: request.parallel_tool_calls ?? true,
  previous_response_id: request.previous_response_id ?? null,
  prompt_cache_key: request.prompt_cache_key ?? null,
  reasoning: { effort: request.reasoning?.effort ?? null, summary: null },
  safety_identifier: request.safety_identifier ?? null,
  service_tier: request.service_tier ?? "auto",
  store: request.store ?? true,
  temperature: request.temperature ?? null,
  text: { format: request.text?.format ?? { type: "text" }, verbosity: request.text?.verbosity ?? null },
  tool_choice: echoToolChoice(request),
  tools: echoTools(request),
  top_logprobs: 0,
  top_p: request.top_p ?? null,
  truncation: "disabled",
  user: request.user ?? null,
  metadata: request.metadata ?? {}
})

/**
 * The chat completion request for a Responses request and its messages:
 * `max_output_tokens` → `max_completion_tokens`, `text.format` →
 * `response_format`, `reasoning.effort` → `reasoning_effort`, flat function
 * tools → chat tools; `service_tier`, `safety_identifier`,
 * `prompt_cache_key` and `text.verbosity` go on as the vendor's parameters.
 * A streamed call asks for usage.
 */
export const toChatRequest = (
  request: CreateResponseRequest,
  messages: ReadonlyArray<ChatCompletionMessageParam>,
  stream: boolean
): ChatCompletionRequest => {
  const tools = echoTools(request)
  const choice = request.tool_choice
  const format = request.text?.format
  const chat: Record<string, unknown> = {
    model: request.model as ModelRef,
    messages,
    ...(tools.length > 0
      ? {
        tools: tools.map((tool) => ({
          type: "function",
          function: {
            name: tool.name,
            ...(tool.description !== null ? { description: tool.description } : {}),
            ...(tool.parameters !== null ? { parameters: tool.parameters } : {}),
            ...(tool.strict !== null ? { strict: tool.strict } : {})
          }
        }))
      }
      : {}),
    // `none`/`auto` mean nothing without tools, and OpenAI refuses a `tool_choice` without `tools`.
    ...(choice != null && (tools.length > 0 || (choice !== "none" && choice !== "auto"))
      ? {
        tool_choice: typeof choice === "string"
          ? choice
          : { type: "function", function: { name: (choice as { readonly name: string }).name } }
      }
      : {}),
    ...(request.parallel_tool_calls != null && tools.length > 0 ? { parallel_tool_calls: request.parallel_tool_calls } : {}),
    ...(format != null && format.type !== "text"
      ? {
        response_format: format.type === "json_object"
          ? { type: "json_object" }
          : {
            type: "json_schema",
            json_schema: {
              name: format.name,
              schema: format.schema,
              ...(format.description != null ? { description: format.description } : {}),
              ...(format.strict != null ? { strict: format.strict } : {})
            }
          }
      }
      : {}),
    ...(request.max_output_tokens != null ? { max_completion_tokens: request.max_output_tokens } : {}),
    ...(request.temperature != null ? { temperature: request.temperature } : {}),
    ...(request.top_p != null ? { top_p: request.top_p } : {}),
    ...(request.reasoning?.effort != null ? { reasoning_effort: request.reasoning.effort } : {}),
    ...(request.user != null ? { user: request.user } : {}),
    ...(request.service_tier != null ? { service_tier: request.service_tier } : {}),
    ...(request.safety_identifier != null ? { safety_identifier: request.safety_identifier } : {}),
    ...(request.prompt_cache_key != null ? { prompt_cache_key: request.prompt_cache_key } : {}),
    ...(request.text?.verbosity != null ? { verbosity: request.text.verbosity } : {}),
    ...(stream ? { stream: true, stream_options: { include_usage: true } } : {})
  }
  return chat as unknown as ChatCompletionRequest
}

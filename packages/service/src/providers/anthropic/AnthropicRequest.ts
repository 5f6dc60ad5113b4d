/**
 * Requests, OpenAI → Anthropic: a chat completion request as a Messages API
 * request, rejecting (or, when configured, dropping) what Anthropic cannot
 * honour.
 */
import type { ChatCompletionRequest, GatewayError } from "@switchyard/core"
import type { Either } from "effect"
import {
  allowedToolNames,
  type AssistantMessage,
  assistantTexts,
  functionTools,
  ParamGuard,
  parseDataUrl,
  stopList,
  textParts,
  toolArguments
} from "../VendorTranslation.js"
import {
  type CacheControl,
  type ContentBlockParam,
  defaultTranslationOptions,
  type ImageBlockParam,
  type MessagesRequest,
  MIN_THINKING_BUDGET,
  type RedactedThinkingBlock,
  type TextBlockParam,
  type ThinkingBlock,
  type ToolChoiceParam,
  type ToolParam,
  type TranslationOptions
} from "./AnthropicSchemas.js"

/** A translated request, and what reading its answer needs to know. */
export interface AnthropicCall {
  readonly body: MessagesRequest
  /** The tool forced to carry a `response_format`: its input is the answer's content. */
  readonly jsonTool: string | undefined
}

type MutableMessage = { role: "user" | "assistant"; content: Array<ContentBlockParam> }

const cacheControlOf = (part: object): { cache_control?: typeof CacheControl.Type } => {
  const value = (part as { cache_control?: unknown }).cache_control
  return typeof value === "object" && value !== null && (value as { type?: unknown }).type === "ephemeral"
    ? { cache_control: value as typeof CacheControl.Type }
    : {}
}

const asThinkingBlocks = (value: unknown): Array<ThinkingBlock | RedactedThinkingBlock> => {
  if (!Array.isArray(value)) return []
  return value.flatMap((block): Array<ThinkingBlock | RedactedThinkingBlock> => {
    if (typeof block !== "object" || block === null) return []
    const b = block as Record<string, unknown>
    if (b.type === "thinking" && typeof b.thinking === "string" && typeof b.signature === "string") {
      return [{ type: "thinking", thinking: b.thinking, signature: b.signature }]
    }
    if (b.type === "redacted_thinking" && typeof b.data === "string") return [{ type: "redacted_thinking", data: b.data }]
    return []
  })
}

const imageBlock = (guard: ParamGuard, param: string, url: string): ImageBlockParam => {
  const data = parseDataUrl(url)
  if (data !== undefined) return { type: "image", source: { type: "base64", media_type: data.mediaType, data: data.data } }
  if (/^https?:\/\//i.test(url)) return { type: "image", source: { type: "url", url } }
  return guard.invalid(param, `${param} must be an http(s) URL or a base64 data: URL`)
}

const userBlocks = (
  guard: ParamGuard,
  at: string,
  content: Extract<ChatCompletionRequest["messages"][number], { role: "user" }>["content"]
): Array<ContentBlockParam> => {
  if (typeof content === "string") return [{ type: "text", text: content }]
  const blocks: Array<ContentBlockParam> = []
  content.forEach((part, j) => {
    const param = `${at}.content[${j}]`
    switch (part.type) {
      case "text":
        blocks.push({ type: "text", text: part.text, ...cacheControlOf(part) })
        return
      case "image_url": {
        const detail = part.image_url.detail
        if (detail != null && detail !== "auto") guard.unsupported(`${param}.image_url.detail`, "Anthropic has no image detail setting")
        blocks.push({ ...imageBlock(guard, `${param}.image_url.url`, part.image_url.url), ...cacheControlOf(part) })
        return
      }
      case "input_audio":
        guard.unsupported(`${param}.input_audio`, "Anthropic takes no audio input")
        return
      case "file": {
        if (part.file.file_data == null) {
          guard.unsupported(`${param}.file.file_id`, "Anthropic cannot read OpenAI file ids: send file_data")
          return
        }
        const data = parseDataUrl(part.file.file_data)
        if (data === undefined) return guard.invalid(`${param}.file.file_data`, `${param}.file.file_data must be a base64 data: URL`)
        blocks.push({
          type: "document",
          source: { type: "base64", media_type: data.mediaType, data: data.data },
          ...(part.file.filename != null ? { title: part.file.filename } : {}),
          ...cacheControlOf(part)
        })
        return
      }
    }
  })
  return blocks
}

const assistantBlocks = (
  guard: ParamGuard,
  at: string,
  message: AssistantMessage
): Array<ContentBlockParam> => {
  const blocks: Array<ContentBlockParam> = [...asThinkingBlocks((message as { thinking_blocks?: unknown }).thinking_blocks)]
  if (message.audio != null) guard.unsupported(`${at}.audio`, "Anthropic has no audio output")
  if (message.function_call != null) guard.unsupported(`${at}.function_call`, "deprecated: use tool_calls")
  for (const { part, text } of assistantTexts(message)) {
    blocks.push({ type: "text", text, ...(part !== undefined ? cacheControlOf(part) : {}) })
  }
  message.tool_calls?.forEach((call, k) => {
    if (call.type !== "function") {
      guard.unsupported(`${at}.tool_calls[${k}]`, "Anthropic has no custom tools")
      return
    }
    blocks.push({
      type: "tool_use",
      id: call.id,
      name: call.function.name,
      input: toolArguments(guard, `${at}.tool_calls[${k}].function.arguments`, call.function.arguments)
    })
  })
  return blocks
}

/**
 * Translates a chat completion request into an Anthropic Messages request.
 * Fails with `UnsupportedParameter` (naming the parameter) for anything
 * Anthropic cannot honour, unless the options drop it, and with
 * `InvalidRequest` for requests that are wrong whatever the vendor.
 */
export const toAnthropicRequest = (
  request: ChatCompletionRequest,
  model: string,
  options: TranslationOptions = defaultTranslationOptions,
  vendor = "anthropic"
): Either.Either<AnthropicCall, GatewayError> =>
  ParamGuard.run(() => {
    const guard = new ParamGuard(vendor, options.dropUnsupportedParams)
    const r = request
    guard.unknownFields(r)
    if (r.n != null && r.n > 1) guard.unsupported("n", "Anthropic answers one choice per call (the gateway fans out n > 1)")
    if (r.audio != null) guard.unsupported("audio", "Anthropic has no audio output")
    if (r.modalities != null && r.modalities.includes("audio")) guard.unsupported("modalities", "Anthropic has no audio output")
    if (r.prediction != null) guard.unsupported("prediction", "Anthropic has no predicted outputs")
    if (r.logit_bias != null && Object.keys(r.logit_bias).length > 0) guard.unsupported("logit_bias", "Anthropic has no logit bias")
    if (r.logprobs === true) guard.unsupported("logprobs", "Anthropic returns no log probabilities")
    if (r.top_logprobs != null && r.top_logprobs > 0) guard.unsupported("top_logprobs", "Anthropic returns no log probabilities")
    if (r.frequency_penalty != null && r.frequency_penalty !== 0) guard.unsupported("frequency_penalty", "Anthropic has no frequency penalty")
    if (r.presence_penalty != null && r.presence_penalty !== 0) guard.unsupported("presence_penalty", "Anthropic has no presence penalty")
    if (r.seed != null) guard.unsupported("seed", "Anthropic has no seed")
    if (r.store === true) guard.unsupported("store", "Anthropic does not store completions")
    if (r.functions != null) guard.unsupported("functions", "deprecated: use tools")
    if (r.function_call != null) guard.unsupported("function_call", "deprecated: use tool_choice")

    // Messages: system and developer messages go to `system`; the rest become
    // blocks, consecutive turns of one role merged (tool results are user turns).
    const system: Array<TextBlockParam> = []
    const messages: Array<MutableMessage> = []
    const push = (role: MutableMessage["role"], blocks: Array<ContentBlockParam>) => {
      if (blocks.length === 0) return
      const last = messages[messages.length - 1]
      if (last !== undefined && last.role === role) last.content.push(...blocks)
      else messages.push({ role, content: blocks })
    }
    r.messages.forEach((message, i) => {
      const at = `messages[${i}]`
      if ("name" in message && message.name != null) guard.unsupported(`${at}.name`, "Anthropic has no participant names")
      switch (message.role) {
        case "system":
        case "developer":
          if (typeof message.content === "string") system.push({ type: "text", text: message.content })
          else for (const part of message.content) system.push({ type: "text", text: part.text, ...cacheControlOf(part) })
          return
        case "user":
          push("user", userBlocks(guard, at, message.content))
          return
        case "assistant":
          push("assistant", assistantBlocks(guard, at, message))
          return
        case "tool":
          push("user", [{
            type: "tool_result",
            tool_use_id: message.tool_call_id,
            content: typeof message.content === "string"
              ? message.content
              : textParts(message.content).map((text) => ({ type: "text" as const, text }))
          }])
          return
        case "function":
          guard.unsupported(at, "function messages are deprecated: use tool messages")
          return
      }
    })

    // Tools.
    let tools = functionTools(guard, r.tools, "Anthropic", (tool): ToolParam => ({
      name: tool.function.name,
      ...(tool.function.description != null ? { description: tool.function.description } : {}),
      input_schema: tool.function.parameters ?? { type: "object", properties: {} },
      ...cacheControlOf(tool)
    }))
    let toolChoice: ToolChoiceParam | undefined
    const choice = r.tool_choice
    if (choice != null) {
      if (choice === "auto") toolChoice = { type: "auto" }
      else if (choice === "none") toolChoice = { type: "none" }
      else if (choice === "required") toolChoice = { type: "any" }
      else if (choice.type === "function") toolChoice = { type: "tool", name: choice.function.name }
      else if (choice.type === "allowed_tools") {
        const allowed = allowedToolNames(choice.allowed_tools.tools)
        tools = tools?.filter((tool) => allowed.has(tool.name))
        toolChoice = { type: choice.allowed_tools.mode === "required" ? "any" : "auto" }
      } else guard.unsupported("tool_choice", "Anthropic has no custom tools")
    }

    // Structured output: a tool the model must call, whose input is the answer.
    let jsonTool: string | undefined
    const format = r.response_format
    if (format != null && format.type !== "text") {
      if (choice != null && choice !== "auto") {
        guard.unsupported("response_format", "on Anthropic it forces a tool, so it cannot be combined with this tool_choice")
      } else {
        const schema = format.type === "json_schema" ? format.json_schema : undefined
        jsonTool = schema?.name ?? "json_response"
        if (tools?.some((tool) => tool.name === jsonTool)) {
          guard.invalid("response_format", `response_format's name \`${jsonTool}\` is also the name of a tool`)
        }
        ;(tools ??= []).push({
          name: jsonTool,
          description: schema?.description ?? "Answer by calling this tool: its input is your response, as JSON.",
          input_schema: schema?.schema ?? { type: "object" }
        })
        toolChoice = { type: "tool", name: jsonTool }
      }
    }
    if (r.parallel_tool_calls === false && tools !== undefined && tools.length > 0) {
      if (toolChoice === undefined) toolChoice = { type: "auto", disable_parallel_tool_use: true }
      else if (toolChoice.type !== "none") toolChoice = { ...toolChoice, disable_parallel_tool_use: true }
    }

    // Sampling and limits.
    let temperature = r.temperature ?? undefined
    if (temperature !== undefined && temperature > 1) {
      if (options.clampTemperature) temperature = 1
      else {
        guard.unsupported("temperature", "Anthropic accepts 0 to 1")
        temperature = undefined
      }
    }
    const requested = r.max_completion_tokens ?? r.max_tokens ?? undefined
    let maxTokens = requested ?? options.defaultMaxTokens
    let thinking: MessagesRequest["thinking"]
    const effort = r.reasoning_effort
    if (effort != null && effort !== "none") {
      let budget = options.thinkingBudgets[effort]
      if (budget === undefined) {
        guard.unsupported(
          "reasoning_effort",
          `unknown value \`${effort}\`; use one of none, ${Object.keys(options.thinkingBudgets).join(", ")}`
        )
      } else if (jsonTool !== undefined) {
        guard.unsupported("reasoning_effort", "Anthropic cannot think while response_format forces a tool")
      } else {
        if (requested !== undefined) {
          budget = Math.min(budget, requested - 1)
          if (budget < MIN_THINKING_BUDGET) {
            guard.unsupported(
              "reasoning_effort",
              `Anthropic needs a thinking budget of at least ${MIN_THINKING_BUDGET} tokens below max_completion_tokens`
            )
          }
        } else maxTokens = options.defaultMaxTokens + budget
        if (budget >= MIN_THINKING_BUDGET) thinking = { type: "enabled", budget_tokens: budget }
      }
    }

    // Metadata: Anthropic keeps only a user id.
    let userId = r.user ?? undefined
    if (r.metadata != null) {
      for (const key of Object.keys(r.metadata)) {
        if (key === "user_id") userId ??= r.metadata[key]
        else guard.unsupported(`metadata.${key}`, "Anthropic's metadata holds only user_id")
      }
    }

    const stop = stopList(r.stop)
    const body: MessagesRequest = {
      model,
      max_tokens: maxTokens,
      messages,
      ...(system.length > 0 ? { system } : {}),
      ...(stop !== undefined && stop.length > 0 ? { stop_sequences: stop } : {}),
      ...(temperature !== undefined ? { temperature } : {}),
      ...(r.top_p != null ? { top_p: r.top_p } : {}),
      ...(r.top_k != null ? { top_k: r.top_k } : {}),
      ...(tools !== undefined && tools.length > 0 ? { tools } : {}),
      ...(toolChoice !== undefined && (tools?.length ?? 0) > 0 ? { tool_choice: toolChoice } : {}),
      ...(thinking !== undefined ? { thinking } : {}),
      ...(userId !== undefined ? { metadata: { user_id: userId } } : {})
    }
    return { body, jsonTool }
  })


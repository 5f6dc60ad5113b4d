/**
 * Requests, OpenAI → Gemini: a chat completion request as a
 * `generateContent` request, rejecting (or, when configured, dropping) what
 * Gemini cannot honour.
 */
import type { ChatCompletionRequest, GatewayError } from "@switchyard/core"
import type { Either } from "effect"
import {
  allowedToolNames,
  assistantTexts,
  functionTools,
  isJsonObject,
  ParamGuard,
  parseDataUrl,
  stopList,
  textParts,
  toolArguments
} from "../VendorTranslation.js"
import {
  defaultTranslationOptions,
  type FunctionDeclaration,
  type GenerateContentRequest,
  type GenerationConfig,
  type Part,
  type ToolConfig,
  type TranslationOptions
} from "./GeminiSchemas.js"

type MutableContent = { role: "user" | "model"; parts: Array<Part> }

/**
 * A tool message's content as a `functionResponse.response` (which must be an
 * object): the JSON object itself when the content is exactly one, otherwise
 * `{"content": <text>}`. Both read back to the same text.
 */
export const functionResponseOf = (text: string): Record<string, unknown> => {
  if (text.startsWith("{")) {
    try {
      const value: unknown = JSON.parse(text)
      if (isJsonObject(value) && JSON.stringify(value) === text) {
        const keys = Object.keys(value)
        if (!(keys.length === 1 && keys[0] === "content" && typeof value.content === "string")) return value
      }
    } catch {
      // Not JSON: wrapped below.
    }
  }
  return { content: text }
}

const AUDIO_TYPES: Record<string, string> = { wav: "audio/wav", mp3: "audio/mp3" }

const userParts = (
  guard: ParamGuard,
  at: string,
  content: Extract<ChatCompletionRequest["messages"][number], { role: "user" }>["content"]
): Array<Part> => {
  if (typeof content === "string") return [{ text: content }]
  const parts: Array<Part> = []
  content.forEach((part, j) => {
    const param = `${at}.content[${j}]`
    switch (part.type) {
      case "text":
        parts.push({ text: part.text })
        return
      case "image_url": {
        const detail = part.image_url.detail
        if (detail != null && detail !== "auto") guard.unsupported(`${param}.image_url.detail`, "Gemini has no per-image detail setting")
        const data = parseDataUrl(part.image_url.url)
        if (data === undefined) {
          guard.unsupported(`${param}.image_url.url`, "Gemini takes images inline: send a base64 data: URL")
          return
        }
        parts.push({ inlineData: { mimeType: data.mediaType, data: data.data } })
        return
      }
      case "input_audio":
        parts.push({ inlineData: { mimeType: AUDIO_TYPES[part.input_audio.format]!, data: part.input_audio.data } })
        return
      case "file": {
        if (part.file.file_data == null) {
          guard.unsupported(`${param}.file.file_id`, "Gemini cannot read OpenAI file ids: send file_data")
          return
        }
        const data = parseDataUrl(part.file.file_data)
        if (data === undefined) return guard.invalid(`${param}.file.file_data`, `${param}.file.file_data must be a base64 data: URL`)
        parts.push({ inlineData: { mimeType: data.mediaType, data: data.data } })
        return
      }
    }
  })
  return parts
}

/** The thought signature Gemini attached to a function call, where OpenAI clients keep it (as Google's own compatibility layer does). */
const thoughtSignatureOf = (call: object): string | undefined => {
  const extra = (call as { extra_content?: { google?: { thought_signature?: unknown } } }).extra_content
  const signature = extra?.google?.thought_signature
  return typeof signature === "string" ? signature : undefined
}

/**
 * Translates a chat completion request into a Gemini `generateContent`
 * request (the model goes in the URL). Fails with `UnsupportedParameter`
 * (naming the parameter) for anything Gemini cannot honour, unless the
 * options drop it, and with `InvalidRequest` for requests that are wrong
 * whatever the vendor.
 */
export const toGeminiRequest = (
  request: ChatCompletionRequest,
  options: TranslationOptions = defaultTranslationOptions,
  vendor = "gemini"
): Either.Either<GenerateContentRequest, GatewayError> =>
  ParamGuard.run(() => {
    const guard = new ParamGuard(vendor, options.dropUnsupportedParams)
    const r = request
    guard.unknownFields(r)
    if (r.audio != null) guard.unsupported("audio", "the gateway does not translate Gemini's audio output")
    if (r.modalities != null && r.modalities.includes("audio")) guard.unsupported("modalities", "the gateway does not translate Gemini's audio output")
    if (r.prediction != null) guard.unsupported("prediction", "Gemini has no predicted outputs")
    if (r.logit_bias != null && Object.keys(r.logit_bias).length > 0) guard.unsupported("logit_bias", "Gemini has no logit bias")
    if (r.store === true) guard.unsupported("store", "Gemini does not store completions")
    if (r.user != null) guard.unsupported("user", "Gemini has no end-user id")
    if (r.metadata != null && Object.keys(r.metadata).length > 0) guard.unsupported("metadata", "Gemini has no request metadata")
    if (r.functions != null) guard.unsupported("functions", "deprecated: use tools")
    if (r.function_call != null) guard.unsupported("function_call", "deprecated: use tool_choice")

    const system: Array<Part> = []
    const contents: Array<MutableContent> = []
    const callNames = new Map<string, string>()
    const push = (role: MutableContent["role"], parts: Array<Part>) => {
      if (parts.length === 0) return
      const last = contents[contents.length - 1]
      if (last !== undefined && last.role === role) last.parts.push(...parts)
      else contents.push({ role, parts })
    }
    r.messages.forEach((message, i) => {
      const at = `messages[${i}]`
      if ("name" in message && message.name != null) guard.unsupported(`${at}.name`, "Gemini has no participant names")
      switch (message.role) {
        case "system":
        case "developer":
          for (const text of textParts(message.content)) system.push({ text })
          return
        case "user":
          push("user", userParts(guard, at, message.content))
          return
        case "assistant": {
          if (message.audio != null) guard.unsupported(`${at}.audio`, "the gateway does not translate Gemini's audio output")
          if (message.function_call != null) guard.unsupported(`${at}.function_call`, "deprecated: use tool_calls")
          const parts: Array<Part> = assistantTexts(message).map(({ text }) => ({ text }))
          message.tool_calls?.forEach((call, k) => {
            if (call.type !== "function") {
              guard.unsupported(`${at}.tool_calls[${k}]`, "Gemini has no custom tools")
              return
            }
            callNames.set(call.id, call.function.name)
            const signature = thoughtSignatureOf(call)
            parts.push({
              functionCall: {
                name: call.function.name,
                args: toolArguments(guard, `${at}.tool_calls[${k}].function.arguments`, call.function.arguments)
              },
              ...(signature !== undefined ? { thoughtSignature: signature } : {})
            })
          })
          push("model", parts)
          return
        }
        case "tool": {
          const name = callNames.get(message.tool_call_id)
          if (name === undefined) {
            return guard.invalid(
              `${at}.tool_call_id`,
              `${at}.tool_call_id \`${message.tool_call_id}\` answers no tool call of an earlier assistant message`
            )
          }
          push("user", [{ functionResponse: { name, response: functionResponseOf(textParts(message.content).join("")) } }])
          return
        }
        case "function":
          guard.unsupported(at, "function messages are deprecated: use tool messages")
          return
      }
    })

    // Tools.
    let declarations = functionTools(guard, r.tools, "Gemini", (tool): FunctionDeclaration => ({
      name: tool.function.name,
      ...(tool.function.description != null ? { description: tool.function.description } : {}),
      ...(tool.function.parameters != null ? { parametersJsonSchema: tool.function.parameters } : {})
    }))
    let toolConfig: ToolConfig | undefined
    const choice = r.tool_choice
    if (choice != null) {
      const mode = (mode: ToolConfig["functionCallingConfig"]["mode"], names?: Array<string>): ToolConfig => ({
        functionCallingConfig: { mode, ...(names !== undefined ? { allowedFunctionNames: names } : {}) }
      })
      if (choice === "auto") toolConfig = mode("AUTO")
      else if (choice === "none") toolConfig = mode("NONE")
      else if (choice === "required") toolConfig = mode("ANY")
      else if (choice.type === "function") toolConfig = mode("ANY", [choice.function.name])
      else if (choice.type === "allowed_tools") {
        const allowed = allowedToolNames(choice.allowed_tools.tools)
        declarations = declarations?.filter((declaration) => allowed.has(declaration.name))
        toolConfig = mode(choice.allowed_tools.mode === "required" ? "ANY" : "AUTO")
      } else guard.unsupported("tool_choice", "Gemini has no custom tools")
    }
    if (r.parallel_tool_calls === false && declarations !== undefined && declarations.length > 0) {
      guard.unsupported("parallel_tool_calls", "Gemini cannot be told to call one function at a time")
    }

    // Generation config.
    const config: { -readonly [K in keyof GenerationConfig]?: GenerationConfig[K] } = {}
    if (r.temperature != null) config.temperature = r.temperature
    if (r.top_p != null) config.topP = r.top_p
    if (r.top_k != null) config.topK = r.top_k
    const maxTokens = r.max_completion_tokens ?? r.max_tokens
    if (maxTokens != null) config.maxOutputTokens = maxTokens
    const stop = stopList(r.stop)
    if (stop !== undefined && stop.length > 0) config.stopSequences = stop
    if (r.n != null && r.n > 1) config.candidateCount = r.n
    if (r.seed != null) config.seed = r.seed
    if (r.presence_penalty != null) config.presencePenalty = r.presence_penalty
    if (r.frequency_penalty != null) config.frequencyPenalty = r.frequency_penalty
    const format = r.response_format
    if (format != null && format.type !== "text") {
      config.responseMimeType = "application/json"
      if (format.type === "json_schema" && format.json_schema.schema != null) config.responseJsonSchema = format.json_schema.schema
    }
    if (r.logprobs === true) {
      config.responseLogprobs = true
      if (r.top_logprobs != null && r.top_logprobs > 0) config.logprobs = r.top_logprobs
    } else if (r.top_logprobs != null && r.top_logprobs > 0) {
      guard.invalid("top_logprobs", "top_logprobs requires logprobs: true")
    }
    const effort = r.reasoning_effort
    if (effort != null) {
      const budget = options.thinkingBudgets[effort]
      if (budget === undefined) {
        guard.unsupported("reasoning_effort", `unknown value \`${effort}\`; use one of ${Object.keys(options.thinkingBudgets).join(", ")}`)
      } else {
        config.thinkingConfig = budget > 0 ? { thinkingBudget: budget, includeThoughts: true } : { thinkingBudget: 0 }
      }
    }

    return {
      contents,
      ...(system.length > 0 ? { systemInstruction: { parts: system } } : {}),
      ...(declarations !== undefined && declarations.length > 0 ? { tools: [{ functionDeclarations: declarations }] } : {}),
      ...(toolConfig !== undefined && (declarations?.length ?? 0) > 0 ? { toolConfig } : {}),
      ...(Object.keys(config).length > 0 ? { generationConfig: config } : {})
    }
  })


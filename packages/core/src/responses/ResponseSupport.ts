import { InvalidRequest } from "../GatewayError.js"
import {
  CreateResponseRequest,
  type InputContentPart,
  type InputFilePart,
  type InputImagePart,
  type InputItem,
  supportedIncludes
} from "./ResponseRequest.js"

const knownFields: ReadonlySet<string> = new Set(Object.keys(CreateResponseRequest.fields))

const unknown = (param: string) =>
  new InvalidRequest({ message: `Unknown parameter: '${param}'.`, param, code: "unknown_parameter" })

const unsupported = (param: string, why: string) =>
  new InvalidRequest({
    message: `Unsupported parameter: '${param}': ${why}`,
    param,
    code: "unsupported_parameter"
  })

const unsupportedValue = (param: string, why: string) =>
  new InvalidRequest({ message: `Unsupported value for '${param}': ${why}`, param, code: "unsupported_value" })

/** The roles a part of each type may appear in. */
const partRoles: Readonly<Record<string, ReadonlyArray<string>>> = {
  input_text: ["user", "system", "developer", "assistant"],
  input_image: ["user"],
  input_file: ["user"],
  output_text: ["assistant"],
  refusal: ["assistant"]
}

const partIssue = (part: InputContentPart, role: string, at: string): InvalidRequest | undefined => {
  const roles = partRoles[part.type]
  if (roles === undefined) {
    return unsupportedValue(`${at}.type`, `content parts of type \`${part.type}\` are not supported.`)
  }
  if (!roles.includes(role)) {
    return unsupportedValue(`${at}.type`, `a \`${role}\` message cannot contain \`${part.type}\` parts.`)
  }
  if (part.type === "input_image" && (part as InputImagePart).image_url == null) {
    return unsupported(
      `${at}.file_id`,
      "images must be given as `image_url` (a URL or a data URL); Switchyard has no files API."
    )
  }
  if (part.type === "input_file") {
    const file = part as InputFilePart
    if (file.file_id != null) return unsupported(`${at}.file_id`, "Switchyard has no files API; send `file_data`.")
    if (file.file_url != null) return unsupported(`${at}.file_url`, "send the file inline as `file_data`.")
    if (file.file_data == null) return unsupported(`${at}.file_data`, "a file part needs `file_data`.")
  }
  return undefined
}

const itemIssue = (item: InputItem, at: string): InvalidRequest | undefined => {
  if ("role" in item) {
    if (typeof item.content === "string") return undefined
    for (let j = 0; j < item.content.length; j++) {
      const issue = partIssue(item.content[j]!, item.role, `${at}.content[${j}]`)
      if (issue !== undefined) return issue
    }
    return undefined
  }
  if (item.type === "function_call_output" && "call_id" in item && typeof item.output !== "string") {
    for (let j = 0; j < item.output.length; j++) {
      const part = item.output[j]!
      if (part.type !== "input_text" && part.type !== "output_text") {
        return unsupportedValue(`${at}.output[${j}].type`, `function call outputs may contain text only; got \`${part.type}\`.`)
      }
    }
    return undefined
  }
  switch (item.type) {
    case "function_call":
    case "function_call_output":
    case "reasoning":
    case "item_reference":
    case null:
    case undefined:
      return undefined
    default:
      return unsupportedValue(`${at}.type`, `input items of type \`${item.type}\` are not supported.`)
  }
}

/**
 * The first thing in a Responses request that Switchyard cannot honour, as a
 * 400 naming the field: an unknown parameter, a built-in tool (`web_search`,
 * `file_search`, …), `background`, `conversation`, `prompt`, reasoning
 * summaries, an `include` it cannot give, a file id, … Nothing is silently
 * dropped: a request either means what it says, or is refused.
 */
export const responsesRequestIssue = (request: CreateResponseRequest): InvalidRequest | undefined => {
  for (const key of Object.keys(request)) {
    if (!knownFields.has(key)) return unknown(key)
  }
  if (request.background === true) {
    return unsupported("background", "background responses are not supported; send the request without it.")
  }
  if (request.conversation != null) {
    return unsupported("conversation", "conversations are not supported; chain responses with `previous_response_id`.")
  }
  if (request.prompt != null) return unsupported("prompt", "stored prompt templates are not supported.")
  if (request.max_tool_calls != null) return unsupported("max_tool_calls", "the number of tool calls cannot be capped.")
  if (request.truncation === "auto") {
    return unsupportedValue("truncation", "`auto` truncation is not supported; only `disabled`.")
  }
  if (request.top_logprobs != null && request.top_logprobs > 0) {
    return unsupported("top_logprobs", "log probabilities are not returned by the Responses facade.")
  }
  if (request.reasoning?.summary != null) {
    return unsupported("reasoning.summary", "reasoning summaries cannot be requested from chat models.")
  }
  if (request.reasoning?.generate_summary != null) {
    return unsupported("reasoning.generate_summary", "reasoning summaries cannot be requested from chat models.")
  }
  const include = request.include ?? []
  for (let i = 0; i < include.length; i++) {
    if (!supportedIncludes.has(include[i]!)) {
      return unsupportedValue(`include[${i}]`, `\`${include[i]}\` cannot be included by Switchyard.`)
    }
  }
  const tools = request.tools ?? []
  for (let i = 0; i < tools.length; i++) {
    const tool = tools[i]!
    if (tool.type !== "function") {
      return unsupportedValue(
        `tools[${i}].type`,
        `built-in tool \`${tool.type}\` is not supported; only function tools are.`
      )
    }
  }
  const choice = request.tool_choice
  if (choice != null && typeof choice === "object" && choice.type !== "function") {
    return unsupportedValue("tool_choice.type", `tool choice \`${choice.type}\` is not supported.`)
  }
  if (Array.isArray(request.input)) {
    for (let i = 0; i < request.input.length; i++) {
      const issue = itemIssue(request.input[i]!, `input[${i}]`)
      if (issue !== undefined) return issue
    }
  }
  return undefined
}

/** The `include` query parameter of a stored response's reads, refused by name unless the facade can give it. */
export const includeParamIssue = (include: string | ReadonlyArray<string> | undefined): InvalidRequest | undefined => {
  const values = include === undefined ? [] : typeof include === "string" ? [include] : include
  const other = values.find((value) => !supportedIncludes.has(value))
  return other === undefined ? undefined : unsupportedValue("include", `\`${other}\` cannot be included by Switchyard.`)
}

/**
 * The query of `GET /v5/responses/{id}`: a stored response is given as JSON
 * only (`stream=true`, replaying its events, is refused by name), with what
 * `include` can give.
 */
export const retrieveParamsIssue = (params: {
  readonly include?: string | ReadonlyArray<string> | undefined
  readonly stream?: string | undefined
}): InvalidRequest | undefined =>
  params.stream !== undefined && params.stream !== "false"
    ? unsupported("stream", "a stored response cannot be streamed again; retrieve it as JSON.")
    : includeParamIssue(params.include)

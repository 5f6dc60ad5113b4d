/**
 * The offline `echo` vendor: a provider with no upstream, for a fresh
 * install, demos and load tests.
 */
import {
  type ChatCompletion,
  type ChatCompletionChoice,
  type ChatCompletionChunk,
  type ChatCompletionRequest,
  type CompletionUsage,
  contentText,
  type FinishReason,
  type FunctionTool,
  type GatewayError
} from "@switchyard/core"
import { Clock, Config, type ConfigError, Effect, Layer, Option, Schema } from "effect"
import { type ChunkPull, makeProvider, type ModelInfo, type Provider, type ProviderCall } from "../../Provider.js"
import { ProviderRegistry } from "../../ProviderRegistry.js"
import { pullPaced } from "../../transport/ChunkStream.js"
import { layerIfConfigured } from "../ProviderConfig.js"
import { loadTokenizer, type Tokenizer } from "../../Tokenizer.js"

export { approximateTokenizer, loadTokenizer, type O200kModule, type Tokenizer } from "../../Tokenizer.js"

/** Options of the offline echo vendor. */
export interface EchoOptions {
  /** A pause before each streamed chunk, to imitate a model's pace (default 0). */
  readonly chunkDelayMs?: number
  /** Tokens per streamed content chunk (default 1). */
  readonly tokensPerChunk?: number
}

/** Plans the answer of one request: the text, its tokens, and why it stops. */
interface EchoPlan {
  readonly content: string
  readonly pieces: ReadonlyArray<string>
  readonly finishReason: FinishReason
  readonly toolCall: { readonly name: string; readonly arguments: string } | undefined
  readonly usage: CompletionUsage
}

const lastUserText = (request: ChatCompletionRequest): string => {
  for (let i = request.messages.length - 1; i >= 0; i--) {
    const message = request.messages[i]!
    if (message.role === "user") return contentText(message.content)
  }
  return ""
}

/** The function a request forces: a named `tool_choice`, or the first function tool when `required`. */
const forcedFunction = (request: ChatCompletionRequest): FunctionTool | undefined => {
  const tools = (request.tools ?? []).filter((tool): tool is FunctionTool => tool.type === "function")
  const choice = request.tool_choice
  if (choice === "required") return tools[0]
  if (choice != null && typeof choice === "object" && choice.type === "function") {
    return tools.find((tool) => tool.function.name === choice.function.name) ??
      { type: "function", function: { name: choice.function.name } }
  }
  return undefined
}

/** Arguments for a forced call: each string property of the function's schema gets the user's text. */
const echoArguments = (tool: FunctionTool, text: string): string => {
  const properties = tool.function.parameters?.properties
  const args: Record<string, unknown> = {}
  if (typeof properties === "object" && properties !== null) {
    for (const [name, schema] of Object.entries(properties as Record<string, { type?: unknown }>)) {
      const type = schema?.type
      args[name] = type === "number" || type === "integer" ? 0 : type === "boolean" ? false : type === "array" ? [] : text
    }
  } else {
    args.text = text
  }
  return JSON.stringify(args)
}

const stops = (request: ChatCompletionRequest): ReadonlyArray<string> =>
  request.stop == null ? [] : typeof request.stop === "string" ? [request.stop] : request.stop

const plan = (tokenizer: Tokenizer, request: ChatCompletionRequest): EchoPlan => {
  let promptTokens = 3
  for (const message of request.messages) {
    promptTokens += 3 + tokenizer.count(contentText(message.content as Parameters<typeof contentText>[0]))
  }
  const text = lastUserText(request)
  const n = request.n ?? 1
  const tool = forcedFunction(request)
  if (tool !== undefined) {
    const args = echoArguments(tool, text)
    const completionTokens = tokenizer.count(tool.function.name + args)
    return {
      content: "",
      pieces: [],
      finishReason: "tool_calls",
      toolCall: { name: tool.function.name, arguments: args },
      usage: usage(promptTokens, completionTokens * n)
    }
  }
  let content = text
  let finishReason: FinishReason = "stop"
  let cut = -1
  for (const stop of stops(request)) {
    const at = stop.length > 0 ? content.indexOf(stop) : -1
    if (at >= 0 && (cut < 0 || at < cut)) cut = at
  }
  if (cut >= 0) content = content.slice(0, cut)
  let pieces = tokenizer.split(content)
  const max = request.max_completion_tokens ?? request.max_tokens
  if (max != null && pieces.length > max) {
    pieces = pieces.slice(0, max)
    finishReason = "length"
    content = pieces.join("")
  }
  return { content, pieces, finishReason, toolCall: undefined, usage: usage(promptTokens, pieces.length * n) }
}

const usage = (prompt: number, completion: number): CompletionUsage => ({
  prompt_tokens: prompt,
  completion_tokens: completion,
  total_tokens: prompt + completion,
  prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
  completion_tokens_details: {
    reasoning_tokens: 0,
    audio_tokens: 0,
    accepted_prediction_tokens: 0,
    rejected_prediction_tokens: 0
  }
})

const completionId = () => `chatcmpl-echo${Math.random().toString(36).slice(2, 14)}`

/**
 * The offline `echo` vendor: answers with the last user message, so a fresh
 * install serves real requests with no keys and no network. It counts tokens
 * with GPT-4o's tokenizer and honours `max_completion_tokens`/`max_tokens`,
 * `n`, `stop`, `stream_options.include_usage` and a `tool_choice` that names a
 * function (or `required`). It doubles as the upstream for load tests.
 */
export const make = (options: EchoOptions = {}): Effect.Effect<Provider> =>
  Effect.gen(function*() {
    const tokenizer = yield* Effect.cached(loadTokenizer())
    const delayMs = options.chunkDelayMs ?? 0
    const perChunk = Math.max(1, options.tokensPerChunk ?? 1)

    const create = (call: ProviderCall): Effect.Effect<ChatCompletion, GatewayError> =>
      Effect.gen(function*() {
        const answer = plan(yield* tokenizer, call.request)
        const created = Math.floor((yield* Clock.currentTimeMillis) / 1000)
        const choices: Array<ChatCompletionChoice> = []
        for (let index = 0; index < (call.request.n ?? 1); index++) {
          choices.push({
            index,
            finish_reason: answer.finishReason,
            logprobs: null,
            message: answer.toolCall !== undefined
              ? {
                role: "assistant",
                content: null,
                refusal: null,
                tool_calls: [{ id: `call_echo_${index}`, type: "function", function: answer.toolCall }]
              }
              : { role: "assistant", content: answer.content, refusal: null }
          })
        }
        return {
          id: completionId(),
          object: "chat.completion",
          created,
          model: call.model,
          choices,
          usage: answer.usage,
          system_fingerprint: "fp_echo"
        }
      })

    /** Every chunk of the answer, computed at once; `pullPaced` hands them out on the Effect clock. */
    const open = (call: ProviderCall): Effect.Effect<ChunkPull, GatewayError> =>
      Effect.gen(function*() {
        const answer = plan(yield* tokenizer, call.request)
        const created = Math.floor((yield* Clock.currentTimeMillis) / 1000)
        const n = call.request.n ?? 1
        const base = { id: completionId(), object: "chat.completion.chunk" as const, created, model: call.model, system_fingerprint: "fp_echo" }
        const chunk = (choices: ChatCompletionChunk["choices"]): ChatCompletionChunk => ({ ...base, choices })
        const all = <A>(f: (index: number) => A): Array<A> => Array.from({ length: n }, (_, index) => f(index))
        const chunks: Array<ChatCompletionChunk> = []
        chunks.push(chunk(all((index) => ({
          index,
          delta: { role: "assistant", content: answer.toolCall !== undefined ? null : "", refusal: null },
          logprobs: null,
          finish_reason: null
        }))))
        if (answer.toolCall !== undefined) {
          const call = answer.toolCall
          chunks.push(chunk(all((index) => ({
            index,
            delta: {
              tool_calls: [{ index: 0, id: `call_echo_${index}`, type: "function", function: { name: call.name, arguments: "" } }]
            },
            logprobs: null,
            finish_reason: null
          }))))
          for (let at = 0; at < call.arguments.length; at += 16) {
            const piece = call.arguments.slice(at, at + 16)
            chunks.push(chunk(all((index) => ({
              index,
              delta: { tool_calls: [{ index: 0, function: { arguments: piece } }] },
              logprobs: null,
              finish_reason: null
            }))))
          }
        } else {
          for (let at = 0; at < answer.pieces.length; at += perChunk) {
            const content = answer.pieces.slice(at, at + perChunk).join("")
            chunks.push(chunk(all((index) => ({ index, delta: { content }, logprobs: null, finish_reason: null }))))
          }
        }
        chunks.push(chunk(all((index) => ({ index, delta: {}, logprobs: null, finish_reason: answer.finishReason }))))
        if (call.request.stream_options?.include_usage === true) chunks.push({ ...chunk([]), usage: answer.usage })
        return pullPaced(chunks, { latencyMs: delayMs, delayMs })
      })

    const models: Effect.Effect<ReadonlyArray<ModelInfo>> = Effect.succeed([{ id: "echo", vendor: "echo", ownedBy: "switchyard" }])

    return makeProvider({ family: "echo", supportsN: true, create, open, models })
  })

/** Registers the echo vendor as `echo` in the `ProviderRegistry`. */
export const layer = (options: EchoOptions = {}): Layer.Layer<never, never, ProviderRegistry> =>
  ProviderRegistry.registration("echo", make(options))

/** The `echo` section of a configuration file. */
export const EchoSection = Schema.Struct({
  /** Set `false` to leave the vendor out. */
  enabled: Schema.optional(Schema.Boolean),
  chunk_delay_ms: Schema.optional(Schema.Number.pipe(Schema.nonNegative())),
  tokens_per_chunk: Schema.optional(Schema.Int.pipe(Schema.positive()))
}).annotations({ identifier: "EchoSection" })
export interface EchoSection extends Schema.Schema.Type<typeof EchoSection> {}

/**
 * The options of a configuration section and of the environment
 * (`SWITCHYARD_ECHO_DELAY_MS`, which the section's `chunk_delay_ms` wins
 * over), or `None` when the section disables the vendor.
 */
export const readOptions = (section: EchoSection = {}): Effect.Effect<Option.Option<EchoOptions>, ConfigError.ConfigError> =>
  Effect.gen(function*() {
    if (section.enabled === false) return Option.none()
    const envDelay = Option.getOrUndefined(yield* Config.option(Config.number("SWITCHYARD_ECHO_DELAY_MS")))
    const delay = section.chunk_delay_ms ?? envDelay
    return Option.some({
      ...(delay !== undefined ? { chunkDelayMs: delay } : {}),
      ...(section.tokens_per_chunk !== undefined ? { tokensPerChunk: section.tokens_per_chunk } : {})
    })
  })

/** Registers the echo vendor as a configuration section and the environment describe it, unless disabled. */
export const layerConfig = (section: EchoSection = {}): Layer.Layer<never, ConfigError.ConfigError, ProviderRegistry> =>
  layerIfConfigured(readOptions(section), layer)

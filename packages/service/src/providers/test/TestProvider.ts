/**
 * `TestProvider`: a scripted provider for tests, yours and ours, on the
 * Effect clock.
 */
import {
  aggregateChunks,
  type ChatCompletion,
  type ChatCompletionChunk,
  type CompletionUsage,
  type FinishReason,
  type GatewayError,
  UpstreamRateLimited,
  UpstreamUnavailable
} from "@switchyard/core"
import { Context, Effect, Layer, Ref } from "effect"
import { type ChunkPull, makeProvider, type ModelInfo, type Provider, type ProviderCall } from "../../Provider.js"
import { ProviderRegistry, type RegistryOptions } from "../../ProviderRegistry.js"
import { pullPaced } from "../../transport/ChunkStream.js"

/** How a scripted attempt ends once its chunks are out. */
export type TestEnd =
  | { readonly _tag: "Complete" }
  | { readonly _tag: "Fail"; readonly error: GatewayError }
  | { readonly _tag: "Stall" }

/** One scripted attempt: chunks, pacing, and how it ends. */
export interface TestStep {
  readonly chunks: ReadonlyArray<ChatCompletionChunk>
  /** A pause before the first chunk (or the failure). */
  readonly latencyMs?: number | undefined
  /** A pause before each chunk after the first. */
  readonly delayMs?: number | undefined
  readonly end: TestEnd
}

/** Options for scripted replies. */
export interface ReplyOptions {
  readonly id?: string
  readonly model?: string
  /** Characters per content chunk (default 4). */
  readonly chunkSize?: number
  readonly finishReason?: FinishReason
  /** A usage chunk at the end (`true` derives one from the text). */
  readonly usage?: boolean | CompletionUsage
  readonly latencyMs?: number
  readonly delayMs?: number
}

const base = (options: ReplyOptions) => ({
  id: options.id ?? "chatcmpl-test",
  object: "chat.completion.chunk" as const,
  created: 1_700_000_000,
  model: options.model ?? "test-model"
})

const usageChunks = (options: ReplyOptions, completionTokens: number): Array<ChatCompletionChunk> => {
  if (options.usage === undefined || options.usage === false) return []
  const usage = options.usage === true
    ? { prompt_tokens: 10, completion_tokens: completionTokens, total_tokens: 10 + completionTokens }
    : options.usage
  return [{ ...base(options), choices: [], usage }]
}

/** The chunks of a streamed text answer: a role chunk, the text in pieces, a finish chunk, maybe usage. */
const textChunks = (text: string, options: ReplyOptions = {}): Array<ChatCompletionChunk> => {
  const size = Math.max(1, options.chunkSize ?? 4)
  const chunks: Array<ChatCompletionChunk> = [{
    ...base(options),
    choices: [{ index: 0, delta: { role: "assistant", content: "" }, logprobs: null, finish_reason: null }]
  }]
  const pieces = Array.from(text).reduce<Array<string>>((acc, char, i) => {
    if (i % size === 0) acc.push(char)
    else acc[acc.length - 1] += char
    return acc
  }, [])
  for (const piece of pieces) {
    chunks.push({ ...base(options), choices: [{ index: 0, delta: { content: piece }, logprobs: null, finish_reason: null }] })
  }
  chunks.push({
    ...base(options),
    choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: options.finishReason ?? "stop" }]
  })
  return [...chunks, ...usageChunks(options, pieces.length)]
}

const timing = (options: { readonly latencyMs?: number | undefined; readonly delayMs?: number | undefined }) => ({
  ...(options.latencyMs !== undefined ? { latencyMs: options.latencyMs } : {}),
  ...(options.delayMs !== undefined ? { delayMs: options.delayMs } : {})
})

/** Answers with `text`. */
const reply = (text: string, options: ReplyOptions = {}): TestStep => ({
  chunks: textChunks(text, options),
  ...timing(options),
  end: { _tag: "Complete" }
})

/** Answers with a call of the function `name`, its arguments streamed in `pieces`. */
const toolCall = (
  name: string,
  args: string,
  options: ReplyOptions & { readonly pieces?: number; readonly callId?: string } = {}
): TestStep => {
  const pieces = Math.max(1, options.pieces ?? 4)
  const size = Math.ceil(args.length / pieces) || 1
  const chunks: Array<ChatCompletionChunk> = [{
    ...base(options),
    choices: [{
      index: 0,
      delta: {
        role: "assistant",
        content: null,
        tool_calls: [{ index: 0, id: options.callId ?? "call_test", type: "function", function: { name, arguments: "" } }]
      },
      logprobs: null,
      finish_reason: null
    }]
  }]
  for (let at = 0; at < args.length; at += size) {
    chunks.push({
      ...base(options),
      choices: [{
        index: 0,
        delta: { tool_calls: [{ index: 0, function: { arguments: args.slice(at, at + size) } }] },
        logprobs: null,
        finish_reason: null
      }]
    })
  }
  chunks.push({ ...base(options), choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: "tool_calls" }] })
  return { chunks: [...chunks, ...usageChunks(options, pieces)], ...timing(options), end: { _tag: "Complete" } }
}

/** Fails before sending anything. */
const fail = (error: GatewayError, options: { readonly latencyMs?: number } = {}): TestStep => ({
  chunks: [],
  ...timing(options),
  end: { _tag: "Fail", error }
})

/** A 429, with a retry-after if given. */
const rateLimited = (retryAfterMs?: number, vendor = "test"): TestStep =>
  fail(
    new UpstreamRateLimited({
      vendor,
      message: "Rate limit reached (scripted)",
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {})
    })
  )

/** A 5xx (503 by default). */
const unavailable = (status = 503, vendor = "test"): TestStep =>
  fail(new UpstreamUnavailable({ vendor, message: `Upstream answered ${status} (scripted)`, upstreamStatus: status }))

/** Answers with `text`, but the connection drops after `afterChunks` chunks. */
const cut = (text: string, afterChunks: number, options: ReplyOptions = {}): TestStep => ({
  chunks: textChunks(text, options).slice(0, afterChunks),
  ...timing(options),
  end: {
    _tag: "Fail",
    error: new UpstreamUnavailable({ vendor: "test", message: "Connection reset by upstream (scripted)" })
  }
})

/** Sends `chunks` (none by default) and then nothing, forever. */
const stall = (chunks: ReadonlyArray<ChatCompletionChunk> = [], options: ReplyOptions = {}): TestStep => ({
  chunks,
  ...timing(options),
  end: { _tag: "Stall" }
})

/** A step as a pull, on the Effect clock: its latency, its paced chunks, then its end. */
const stepPull = (step: TestStep): ChunkPull =>
  pullPaced(
    step.chunks,
    step,
    step.end._tag === "Complete" ? Effect.succeed(null) : step.end._tag === "Fail" ? Effect.fail(step.end.error) : Effect.never
  )

const stepCompletion = (step: TestStep): Effect.Effect<ChatCompletion, GatewayError> => {
  const result = step.end._tag === "Complete"
    ? Effect.succeed(aggregateChunks(step.chunks))
    : step.end._tag === "Fail"
    ? Effect.fail(step.end.error)
    : Effect.never
  return step.latencyMs !== undefined && step.latencyMs > 0 ? Effect.zipRight(Effect.sleep(step.latencyMs), result) : result
}

/** Options of a scripted provider. */
export interface TestProviderOptions {
  /** The vendors it answers for (default `["test"]`). */
  readonly vendors?: ReadonlyArray<string>
  /** One step per attempt, in order; the last one repeats. */
  readonly script: ReadonlyArray<TestStep>
  /** Whether it answers `n > 1` itself (default true); if not, the service fans out. */
  readonly supportsN?: boolean
  readonly registry?: RegistryOptions
}

/**
 * A scripted provider for tests, yours and ours: each attempt plays the next
 * step of the script (replies, tool calls, 429s, 503s, cut streams, stalls),
 * and every call is recorded. Time is the Effect clock, so `TestClock` drives
 * latencies, delays and the retries between them.
 */
export class TestProvider extends Context.Tag("@switchyard/service/TestProvider")<TestProvider, {
  readonly provider: Provider
  /** The calls made so far, in order. */
  readonly calls: Effect.Effect<ReadonlyArray<ProviderCall>>
}>() {
  /** The provider and a registry that routes the given vendors to it. */
  static readonly layer = (options: TestProviderOptions): Layer.Layer<TestProvider | ProviderRegistry> => {
    const provider = Layer.effect(TestProvider, makeTest(options))
    const registry = Layer.effect(
      ProviderRegistry,
      Effect.map(TestProvider, ({ provider }) => {
        const vendors = options.vendors ?? ["test"]
        return ProviderRegistry.of(
          ProviderRegistry.make(Object.fromEntries(vendors.map((vendor) => [vendor, provider])), options.registry)
        )
      })
    )
    return Layer.provideMerge(registry, provider)
  }

  /** Builds a scripted provider (without a registry). */
  static readonly make = (options: TestProviderOptions) => makeTest(options)
  /** Step: answers with `text`. */
  static readonly reply = reply
  /** Step: answers with a call of a function, its arguments streamed in pieces. */
  static readonly toolCall = toolCall
  /** Step: fails before sending anything. */
  static readonly fail = fail
  /** Step: a 429, with a retry-after if given. */
  static readonly rateLimited = rateLimited
  /** Step: a 5xx (503 by default). */
  static readonly unavailable = unavailable
  /** Step: the connection drops after some chunks. */
  static readonly cut = cut
  /** Step: some chunks, then silence forever. */
  static readonly stall = stall
  /** The chunks of a streamed text answer. */
  static readonly textChunks = textChunks
}

const makeTest = (options: TestProviderOptions) =>
  Effect.gen(function*() {
    const calls = yield* Ref.make<ReadonlyArray<ProviderCall>>([])
    const next = (call: ProviderCall) =>
      Ref.modify(calls, (list): [TestStep, ReadonlyArray<ProviderCall>] => {
        const step = options.script[Math.min(list.length, options.script.length - 1)]
        return [step ?? reply(""), [...list, call]]
      })
    const models: Effect.Effect<ReadonlyArray<ModelInfo>> = Effect.succeed([
      { id: "test-model", vendor: (options.vendors ?? ["test"])[0] ?? "test" }
    ])
    const provider = makeProvider({
      family: "test",
      supportsN: options.supportsN ?? true,
      create: (call) => Effect.flatMap(next(call), stepCompletion),
      open: (call) => Effect.map(next(call), stepPull),
      models
    })
    return { provider, calls: Ref.get(calls) }
  })

import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import {
  type ChatCompletion,
  type ChatCompletionChunk,
  ChatCompletionRequest,
  type ChatCompletionRequestEncoded,
  ChunkAggregator,
  type GatewayError,
  RequestValidationError,
  fromParseIssue
} from "@switchyard/core"
import {
  ChatCompletions,
  makeContext,
  OpenAiCompatibleProvider,
  type ProviderCall,
  routeModel,
  ServiceConfig,
  UpstreamHttp
} from "@switchyard/service"
import { Config, Effect, Layer, Option, Redacted, Schema, Stream } from "effect"
import * as Fs from "node:fs"
import * as Readline from "node:readline/promises"
import { serviceConfigOf } from "../config/GatewayConfig.js"
import { account, apiKey, baseUrl, configFile } from "./Options.js"

/** Where `switchyard chat` sends its requests. */
export interface ChatBackend {
  readonly stream: (request: ChatCompletionRequest) => Stream.Stream<ChatCompletionChunk, GatewayError>
  readonly create: (request: ChatCompletionRequest) => Effect.Effect<ChatCompletion, GatewayError>
}

/** The service in this process: no server needed. Its connection pool lives as long as the scope. */
export const inProcessBackend = (config: ServiceConfig.ServiceConfig) =>
  Effect.flatMap(Layer.build(ServiceConfig.layer(config)), (context) =>
    Effect.gen(function*() {
      const completions = yield* ChatCompletions
      return {
        stream: (request) => completions.stream(request, makeContext()),
        create: (request) => completions.create(request, makeContext())
      } satisfies ChatBackend
    }).pipe(Effect.provide(context)))

/**
 * The chat completions URL of a gateway or SGP deployment: a base ending in
 * `/v5` or `/v1` gets `/chat/completions`, a bare origin gets `/v5/chat/completions`.
 */
export const completionsBase = (baseUrl: string): string => {
  const trimmed = baseUrl.replace(/\/+$/, "")
  if (trimmed.endsWith("/chat/completions")) return trimmed.slice(0, -"/chat/completions".length)
  return /\/v\d+$/.test(trimmed) ? trimmed : `${trimmed}/v5`
}

/** A running gateway (or a hosted SGP deployment) over HTTP. Its connection pool lives as long as the scope. */
export const httpBackend = (options: {
  readonly baseUrl: string
  readonly apiKey: Option.Option<Redacted.Redacted<string>>
  readonly account: Option.Option<string>
}) =>
  Effect.flatMap(Layer.build(UpstreamHttp.layer()), (context) => Effect.gen(function*() {
    const provider = yield* OpenAiCompatibleProvider.make({
      name: "gateway",
      baseUrl: completionsBase(options.baseUrl),
      apiKey: Option.getOrUndefined(options.apiKey),
      headers: {
        ...Option.match(options.apiKey, { onNone: () => ({}), onSome: (key) => ({ "x-api-key": Redacted.value(key) }) }),
        ...Option.match(options.account, { onNone: () => ({}), onSome: (account) => ({ "x-selected-account-id": account }) })
      }
    })
    const call = (request: ChatCompletionRequest): ProviderCall => ({
      request,
      vendor: "gateway",
      model: request.model,
      context: makeContext()
    })
    return {
      stream: (request) => provider.stream(call(request)),
      create: (request) => provider.create(call(request))
    } satisfies ChatBackend
  }).pipe(Effect.provide(context)))

/** What `switchyard chat` was asked. */
export interface ChatOptions {
  readonly model: string
  readonly system: Option.Option<string>
  readonly temperature: Option.Option<number>
  readonly maxTokens: Option.Option<number>
  readonly json: boolean
  readonly stream: boolean
}

type Message = ChatCompletionRequestEncoded["messages"][number]

const decodeRequest = Schema.decodeUnknown(ChatCompletionRequest, { errors: "all" })

/**
 * Builds and validates the request for a conversation. A model name without a
 * vendor (a route or an alias) is left to the service (or the gateway) to resolve.
 */
export const buildRequest = (options: ChatOptions, messages: ReadonlyArray<Message>) =>
  decodeRequest({
    model: options.model.includes("/") ? options.model : "named/model",
    messages: [
      ...Option.match(options.system, { onNone: () => [], onSome: (content) => [{ role: "system", content }] }),
      ...messages
    ],
    ...Option.match(options.temperature, { onNone: () => ({}), onSome: (temperature) => ({ temperature }) }),
    ...Option.match(options.maxTokens, { onNone: () => ({}), onSome: (max_tokens) => ({ max_tokens }) }),
    // The usage chunk makes a streamed `--json` completion as whole as a non-streamed one.
    ...(options.stream ? { stream: true, ...(options.json ? { stream_options: { include_usage: true } } : {}) } : {})
  }).pipe(
    Effect.map((request) => options.model.includes("/") ? request : { ...request, model: routeModel(options.model) }),
    Effect.mapError((error) => new RequestValidationError(fromParseIssue(error.issue)))
  )

const write = (text: string) => Effect.sync(() => process.stdout.write(text))

/** Sends one turn and prints the answer: tokens as they arrive, or the completion as JSON. */
export const runTurn = (backend: ChatBackend, options: ChatOptions, messages: ReadonlyArray<Message>) =>
  Effect.gen(function*() {
    const request = yield* buildRequest(options, messages)
    if (!options.stream) {
      const completion = yield* backend.create(request)
      yield* write(options.json ? `${JSON.stringify(completion, null, 2)}\n` : `${completion.choices[0]?.message.content ?? ""}\n`)
      return completion
    }
    const aggregator = new ChunkAggregator()
    yield* Stream.runForEach(backend.stream(request), (chunk) => {
      aggregator.push(chunk)
      if (options.json) return Effect.void
      const text = chunk.choices.find((choice) => choice.index === 0)?.delta.content
      return text ? write(text) : Effect.void
    })
    const completion = aggregator.result()
    yield* write(options.json ? `${JSON.stringify(completion, null, 2)}\n` : "\n")
    return completion
  })

/** Reads all of standard input, when it is piped or redirected (never from a terminal). */
export const readPipedStdin: Effect.Effect<Option.Option<string>> = Effect.suspend(() => {
  if (process.stdin.isTTY) return Effect.succeed(Option.none())
  const stat = Fs.fstatSync(0)
  if (!stat.isFIFO() && !stat.isFile() && !stat.isSocket()) return Effect.succeed(Option.none())
  return Effect.promise(async () => {
    const parts: Array<Buffer> = []
    for await (const part of process.stdin) parts.push(part as Buffer)
    const text = Buffer.concat(parts).toString("utf8").trim()
    return text.length > 0 ? Option.some(text) : Option.none()
  })
})

/** A multi-turn conversation on a terminal; `/exit` or Ctrl-D ends it. */
export const interactive = (backend: ChatBackend, options: ChatOptions) =>
  Effect.acquireUseRelease(
    Effect.sync(() => Readline.createInterface({ input: process.stdin, output: process.stdout })),
    (rl) =>
      Effect.gen(function*() {
        const history: Array<Message> = []
        yield* write(`Chatting with ${options.model}. /exit or Ctrl-D to quit.\n`)
        while (true) {
          const line = yield* Effect.promise(() => rl.question("> ").catch(() => undefined))
          if (line === undefined || line.trim() === "/exit") return
          if (line.trim().length === 0) continue
          history.push({ role: "user", content: line })
          const completion = yield* runTurn(backend, { ...options, json: false }, history).pipe(
            Effect.catchAll((error) => Effect.as(Effect.sync(() => process.stderr.write(`error: ${error.message}\n`)), undefined))
          )
          if (completion === undefined) history.pop()
          else history.push({ role: "assistant", content: completion.choices[0]?.message.content ?? "" })
        }
      }),
    (rl) => Effect.sync(() => rl.close())
  )

/** `switchyard chat`: in-process, or through a gateway with `--base-url`. */
export const chat = Command.make("chat", {
  prompt: Args.text({ name: "prompt" }).pipe(Args.withDescription("What to ask; read from stdin when piped"), Args.optional),
  model: Options.text("model").pipe(
    Options.withAlias("m"),
    Options.withFallbackConfig(Config.nonEmptyString("SWITCHYARD_MODEL")),
    Options.withDefault("echo/echo"),
    Options.withDescription("vendor/model, e.g. openai/gpt-4o (default echo/echo)")
  ),
  system: Options.text("system").pipe(Options.withDescription("A system message"), Options.optional),
  temperature: Options.float("temperature").pipe(Options.withDescription("Sampling temperature, 0..2"), Options.optional),
  maxTokens: Options.integer("max-tokens").pipe(Options.withDescription("Most tokens to generate"), Options.optional),
  json: Options.boolean("json").pipe(Options.withDescription("Print the whole chat.completion as JSON")),
  noStream: Options.boolean("no-stream").pipe(Options.withDescription("Wait for the whole answer instead of streaming")),
  baseUrl,
  apiKey,
  account,
  config: configFile
}, (flags) =>
  Effect.gen(function*() {
    const options: ChatOptions = {
      model: flags.model,
      system: flags.system,
      temperature: flags.temperature,
      maxTokens: flags.maxTokens,
      json: flags.json,
      stream: !flags.noStream
    }
    const backend: ChatBackend = Option.isSome(flags.baseUrl)
      ? yield* httpBackend({ baseUrl: flags.baseUrl.value, apiKey: flags.apiKey, account: flags.account })
      : yield* inProcessBackend(yield* serviceConfigOf(Option.getOrUndefined(flags.config)))
    const piped = yield* readPipedStdin
    const prompt = Option.isSome(piped) && Option.isSome(flags.prompt)
      ? Option.some(`${piped.value}\n\n${flags.prompt.value}`)
      : Option.orElse(piped, () => flags.prompt)
    if (Option.isNone(prompt)) {
      if (process.stdin.isTTY) return yield* interactive(backend, options)
      return yield* Effect.fail(new Error("no prompt: pass one as an argument or pipe it on stdin"))
    }
    yield* runTurn(backend, options, [{ role: "user", content: prompt.value }])
  }).pipe(Effect.scoped)).pipe(Command.withDescription("Chat with a model: in-process, or through a gateway with --base-url"))

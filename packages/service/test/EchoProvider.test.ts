import type { ChatCompletionChunk } from "@switchyard/core"
import { collectCompletion } from "@switchyard/core"
import { describe, expect, it, layer } from "@effect/vitest"
import { Chunk, Effect, Fiber, Layer, Logger, Stream, TestClock } from "effect"
import { ChatCompletions, EchoProvider, makeContext, ProviderRegistry, type ResiliencePolicy } from "../src/index.js"
import { decodeRequest } from "./support.js"

const EchoLayer = ChatCompletions.layer().pipe(
  Layer.provide(
    Layer.effect(ProviderRegistry, Effect.map(EchoProvider.make(), (echo) => ProviderRegistry.make({ echo })))
  )
)

const echo = (body: Record<string, unknown>) =>
  decodeRequest({ model: "echo/echo", messages: [{ role: "user", content: "Hello, world!" }], ...body })

const contentOf = (chunks: Chunk.Chunk<ChatCompletionChunk>) =>
  Chunk.toReadonlyArray(chunks).map((c) => c.choices[0]?.delta.content ?? "").join("")

const lookupTool = {
  type: "function",
  function: {
    name: "lookup",
    parameters: {
      type: "object",
      properties: { query: { type: "string" }, limit: { type: "integer" }, exact: { type: "boolean" } }
    }
  }
}

layer(EchoLayer)("EchoProvider", (it) => {
  describe("replies with the last user message", () => {
    it.effect("with string content", () =>
      Effect.gen(function*() {
        const service = yield* ChatCompletions
        const result = yield* service.create(
          echo({
            messages: [
              { role: "system", content: "You are helpful." },
              { role: "user", content: "first question" },
              { role: "assistant", content: "first answer" },
              { role: "user", content: "second question" }
            ]
          }),
          makeContext()
        )
        expect(result.choices).toHaveLength(1)
        expect(result.choices[0]!.message.content).toBe("second question")
        expect(result.choices[0]!.finish_reason).toBe("stop")
        expect(result.model).toBe("echo")
      }))

    it.effect("with text parts (other parts ignored)", () =>
      Effect.gen(function*() {
        const service = yield* ChatCompletions
        const result = yield* service.create(
          echo({
            messages: [{
              role: "user",
              content: [
                { type: "text", text: "Hello, " },
                { type: "image_url", image_url: { url: "https://example.com/cat.png" } },
                { type: "text", text: "world!" }
              ]
            }]
          }),
          makeContext()
        )
        expect(result.choices[0]!.message.content).toBe("Hello, world!")
      }))
  })

  it.effect("streams several chunks whose concatenation equals the reply", () =>
    Effect.gen(function*() {
      const service = yield* ChatCompletions
      const text = "Héllo wörld 👋🏽: naïve café, 東京 and ünïcödé!"
      const chunks = yield* Stream.runCollect(
        service.stream(echo({ stream: true, messages: [{ role: "user", content: text }] }), makeContext())
      )
      const contentChunks = Chunk.toReadonlyArray(chunks).filter((c) => (c.choices[0]?.delta.content ?? "") !== "")
      expect(contentChunks.length).toBeGreaterThan(5)
      expect(contentOf(chunks)).toBe(text)
      expect(Chunk.unsafeHead(chunks).choices[0]!.delta.role).toBe("assistant")
      expect(Chunk.unsafeLast(chunks).choices[0]!.finish_reason).toBe("stop")
    }))

  it.effect("counts tokens with the o200k tokenizer", () =>
    Effect.gen(function*() {
      const service = yield* ChatCompletions
      // o200k_base: "Hello, world!" is 4 tokens (Hello|,| world|!); the prompt is 3 + (3 + 4) tokens.
      const result = yield* service.create(echo({}), makeContext())
      expect(result.usage).toMatchObject({ prompt_tokens: 10, completion_tokens: 4, total_tokens: 14 })
      // "The quick brown fox jumps over the lazy dog." is 10 tokens.
      const fox = yield* service.create(
        echo({ messages: [{ role: "user", content: "The quick brown fox jumps over the lazy dog." }] }),
        makeContext()
      )
      expect(fox.usage).toMatchObject({ prompt_tokens: 16, completion_tokens: 10, total_tokens: 26 })
    }))

  it.effect("max_completion_tokens truncates the reply with finish_reason length", () =>
    Effect.gen(function*() {
      const service = yield* ChatCompletions
      const result = yield* service.create(echo({ max_completion_tokens: 2 }), makeContext())
      expect(result.choices[0]!.message.content).toBe("Hello,")
      expect(result.choices[0]!.finish_reason).toBe("length")
      expect(result.usage?.completion_tokens).toBe(2)
    }))

  it.effect("max_tokens truncates the reply with finish_reason length, streamed too", () =>
    Effect.gen(function*() {
      const service = yield* ChatCompletions
      const result = yield* service.create(echo({ max_tokens: 3 }), makeContext())
      expect(result.choices[0]!.message.content).toBe("Hello, world")
      expect(result.choices[0]!.finish_reason).toBe("length")
      const chunks = yield* Stream.runCollect(service.stream(echo({ max_tokens: 3, stream: true }), makeContext()))
      expect(contentOf(chunks)).toBe("Hello, world")
      expect(Chunk.unsafeLast(chunks).choices[0]!.finish_reason).toBe("length")
    }))

  it.effect("n gives n identical choices, indexed 0..n-1, and n times the completion tokens", () =>
    Effect.gen(function*() {
      const service = yield* ChatCompletions
      const result = yield* service.create(echo({ n: 3 }), makeContext())
      expect(result.choices.map((c) => [c.index, c.message.content])).toEqual([
        [0, "Hello, world!"],
        [1, "Hello, world!"],
        [2, "Hello, world!"]
      ])
      expect(result.usage?.completion_tokens).toBe(12)
    }))

  it.effect("stop cuts the text before the first stop sequence", () =>
    Effect.gen(function*() {
      const service = yield* ChatCompletions
      const one = yield* service.create(echo({ stop: "world" }), makeContext())
      expect(one.choices[0]!.message.content).toBe("Hello, ")
      expect(one.choices[0]!.finish_reason).toBe("stop")
      const several = yield* service.create(echo({ stop: ["!", ","] }), makeContext())
      expect(several.choices[0]!.message.content).toBe("Hello")
    }))

  it.effect("stream_options.include_usage adds a final usage chunk with no choices", () =>
    Effect.gen(function*() {
      const service = yield* ChatCompletions
      const withUsage = yield* Stream.runCollect(
        service.stream(echo({ stream: true, stream_options: { include_usage: true } }), makeContext())
      )
      const last = Chunk.unsafeLast(withUsage)
      expect(last.choices).toEqual([])
      expect(last.usage).toMatchObject({ prompt_tokens: 10, completion_tokens: 4, total_tokens: 14 })
      expect(Chunk.toReadonlyArray(withUsage).slice(0, -1).every((c) => c.usage == null)).toBe(true)

      const without = yield* Stream.runCollect(service.stream(echo({ stream: true }), makeContext()))
      expect(Chunk.toReadonlyArray(without).every((c) => c.usage == null && c.choices.length === 1)).toBe(true)
    }))

  describe("a tool_choice naming a function returns a call with JSON arguments", () => {
    it.effect("not streamed", () =>
      Effect.gen(function*() {
        const service = yield* ChatCompletions
        const result = yield* service.create(
          echo({ tools: [lookupTool], tool_choice: { type: "function", function: { name: "lookup" } } }),
          makeContext()
        )
        const choice = result.choices[0]!
        expect(choice.finish_reason).toBe("tool_calls")
        expect(choice.message.content).toBeNull()
        expect(choice.message.tool_calls).toHaveLength(1)
        const call = choice.message.tool_calls![0]!
        expect(call).toMatchObject({ type: "function", function: { name: "lookup" } })
        expect(call.type === "function" && JSON.parse(call.function.arguments)).toEqual({
          query: "Hello, world!",
          limit: 0,
          exact: false
        })
      }))

    it.effect("streamed", () =>
      Effect.gen(function*() {
        const service = yield* ChatCompletions
        const chunks = yield* Stream.runCollect(
          service.stream(
            echo({
              stream: true,
              messages: [{ role: "user", content: "a longer query so that the arguments span several chunks" }],
              tools: [lookupTool],
              tool_choice: { type: "function", function: { name: "lookup" } }
            }),
            makeContext()
          )
        )
        const argumentChunks = Chunk.toReadonlyArray(chunks).filter((c) =>
          c.choices[0]?.delta.tool_calls?.[0]?.function?.arguments
        )
        expect(argumentChunks.length).toBeGreaterThan(1)
        const result = yield* collectCompletion(Stream.fromChunk(chunks))
        const call = result.choices[0]!.message.tool_calls![0]!
        expect(result.choices[0]!.finish_reason).toBe("tool_calls")
        expect(call.type === "function" && call.function.name).toBe("lookup")
        expect(call.type === "function" && JSON.parse(call.function.arguments)).toEqual({
          query: "a longer query so that the arguments span several chunks",
          limit: 0,
          exact: false
        })
      }))
  })
})

describe("EchoProvider on the Effect clock", () => {
  const paced = (policy: Partial<ResiliencePolicy> = {}) =>
    ChatCompletions.layer({ policy }).pipe(
      Layer.provide(Layer.effect(
        ProviderRegistry,
        Effect.map(EchoProvider.make({ chunkDelayMs: 1_000, tokensPerChunk: 1 }), (echo) => ProviderRegistry.make({ echo }))
      ))
    )

  it.effect("paces its chunks with chunk_delay_ms, driven by TestClock", () =>
    Effect.gen(function*() {
      const service = yield* ChatCompletions
      yield* service.create(echo({}), makeContext()) // loads the tokenizer (real I/O) before the clock is driven
      const received: Array<string> = []
      const fiber = yield* Effect.fork(Stream.runForEach(
        service.stream(echo({ stream: true, messages: [{ role: "user", content: "one two three" }] }), makeContext()),
        (chunk) => Effect.sync(() => received.push(chunk.choices[0]?.delta.content ?? ""))
      ))
      yield* TestClock.adjust("1 second")
      expect(received).toEqual([""])
      yield* TestClock.adjust("2 seconds")
      expect(received).toEqual(["", "one", " two"])
      yield* TestClock.adjust("10 seconds")
      yield* Fiber.join(fiber)
      expect(received.join("")).toBe("one two three")
    }).pipe(Effect.provide(paced())))

  it.effect("gets the service's Effect timers: a pause longer than idle_ms is an idle timeout", () =>
    Effect.gen(function*() {
      const service = yield* ChatCompletions
      yield* service.create(echo({}), makeContext())
      const fiber = yield* Effect.fork(Effect.either(Stream.runCollect(
        service.stream(echo({ stream: true, messages: [{ role: "user", content: "one two three" }] }), makeContext())
      )))
      yield* TestClock.adjust("10 seconds")
      const result = yield* Fiber.join(fiber)
      expect(result._tag === "Left" && result.left).toMatchObject({ _tag: "UpstreamTimeout", phase: "idle" })
    }).pipe(Effect.provide(paced({ idleTimeoutMs: 500, firstChunkTimeoutMs: 5_000, maxRetries: 0 }))))
})

describe("EchoProvider.loadTokenizer", () => {
  const missing = () =>
    Promise.reject(Object.assign(new Error("Cannot find package 'gpt-tokenizer'"), { code: "ERR_MODULE_NOT_FOUND" }))

  it.effect("loads GPT-4o's tokenizer when gpt-tokenizer is installed", () =>
    Effect.gen(function*() {
      const tokenizer = yield* EchoProvider.loadTokenizer()
      expect(tokenizer.count("Hello, world!")).toBe(4)
      expect(tokenizer.split("Hello, world!")).toEqual(["Hello", ",", " world", "!"])
    }))

  it.effect("counts approximately, with a warning, when gpt-tokenizer is not installed", () =>
    Effect.gen(function*() {
      const logged: Array<string> = []
      const logger = Logger.make(({ message }) => logged.push(String(message)))
      const tokenizer = yield* EchoProvider.loadTokenizer(missing).pipe(
        Effect.provide(Logger.replace(Logger.defaultLogger, logger))
      )
      expect(tokenizer).toBe(EchoProvider.approximateTokenizer)
      expect(tokenizer.split("Hello, world! 12345")).toEqual(["Hello", ",", " world", "!", " 123", "45"])
      expect(tokenizer.count("Hello, world!")).toBe(4)
      expect(logged.join("\n")).toContain("gpt-tokenizer is not installed")
    }))

  it.effect("fails with an InternalError when the tokenizer is there but breaks", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(EchoProvider.loadTokenizer(() => Promise.reject(new Error("corrupt table"))))
      expect(error._tag).toBe("InternalError")
      expect(error.message).toContain("corrupt table")
    }))
})

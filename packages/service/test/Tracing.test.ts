import { describe, expect, it } from "@effect/vitest"
import { Context, DefaultServices, Effect, Layer, Stream, Tracer } from "effect"
import { CaptureContent, ChatCompletions, makeCallRecord, makeContext, TestProvider } from "../src/index.js"
import { decodeRequest } from "./support.js"

interface Recorded {
  readonly name: string
  readonly kind: Tracer.SpanKind
  readonly parent: string | undefined
  readonly span: Tracer.Span
}

/** A tracer that records the spans it starts (name, kind, parent, the span itself), then does what the built-in one does. */
const recordingTracer = () => {
  const builtIn = Context.get(DefaultServices.liveServices, Tracer.Tracer)
  const spans: Array<Recorded> = []
  const tracer = Tracer.make({
    span: (name, parent, context, links, startTime, kind, options) => {
      const span = builtIn.span(name, parent, context, links, startTime, kind, options)
      spans.push({ name, kind, parent: parent._tag === "Some" && parent.value._tag === "Span" ? parent.value.name : undefined, span })
      return span
    },
    context: builtIn.context
  })
  return { tracer, spans }
}

const script = [
  TestProvider.unavailable(),
  TestProvider.reply("Hello there, a reply in many chunks", { chunkSize: 2, usage: true, model: "gpt-4o-mini-2024-07-18" })
]

const service = (installed?: Tracer.Tracer, captureContent = false) => {
  const base = ChatCompletions.layer({ policy: { initialDelayMs: 0, maxDelayMs: 0 } }).pipe(
    Layer.provideMerge(TestProvider.layer({ vendors: ["openai"], script }))
  )
  const traced = installed === undefined ? base : base.pipe(Layer.provideMerge(Layer.setTracer(installed)))
  return captureContent ? traced.pipe(Layer.provide(Layer.succeed(CaptureContent, true))) : traced
}

const request = (stream = false) =>
  decodeRequest({
    model: "openai/gpt-4o-mini",
    messages: [{ role: "user", content: "Hi" }],
    temperature: 0.3,
    max_tokens: 50,
    top_p: 0.9,
    stop: "END",
    ...(stream ? { stream, stream_options: { include_usage: true } } : {})
  })

const attributes = (recorded: Recorded) => Object.fromEntries(recorded.span.attributes)

describe("Tracing", () => {
  it.effect("with a tracer installed: a span per public method and a GenAI CLIENT span per attempt, none per chunk", () => {
    const { spans, tracer } = recordingTracer()
    return Effect.gen(function*() {
      const completions = yield* ChatCompletions
      yield* completions.create(request(), makeContext({ record: makeCallRecord() }))
      expect(spans.map(({ kind, name, parent }) => ({ name, kind, parent }))).toEqual([
        { name: "ChatCompletions.create", kind: "internal", parent: undefined },
        { name: "chat gpt-4o-mini", kind: "client", parent: "ChatCompletions.create" },
        { name: "chat gpt-4o-mini", kind: "client", parent: "ChatCompletions.create" }
      ])
      const requestAttributes = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.request.temperature": 0.3,
        "gen_ai.request.max_tokens": 50,
        "gen_ai.request.top_p": 0.9,
        "gen_ai.request.stop_sequences": ["END"]
      }
      expect(attributes(spans[1]!)).toMatchObject({ ...requestAttributes, "switchyard.attempt.kind": "first", "error.type": "unavailable" })
      expect(attributes(spans[2]!)).toMatchObject({
        ...requestAttributes,
        "switchyard.attempt.kind": "retry",
        "gen_ai.response.id": "chatcmpl-test",
        "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
        "gen_ai.response.finish_reasons": ["stop"],
        "gen_ai.usage.input_tokens": expect.any(Number),
        "gen_ai.usage.output_tokens": expect.any(Number)
      })
      expect(attributes(spans[2]!)).not.toHaveProperty("error.type")
      expect(attributes(spans[2]!)).not.toHaveProperty("gen_ai.input.messages")

      spans.length = 0
      const chunks = yield* Stream.runCollect(completions.stream(request(true), makeContext()))
      expect(chunks.length).toBeGreaterThan(10)
      expect(spans.map((span) => span.name)).toEqual(["ChatCompletions.stream", "chat gpt-4o-mini"])
      expect(spans[1]!.parent).toBe("ChatCompletions.stream")
      // The attempt's span lasts as long as the stream and reports what the chunks said.
      expect(spans[1]!.span.status._tag).toBe("Ended")
      expect(attributes(spans[1]!)).toMatchObject({
        "gen_ai.request.stream": true,
        "gen_ai.response.finish_reasons": ["stop"],
        "gen_ai.usage.output_tokens": expect.any(Number)
      })

      spans.length = 0
      yield* Effect.scoped(completions.open(request(true), makeContext()))
      expect(spans.map((span) => span.name)).toEqual(["ChatCompletions.open", "chat gpt-4o-mini"])
      expect(spans.every((span) => span.span.status._tag === "Ended")).toBe(true)
    }).pipe(Effect.provide(service(tracer)))
  })

  it.effect("records prompts and completions only when content capture is on", () => {
    const { spans, tracer } = recordingTracer()
    return Effect.gen(function*() {
      const completions = yield* ChatCompletions
      yield* completions.create(request(), makeContext())
      const attempt = attributes(spans[2]!)
      expect(JSON.parse(attempt["gen_ai.input.messages"] as string)).toEqual([{ role: "user", parts: [{ type: "text", content: "Hi" }] }])
      expect(JSON.parse(attempt["gen_ai.output.messages"] as string)).toEqual([{
        role: "assistant",
        parts: [{ type: "text", content: "Hello there, a reply in many chunks" }],
        finish_reason: "stop"
      }])
      spans.length = 0
      yield* Stream.runDrain(completions.stream(request(true), makeContext()))
      expect(JSON.parse(attributes(spans[1]!)["gen_ai.output.messages"] as string)[0].parts[0].content)
        .toBe("Hello there, a reply in many chunks")
    }).pipe(Effect.provide(service(tracer, true)))
  })

  it.effect("without a tracer where the service is built, its methods are not wrapped at all", () => {
    const { spans, tracer } = recordingTracer()
    return Effect.gen(function*() {
      const completions = yield* ChatCompletions
      // A tracer installed only around the call: the service decided, when it was built, not to trace.
      yield* Effect.withTracer(completions.create(request(), makeContext()), tracer)
      yield* Effect.withTracer(Stream.runDrain(completions.stream(request(true), makeContext())), tracer)
      expect(spans).toEqual([])
    }).pipe(Effect.provide(service()))
  })
})

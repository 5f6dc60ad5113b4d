import { describe, expect, it } from "@effect/vitest"
import { Context, DefaultServices, Effect, Layer, Stream, Tracer } from "effect"
import { ChatCompletions, makeContext, TestProvider } from "../src/index.js"
import { decodeRequest } from "./support.js"

/** A tracer that records the names (and parents) of the spans it starts, then does what the built-in one does. */
const recordingTracer = () => {
  const builtIn = Context.get(DefaultServices.liveServices, Tracer.Tracer)
  const spans: Array<{ readonly name: string; readonly parent: string | undefined }> = []
  const tracer = Tracer.make({
    span: (name, parent, context, links, startTime, kind) => {
      spans.push({ name, parent: parent._tag === "Some" && parent.value._tag === "Span" ? parent.value.name : undefined })
      return builtIn.span(name, parent, context, links, startTime, kind)
    },
    context: builtIn.context
  })
  return { tracer, spans }
}

const script = [TestProvider.unavailable(), TestProvider.reply("Hello there, a reply in many chunks", { chunkSize: 2 })]

const service = (installed?: Tracer.Tracer) => {
  const base = ChatCompletions.layer({ policy: { initialDelayMs: 0, maxDelayMs: 0 } }).pipe(
    Layer.provideMerge(TestProvider.layer({ vendors: ["openai"], script }))
  )
  return installed === undefined ? base : base.pipe(Layer.provideMerge(Layer.setTracer(installed)))
}

const request = (stream = false) =>
  decodeRequest({ model: "openai/gpt-4o-mini", messages: [{ role: "user", content: "Hi" }], ...(stream ? { stream } : {}) })

describe("Tracing", () => {
  it.effect("with a tracer installed: a span per public method and per attempt, none per chunk", () => {
    const { spans, tracer } = recordingTracer()
    return Effect.gen(function*() {
      const completions = yield* ChatCompletions
      yield* completions.create(request(), makeContext())
      expect(spans).toEqual([
        { name: "ChatCompletions.create", parent: undefined },
        { name: "Provider.create", parent: "ChatCompletions.create" },
        { name: "Provider.create", parent: "ChatCompletions.create" }
      ])

      spans.length = 0
      const chunks = yield* Stream.runCollect(completions.stream(request(true), makeContext()))
      expect(chunks.length).toBeGreaterThan(10)
      expect(spans.map((span) => span.name)).toEqual(["ChatCompletions.stream", "Provider.open"])
      expect(spans[1]!.parent).toBe("ChatCompletions.stream")

      spans.length = 0
      yield* Effect.scoped(completions.open(request(true), makeContext()))
      expect(spans.map((span) => span.name)).toEqual(["ChatCompletions.open", "Provider.open"])
    }).pipe(Effect.provide(service(tracer)))
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

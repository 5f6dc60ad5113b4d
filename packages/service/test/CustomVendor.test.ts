/**
 * Adding a vendor family is cheap: "reverse", a made-up JSON API that answers
 * with the user's text reversed (and streams it in pieces over SSE), is
 * written against the HTTP skeleton between the two markers below, in fewer
 * than 60 lines (the first test counts them), registered through the
 * `ProviderRegistry` over `ServiceConfig.layer`, with no edit of Switchyard's
 * code, and reached through `ChatCompletions` over real HTTP.
 */
import { aggregateChunks, type ChatCompletion, type ChatCompletionChunk, contentText } from "@switchyard/core"
import { describe, expect, it } from "@effect/vitest"
import { Chunk, ConfigProvider, Context, Effect, Either, Layer, Schema, Stream } from "effect"
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { ChatCompletions, ChunkStream, HttpProvider, makeContext, ProviderRegistry, ServiceConfig } from "../src/index.js"
import { FakeUpstream } from "../src/testing/index.js"
import { decodeRequest } from "./support.js"

// reverse-vendor:start
const Reversal = Schema.Struct({ id: Schema.String, reversed: Schema.String })
const checkReversal = HttpProvider.schemaCheck(Reversal)

const completion = (id: string, content: string, model: string, created: number): ChatCompletion => ({
  id,
  object: "chat.completion",
  created,
  model,
  choices: [{ index: 0, message: { role: "assistant", content, refusal: null }, logprobs: null, finish_reason: "stop" }]
})

/** Stream events: `{"id","piece"}` per piece of the answer, then `{"done":true}`. */
class ReverseEvents implements ChunkStream.EventTranslator {
  complete = false
  constructor(readonly vendor: string, readonly model: string, readonly created: number) {}
  event(data: unknown, out: Array<ChatCompletionChunk>) {
    const event = data as { id?: string; piece?: string; done?: boolean }
    const base = { id: event.id ?? "rev", object: "chat.completion.chunk" as const, created: this.created, model: this.model }
    if (event.done === true) {
      this.complete = true
      out.push({ ...base, choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: "stop" }] })
    } else out.push({ ...base, choices: [{ index: 0, delta: { content: event.piece ?? "" }, logprobs: null, finish_reason: null }] })
    return undefined
  }
  end = () => undefined
}

const reverse = (baseUrl: string): HttpProvider.HttpVendor => ({
  family: "reverse",
  supportsN: false,
  request: (call, stream) =>
    Either.right({
      url: `${baseUrl}/reverse${stream ? "?stream=true" : ""}`,
      headers: HttpProvider.withAccept({ "content-type": "application/json" }, stream),
      body: JSON.stringify({ text: contentText(call.request.messages.at(-1)!.content as string) }),
      meta: undefined
    }),
  decode: (answer, _request, call) =>
    Effect.flatMap(HttpProvider.nowSeconds, (created) =>
      Either.map(HttpProvider.decodeJson(answer, "a reversal", checkReversal), (r) => completion(r.id, r.reversed, call.model, created))),
  parser: (_request, call) =>
    Effect.map(HttpProvider.nowSeconds, (created) => new ChunkStream.SseStreamParser(call.vendor, new ReverseEvents(call.vendor, call.model, created))),
  models: [{ id: "reverse-1", vendor: "reverse" }]
})

/** The provider module a user would write: `make` and a `layer` that registers it. */
const ReverseProvider = {
  make: (baseUrl: string) => HttpProvider.make(reverse(baseUrl)),
  layer: (baseUrl: string) => ProviderRegistry.registration("reverse", HttpProvider.make(reverse(baseUrl)))
}
// reverse-vendor:end

/** The fake "reverse" API: `POST /reverse` → `{id, reversed}`, or with `?stream=true` the pieces over SSE. */
const reverseApi: FakeUpstream.FakeHandler = (request, res) => {
  const reversed = [...(request.json as { text: string }).text].reverse().join("")
  if (!request.path.includes("stream=true")) return FakeUpstream.sendJson(res, 200, { id: "rev_1", reversed })
  const pieces = reversed.match(/.{1,3}/g) ?? []
  return FakeUpstream.sendSse(res, [...pieces.map((piece) => ({ id: "rev_2", piece })), { id: "rev_2", done: true }])
}

/** Switchyard as a library user gets it (no environment), with the "reverse" family added over it. */
const serviceWithReverse = (baseUrl: string) =>
  ReverseProvider.layer(baseUrl).pipe(
    Layer.provideMerge(ServiceConfig.layer()),
    Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map())))
  )

const ask = (text: string, stream = false) =>
  decodeRequest({ model: "reverse/reverse-1", messages: [{ role: "user", content: text }], ...(stream ? { stream } : {}) })

describe("A vendor family of one's own, on the HTTP skeleton", () => {
  it("is written in fewer than 60 lines", () => {
    const source = readFileSync(fileURLToPath(import.meta.url), "utf8").split("\n")
    const lines = source.indexOf("// reverse-vendor:end") - source.indexOf("// reverse-vendor:start") - 1
    expect(lines).toBeGreaterThan(20)
    expect(lines).toBeLessThan(60)
  })

  it.scoped("registers through the ProviderRegistry beside the configured vendors, and answers a completion", () =>
    Effect.gen(function*() {
      const fake = yield* FakeUpstream.scoped(reverseApi)
      const context = yield* Layer.build(serviceWithReverse(fake.origin))
      const service = Context.get(context, ChatCompletions)
      expect(service.vendors).toContain("reverse")
      expect(service.vendors).toContain("echo")
      expect((yield* service.models).map((m) => m.id)).toContain("reverse/reverse-1")

      const result = yield* service.create(ask("Hello, reverse!"), makeContext())
      expect(result).toMatchObject({ id: "rev_1", model: "reverse-1", object: "chat.completion" })
      expect(result.choices[0]!.message.content).toBe("!esrever ,olleH")
      expect(fake.requests[0]).toMatchObject({ method: "POST", path: "/reverse", json: { text: "Hello, reverse!" } })
    }))

  it.scoped("streams through ChatCompletions (and the derived Provider.stream), chunk by chunk", () =>
    Effect.gen(function*() {
      const fake = yield* FakeUpstream.scoped(reverseApi)
      const context = yield* Layer.build(serviceWithReverse(fake.origin))
      const service = Context.get(context, ChatCompletions)

      const chunks = yield* Stream.runCollect(service.stream(ask("streaming works", true), makeContext()))
      expect(chunks.length).toBe(6)
      expect(aggregateChunks(Chunk.toReadonlyArray(chunks)).choices[0]!.message.content).toBe("skrow gnimaerts")
      expect(fake.requests[0]!.path).toBe("/reverse?stream=true")

      const provider = Context.get(context, ProviderRegistry).provider("reverse")!
      const direct = yield* Stream.runCollect(
        provider.stream({ request: ask("abc", true), vendor: "reverse", model: "reverse-1", context: makeContext() })
      )
      expect(aggregateChunks(Chunk.toReadonlyArray(direct)).choices[0]).toMatchObject({ message: { content: "cba" }, finish_reason: "stop" })
    }))

  it.scoped("fails with a typed error, classified by the skeleton, when the upstream fails", () =>
    Effect.gen(function*() {
      const fake = yield* FakeUpstream.scoped((_, res) => FakeUpstream.sendJson(res, 400, { error: { message: "no palindromes" } }))
      const context = yield* Layer.build(serviceWithReverse(fake.origin))
      const error = yield* Effect.flip(Context.get(context, ChatCompletions).create(ask("abba"), makeContext()))
      expect(error).toMatchObject({ _tag: "UpstreamRejected", upstreamStatus: 400, message: "no palindromes" })
    }))
})

import { describe, expect, it } from "@effect/vitest"
import { FakeUpstream } from "@switchyard/service/testing"
import { Duration, Effect } from "effect"
import * as Http from "node:http"
import {
  chunk,
  type OpenStream,
  openStream,
  sleep,
  sseBlocks,
  sseData,
  startGateway,
  textChunks,
  waitUntil
} from "./support/Harness.js"

const TIMEOUT = 20_000
const streamRequest = { model: "openai/gpt-4o", messages: [{ role: "user", content: "hi" }], stream: true }
const open = (url: string, body: unknown = streamRequest) => Effect.promise(() => openStream(`${url}/v5/chat/completions`, body))

/** An SSE upstream that writes each event itself, recording when. */
const pacedUpstream = (events: ReadonlyArray<string>, gapMs: number, sentAt: Array<number>): FakeUpstream.FakeHandler =>
async (_request, response) => {
  response.writeHead(200, { "content-type": "text/event-stream" })
  response.flushHeaders()
  for (const [i, event] of events.entries()) {
    if (i > 0) await sleep(gapMs)
    if (response.destroyed) return
    sentAt.push(performance.now())
    response.write(event)
  }
  response.end("data: [DONE]\n\n")
}

const dataEvent = (value: unknown) => `data: ${JSON.stringify(value)}\n\n`

const isErrorBlock = (block: string) => block.startsWith('data: {"error"')

describe("SSE framing", () => {
  it.scopedLive("text/event-stream of `data: <json>` events, ending with `data: [DONE]`", () =>
    Effect.gen(function*() {
      const gateway = yield* startGateway()
      const stream = yield* open(gateway.url)
      expect(yield* Effect.promise(() => stream.closed)).toEqual({ complete: true })
      expect(stream.status).toBe(200)
      expect(stream.headers["content-type"]).toMatch(/^text\/event-stream\b/)
      expect(stream.headers["cache-control"]).toBe("no-cache")
      expect(stream.headers["x-request-id"]).toMatch(/\S/)
      const text = stream.text()
      expect(text).toMatch(/^(data: \{[^\n]*\}\n\n)+data: \[DONE\]\n\n$/)
      const chunks = sseData(text) as Array<{ object: string; choices: Array<{ delta: { content?: string } }> }>
      for (const c of chunks) expect(c.object).toBe("chat.completion.chunk")
      expect(chunks.map((c) => c.choices[0]?.delta.content ?? "").join("")).toBe("Hello from upstream")
    }), TIMEOUT)

  it.scopedLive("each chunk is flushed as it arrives: the client has it before the upstream sends the next", () =>
    Effect.gen(function*() {
      const sentAt: Array<number> = []
      const words = ["w0", "w1", "w2", "w3"]
      let client: OpenStream | undefined
      const gateway = yield* startGateway({
        // Events at least 200 ms apart. The upstream moves on early once the client has the previous event (at
        // the latest after 5 s), so a busy machine cannot make a flushing gateway look like a buffering one, and
        // a buffering gateway shows: the next event then goes out before the client has the previous one.
        upstream: async (_request, response) => {
          response.writeHead(200, { "content-type": "text/event-stream" })
          response.flushHeaders()
          for (const [i, word] of words.entries()) {
            if (i > 0) {
              await sleep(200)
              const previous = `"${words[i - 1]}"`
              await waitUntil(() => client?.text().includes(previous) ? true : undefined, 5_000, () => "").catch(() => undefined)
            }
            if (response.destroyed) return
            sentAt.push(performance.now())
            response.write(dataEvent(chunk({ content: word })))
          }
          response.end("data: [DONE]\n\n")
        }
      })
      const stream = yield* open(gateway.url)
      client = stream
      yield* Effect.promise(() => stream.closed)
      expect(sentAt).toHaveLength(words.length)
      // When each word reached the client: the first piece of the body whose text, so far, contains it.
      let soFar = ""
      const receivedAt = words.map(() => Number.NaN)
      for (const { at, text } of stream.arrivals) {
        soFar += text
        words.forEach((word, i) => {
          if (Number.isNaN(receivedAt[i]!) && soFar.includes(`"${word}"`)) receivedAt[i] = at
        })
      }
      for (let i = 0; i < words.length - 1; i++) {
        expect(receivedAt[i], `${words[i]} arrived before ${words[i + 1]} was sent`).toBeLessThan(sentAt[i + 1]!)
      }
      expect(stream.text().endsWith("data: [DONE]\n\n")).toBe(true)
    }), TIMEOUT)
})

describe("keep-alive comments", () => {
  it.scopedLive("a silent upstream gets `: keep-alive` comments between chunks", () =>
    Effect.gen(function*() {
      const gateway = yield* startGateway({
        gateway: { keepAliveMs: 100 },
        upstream: pacedUpstream([dataEvent(chunk({ role: "assistant", content: "a" })), dataEvent(chunk({ content: "b" }, "stop"))], 700, [])
      })
      const stream = yield* open(gateway.url)
      yield* Effect.promise(() => stream.closed)
      const blocks = sseBlocks(stream.text())
      expect(blocks[blocks.length - 1]).toBe("data: [DONE]")
      const dataAt = blocks.flatMap((block, i) => block.startsWith("data: {") ? [i] : [])
      expect(dataAt).toHaveLength(2)
      // (Keep-alives may also come before the first chunk, if it takes longer than keepAliveMs on a busy machine.)
      const between = blocks.slice(dataAt[0]! + 1, dataAt[1])
      expect(between.length).toBeGreaterThanOrEqual(1)
      for (const block of between) expect(block).toBe(": keep-alive")
      for (const block of blocks) expect(block).toMatch(/^(data: |: keep-alive$)/)
    }), TIMEOUT)

  it.scopedLive("a first chunk slower than keepAliveMs commits a 200 with keep-alives before the data", () =>
    Effect.gen(function*() {
      const gateway = yield* startGateway({
        gateway: { keepAliveMs: 100 },
        upstream: async (_request, response) => {
          await sleep(600)
          if (!response.destroyed) await FakeUpstream.sendSse(response, textChunks("late but fine"))
        }
      })
      const stream = yield* open(gateway.url)
      expect(stream.status).toBe(200)
      yield* Effect.promise(() => stream.closed)
      const blocks = sseBlocks(stream.text())
      expect(blocks[0]).toBe(": keep-alive")
      expect(blocks[blocks.length - 1]).toBe("data: [DONE]")
      const content = (sseData(stream.text()) as Array<{ choices: Array<{ delta: { content?: string } }> }>)
        .map((c) => c.choices[0]?.delta.content ?? "")
        .join("")
      expect(content).toBe("late but fine")
    }), TIMEOUT)

  it.scopedLive("once committed by keep-alives, a failure before the first chunk is reported in-band", () =>
    Effect.gen(function*() {
      const gateway = yield* startGateway({
        gateway: { keepAliveMs: 100 },
        upstream: async (_request, response) => {
          await sleep(600)
          if (!response.destroyed) FakeUpstream.sendJson(response, 500, { error: { message: "upstream exploded" } })
        }
      })
      const stream = yield* open(gateway.url)
      expect(stream.status).toBe(200)
      expect(stream.headers["content-type"]).toMatch(/^text\/event-stream\b/)
      yield* Effect.promise(() => stream.closed)
      const blocks = sseBlocks(stream.text())
      expect(blocks[0]).toBe(": keep-alive")
      const last = blocks[blocks.length - 1]!
      expect(isErrorBlock(last)).toBe(true)
      expect(JSON.parse(last.slice("data: ".length))).toEqual({
        error: { message: "upstream exploded", type: "upstream_error", param: null, code: "upstream_unavailable" }
      })
      expect(stream.text()).not.toContain("[DONE]")
    }), TIMEOUT)
})

describe("stream failures", () => {
  it.scopedLive("a failure before the first chunk is an HTTP error status with the JSON envelope", () =>
    Effect.gen(function*() {
      const cases: ReadonlyArray<{ upstream: FakeUpstream.FakeHandler; status: number; code: string }> = [
        {
          upstream: (_request, response) => FakeUpstream.sendJson(response, 503, { error: { message: "overloaded, try later" } }),
          status: 503,
          code: "upstream_unavailable"
        },
        {
          upstream: (_request, response) =>
            FakeUpstream.sendJson(response, 400, {
              error: { message: "bad param", type: "invalid_request_error", param: "top_p", code: "invalid_value" }
            }),
          status: 400,
          code: "invalid_value"
        },
        {
          upstream: (_request, response) => FakeUpstream.reset(response),
          status: 502,
          code: "upstream_unavailable"
        }
      ]
      for (const { code, status, upstream } of cases) {
        const gateway = yield* startGateway({ upstream })
        const stream = yield* open(gateway.url)
        yield* Effect.promise(() => stream.closed)
        expect(stream.status, code).toBe(status)
        expect(stream.headers["content-type"]).toBe("application/json")
        expect(JSON.parse(stream.text())).toMatchObject({ error: { code, message: expect.any(String) } })
      }
    }), TIMEOUT)

  it.scopedLive("a connection cut after the first chunks is an in-band error event, with no [DONE]", () =>
    Effect.gen(function*() {
      const gateway = yield* startGateway({
        upstream: (_request, response) => FakeUpstream.sendSse(response, textChunks("one two three"), { resetAfter: 2 })
      })
      const stream = yield* open(gateway.url)
      expect(stream.status).toBe(200)
      expect(yield* Effect.promise(() => stream.closed)).toEqual({ complete: true })
      const blocks = sseBlocks(stream.text())
      expect(blocks).toHaveLength(3)
      expect(blocks.slice(0, 2).every((block) => block.startsWith('data: {"id"'))).toBe(true)
      expect(isErrorBlock(blocks[2]!)).toBe(true)
      expect(JSON.parse(blocks[2]!.slice("data: ".length))).toMatchObject({
        error: { type: "upstream_error", code: "upstream_unavailable", message: expect.any(String) }
      })
      expect(stream.text()).not.toContain("[DONE]")
      const line = yield* gateway.log.line((line) => line.includes(String(stream.headers["x-request-id"])))
      expect(line).toContain(" 200 ")
      expect(line).toContain("error=")
    }), TIMEOUT)

  it.scopedLive("an upstream's in-band error event is passed on in-band", () =>
    Effect.gen(function*() {
      const gateway = yield* startGateway({
        upstream: (_request, response) =>
          FakeUpstream.sendSse(response, [
            chunk({ role: "assistant", content: "partial" }),
            { error: { message: "model crashed", type: "server_error" } }
          ], { done: false })
      })
      const stream = yield* open(gateway.url)
      yield* Effect.promise(() => stream.closed)
      const blocks = sseBlocks(stream.text())
      expect(blocks).toHaveLength(2)
      expect(JSON.parse(blocks[1]!.slice("data: ".length))).toMatchObject({ error: { message: "model crashed" } })
      expect(stream.text()).not.toContain("[DONE]")
    }), TIMEOUT)
})

describe("client disconnects", () => {
  const waitForAbort = (upstream: FakeUpstream.FakeUpstream, abort: () => void) =>
    Effect.promise(() => {
      const aborted = upstream.nextAbort()
      abort()
      return aborted
    }).pipe(
      Effect.timeoutFail({ duration: Duration.seconds(10), onTimeout: () => new Error("the upstream request was never aborted") })
    )

  it.scopedLive("a client that goes away mid-stream makes the gateway abort the upstream response", () =>
    Effect.gen(function*() {
      const gateway = yield* startGateway({
        upstream: (_request, response) => FakeUpstream.sendSse(response, textChunks("never ending story"), { stallAfter: 2 })
      })
      const stream = yield* open(gateway.url)
      yield* Effect.promise(() => stream.until((text) => text.includes('"content"')))
      yield* waitForAbort(gateway.upstream, stream.abort)
      expect(gateway.upstream.abortedResponses()).toBe(1)
      yield* Effect.promise(() => waitUntil(() => gateway.inFlight() === 0 ? true : undefined, 10_000, () => "still in flight"))
      const line = yield* gateway.log.line((line) => line.includes(String(stream.headers["x-request-id"])))
      expect(line).toContain(" 499 ")
    }), TIMEOUT)

  it.scopedLive("a client that goes away before a non-streamed answer makes the gateway abort the upstream request", () =>
    Effect.gen(function*() {
      const gateway = yield* startGateway({
        upstream: () => undefined // never answers
      })
      const body = JSON.stringify({ ...streamRequest, stream: false })
      const request = Http.request(`${gateway.url}/v5/chat/completions`, {
        method: "POST",
        agent: false,
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) }
      })
      request.on("error", () => undefined)
      request.end(body)
      yield* Effect.promise(() =>
        waitUntil(() => gateway.upstream.requests.length === 1 ? true : undefined, 10_000, () => "no upstream request")
      )
      yield* waitForAbort(gateway.upstream, () => request.destroy())
      expect(gateway.upstream.abortedResponses()).toBe(1)
    }), TIMEOUT)
})

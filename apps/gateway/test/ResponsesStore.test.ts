import { describe, expect, it } from "@effect/vitest"
import { StoreHealth } from "@switchyard/service"
import { FakeUpstream } from "@switchyard/service/testing"
import { freshLocations } from "@switchyard/store/testing"
import { Context, Effect } from "effect"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import OpenAI from "openai"
import { startServe } from "./support/Bin.js"
import { answerText, openStream, postJson, request, startGateway } from "./support/Harness.js"
import { type BuiltStore, buildStore, storeBackends } from "./support/Stores.js"

const TIMEOUT = 60_000
const ALICE = "sy-alice-key"
const BOB = "sy-bob-key"
const keys = { apiKeys: [`${ALICE}:acct_alice`, `${BOB}:acct_bob`] }
const MODEL = "openai/gpt-4o"

const call = <A>(f: () => Promise<A>) => Effect.promise(f)
const sdk = (url: string, key: string) => new OpenAI({ baseURL: `${url}/v5`, apiKey: key, maxRetries: 0 })

/** Answers `Answer <n>` for the n-th upstream request (0-based), streamed or not. */
const numbered: FakeUpstream.FakeHandler = (request, response, index) => answerText(`Answer ${index}`)(request, response, index)

/** The chat messages the upstream received in its n-th request. */
const sentMessages = (upstream: FakeUpstream.FakeUpstream, n: number) =>
  (upstream.requests[n]?.json as { messages: Array<{ role: string; content: unknown }> }).messages

const raw = (url: string, key: string, method = "GET") =>
  Effect.map(call(() => request(url, { method, headers: { authorization: `Bearer ${key}` } })), (r) => ({
    status: r.status,
    body: JSON.parse(r.text) as { error?: { message: string; code: string; type: string; param: string | null } }
  }))
const post = (url: string, key: string, body: unknown) =>
  Effect.map(call(() => postJson(url, body, { authorization: `Bearer ${key}` })), (r) => ({
    status: r.status,
    body: JSON.parse(r.text) as { id: string; output: Array<{ id: string }>; error?: { message: string; code: string; param: string | null } }
  }))

/** An error body with the id it names replaced, to compare a foreign id's answer with a missing one's. */
const anonymous = (answer: { readonly status: number; readonly body: unknown }, id: string) =>
  JSON.parse(JSON.stringify(answer).replaceAll(id, "<id>")) as unknown

const start = (store: BuiltStore, upstream: FakeUpstream.FakeHandler = numbered) =>
  startGateway({ gateway: keys, storage: store.layer, store: store.layer, upstream })

for (const backend of storeBackends) {
  describe(`responses kept in the store (${backend.name})`, () => {
    it.scopedLive("DELETE, then GET, input_items, a second DELETE and previous_response_id all answer as for a missing id", () =>
      Effect.gen(function*() {
        const gateway = yield* start(yield* backend.make(keys))
        const alice = sdk(gateway.url, ALICE)
        const first = yield* call(() => alice.responses.create({ model: MODEL, input: "Remember 42." }))
        expect(yield* call(() => alice.responses.retrieve(first.id))).toEqual(first)
        const items = yield* call(() => alice.responses.inputItems.list(first.id))
        expect(items.data).toMatchObject([{ type: "message", role: "user", content: [{ type: "input_text", text: "Remember 42." }] }])
        expect(yield* call(() => alice.responses.delete(first.id))).toEqual({ id: first.id, object: "response", deleted: true })

        const missing = "resp_0123456789abcdef0123456789abcdef0123456789abcdef"
        const base = `${gateway.url}/v5/responses`
        for (const [path, method] of [["", "GET"], ["", "DELETE"], ["/input_items", "GET"]] as const) {
          const gone = yield* raw(`${base}/${first.id}${path}`, ALICE, method)
          expect(gone.status).toBe(404)
          expect(gone.body.error).toMatchObject({ code: "response_not_found", message: expect.stringContaining(first.id) })
          expect(anonymous(gone, first.id)).toEqual(anonymous(yield* raw(`${base}/${missing}${path}`, ALICE, method), missing))
        }
        const chained = yield* post(base, ALICE, { model: MODEL, input: "What did I say?", previous_response_id: first.id })
        expect(chained.status).toBe(400)
        expect(chained.body.error).toMatchObject({ code: "previous_response_not_found", param: "previous_response_id" })
      }), TIMEOUT)

    it.scopedLive("item_reference to an item of a deleted response: found while another response holds it, 404 once none does", () =>
      Effect.gen(function*() {
        const gateway = yield* start(yield* backend.make(keys))
        const base = `${gateway.url}/v5/responses`
        const first = yield* post(base, ALICE, { model: MODEL, input: "first" })
        const answer = first.body.output[0]!.id
        // The second response holds the first one's answer in its own input.
        const second = yield* post(base, ALICE, {
          model: MODEL,
          input: [{ type: "item_reference", id: answer }, { role: "user", content: "second" }]
        })
        expect(second.status).toBe(200)
        expect((yield* raw(`${base}/${first.body.id}`, ALICE, "DELETE")).status).toBe(200)

        const third = yield* post(base, ALICE, { model: MODEL, input: [{ type: "item_reference", id: answer }, { role: "user", content: "third" }] })
        expect(third.status).toBe(200)
        expect(sentMessages(gateway.upstream, 2)).toEqual([
          { role: "assistant", content: "Answer 0" },
          { role: "user", content: "third" }
        ])

        // Deleting the newer holder too: now no response holds it (the third holds it as well: delete it).
        expect((yield* raw(`${base}/${second.body.id}`, ALICE, "DELETE")).status).toBe(200)
        expect((yield* raw(`${base}/${third.body.id}`, ALICE, "DELETE")).status).toBe(200)
        const none = yield* post(base, ALICE, { model: MODEL, input: [{ type: "item_reference", id: answer }] })
        expect(none.status).toBe(404)
        expect(none.body.error).toMatchObject({ code: "item_not_found", param: "input[0]", message: expect.stringContaining(answer) })
        expect(gateway.upstream.requests).toHaveLength(3)
      }), TIMEOUT)

    it.scopedLive("another account's response and items answer exactly as missing ones; its owner keeps them", () =>
      Effect.gen(function*() {
        const gateway = yield* start(yield* backend.make(keys))
        const base = `${gateway.url}/v5/responses`
        const mine = yield* post(base, ALICE, { model: MODEL, input: "private" })
        const { id } = mine.body
        const item = mine.body.output[0]!.id
        const missing = "resp_fedcba9876543210fedcba9876543210fedcba9876543210"
        for (const [path, method] of [["", "GET"], ["/input_items", "GET"], ["", "DELETE"]] as const) {
          const foreign = yield* raw(`${base}/${id}${path}`, BOB, method)
          expect(foreign.status).toBe(404)
          expect(anonymous(foreign, id)).toEqual(anonymous(yield* raw(`${base}/${missing}${path}`, BOB, method), missing))
        }
        const chained = yield* post(base, BOB, { model: MODEL, input: "go on", previous_response_id: id })
        const chainedMissing = yield* post(base, BOB, { model: MODEL, input: "go on", previous_response_id: missing })
        expect(chained.status).toBe(400)
        expect(anonymous(chained, id)).toEqual(anonymous(chainedMissing, missing))
        const referenced = yield* post(base, BOB, { model: MODEL, input: [{ type: "item_reference", id: item }] })
        expect(referenced.status).toBe(404)
        expect(referenced.body.error).toMatchObject({ code: "item_not_found" })
        // Bob's attempts changed nothing for Alice; nothing reached the model for him.
        expect(yield* call(() => sdk(gateway.url, ALICE).responses.retrieve(id))).toMatchObject({ id, status: "completed" })
        expect(gateway.upstream.requests).toHaveLength(1)
      }), TIMEOUT)

    it.scopedLive("every Responses call adds exactly one usage ledger row, streamed or not, stored or not, failed or not", () =>
      Effect.gen(function*() {
        const store = yield* backend.make(keys)
        const gateway = yield* start(store, (request, response, index) =>
          index === 3
            ? FakeUpstream.sendJson(response, 400, { error: { message: "bad", type: "invalid_request_error" } })
            : numbered(request, response, index))
        const alice = sdk(gateway.url, ALICE)
        yield* call(() => alice.responses.create({ model: MODEL, input: "one" }))
        const stream = yield* call(() => alice.responses.stream({ model: MODEL, input: "two" }).finalResponse())
        expect(stream.usage).toMatchObject({ input_tokens: 9, output_tokens: 3 })
        yield* call(() => alice.responses.create({ model: MODEL, input: "three", store: false }))
        const failed = yield* call(() => alice.responses.create({ model: MODEL, input: "four" }).then(() => 200, (e: { status: number }) => e.status))
        expect(failed).toBe(400)
        const usage = () =>
          Effect.map(call(() => request(`${gateway.url}/v5/usage`, { headers: { authorization: `Bearer ${ALICE}` } })), (r) =>
            JSON.parse(r.text) as { data: Array<{ requests: number; errors: number; prompt_tokens: number; completion_tokens: number }> })
        const flush = Context.get(store.context, StoreHealth).flush
        for (let i = 0; i < 200 && ((yield* usage()).data[0]?.requests ?? 0) < 4; i++) {
          yield* flush
          yield* Effect.sleep("25 millis")
        }
        yield* Effect.sleep("200 millis")
        yield* flush
        expect((yield* usage()).data).toMatchObject([{
          requests: 4,
          errors: 1,
          prompt_tokens: 9 + 9 + 9,
          completion_tokens: 4 + 3 + 4
        }])
      }), TIMEOUT)
  })
}

for (const { location: freshLocation, name } of freshLocations) {
  describe(`responses on ${name}, two gateway replicas on one database`, () => {
    it.scopedLive("a response is chained on the other replica the moment its answer or response.completed arrives", () =>
      Effect.gen(function*() {
        const location = yield* freshLocation
        // Replica A lets rows gather for 10 s: only a write made before the answer can make B see it in time.
        const storeA = yield* buildStore(location, keys, { writeLinger: "10 seconds" })
        const storeB = yield* buildStore(location, keys)
        const a = yield* start(storeA)
        const b = yield* start(storeB)
        for (let turn = 0; turn < 3; turn++) {
          const stream = yield* call(() =>
            openStream(`${a.url}/v1/responses`, { model: MODEL, input: `streamed ${turn}`, stream: true }, {
              authorization: `Bearer ${ALICE}`
            })
          )
          yield* call(() => stream.until((text) => text.includes("event: response.completed")))
          const completed = stream.text().split("\n").find((line) => line.includes("\"type\":\"response.completed\""))!
          const streamed = (JSON.parse(completed.slice("data: ".length)) as { response: { id: string; output: Array<{ id: string }> } })
            .response
          const onB = yield* post(`${b.url}/v5/responses`, ALICE, {
            model: MODEL,
            input: [{ type: "item_reference", id: streamed.output[0]!.id }, { role: "user", content: "and then?" }],
            previous_response_id: streamed.id
          })
          expect(onB.status, JSON.stringify(onB.body)).toBe(200)
          // Straight back to A with B's answer: A reads B's response from the database as well.
          const backOnA = yield* post(`${a.url}/v5/responses`, ALICE, { model: MODEL, input: "last", previous_response_id: onB.body.id })
          expect(backOnA.status, JSON.stringify(backOnA.body)).toBe(200)
          const history = sentMessages(a.upstream, a.upstream.requests.length - 1)
          expect(history.map((m) => m.content)).toEqual([
            `streamed ${turn}`,
            `Answer ${2 * turn}`,
            `Answer ${2 * turn}`,
            "and then?",
            `Answer ${turn}`,
            "last"
          ])
        }
      }), TIMEOUT)
  })
}

const tempDir = Effect.acquireRelease(
  Effect.sync(() => Fs.mkdtempSync(Path.join(Os.tmpdir(), "sy-responses-"))),
  (dir) => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true }))
)

describe("switchyard serve (the built bin) keeps responses in its SQLite file", () => {
  it.scopedLive("a previous_response_id chain continues across a restart: the second process reads what the first stored", () =>
    Effect.gen(function*() {
      const upstream = yield* FakeUpstream.scoped(numbered)
      const env = { OPENAI_BASE_URL: upstream.baseUrl, OPENAI_API_KEY: "sk-serve", SWITCHYARD_DATA_DIR: yield* tempDir }
      const first = yield* startServe(["--port", "0"], env)
      const client = sdk(first.url, "unused")
      const one = yield* call(() => client.responses.create({ model: MODEL, instructions: "Be brief.", input: "My name is Ada." }))
      first.child.kill("SIGTERM")
      expect((yield* call(() => first.exited)).code).toBe(0)

      const second = yield* startServe(["--port", "0"], env)
      const again = sdk(second.url, "unused")
      expect(yield* call(() => again.responses.retrieve(one.id))).toEqual(one)
      const two = yield* call(() => again.responses.create({ model: MODEL, input: "What is my name?", previous_response_id: one.id }))
      expect(two.previous_response_id).toBe(one.id)
      expect(sentMessages(upstream, 1)).toEqual([
        { role: "user", content: "My name is Ada." },
        { role: "assistant", content: "Answer 0" },
        { role: "user", content: "What is my name?" }
      ])
      expect((yield* call(() => again.responses.inputItems.list(two.id))).data).toMatchObject([
        { type: "message", role: "user", content: [{ type: "input_text", text: "What is my name?" }] }
      ])
    }), 90_000)
})

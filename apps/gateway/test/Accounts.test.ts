import { describe, expect, it } from "@effect/vitest"
import { Authenticator, KeyConfigError, parseKeyEntry, splitKeyList } from "@switchyard/service"
import { Context, Effect, Layer, Redacted } from "effect"
import { postJson, request, startGateway } from "./support/Harness.js"

const TIMEOUT = 30_000
const MEMBER = "sy-member-key"
const ADMIN = "sy-admin-key"
const hello = { model: "openai/gpt-4o", messages: [{ role: "user", content: "hello" }] }

const authenticator = (apiKeys: string, adminKeys = "") =>
  Effect.map(Layer.build(Authenticator.layer({ apiKeys: splitKeyList(apiKeys), adminKeys: splitKeyList(adminKeys) })), (context) =>
    Context.get(context, Authenticator))

describe("keys and principals", () => {
  it.scoped("`key:acct1|acct2` acts for both accounts, the first by default; a bare key for `default`; admin keys are admins", () =>
    Effect.gen(function*() {
      const auth = yield* authenticator("k1:acct_1|acct_2, k2", "root:ops")
      expect(auth.open).toBe(false)
      expect(auth.authenticate("k1")).toMatchObject({ accountIds: ["acct_1", "acct_2"], defaultAccountId: "acct_1", admin: false })
      expect(auth.authenticate("k2")).toMatchObject({ accountIds: ["default"], defaultAccountId: "default", admin: false })
      expect(auth.authenticate("root")).toMatchObject({ accountIds: ["ops"], defaultAccountId: "ops", admin: true })
      const id = auth.authenticate("k1")!.keyId
      expect(id).toMatch(/^key_[0-9a-f]{12}$/)
      expect(id).not.toContain("k1")
      expect((yield* authenticator("k1:other")).authenticate("k1")!.keyId).toBe(id)
      for (const wrong of [undefined, "", "k1:acct_1", "K1", "k", "k1 "]) expect(auth.authenticate(wrong), String(wrong)).toBeUndefined()
    }))

  it.scoped("a key that is also an admin key is an admin", () =>
    Effect.gen(function*() {
      expect((yield* authenticator("same:acct_1", "same")).authenticate("same")).toMatchObject({ admin: true })
    }))

  it.scoped("without keys, every request is an admin of `default`", () =>
    Effect.gen(function*() {
      const auth = yield* authenticator("")
      expect(auth.open).toBe(true)
      expect(auth.authenticate(undefined)).toEqual({ keyId: "anonymous", accountIds: ["default"], defaultAccountId: "default", admin: true })
    }))

  it.effect("malformed entries are errors naming their position, never the key", () =>
    Effect.gen(function*() {
      for (const [entry, problem] of [["secret-1:", "invalid account (empty)"], [":acct", "the key is empty"], ["secret-2:a b", "invalid account `a b`"], ["secret-3:a||b", "invalid account (empty)"]] as const) {
        const parsed = parseKeyEntry(entry, false, "SWITCHYARD_API_KEYS entry 2")
        expect(parsed).toBeInstanceOf(KeyConfigError)
        expect((parsed as KeyConfigError).message).toBe(`SWITCHYARD_API_KEYS entry 2: ${problem}`)
        expect((parsed as KeyConfigError).message).not.toContain("secret")
      }
      const duplicate = yield* Effect.flip(Layer.build(Authenticator.layer({ apiKeys: [Redacted.make("dup:a"), Redacted.make("dup:b")] })).pipe(Effect.scoped))
      expect(duplicate.message).toBe("SWITCHYARD_API_KEYS entry 2 repeats an earlier key")
    }))
})

describe("x-selected-account-id", () => {
  const start = startGateway({ gateway: { apiKeys: [`${MEMBER}:acct_a|acct_b`], adminKeys: [ADMIN] } })

  it.scopedLive("an account the key may not act for is a 403 account_forbidden, before anything is forwarded", () =>
    Effect.gen(function*() {
      const gateway = yield* start
      for (const account of ["acct_c", "default", "ACCT_A"]) {
        const response = yield* Effect.promise(() =>
          postJson(`${gateway.url}/v5/chat/completions`, hello, { "x-api-key": MEMBER, "x-selected-account-id": account })
        )
        expect(response.status, account).toBe(403)
        expect(JSON.parse(response.text)).toEqual({
          error: {
            message: `This API key may not act for account \`${account}\` (x-selected-account-id).`,
            type: "permission_error",
            param: null,
            code: "account_forbidden"
          }
        })
        const models = yield* Effect.promise(() =>
          request(`${gateway.url}/v5/models`, { headers: { "x-api-key": MEMBER, "x-selected-account-id": account } })
        )
        expect(models.status).toBe(403)
      }
      expect(gateway.upstream.requests).toHaveLength(0)
    }), TIMEOUT)

  it.scopedLive("a member acts for its default account unless it selects another of its own; an admin for any", () =>
    Effect.gen(function*() {
      const gateway = yield* start
      const cases: ReadonlyArray<readonly [Record<string, string>, string]> = [
        [{ "x-api-key": MEMBER }, "acct_a"],
        [{ "x-api-key": MEMBER, "x-selected-account-id": "acct_b" }, "acct_b"],
        [{ authorization: `Bearer ${MEMBER}`, "x-selected-account-id": "acct_a" }, "acct_a"],
        [{ "x-api-key": ADMIN }, "default"],
        [{ "x-api-key": ADMIN, "x-selected-account-id": "acct_anything" }, "acct_anything"]
      ]
      for (const [headers, account] of cases) {
        const response = yield* Effect.promise(() => postJson(`${gateway.url}/v5/chat/completions`, hello, headers))
        expect(response.status, JSON.stringify(headers)).toBe(200)
        const line = yield* gateway.log.line((line) => line.includes(String(response.headers["x-request-id"])))
        expect(line).toContain(` account=${account} `)
      }
      expect(gateway.upstream.requests).toHaveLength(cases.length)
    }), TIMEOUT)
})

import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import { type ApiKeyObject, CurrentCaller, Forbidden, ResourceNotFound, SwitchyardApi } from "@switchyard/core"
import { type ApiKey, ApiKeys } from "@switchyard/service"
import { Effect, Redacted } from "effect"

const seconds = (ms: number) => Math.floor(ms / 1000)

const wire = (key: ApiKey): ApiKeyObject => ({
  id: key.id,
  object: "api_key",
  name: key.name,
  account_ids: key.accountIds,
  default_account_id: key.defaultAccountId,
  prefix: key.prefix,
  last4: key.last4,
  created_at: seconds(key.createdAt),
  last_used_at: key.lastUsedAt === null ? null : seconds(key.lastUsedAt),
  ...(key.limits !== undefined ? { limits: key.limits } : {})
})

const adminOnly = Effect.flatMap(CurrentCaller, ({ principal }) =>
  principal.admin
    ? Effect.void
    : Effect.fail(new Forbidden({ message: "Managing API keys needs an admin key (SWITCHYARD_ADMIN_KEYS)." })))

export const KeysHttpLive = HttpApiBuilder.group(SwitchyardApi, "keys", (handlers) =>
  Effect.gen(function*() {
    const keys = yield* ApiKeys
    return handlers
      .handle("create", ({ payload }) =>
        Effect.gen(function*() {
          yield* adminOnly
          const created = yield* keys.create({ name: payload.name ?? undefined, accountIds: payload.account_ids, limits: payload.limits })
          return { ...wire(created.key), secret: Redacted.value(created.secret) }
        }))
      .handle("list", () =>
        Effect.zipRight(adminOnly, Effect.map(keys.list(), (list) => ({ object: "list" as const, data: list.map(wire) }))))
      .handle("revoke", ({ path }) =>
        Effect.gen(function*() {
          yield* adminOnly
          if (!(yield* keys.revoke(path.id))) return yield* new ResourceNotFound({ message: `No API key with id \`${path.id}\`.`, code: "not_found" })
          return { id: path.id, object: "api_key.deleted" as const, deleted: true as const }
        }))
  }))

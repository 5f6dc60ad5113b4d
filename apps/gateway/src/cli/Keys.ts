import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import { type ApiKey, ApiKeys } from "@switchyard/service"
import { Console, Effect, Option, Redacted } from "effect"
import { configFile } from "./Options.js"
import { withStore } from "./StoreAccess.js"

const json = Options.boolean("json").pipe(Options.withDescription("Print JSON"))

const time = (ms: number | null) => (ms === null ? "-" : new Date(ms).toISOString().replace(/\.\d+Z$/, "Z"))

const keyJson = (key: ApiKey) => ({
  id: key.id,
  name: key.name,
  account_ids: key.accountIds,
  default_account_id: key.defaultAccountId,
  prefix: key.prefix,
  last4: key.last4,
  created_at: Math.floor(key.createdAt / 1000),
  last_used_at: key.lastUsedAt === null ? null : Math.floor(key.lastUsedAt / 1000),
  revoked_at: key.revokedAt === null ? null : Math.floor(key.revokedAt / 1000)
})

const create = Command.make("create", {
  account: Options.text("account").pipe(
    Options.repeated,
    Options.withDescription("An account the key may act for (repeat for several; the first is its default)")
  ),
  name: Options.text("name").pipe(Options.withDescription("A name to recognise the key by"), Options.optional),
  json,
  config: configFile
}, (flags) =>
  Effect.gen(function*() {
    const [first, ...rest] = flags.account
    if (first === undefined) return yield* Effect.fail(new Error("give at least one --account"))
    const invalid = flags.account.find((account) => !/^[^\s|:,]+$/.test(account))
    if (invalid !== undefined) return yield* Effect.fail(new Error(`invalid account \`${invalid}\``))
    const created = yield* withStore(
      Option.getOrUndefined(flags.config),
      Effect.flatMap(ApiKeys, (keys) => keys.create({ name: Option.getOrUndefined(flags.name), accountIds: [first, ...rest] }))
    )
    const secret = Redacted.value(created.secret)
    if (flags.json) return yield* Console.log(JSON.stringify({ ...keyJson(created.key), secret }, null, 2))
    yield* Console.error(
      `Created ${created.key.id} for ${created.key.accountIds.join(", ")} (default ${created.key.defaultAccountId}). ` +
        "The key is shown once: store it now."
    )
    yield* Console.log(secret)
  })).pipe(Command.withDescription("Create an API key; prints its secret once (on stdout)"))

const list = Command.make("list", {
  all: Options.boolean("all").pipe(Options.withDescription("Include revoked keys")),
  json,
  config: configFile
}, (flags) =>
  Effect.gen(function*() {
    const keys = yield* withStore(
      Option.getOrUndefined(flags.config),
      Effect.flatMap(ApiKeys, (keys) => keys.list({ includeRevoked: flags.all }))
    )
    if (flags.json) return yield* Console.log(JSON.stringify(keys.map(keyJson), null, 2))
    if (keys.length === 0) return yield* Console.error("No keys. Create one with `switchyard keys create --account <id>`.")
    const rows = keys.map((key) => [
      key.id,
      key.name ?? "-",
      key.accountIds.join(","),
      `${key.prefix}…${key.last4}`,
      time(key.createdAt),
      key.revokedAt === null ? time(key.lastUsedAt) : `revoked ${time(key.revokedAt)}`
    ])
    const header = ["ID", "NAME", "ACCOUNTS", "KEY", "CREATED", "LAST USED"]
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)))
    for (const row of [header, ...rows]) yield* Console.log(row.map((cell, i) => cell.padEnd(widths[i]!)).join("  ").trimEnd())
  })).pipe(Command.withDescription("List API keys: id, name, accounts, prefix and last four characters, created, last used"))

const revoke = Command.make("revoke", { id: Args.text({ name: "id" }), config: configFile }, (flags) =>
  Effect.gen(function*() {
    const revoked = yield* withStore(Option.getOrUndefined(flags.config), Effect.flatMap(ApiKeys, (keys) => keys.revoke(flags.id)))
    if (!revoked) return yield* Effect.fail(new Error(`no active key ${flags.id}`))
    yield* Console.error(`Revoked ${flags.id}: refused by every gateway within 5 seconds.`)
  })).pipe(Command.withDescription("Revoke an API key"))

/** `switchyard keys create|list|revoke`: API keys in the database (the server's). */
export const keys = Command.make("keys").pipe(
  Command.withDescription("Manage API keys kept in the database"),
  Command.withSubcommands([create, list, revoke])
)

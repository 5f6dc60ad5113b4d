import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import type { LimitSet } from "@switchyard/core"
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
  revoked_at: key.revokedAt === null ? null : Math.floor(key.revokedAt / 1000),
  ...(key.limits !== undefined ? { limits: key.limits } : {})
})

const positive = (name: string, description: string) =>
  Options.integer(name).pipe(
    Options.withDescription(description),
    Options.filterMap((n) => (n > 0 ? Option.some(n) : Option.none()), `--${name} must be a positive integer`),
    Options.optional
  )

const create = Command.make("create", {
  account: Options.text("account").pipe(
    Options.repeated,
    Options.withDescription("An account the key may act for (repeat for several; the first is its default)")
  ),
  name: Options.text("name").pipe(Options.withDescription("A name to recognise the key by"), Options.optional),
  rpm: positive("rpm", "The key's own limit of requests per minute"),
  tpm: positive("tpm", "The key's own limit of tokens per minute"),
  concurrency: positive("concurrency", "The key's own limit of requests at once"),
  budgetUsd: Options.float("budget-usd").pipe(
    Options.withDescription("The key's own budget in USD per --budget-period"),
    Options.filterMap((n) => (n > 0 ? Option.some(n) : Option.none()), "--budget-usd must be positive"),
    Options.optional
  ),
  budgetPeriod: Options.choice("budget-period", ["day", "week", "month"]).pipe(
    Options.withDescription("The UTC period of --budget-usd (default month)"),
    Options.withDefault("month" as const)
  ),
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
      Effect.flatMap(ApiKeys, (keys) => keys.create({ name: Option.getOrUndefined(flags.name), accountIds: [first, ...rest], limits: limitsOf(flags) }))
    )
    const secret = Redacted.value(created.secret)
    if (flags.json) return yield* Console.log(JSON.stringify({ ...keyJson(created.key), secret }, null, 2))
    yield* Console.error(
      `Created ${created.key.id} for ${created.key.accountIds.join(", ")} (default ${created.key.defaultAccountId})` +
        (created.key.limits !== undefined ? `, limits ${JSON.stringify(created.key.limits)}` : "") + ". " +
        "The key is shown once: store it now."
    )
    yield* Console.log(secret)
  })).pipe(Command.withDescription("Create an API key; prints its secret once (on stdout)"))

const limitsOf = (flags: {
  readonly rpm: Option.Option<number>
  readonly tpm: Option.Option<number>
  readonly concurrency: Option.Option<number>
  readonly budgetUsd: Option.Option<number>
  readonly budgetPeriod: "day" | "week" | "month"
}): LimitSet | undefined => {
  const limits: LimitSet = {
    ...Option.match(flags.rpm, { onNone: () => ({}), onSome: (n) => ({ requests_per_minute: n }) }),
    ...Option.match(flags.tpm, { onNone: () => ({}), onSome: (n) => ({ tokens_per_minute: n }) }),
    ...Option.match(flags.concurrency, { onNone: () => ({}), onSome: (n) => ({ concurrent_requests: n }) }),
    ...Option.match(flags.budgetUsd, { onNone: () => ({}), onSome: (usd) => ({ budget: { usd, period: flags.budgetPeriod } }) })
  }
  return Object.keys(limits).length > 0 ? limits : undefined
}

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

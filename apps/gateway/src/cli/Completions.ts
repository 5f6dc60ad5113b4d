import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import { DEFAULT_ACCOUNT_ID } from "@switchyard/core"
import { StoredCompletions } from "@switchyard/service"
import { Console, Effect, HashMap, Option } from "effect"
import { configFile } from "./Options.js"
import { withStore } from "./StoreAccess.js"

const account = Options.text("account").pipe(
  Options.withDescription(`The account whose completions to read (default ${DEFAULT_ACCOUNT_ID})`),
  Options.withDefault(DEFAULT_ACCOUNT_ID)
)

const list = Command.make("list", {
  account,
  model: Options.text("model").pipe(Options.withDescription("Only this model"), Options.optional),
  metadata: Options.keyValueMap("metadata").pipe(
    Options.withDescription("Only completions with this metadata pair, key=value (repeat: all must match)"),
    Options.optional
  ),
  limit: Options.integer("limit").pipe(Options.withDescription("How many (1 to 100, default 20)"), Options.withDefault(20)),
  order: Options.choice("order", ["desc", "asc"]).pipe(Options.withDescription("Newest first (default) or oldest"), Options.withDefault("desc" as const)),
  after: Options.text("after").pipe(Options.withDescription("Continue after this id"), Options.optional),
  json: Options.boolean("json").pipe(Options.withDescription("Print JSON")),
  config: configFile
}, (flags) =>
  Effect.gen(function*() {
    if (flags.limit < 1 || flags.limit > 100) return yield* Effect.fail(new Error("--limit must be from 1 to 100"))
    const page = yield* withStore(
      Option.getOrUndefined(flags.config),
      Effect.flatMap(StoredCompletions, (store) =>
        store.list({
          accountId: flags.account,
          model: Option.getOrUndefined(flags.model),
          metadata: Option.getOrUndefined(Option.map(flags.metadata, (map) => Object.fromEntries(HashMap.toEntries(map)))),
          after: Option.getOrUndefined(flags.after),
          limit: flags.limit,
          order: flags.order
        }))
    )
    if (flags.json) return yield* Console.log(JSON.stringify({ data: page.data, has_more: page.hasMore }, null, 2))
    if (page.data.length === 0) return yield* Console.error("No stored completions.")
    const rows = page.data.map((c) => [
      c.id,
      new Date(c.createdAt).toISOString().replace(/\.\d+Z$/, "Z"),
      c.model,
      c.status,
      String(c.completion.usage?.total_tokens ?? "-"),
      Object.entries(c.metadata).map(([k, v]) => `${k}=${v}`).join(" ") || "-"
    ])
    const header = ["ID", "CREATED", "MODEL", "STATUS", "TOKENS", "METADATA"]
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)))
    for (const row of [header, ...rows]) yield* Console.log(row.map((cell, i) => cell.padEnd(widths[i]!)).join("  ").trimEnd())
    if (page.hasMore) yield* Console.error(`More: --after ${page.data[page.data.length - 1]!.id}`)
  })).pipe(Command.withDescription("List stored completions (store: true), newest first"))

const show = Command.make("show", { id: Args.text({ name: "id" }), account, config: configFile }, (flags) =>
  Effect.gen(function*() {
    const found = yield* withStore(
      Option.getOrUndefined(flags.config),
      Effect.flatMap(StoredCompletions, (store) =>
        Effect.all({ completion: store.get(flags.account, flags.id), request: store.request(flags.account, flags.id) }))
    )
    if (Option.isNone(found.completion)) {
      return yield* Effect.fail(new Error(`no stored completion ${flags.id} in account ${flags.account}`))
    }
    yield* Console.log(JSON.stringify({ ...found.completion.value, request: Option.getOrNull(found.request) }, null, 2))
  })).pipe(Command.withDescription("Show a stored completion: the request, the answer, usage and metadata, as JSON"))

/** `switchyard completions list|show`: stored completions in the database (the server's). */
export const completions = Command.make("completions").pipe(
  Command.withDescription("Read stored completions"),
  Command.withSubcommands([list, show])
)

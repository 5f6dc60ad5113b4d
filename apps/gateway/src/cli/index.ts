import * as Command from "@effect/cli/Command"
import { chat } from "./Chat.js"
import { completions } from "./Completions.js"
import { keys } from "./Keys.js"
import { migrate } from "./Migrate.js"
import { models } from "./Models.js"
import { serve } from "./Serve.js"

/** The `switchyard` command. */
export const command = Command.make("switchyard").pipe(
  Command.withDescription("Switchyard: an OpenAI-compatible chat completions gateway"),
  Command.withSubcommands([serve, chat, models, keys, completions, migrate])
)

/** Runs the CLI with the given arguments (`process.argv`). */
export const run = Command.run(command, { name: "switchyard", version: "0.1.0" })

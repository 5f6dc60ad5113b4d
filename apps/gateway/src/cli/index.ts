import { chat } from "./Chat.js"
import { completions } from "./Completions.js"
import { keys } from "./Keys.js"
import { migrate } from "./Migrate.js"
import { models } from "./Models.js"
import { rootCommand, runner } from "./Root.js"
import { serve } from "./Serve.js"

/** The `switchyard` command. */
export const command = rootCommand([serve, chat, models, keys, completions, migrate])

/** Runs the CLI with the given arguments (`process.argv`). */
export const run = runner(command)

/**
 * `switchyard chat` on its own: the entry `bin/switchyard.js` starts the chat
 * command from, bundled into one CommonJS file (`dist/bundle/chat.cjs`) that
 * loads with V8's code cache. It holds the same `chat` command as the whole
 * CLI (`bin.ts`) and nothing of the server, so it starts in about half the time.
 */
import { chat } from "./cli/Chat.js"
import { rootCommand, runMain, runner } from "./cli/Root.js"

runMain(runner(rootCommand([chat]))(process.argv))

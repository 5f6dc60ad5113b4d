#!/usr/bin/env node
// The `switchyard` command: runs the bundled CLI (built by `npm install` / `npm run build`), or the
// compiled modules if there is no bundle. `--version` alone is answered here, without loading the CLI.
import { readFileSync } from "node:fs"

const missing = (error) => error && error.code === "ERR_MODULE_NOT_FOUND"
if (process.argv.length === 3 && process.argv[2] === "--version") {
  process.stdout.write(`${JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")).version}\n`)
} else {
  import("../dist/bundle/bin.js")
    .catch((error) => missing(error) && String(error.message).includes("dist/bundle/bin.js") ? import("../dist/bin.js") : Promise.reject(error))
    .catch((error) => {
      if (missing(error) && String(error.message).includes("dist/bin.js")) {
        process.stderr.write("switchyard: not built yet; run `npm run build` in the repository first.\n")
        process.exit(1)
      }
      throw error
    })
}

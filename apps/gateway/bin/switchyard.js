#!/usr/bin/env node
// The `switchyard` command: runs the bundled CLI (built by `npm install` / `npm run build`), or the
// compiled modules if there is no bundle.
const missing = (error) => error && error.code === "ERR_MODULE_NOT_FOUND"
import("../dist/bundle/bin.js")
  .catch((error) => missing(error) && String(error.message).includes("dist/bundle/bin.js") ? import("../dist/bin.js") : Promise.reject(error))
  .catch((error) => {
    if (missing(error) && String(error.message).includes("dist/bin.js")) {
      process.stderr.write("switchyard: not built yet; run `npm run build` in the repository first.\n")
      process.exit(1)
    }
    throw error
  })

#!/usr/bin/env node
// The `switchyard` command: runs the compiled CLI (built by `npm install` / `npm run build`).
import("../dist/bin.js").catch((error) => {
  if (error && error.code === "ERR_MODULE_NOT_FOUND" && String(error.message).includes("dist/bin.js")) {
    process.stderr.write("switchyard: not built yet; run `npm run build` in the repository first.\n")
    process.exit(1)
  }
  throw error
})

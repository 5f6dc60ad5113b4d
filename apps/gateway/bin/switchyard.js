#!/usr/bin/env node
// The `switchyard` command: runs the bundled CLI (built by `npm install` / `npm run build`), or the
// compiled modules if there is no bundle. `--version` alone is answered here, without loading the CLI.
// `switchyard chat` starts from a bundle of its own, compiled with V8's code cache (below).
import { readFileSync, renameSync, rmSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import { dirname } from "node:path"
import { fileURLToPath } from "node:url"
import vm from "node:vm"

const missing = (error) => error && error.code === "ERR_MODULE_NOT_FOUND"
const args = process.argv.slice(2)

/** Whether @effect/cli's own screens are asked for: those come from the whole CLI, as they always did. */
const builtIn = (arg) => arg === "--help" || arg === "-h" || arg === "--wizard" || arg === "--completions" || arg === "--version"

/**
 * Runs a CommonJS bundle through V8's code cache, kept beside it (`<file>.v8-cache`): the compiled
 * code of what the last run executed, so this run neither parses nor compiles it again (~0.1 s of
 * `switchyard chat`'s start). Node 20 has no code cache for ES modules, hence CommonJS. V8 rejects a
 * cache made by another Node.js version, other V8 flags or another build of the file; the process
 * then compiles as usual and leaves a new cache when it exits (best effort: a read-only install
 * simply runs without one). Returns false when the bundle is not there.
 */
const runWithCodeCache = (file) => {
  let source
  try {
    // esbuild writes the bundle as ASCII (`charset: "ascii"`; only comments may hold other bytes), so
    // latin1, the cheapest decoding, reads it exactly.
    source = readFileSync(file, "latin1")
  } catch (error) {
    if (error.code === "ENOENT") return false
    throw error
  }
  const cacheFile = `${file}.v8-cache`
  let cachedData
  try {
    cachedData = readFileSync(cacheFile)
  } catch {
    cachedData = undefined
  }
  // No `importModuleDynamically`: Node 20 runs it only behind a flag, so the bundle must not `import()`
  // (esbuild turns the imports of bundled modules into `require`; the chat tests would catch one left).
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: file,
    cachedData
  })
  if (cachedData === undefined || script.cachedDataRejected) {
    // Made at exit, the cache holds every function this run compiled, not only the top level.
    process.once("exit", () => {
      const partial = `${cacheFile}.${process.pid}`
      try {
        writeFileSync(partial, script.createCachedData())
        renameSync(partial, cacheFile)
      } catch {
        rmSync(partial, { force: true })
      }
    })
  }
  const module = { exports: {} }
  script.runInThisContext()(module.exports, createRequire(file), module, file, dirname(file))
  return true
}

if (args.length === 1 && args[0] === "--version") {
  process.stdout.write(`${JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")).version}\n`)
} else if (
  !(args[0] === "chat" && !args.some(builtIn) && runWithCodeCache(fileURLToPath(new URL("../dist/bundle/chat.cjs", import.meta.url))))
) {
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

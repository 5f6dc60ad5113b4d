// Bundles the CLI into dist/bundle (esbuild):
// - bin.js and its chunks (ESM, code-split): the whole CLI. It starts in about half the time of the
//   unbundled modules, because `effect` and friends are loaded as one tree-shaken file. The docs
//   page and the echo tokenizer stay in chunks of their own, loaded on first use, as do the
//   database drivers.
// - chat.cjs (CommonJS, one file): `switchyard chat` alone, which bin/switchyard.js compiles with
//   V8's code cache (Node 20 has no code cache for ES modules, hence CommonJS).
import { build } from "esbuild"
import { rmSync } from "node:fs"

rmSync("dist/bundle", { recursive: true, force: true })

const common = {
  bundle: true,
  platform: "node",
  target: "node20",
  mainFields: ["module", "main"],
  // Native SQLite bindings load from node_modules at run time; pg-native is pg's optional binding, unused.
  external: ["libsql", "@libsql/*", "pg-native"],
  // ASCII only (esbuild's default, stated): bin/switchyard.js reads chat.cjs as latin1, the cheap decoding.
  charset: "ascii",
  logLevel: "warning"
}

await build({
  ...common,
  entryPoints: ["dist/bin.js"],
  outdir: "dist/bundle",
  splitting: true,
  format: "esm",
  banner: { js: "import { createRequire as __switchyardRequire } from 'node:module'; const require = __switchyardRequire(import.meta.url);" }
})

await build({
  ...common,
  entryPoints: ["dist/chat.js"],
  outfile: "dist/bundle/chat.cjs",
  format: "cjs",
  // Comments are the only text esbuild leaves unescaped: without them the file is pure ASCII.
  legalComments: "none",
  define: { "import.meta.url": "__switchyardModuleUrl" },
  banner: { js: "const __switchyardModuleUrl = require('node:url').pathToFileURL(__filename).href;" }
})

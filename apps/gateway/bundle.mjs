// Bundles the CLI into dist/bundle (esbuild, code-split): it starts in about half the time of the
// unbundled modules, because `effect` and friends are loaded as one tree-shaken file. The docs page
// and the echo tokenizer stay in chunks of their own, loaded on first use, as do the database drivers.
import { build } from "esbuild"
import { rmSync } from "node:fs"

rmSync("dist/bundle", { recursive: true, force: true })

await build({
  entryPoints: ["dist/bin.js"],
  outdir: "dist/bundle",
  bundle: true,
  splitting: true,
  platform: "node",
  format: "esm",
  target: "node20",
  mainFields: ["module", "main"],
  // Native SQLite bindings load from node_modules at run time; pg-native is pg's optional binding, unused.
  external: ["libsql", "@libsql/*", "pg-native"],
  banner: { js: "import { createRequire as __switchyardRequire } from 'node:module'; const require = __switchyardRequire(import.meta.url);" },
  logLevel: "warning"
})

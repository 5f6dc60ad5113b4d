// Builds the dashboard into dist/: one minified script and one stylesheet with hashed names, an
// index.html that loads them, and brotli and gzip copies of each, which the gateway serves as they are.
// Prints the compressed size of a first load (the target is under 300 KB).
import { build } from "esbuild"
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { basename, join } from "node:path"
import { brotliCompressSync, constants, gzipSync } from "node:zlib"

const out = "dist"
rmSync(out, { recursive: true, force: true })
mkdirSync(join(out, "assets"), { recursive: true })

const result = await build({
  entryPoints: { app: "src/main.tsx" },
  outdir: join(out, "assets"),
  entryNames: "[name]-[hash]",
  bundle: true,
  minify: true,
  format: "esm",
  target: ["chrome110", "firefox110", "safari16"],
  platform: "browser",
  conditions: ["@switchyard/source"],
  jsx: "automatic",
  jsxImportSource: "preact",
  legalComments: "none",
  metafile: true,
  define: { "process.env.NODE_ENV": "\"production\"" },
  logLevel: "warning"
})

const outputs = Object.keys(result.metafile.outputs).map((file) => basename(file))
const script = outputs.find((file) => file.endsWith(".js"))
const style = outputs.find((file) => file.endsWith(".css"))

const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>Switchyard</title>
<link rel="icon" href="data:,">
${style === undefined ? "" : `<link rel="stylesheet" href="/dashboard/assets/${style}">`}
<script type="module" src="/dashboard/assets/${script}"></script>
</head>
<body>
<div id="app"></div>
<noscript>The Switchyard dashboard needs JavaScript.</noscript>
</body>
</html>
`
writeFileSync(join(out, "index.html"), html)

let total = 0
for (const file of ["index.html", ...outputs.map((name) => join("assets", name))]) {
  const path = join(out, file)
  const raw = readFileSync(path)
  const gzip = gzipSync(raw, { level: 9 })
  const brotli = brotliCompressSync(raw, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } })
  writeFileSync(`${path}.gz`, gzip)
  writeFileSync(`${path}.br`, brotli)
  total += gzip.length
  console.log(`dashboard: ${file} ${(raw.length / 1024).toFixed(1)} KB, gzip ${(gzip.length / 1024).toFixed(1)} KB, brotli ${(brotli.length / 1024).toFixed(1)} KB`)
}
console.log(`dashboard: first load ${(total / 1024).toFixed(1)} KB gzip`)

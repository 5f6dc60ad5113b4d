// `npm pack` / `npm publish` of a workspace package: `strip` (prepack) removes the
// repository's own `@switchyard/source` export condition (TypeScript sources, for
// development without a build) from package.json, keeping the original beside it;
// `restore` (postpack) puts the original back. The tarball's manifest then names
// only what it ships: `types` and `default` under `dist/`.
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs"

const CONDITION = "@switchyard/source"
const MANIFEST = "package.json"
const ORIGINAL = ".package.json.orig"

/** The exports map without the development condition, at any depth. */
export const stripCondition = (exports) =>
  typeof exports !== "object" || exports === null
    ? exports
    : Object.fromEntries(
      Object.entries(exports).filter(([key]) => key !== CONDITION).map(([key, value]) => [key, stripCondition(value)])
    )

const command = process.argv[2]
if (command === "strip") {
  const text = readFileSync(MANIFEST, "utf8")
  const manifest = JSON.parse(text)
  if (!existsSync(ORIGINAL)) writeFileSync(ORIGINAL, text)
  writeFileSync(MANIFEST, JSON.stringify({ ...manifest, exports: stripCondition(manifest.exports) }, null, 2) + "\n")
} else if (command === "restore") {
  if (existsSync(ORIGINAL)) renameSync(ORIGINAL, MANIFEST)
} else if (command !== undefined) {
  process.stderr.write(`pack-manifest: unknown command ${command} (strip | restore)\n`)
  process.exit(1)
}

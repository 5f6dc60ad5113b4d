/**
 * A configuration file with the routes the bench calls: `bench-one` (one
 * target, `openai/bench`) and `bench-two` (a fallback route whose first
 * target, `openai/bench`, answers; `echo/bench` behind it is never called).
 */
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

let written: string | undefined

/** The path of the routes file (written once per run, in a temporary directory). */
export const routesConfig = (): string => {
  if (written !== undefined) return written
  const file = join(mkdtempSync(join(tmpdir(), "switchyard-bench-")), "routes.json")
  writeFileSync(file, JSON.stringify({
    routes: {
      "bench-one": { targets: [{ model: "openai/bench" }] },
      "bench-two": { targets: [{ model: "openai/bench" }, { model: "echo/bench" }] }
    }
  }))
  return (written = file)
}

// The TypeScript blocks of a Markdown file, for the consumer test: every ```ts
// block is type-checked; a `<!-- doc-check: run -->` comment on the line above
// makes it also run with node (it must exit 0), `<!-- doc-check: test -->` makes
// it a vitest test file.
const FENCE = /^```(ts|typescript)\s*$/

/** Each TypeScript block with its 1-based line and how it is checked. */
export const extractBlocks = (markdown) => {
  const lines = markdown.split("\n")
  const blocks = []
  for (let i = 0; i < lines.length; i++) {
    if (!FENCE.test(lines[i])) {
      if (lines[i].startsWith("```")) {
        // Skip other fenced blocks whole (they may contain ``` lines of their own kind).
        const end = lines.indexOf("```", i + 1)
        i = end < 0 ? lines.length : end
      }
      continue
    }
    const marker = /<!--\s*doc-check:\s*(run|test|typecheck)\s*-->/.exec(lines[i - 1] ?? "")
    const end = lines.indexOf("```", i + 1)
    if (end < 0) throw new Error(`unterminated code block at line ${i + 1}`)
    blocks.push({ line: i + 1, mode: marker?.[1] ?? "typecheck", code: lines.slice(i + 1, end).join("\n") + "\n" })
    i = end
  }
  return blocks
}

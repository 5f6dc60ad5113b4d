import { defineProject } from "vitest/config"

export default defineProject({
  resolve: { conditions: ["@switchyard/source"] },
  ssr: { resolve: { conditions: ["@switchyard/source"] } },
  test: {
    include: ["test/**/*.test.ts"],
    // Real HTTP and a tokenizer load: generous on a loaded machine (the assertions never read the wall clock).
    testTimeout: 30_000
  }
})

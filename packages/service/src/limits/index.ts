/** limits/: rate limits, concurrency limits and budgets per key and account (`Limits`), over a counters' store (`LimitStore`). */
export * from "./Limits.js"
export * from "./LimitsPolicy.js"
export * from "./LimitStore.js"

/**
 * The paths anyone may request without a key (`/metrics` unless
 * `metrics.require_key`); every other path needs a valid key before anything
 * else. Exact matches on the raw path (no normalization: `/health/` or
 * `//health` are not open); an entry ending in `/*` opens the paths under it
 * (for static assets).
 */
export const OPEN_PATHS: ReadonlyArray<string> = [
  "/health",
  "/ready",
  "/openapi.json",
  "/docs",
  "/metrics",
  "/dashboard",
  "/dashboard/assets/*"
]

const exact = new Set(OPEN_PATHS.filter((path) => !path.endsWith("/*")))
const prefixes = OPEN_PATHS.filter((path) => path.endsWith("/*")).map((path) => path.slice(0, -1))

/** Whether a raw request path (without its query) is open. */
export const isOpenPath = (path: string): boolean =>
  exact.has(path) || prefixes.some((prefix) => path.startsWith(prefix) && !path.includes("/.") && !path.includes("%"))

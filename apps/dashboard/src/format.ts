export const formatTime = (ms: number): string => {
  const d = new Date(ms)
  const pad = (n: number) => String(n).padStart(2, "0")
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
}

export const formatMs = (ms: number | null | undefined): string =>
  ms === null || ms === undefined ? "–" : ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`

export const formatUsd = (usd: number | null | undefined): string =>
  usd === null || usd === undefined ? "–" : usd === 0 ? "$0" : usd < 0.01 ? `$${usd.toFixed(6)}` : `$${usd.toFixed(4)}`

export const formatInt = (n: number | null | undefined): string =>
  n === null || n === undefined ? "–" : n.toLocaleString("en-US")

export const formatPercent = (rate: number): string => `${(rate * 100).toFixed(1)}%`

/** Time ranges offered by the filters, in seconds. */
export const RANGES: ReadonlyArray<readonly [string, string, number]> = [
  ["1h", "Last hour", 3_600],
  ["24h", "Last 24 hours", 86_400],
  ["7d", "Last 7 days", 7 * 86_400],
  ["30d", "Last 30 days", 30 * 86_400]
]

export const rangeSeconds = (range: string | null): number | undefined => RANGES.find(([id]) => id === range)?.[2]

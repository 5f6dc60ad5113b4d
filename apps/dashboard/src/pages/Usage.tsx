import type { DashboardUsage } from "@switchyard/core"
import { useEffect, useRef, useState } from "preact/hooks"
import uPlot from "uplot"
import "uplot/dist/uPlot.min.css"
import { call, type Session } from "../api.js"
import { formatInt, formatMs, formatPercent, formatUsd, RANGES, rangeSeconds } from "../format.js"
import { href, navigate } from "../route.js"

const GROUPS = ["model", "account", "key", "target"] as const
type GroupBy = typeof GROUPS[number]
const PALETTE = ["#2f6fde", "#d9480f", "#2b8a3e", "#9c36b5", "#e67700", "#0b7285", "#c2255c", "#5c940d"]

type Measure = "requests" | "total_tokens" | "cost_usd" | "latency_p95_ms"
const CHARTS: ReadonlyArray<readonly [Measure, string]> = [
  ["requests", "Requests"],
  ["total_tokens", "Tokens"],
  ["cost_usd", "Cost (USD)"],
  ["latency_p95_ms", "p95 latency (ms)"]
]

const groupName = (group: string | null) => group ?? "(none)"

/** One chart: a line per group over the buckets; its label states the total for screen readers. */
const Chart = (props: { readonly usage: DashboardUsage; readonly measure: Measure; readonly title: string; readonly total: string }) => {
  const box = useRef<HTMLDivElement>(null)
  useEffect(() => {
    const el = box.current
    if (el === null) return
    const times = [...new Set(props.usage.data.map((row) => row.start))].sort((a, b) => a - b)
    const groups = [...new Set(props.usage.data.map((row) => groupName(row.group)))]
    const series = groups.map((group) =>
      times.map((t) => {
        const row = props.usage.data.find((r) => r.start === t && groupName(r.group) === group)
        return row === undefined ? null : row[props.measure]
      })
    )
    const dark = matchMedia("(prefers-color-scheme: dark)").matches
    const axis = { stroke: dark ? "#c9d1d9" : "#444", grid: { stroke: dark ? "#30363d" : "#e5e5e5" }, ticks: { stroke: dark ? "#30363d" : "#e5e5e5" } }
    const plot = new uPlot(
      {
        width: Math.max(280, el.clientWidth),
        height: 220,
        series: [{}, ...groups.map((group, i) => ({ label: group, stroke: PALETTE[i % PALETTE.length]!, width: 2, points: { show: true, size: 6 } }))],
        axes: [
          axis,
          {
            ...axis,
            size: 64,
            // Costs are often fractions of a cent: keep their significant digits.
            values: (_: uPlot, splits: Array<number>) =>
              splits.map((v) => (v === 0 ? "0" : Math.abs(v) < 0.01 ? v.toExponential(1) : v.toLocaleString("en-US")))
          }
        ],
        // The whole range, not just the buckets that have rows.
        scales: { x: { time: true, range: () => [props.usage.start, props.usage.end] } },
        legend: { show: true }
      },
      [times, ...series] as uPlot.AlignedData,
      el
    )
    const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(280, el.clientWidth), height: 220 }))
    resize.observe(el)
    return () => {
      resize.disconnect()
      plot.destroy()
    }
  }, [props.usage, props.measure])
  return (
    <figure class="chart" role="img" aria-label={`${props.title} by ${props.usage.group_by}: total ${props.total}`}>
      <figcaption>{props.title} <span class="total">{props.total}</span></figcaption>
      <div ref={box} />
    </figure>
  )
}

export const Usage = (props: { readonly session: Session; readonly query: URLSearchParams }) => {
  const { session, query } = props
  const range = query.get("range") ?? "24h"
  const groupBy: GroupBy = GROUPS.find((g) => g === query.get("group_by")) ?? "model"
  const [series, setSeries] = useState<DashboardUsage | undefined>(undefined)
  const [table, setTable] = useState<DashboardUsage | undefined>(undefined)
  const [error, setError] = useState<string | undefined>(undefined)

  useEffect(() => {
    const seconds = rangeSeconds(range) ?? 86_400
    const end = Math.floor(Date.now() / 1000) + 1
    const start = end - seconds
    const interval = seconds > 7 * 86_400 ? "day" as const : "hour" as const
    // Two queries a view: buckets for the charts, and one bucket per group (exact percentiles) for the table.
    Promise.all([
      call(session, (client) => client.dashboard.usage({ urlParams: { start, end, group_by: groupBy, interval } })),
      call(session, (client) => client.dashboard.usage({ urlParams: { start, end, group_by: groupBy } }))
    ]).then(([bucketed, totals]) => {
      setSeries(bucketed)
      setTable(totals)
      setError(undefined)
    }, (e: Error) => setError(e.message))
  }, [range, groupBy, session.account])

  const change = (name: string, value: string) => {
    const next = new URLSearchParams(query)
    next.set(name, value)
    navigate(href("usage", next))
  }

  const totals = table?.totals
  const totalOf = (measure: Measure): string =>
    totals === undefined
      ? ""
      : measure === "requests"
      ? formatInt(totals.requests)
      : measure === "total_tokens"
      ? formatInt(totals.total_tokens)
      : measure === "cost_usd"
      ? formatUsd(totals.cost_usd)
      : formatMs(Math.max(0, ...(table?.data.map((row) => row.latency_p95_ms ?? 0) ?? [])))

  return (
    <section aria-labelledby="usage-title">
      <div class="title-row">
        <h1 id="usage-title">Usage</h1>
        <div class="actions">
          <label>
            Range
            <select value={range} onChange={(e) => change("range", e.currentTarget.value)}>
              {RANGES.map(([id, label]) => <option value={id}>{label}</option>)}
            </select>
          </label>
          <label>
            Group by
            <select value={groupBy} onChange={(e) => change("group_by", e.currentTarget.value)}>
              {GROUPS.map((g) => <option value={g}>{g}</option>)}
            </select>
          </label>
        </div>
      </div>
      {error !== undefined && <p role="alert" class="error">{error}</p>}
      <p class="hint">From the usage ledger: every completion, stored or not.</p>
      {series !== undefined && table !== undefined && (
        <>
          <div class="charts">
            {CHARTS.map(([measure, title]) => <Chart usage={series} measure={measure} title={title} total={totalOf(measure)} />)}
          </div>
          <div class="table-wrap">
            <table class="rows" aria-label={`Usage by ${groupBy}`}>
              <thead>
                <tr>
                  <th scope="col">{groupBy}</th>
                  <th scope="col" class="num">Requests</th>
                  <th scope="col" class="num">Errors</th>
                  <th scope="col" class="num">Error rate</th>
                  <th scope="col" class="num">Prompt tokens</th>
                  <th scope="col" class="num">Completion tokens</th>
                  <th scope="col" class="num">Cost</th>
                  <th scope="col" class="num">Latency p50 / p95</th>
                  <th scope="col" class="num">First chunk p50 / p95</th>
                </tr>
              </thead>
              <tbody>
                {table.data.map((row) => (
                  <tr>
                    <th scope="row">{groupName(row.group)}</th>
                    <td class="num">{formatInt(row.requests)}</td>
                    <td class="num">{formatInt(row.errors)}</td>
                    <td class="num">{formatPercent(row.error_rate)}</td>
                    <td class="num">{formatInt(row.prompt_tokens)}</td>
                    <td class="num">{formatInt(row.completion_tokens)}</td>
                    <td class="num">{formatUsd(row.cost_usd)}</td>
                    <td class="num">{formatMs(row.latency_p50_ms)} / {formatMs(row.latency_p95_ms)}</td>
                    <td class="num">{formatMs(row.first_chunk_p50_ms)} / {formatMs(row.first_chunk_p95_ms)}</td>
                  </tr>
                ))}
              </tbody>
              <tfoot>
                <tr>
                  <th scope="row">Total</th>
                  <td class="num" data-total="requests">{formatInt(table.totals.requests)}</td>
                  <td class="num" data-total="errors">{formatInt(table.totals.errors)}</td>
                  <td class="num">{formatPercent(table.totals.error_rate)}</td>
                  <td class="num" data-total="prompt_tokens">{formatInt(table.totals.prompt_tokens)}</td>
                  <td class="num" data-total="completion_tokens">{formatInt(table.totals.completion_tokens)}</td>
                  <td class="num" data-total="cost_usd">{formatUsd(table.totals.cost_usd)}</td>
                  <td class="num" />
                  <td class="num" />
                </tr>
              </tfoot>
            </table>
          </div>
        </>
      )}
    </section>
  )
}

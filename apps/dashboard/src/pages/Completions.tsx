import type { DashboardCompletionPage, DashboardFilterParams, WhoAmI } from "@switchyard/core"
import { useEffect, useRef, useState } from "preact/hooks"
import { call, type Session } from "../api.js"
import { formatInt, formatMs, formatTime, formatUsd, RANGES, rangeSeconds } from "../format.js"
import { href, navigate } from "../route.js"

const FILTERS = ["model", "status", "account", "range", "q", "metadata", "after"] as const
const TAIL_MS = 3_000

/** The API's filters from the page's query (a range becomes a start time, computed now). */
export const filtersOf = (query: URLSearchParams): DashboardFilterParams => {
  const range = rangeSeconds(query.get("range"))
  const metadata = query.getAll("metadata").filter((pair) => pair.includes("="))
  const text = (name: string) => {
    const value = query.get(name)
    return value === null || value === "" ? undefined : value
  }
  const status = text("status")
  return {
    ...(text("model") !== undefined ? { model: text("model")! } : {}),
    ...(status === "completed" || status === "incomplete" || status === "failed" ? { status } : {}),
    ...(text("account") !== undefined ? { account: text("account")! } : {}),
    ...(text("q") !== undefined ? { q: text("q")! } : {}),
    ...(range !== undefined ? { start: Math.floor(Date.now() / 1000) - range } : {}),
    ...(metadata.length > 0 ? { metadata } : {})
  }
}

const download = (name: string, text: string, type: string) => {
  const url = URL.createObjectURL(new Blob([text], { type }))
  const a = document.createElement("a")
  a.href = url
  a.download = name
  document.body.append(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(url), 1000)
}

export const Completions = (props: { readonly session: Session; readonly me: WhoAmI; readonly query: URLSearchParams }) => {
  const { session, query } = props
  const [page, setPage] = useState<DashboardCompletionPage | undefined>(undefined)
  const [error, setError] = useState<string | undefined>(undefined)
  const [tail, setTail] = useState(false)
  const [history, setHistory] = useState<ReadonlyArray<string>>([])
  const [pair, setPair] = useState("")
  const form = useRef<HTMLFormElement>(null)
  const after = query.get("after") ?? undefined
  const queryKey = query.toString()

  // Only the latest answer counts: a slow answer to an older query never replaces a newer one.
  const latest = useRef(0)
  const load = () => {
    const mine = ++latest.current
    return call(session, (client) =>
      client.dashboard.list({ urlParams: { ...filtersOf(query), ...(after !== undefined ? { after } : {}), limit: 50 } })).then(
        (next) => {
          if (mine !== latest.current) return
          setPage(next)
          setError(undefined)
        },
        (e: Error) => mine === latest.current && setError(e.message)
      )
  }

  useEffect(() => {
    void load()
  }, [queryKey, session.account])

  // Live tail: one list query every few seconds on the first page, never a request per row.
  useEffect(() => {
    if (!tail || after !== undefined) return
    const timer = setInterval(() => void load(), TAIL_MS)
    return () => clearInterval(timer)
  }, [tail, queryKey, session.account])

  const setQuery = (change: (next: URLSearchParams) => void) => {
    const next = new URLSearchParams(query)
    next.delete("after")
    change(next)
    setHistory([])
    navigate(href("completions", next))
  }

  const apply = (event: Event) => {
    event.preventDefault()
    const data = new FormData(form.current!)
    setQuery((next) => {
      for (const name of ["model", "status", "account", "range", "q"]) next.set(name, String(data.get(name) ?? "").trim())
    })
  }

  const addPair = (event: Event) => {
    event.preventDefault()
    const text = pair.trim()
    if (!/^[^=]+=/.test(text)) {
      setError("A metadata filter is key=value.")
      return
    }
    setPair("")
    setQuery((next) => {
      if (!next.getAll("metadata").includes(text)) next.append("metadata", text)
    })
  }

  const removePair = (text: string) =>
    setQuery((next) => {
      const rest = next.getAll("metadata").filter((p) => p !== text)
      next.delete("metadata")
      for (const p of rest) next.append("metadata", p)
    })

  const older = () => {
    if (page?.next_cursor == null) return
    setHistory([...history, after ?? ""])
    const next = new URLSearchParams(query)
    next.set("after", page.next_cursor)
    navigate(href("completions", next))
  }
  const newer = () => {
    const next = new URLSearchParams(query)
    const previous = history[history.length - 1] ?? ""
    setHistory(history.slice(0, -1))
    if (previous === "") next.delete("after")
    else next.set("after", previous)
    navigate(href("completions", next))
  }

  const exportAs = (format: "jsonl" | "csv") =>
    call(session, (client) => client.dashboard.export({ urlParams: { ...filtersOf(query), format } })).then(
      (text) => download(`completions.${format}`, text, format === "csv" ? "text/csv" : "application/x-ndjson"),
      (e: Error) => setError(e.message)
    )

  const pairs = query.getAll("metadata")
  const hasFilters = FILTERS.some((name) => query.has(name))

  return (
    <section aria-labelledby="completions-title">
      <div class="title-row">
        <h1 id="completions-title">Completions</h1>
        <div class="actions">
          <label class="toggle">
            <input type="checkbox" checked={tail} onChange={(e) => setTail(e.currentTarget.checked)} /> Live tail
          </label>
          <button type="button" onClick={() => void exportAs("jsonl")}>Export JSONL</button>
          <button type="button" onClick={() => void exportAs("csv")}>Export CSV</button>
        </div>
      </div>
      <form class="filters" ref={form} onSubmit={apply} aria-label="Filters" key={queryKey}>
        <label>Model<input name="model" defaultValue={query.get("model") ?? ""} placeholder="openai/gpt-4o" /></label>
        <label>
          Status
          <select name="status" defaultValue={query.get("status") ?? ""}>
            <option value="">Any</option>
            <option value="completed">completed</option>
            <option value="incomplete">incomplete</option>
            <option value="failed">failed</option>
          </select>
        </label>
        <label>
          Account
          <input name="account" list="accounts" defaultValue={query.get("account") ?? ""} placeholder="any" />
        </label>
        <datalist id="accounts">{props.me.account_ids.map((a) => <option value={a} />)}</datalist>
        <label>
          Time
          <select name="range" defaultValue={query.get("range") ?? ""}>
            <option value="">Any time</option>
            {RANGES.map(([id, label]) => <option value={id}>{label}</option>)}
          </select>
        </label>
        <label class="grow">Search<input name="q" type="search" defaultValue={query.get("q") ?? ""} placeholder="text in messages or answers" /></label>
        <button type="submit">Apply</button>
      </form>
      <form class="pairs" onSubmit={addPair} aria-label="Metadata filters">
        <label>
          Metadata
          <input value={pair} onInput={(e) => setPair(e.currentTarget.value)} placeholder="key=value" aria-label="Metadata key=value" />
        </label>
        <button type="submit">Add filter</button>
        <ul class="chips" aria-label="Active metadata filters">
          {pairs.map((p) => (
            <li class="chip">
              {p}
              <button type="button" class="chip-x" aria-label={`Remove filter ${p}`} onClick={() => removePair(p)}>×</button>
            </li>
          ))}
        </ul>
        {hasFilters && <a href={href("completions")} class="clear">Clear all</a>}
      </form>
      {error !== undefined && <p role="alert" class="error">{error}</p>}
      <div class="table-wrap">
        <table class="rows" aria-label="Stored completions" aria-busy={page === undefined}>
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Model</th>
              <th scope="col">Target</th>
              <th scope="col">Account</th>
              <th scope="col">Status</th>
              <th scope="col" class="num">Tokens (in/out)</th>
              <th scope="col" class="num">Latency</th>
              <th scope="col" class="num">First chunk</th>
              <th scope="col" class="num">Cost</th>
              <th scope="col">Metadata</th>
            </tr>
          </thead>
          <tbody>
            {page?.data.map((row) => (
              <tr data-id={row.id}>
                <td><a href={href(`completions/${encodeURIComponent(row.id)}`)}>{formatTime(row.created_at_ms)}</a></td>
                <td>{row.model}</td>
                <td>{row.target ?? "–"}</td>
                <td>{row.account_id}</td>
                <td><span class={`status status-${row.status}`}>{row.status}</span></td>
                <td class="num">{formatInt(row.prompt_tokens)} / {formatInt(row.completion_tokens)}</td>
                <td class="num">{formatMs(row.latency_ms)}</td>
                <td class="num">{formatMs(row.first_chunk_ms)}</td>
                <td class="num">{formatUsd(row.cost_usd)}</td>
                <td>
                  <ul class="chips">
                    {Object.entries(row.metadata).map(([k, v]) => <li class="chip small">{k}={v}</li>)}
                  </ul>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {page !== undefined && page.data.length === 0 && <p class="empty">No stored completions match.</p>}
      <nav class="pager" aria-label="Pages of completions">
        <button type="button" onClick={newer} disabled={after === undefined}>← Newer</button>
        <button type="button" onClick={older} disabled={page?.next_cursor == null}>Older →</button>
      </nav>
    </section>
  )
}

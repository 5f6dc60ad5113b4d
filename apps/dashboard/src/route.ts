/** The app's place: a page and its query, in the URL's hash (`#/completions?model=x`), so views can be shared. */
export interface Route {
  readonly page: "completions" | "detail" | "usage" | "keys"
  readonly id?: string
  readonly query: URLSearchParams
}

export const parseRoute = (hash: string): Route => {
  const text = hash.replace(/^#/, "")
  const at = text.indexOf("?")
  const path = at === -1 ? text : text.slice(0, at)
  const query = new URLSearchParams(at === -1 ? "" : text.slice(at + 1))
  const parts = path.split("/").filter((part) => part !== "")
  if (parts[0] === "completions" && parts[1] !== undefined) return { page: "detail", id: decodeURIComponent(parts[1]), query }
  if (parts[0] === "usage") return { page: "usage", query }
  if (parts[0] === "keys") return { page: "keys", query }
  return { page: "completions", query }
}

/** The hash of a page with a query (empty values left out). */
export const href = (path: string, query?: URLSearchParams): string => {
  const params = new URLSearchParams()
  if (query !== undefined) for (const [name, value] of query) if (value !== "") params.append(name, value)
  const text = params.toString()
  return `#/${path}${text === "" ? "" : `?${text}`}`
}

export const navigate = (hash: string): void => {
  if (location.hash !== hash) location.hash = hash
}

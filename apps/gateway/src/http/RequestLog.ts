import { Context, Effect, Layer } from "effect"

/** One line of the access log. Never holds a key. */
export interface RequestLogEntry {
  readonly requestId: string
  readonly method: string
  readonly path: string
  readonly status: number
  readonly latencyMs: number
  readonly keyId?: string | undefined
  readonly account?: string | undefined
  readonly model?: string | undefined
  /** The target that answered (`vendor/model`), for completions. */
  readonly target?: string | undefined
  readonly stream?: boolean | undefined
  readonly promptTokens?: number | undefined
  readonly completionTokens?: number | undefined
  readonly error?: string | undefined
}

/** Formats an entry as one human-readable line. */
export const formatText = (entry: RequestLogEntry, now: Date): string => {
  let line = `${now.toISOString()} ${entry.requestId} ${entry.method} ${entry.path} ${entry.status} ${
    entry.latencyMs.toFixed(1)
  }ms`
  if (entry.keyId !== undefined) line += ` key=${entry.keyId}`
  if (entry.account !== undefined) line += ` account=${entry.account}`
  if (entry.model !== undefined) line += ` model=${entry.model}`
  if (entry.target !== undefined && entry.target !== entry.model) line += ` target=${entry.target}`
  if (entry.stream === true) line += " stream"
  if (entry.promptTokens !== undefined || entry.completionTokens !== undefined) {
    line += ` tokens=${entry.promptTokens ?? "?"}+${entry.completionTokens ?? "?"}`
  }
  if (entry.error !== undefined) line += ` error=${JSON.stringify(entry.error)}`
  return line
}

/** Formats an entry as one JSON line. */
export const formatJson = (entry: RequestLogEntry, now: Date): string =>
  JSON.stringify({
    time: now.toISOString(),
    level: entry.status >= 500 ? "error" : entry.status >= 400 ? "warn" : "info",
    request_id: entry.requestId,
    method: entry.method,
    path: entry.path,
    status: entry.status,
    latency_ms: Math.round(entry.latencyMs * 100) / 100,
    key_id: entry.keyId,
    account: entry.account,
    model: entry.model,
    target: entry.target,
    stream: entry.stream,
    prompt_tokens: entry.promptTokens,
    completion_tokens: entry.completionTokens,
    error: entry.error
  })

/**
 * The access log: one line per request, written in batches (a write per
 * request would cost a system call on the hot path).
 */
export class RequestLog extends Context.Tag("@switchyard/gateway/RequestLog")<RequestLog, {
  readonly write: (entry: RequestLogEntry) => void
  readonly flush: () => void
}>() {
  /** A log in the given format to a sink (stdout by default), flushed every 50 ms and at the end. */
  static readonly layer = (
    format: "text" | "json",
    sink: (text: string) => void = (text) => process.stdout.write(text)
  ): Layer.Layer<RequestLog> =>
    Layer.scoped(
      RequestLog,
      Effect.acquireRelease(
        Effect.sync(() => {
          const render = format === "json" ? formatJson : formatText
          let buffer = ""
          let timer: NodeJS.Timeout | undefined
          const flush = () => {
            if (timer !== undefined) clearTimeout(timer)
            timer = undefined
            if (buffer.length === 0) return
            const text = buffer
            buffer = ""
            sink(text)
          }
          const write = (entry: RequestLogEntry) => {
            buffer += render(entry, new Date()) + "\n"
            if (buffer.length > 64 * 1024) flush()
            else if (timer === undefined) timer = setTimeout(flush, 50).unref()
          }
          return { write, flush }
        }),
        (log) => Effect.sync(log.flush)
      )
    )
}

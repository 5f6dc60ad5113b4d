import type { DashboardCompletionDetail } from "@switchyard/core"
import type { ComponentChildren } from "preact"
import { useEffect, useState } from "preact/hooks"
import { call, type Session } from "../api.js"
import { formatInt, formatMs, formatTime, formatUsd } from "../format.js"
import { href, navigate } from "../route.js"

type Json = Record<string, unknown>

const isObject = (value: unknown): value is Json => typeof value === "object" && value !== null && !Array.isArray(value)

/** A message's content: text, or parts (text, images as thumbnails, audio and files named). */
const Content = ({ content }: { readonly content: unknown }) => {
  if (content === null || content === undefined) return null
  if (typeof content === "string") return <p class="text">{content}</p>
  if (!Array.isArray(content)) return <pre>{JSON.stringify(content, null, 2)}</pre>
  return (
    <>
      {content.map((part: unknown) => {
        if (!isObject(part)) return null
        if (part.type === "text" && typeof part.text === "string") return <p class="text">{part.text}</p>
        if (part.type === "image_url" && isObject(part.image_url) && typeof part.image_url.url === "string") {
          const url = part.image_url.url
          return (
            <a href={url} target="_blank" rel="noopener noreferrer" class="thumb-link">
              <img class="thumb" src={url} alt="Image in the message" loading="lazy" />
            </a>
          )
        }
        if (part.type === "refusal" && typeof part.refusal === "string") return <p class="text refusal">{part.refusal}</p>
        return <p class="part">[{String(part.type ?? "part")}]</p>
      })}
    </>
  )
}

const prettyArguments = (text: unknown): string => {
  if (typeof text !== "string") return JSON.stringify(text, null, 2)
  try {
    return JSON.stringify(JSON.parse(text), null, 2)
  } catch {
    return text
  }
}

const ToolCalls = ({ calls }: { readonly calls: unknown }) => {
  if (!Array.isArray(calls) || calls.length === 0) return null
  return (
    <ul class="tool-calls" aria-label="Tool calls">
      {calls.map((c: unknown) => {
        const fn = isObject(c) && isObject(c.function) ? c.function : {}
        return (
          <li class="tool-call">
            <span class="tool-name">{String(fn.name ?? "tool")}</span>
            <span class="tool-id">{isObject(c) ? String(c.id ?? "") : ""}</span>
            <pre>{prettyArguments(fn.arguments)}</pre>
          </li>
        )
      })}
    </ul>
  )
}

const Message = ({ message, label }: { readonly message: unknown; readonly label?: string }) => {
  if (!isObject(message)) return null
  const role = String(message.role ?? "message")
  return (
    <article class={`message role-${role}`}>
      <header>
        <span class="role">{label ?? role}</span>
        {typeof message.name === "string" && <span class="name">{message.name}</span>}
        {typeof message.tool_call_id === "string" && <span class="tool-id">result of {message.tool_call_id}</span>}
      </header>
      <Content content={message.content} />
      {typeof message.refusal === "string" && <p class="text refusal">{message.refusal}</p>}
      <ToolCalls calls={message.tool_calls} />
    </article>
  )
}

const Fact = ({ name, children }: { readonly name: string; readonly children: ComponentChildren }) => (
  <div class="fact">
    <dt>{name}</dt>
    <dd>{children}</dd>
  </div>
)

const MetadataEditor = (props: {
  readonly metadata: Readonly<Record<string, string>>
  readonly onSave: (metadata: Record<string, string>) => Promise<void>
}) => {
  const [pairs, setPairs] = useState<ReadonlyArray<readonly [string, string]>>(() => Object.entries(props.metadata))
  const [state, setState] = useState<string | undefined>(undefined)
  const set = (index: number, at: 0 | 1, value: string) =>
    setPairs(pairs.map((pair, i) => (i === index ? (at === 0 ? [value, pair[1]] : [pair[0], value]) : pair)))
  const save = (event: Event) => {
    event.preventDefault()
    const metadata: Record<string, string> = {}
    for (const [key, value] of pairs) if (key.trim() !== "") metadata[key.trim()] = value
    setState("Saving…")
    props.onSave(metadata).then(() => setState("Saved"), (e: Error) => setState(e.message))
  }
  return (
    <form class="metadata-editor" onSubmit={save} aria-label="Metadata">
      {pairs.map(([key, value], index) => (
        <div class="pair">
          <input aria-label={`Metadata key ${index + 1}`} value={key} onInput={(e) => set(index, 0, e.currentTarget.value)} />
          <input aria-label={`Metadata value ${index + 1}`} value={value} onInput={(e) => set(index, 1, e.currentTarget.value)} />
          <button type="button" aria-label={`Remove ${key}`} onClick={() => setPairs(pairs.filter((_, i) => i !== index))}>×</button>
        </div>
      ))}
      <div class="actions">
        <button type="button" onClick={() => setPairs([...pairs, ["", ""]])}>Add pair</button>
        <button type="submit">Save metadata</button>
        {state !== undefined && <span role="status">{state}</span>}
      </div>
    </form>
  )
}

export const Detail = (props: { readonly session: Session; readonly id: string }) => {
  const { session, id } = props
  const [detail, setDetail] = useState<DashboardCompletionDetail | undefined>(undefined)
  const [error, setError] = useState<string | undefined>(undefined)
  const [confirming, setConfirming] = useState(false)

  useEffect(() => {
    call(session, (client) => client.dashboard.retrieve({ path: { id } })).then(setDetail, (e: Error) => setError(e.message))
  }, [id, session.account])

  if (error !== undefined) {
    return (
      <section>
        <p><a href={href("completions")}>← Completions</a></p>
        <p role="alert" class="error">{error}</p>
      </section>
    )
  }
  if (detail === undefined) return <p role="status">Loading…</p>

  const request = isObject(detail.request) ? detail.request : {}
  const completion = isObject(detail.completion) ? detail.completion : {}
  const messages = Array.isArray(request.messages) ? request.messages : []
  const choices = Array.isArray(completion.choices) ? completion.choices : []
  const tools = Array.isArray(request.tools) ? request.tools : []

  const saveMetadata = (metadata: Record<string, string>) =>
    call(session, (client) => client.dashboard.update({ path: { id }, payload: { metadata } })).then(setDetail)
  const remove = () =>
    call(session, (client) => client.dashboard.delete({ path: { id } })).then(
      () => navigate(href("completions")),
      (e: Error) => setError(e.message)
    )

  return (
    <section aria-labelledby="detail-title" class="detail">
      <p><a href={href("completions")}>← Completions</a></p>
      <div class="title-row">
        <h1 id="detail-title" class="mono">{detail.id}</h1>
        <span class={`status status-${detail.status}`}>{detail.status}</span>
      </div>
      <dl class="facts">
        <Fact name="Time">{formatTime(detail.created_at_ms)}</Fact>
        <Fact name="Model">{detail.model}</Fact>
        <Fact name="Target">{detail.target ?? "–"}</Fact>
        <Fact name="Account">{detail.account_id}</Fact>
        <Fact name="Key">{detail.key_id ?? "–"}</Fact>
        <Fact name="Stream">{detail.stream ? "yes" : "no"}</Fact>
        <Fact name="Tokens in / out">{formatInt(detail.prompt_tokens)} / {formatInt(detail.completion_tokens)}</Fact>
        <Fact name="Latency">{formatMs(detail.latency_ms)}</Fact>
        <Fact name="First chunk">{formatMs(detail.first_chunk_ms)}</Fact>
        <Fact name="Cost">{formatUsd(detail.cost_usd)}</Fact>
        <Fact name="Request id"><span class="mono">{detail.request_id}</span></Fact>
        <Fact name="Attempts">{detail.target === null ? "unknown" : `served by ${detail.target}`}</Fact>
      </dl>

      <h2>Conversation</h2>
      <div class="conversation">
        {messages.map((message: unknown) => <Message message={message} />)}
        {choices.map((choice: unknown) =>
          isObject(choice)
            ? (
              <>
                <Message message={choice.message} label={`answer${choices.length > 1 ? ` ${String(choice.index)}` : ""}`} />
                <p class="finish">finish_reason: {String(choice.finish_reason ?? "–")}</p>
              </>
            )
            : null
        )}
      </div>
      {tools.length > 0 && (
        <details>
          <summary>Tools offered ({tools.length})</summary>
          <pre>{JSON.stringify(tools, null, 2)}</pre>
        </details>
      )}

      <h2>Metadata</h2>
      <MetadataEditor key={detail.id} metadata={detail.metadata} onSave={saveMetadata} />

      <h2>Raw JSON</h2>
      <details>
        <summary>Request</summary>
        <pre class="raw">{JSON.stringify(detail.request, null, 2)}</pre>
      </details>
      <details>
        <summary>Response</summary>
        <pre class="raw">{JSON.stringify(detail.completion, null, 2)}</pre>
      </details>

      <div class="danger">
        {confirming
          ? (
            <>
              <span>Delete this stored completion for good?</span>
              <button type="button" class="destructive" onClick={() => void remove()}>Delete permanently</button>
              <button type="button" onClick={() => setConfirming(false)}>Cancel</button>
            </>
          )
          : <button type="button" class="destructive" onClick={() => setConfirming(true)}>Delete</button>}
      </div>
    </section>
  )
}

import type { WhoAmI } from "@switchyard/core"
import { useState } from "preact/hooks"
import { call, type Session } from "../api.js"

export const SignIn = (props: { readonly onSignIn: (session: Session, me: WhoAmI) => void; readonly error?: string | undefined }) => {
  const [key, setKey] = useState("")
  const [error, setError] = useState(props.error)
  const [busy, setBusy] = useState(false)
  const submit = (event: Event) => {
    event.preventDefault()
    const session = { key: key.trim(), account: "" }
    setBusy(true)
    call(session, (client) => client.dashboard.me()).then(
      (me) => props.onSignIn(session, me),
      (e: Error) => {
        setBusy(false)
        setError(e.message)
      }
    )
  }
  return (
    <main class="signin">
      <h1>Switchyard</h1>
      <form onSubmit={submit}>
        <label for="key">Gateway key</label>
        <input
          id="key"
          type="password"
          autocomplete="off"
          required
          value={key}
          onInput={(e) => setKey(e.currentTarget.value)}
          placeholder="sk-sy-…"
        />
        <p class="hint">
          Kept in this tab only (session storage). A gateway without keys (loopback only) takes any text here.
        </p>
        <button type="submit" disabled={busy}>Sign in</button>
        {error !== undefined && <p role="alert" class="error">{error}</p>}
      </form>
    </main>
  )
}

import type { ApiKeyObject } from "@switchyard/core"
import { useEffect, useState } from "preact/hooks"
import { call, type Session } from "../api.js"
import { formatTime } from "../format.js"

interface Created {
  readonly id: string
  readonly secret: string
}

export const Keys = (props: { readonly session: Session }) => {
  const { session } = props
  const [keys, setKeys] = useState<ReadonlyArray<ApiKeyObject> | undefined>(undefined)
  const [error, setError] = useState<string | undefined>(undefined)
  const [created, setCreated] = useState<Created | undefined>(undefined)
  const [copied, setCopied] = useState(false)
  const [name, setName] = useState("")
  const [accounts, setAccounts] = useState("")
  const [confirming, setConfirming] = useState<string | undefined>(undefined)

  const load = () =>
    call(session, (client) => client.keys.list()).then((list) => setKeys(list.data), (e: Error) => setError(e.message))
  useEffect(() => void load(), [])

  const create = (event: Event) => {
    event.preventDefault()
    const [first, ...rest] = accounts.split(",").map((a) => a.trim()).filter((a) => a !== "")
    if (first === undefined) {
      setError("A key needs at least one account.")
      return
    }
    call(session, (client) =>
      client.keys.create({ payload: { name: name.trim() === "" ? null : name.trim(), account_ids: [first, ...rest] } })).then(
        (key) => {
          setCreated({ id: key.id, secret: key.secret })
          setCopied(false)
          setName("")
          setAccounts("")
          setError(undefined)
          void load()
        },
        (e: Error) => setError(e.message)
      )
  }

  const revoke = (id: string) =>
    call(session, (client) => client.keys.revoke({ path: { id } })).then(() => {
      setConfirming(undefined)
      void load()
    }, (e: Error) => setError(e.message))

  const copy = () => {
    if (created === undefined) return
    const done = () => setCopied(true)
    navigator.clipboard?.writeText(created.secret).then(done, () => {
      // No clipboard permission: select the secret so that it can be copied by hand.
      const field = document.getElementById("secret") as HTMLInputElement | null
      field?.select()
    })
  }

  return (
    <section aria-labelledby="keys-title">
      <h1 id="keys-title">API keys</h1>
      <form class="create-key" onSubmit={create} aria-label="Create a key">
        <label>Name<input value={name} onInput={(e) => setName(e.currentTarget.value)} placeholder="ci-bot" /></label>
        <label class="grow">
          Accounts (comma-separated)
          <input required value={accounts} onInput={(e) => setAccounts(e.currentTarget.value)} placeholder="team-a, team-b" />
        </label>
        <button type="submit">Create key</button>
      </form>
      {created !== undefined && (
        <div class="secret" role="region" aria-label="New key">
          <p>The secret of <span class="mono">{created.id}</span> is shown only once: copy it now.</p>
          <div class="secret-row">
            <input id="secret" class="mono" readOnly value={created.secret} aria-label="Secret" onFocus={(e) => e.currentTarget.select()} />
            <button type="button" onClick={copy}>{copied ? "Copied" : "Copy"}</button>
            <button type="button" onClick={() => setCreated(undefined)}>Done</button>
          </div>
        </div>
      )}
      {error !== undefined && <p role="alert" class="error">{error}</p>}
      <div class="table-wrap">
        <table class="rows" aria-label="API keys">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Id</th>
              <th scope="col">Accounts</th>
              <th scope="col">Key</th>
              <th scope="col">Created</th>
              <th scope="col">Last used</th>
              <th scope="col"><span class="sr-only">Actions</span></th>
            </tr>
          </thead>
          <tbody>
            {keys?.map((key) => (
              <tr data-key={key.id}>
                <td>{key.name ?? "–"}</td>
                <td class="mono">{key.id}</td>
                <td>{key.account_ids.join(", ")}</td>
                <td class="mono">{key.prefix}…{key.last4}</td>
                <td>{formatTime(key.created_at * 1000)}</td>
                <td>{key.last_used_at === null ? "never" : formatTime(key.last_used_at * 1000)}</td>
                <td>
                  {confirming === key.id
                    ? (
                      <>
                        <button type="button" class="destructive" onClick={() => void revoke(key.id)}>Confirm revoke</button>
                        <button type="button" onClick={() => setConfirming(undefined)}>Cancel</button>
                      </>
                    )
                    : <button type="button" onClick={() => setConfirming(key.id)} aria-label={`Revoke ${key.name ?? key.id}`}>Revoke</button>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {keys !== undefined && keys.length === 0 && <p class="empty">No keys in the database (keys from SWITCHYARD_API_KEYS are not listed).</p>}
      <p class="hint">Limits per key are not shown here yet.</p>
    </section>
  )
}

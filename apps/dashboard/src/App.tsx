import type { WhoAmI } from "@switchyard/core"
import { useEffect, useState } from "preact/hooks"
import { call, loadSession, saveSession, type Session } from "./api.js"
import { Completions } from "./pages/Completions.js"
import { Detail } from "./pages/Detail.js"
import { Keys } from "./pages/Keys.js"
import { SignIn } from "./pages/SignIn.js"
import { Usage } from "./pages/Usage.js"
import { href, parseRoute, type Route } from "./route.js"

const useRoute = (): Route => {
  const [route, setRoute] = useState(() => parseRoute(location.hash))
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(location.hash))
    addEventListener("hashchange", onChange)
    return () => removeEventListener("hashchange", onChange)
  }, [])
  return route
}

export const App = () => {
  const [session, setSession] = useState<Session | undefined>(loadSession)
  const [me, setMe] = useState<WhoAmI | undefined>(undefined)
  const [error, setError] = useState<string | undefined>(undefined)
  const route = useRoute()

  useEffect(() => {
    if (session === undefined) return
    let live = true
    call(session, (client) => client.dashboard.me()).then(
      (who) => live && setMe(who),
      (e: Error & { status?: number }) => {
        if (!live) return
        if (e.status === 401) {
          saveSession(undefined)
          setSession(undefined)
        }
        setError(e.message)
      }
    )
    return () => {
      live = false
    }
  }, [session?.key])

  const signIn = (next: Session, who: WhoAmI) => {
    saveSession(next)
    setMe(who)
    setError(undefined)
    setSession(next)
  }

  if (session === undefined) return <SignIn onSignIn={signIn} error={error} />
  if (me === undefined) {
    return <main class="page"><p role="status">{error ?? "Loading…"}</p></main>
  }

  const switchAccount = (account: string) => {
    const next = { ...session, account }
    saveSession(next)
    setSession(next)
  }
  const signOut = () => {
    saveSession(undefined)
    setMe(undefined)
    setSession(undefined)
  }

  const current = route.page === "detail" ? "completions" : route.page
  const pages: ReadonlyArray<readonly [Route["page"], string]> = [
    ["completions", "Completions"],
    ["usage", "Usage"],
    ...(me.admin ? [["keys", "Keys"] as const] : [])
  ]

  return (
    <>
      <header class="top">
        <span class="brand">Switchyard</span>
        <nav aria-label="Pages">
          {pages.map(([page, label]) => (
            <a href={href(page)} aria-current={current === page ? "page" : undefined}>{label}</a>
          ))}
        </nav>
        <div class="who">
          <label>
            <span class="sr-only">Account</span>
            <select value={session.account} onChange={(e) => switchAccount(e.currentTarget.value)} aria-label="Account">
              <option value="">{me.admin ? "All accounts" : "All my accounts"}</option>
              {me.account_ids.map((account) => <option value={account}>{account}</option>)}
            </select>
          </label>
          <span class="badge" title={`Key ${me.key_id}`}>{me.admin ? "admin" : "member"}</span>
          <button type="button" class="link" onClick={signOut}>Sign out</button>
        </div>
      </header>
      <main class="page" key={`${session.account}`}>
        {route.page === "completions" && <Completions session={session} me={me} query={route.query} />}
        {route.page === "detail" && <Detail session={session} id={route.id!} />}
        {route.page === "usage" && <Usage session={session} query={route.query} />}
        {route.page === "keys" && (me.admin ? <Keys session={session} /> : <p>Managing keys needs an admin key.</p>)}
      </main>
    </>
  )
}

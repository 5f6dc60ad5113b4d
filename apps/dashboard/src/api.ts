import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpApiClient from "@effect/platform/HttpApiClient"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { DashboardApi } from "@switchyard/core"
import { Data, Effect } from "effect"

/** The key and the selected account of this tab, kept in its session storage. */
export interface Session {
  readonly key: string
  /** `""`: every account the key may see. */
  readonly account: string
}

const KEY = "switchyard.key"
const ACCOUNT = "switchyard.account"

export const loadSession = (): Session | undefined => {
  const key = sessionStorage.getItem(KEY)
  return key === null || key === "" ? undefined : { key, account: sessionStorage.getItem(ACCOUNT) ?? "" }
}

export const saveSession = (session: Session | undefined): void => {
  if (session === undefined) {
    sessionStorage.removeItem(KEY)
    sessionStorage.removeItem(ACCOUNT)
    return
  }
  sessionStorage.setItem(KEY, session.key)
  sessionStorage.setItem(ACCOUNT, session.account)
}

/** An error answer of the gateway, with its status and message. */
export class ApiFailure extends Data.TaggedError("ApiFailure")<{ readonly status: number; readonly message: string }> {}

const messageOf = (body: unknown, status: number): string => {
  const error = (body as { readonly error?: { readonly message?: unknown } } | null)?.error
  return typeof error?.message === "string" ? error.message : `The gateway answered ${status}.`
}

const clientOf = (session: Session) =>
  Effect.gen(function*() {
    const headers: Record<string, string> = { authorization: `Bearer ${session.key}` }
    if (session.account !== "") headers["x-selected-account-id"] = session.account
    const httpClient = (yield* HttpClient.HttpClient).pipe(
      HttpClient.mapRequest(HttpClientRequest.setHeaders(headers)),
      // Error answers carry OpenAI's envelope: surface its message.
      HttpClient.transformResponse(Effect.flatMap((response) =>
        response.status < 400 ? Effect.succeed(response) : Effect.flatMap(
          Effect.orElseSucceed(response.json, () => null),
          (body) => Effect.fail(new ApiFailure({ status: response.status, message: messageOf(body, response.status) }))
        )
      ))
    )
    return yield* HttpApiClient.makeWith(DashboardApi, { httpClient, baseUrl: location.origin })
  })

/** The typed client of the dashboard's part of the gateway's HttpApi. */
export type Client = Effect.Effect.Success<ReturnType<typeof clientOf>>

/** Runs one call of the client; rejects with an `Error` whose message is fit to show. */
export const call = <A>(session: Session, f: (client: Client) => Effect.Effect<A, unknown>): Promise<A> =>
  Effect.runPromise(
    clientOf(session).pipe(
      Effect.flatMap(f),
      Effect.mapError((error) =>
        Object.assign(new Error(error instanceof ApiFailure ? error.message : describe(error)), {
          status: error instanceof ApiFailure ? error.status : 0
        })
      ),
      Effect.provide(FetchHttpClient.layer)
    )
  )

const describe = (error: unknown): string =>
  typeof error === "object" && error !== null && "message" in error && typeof error.message === "string" && error.message !== ""
    ? error.message
    : "The gateway could not be reached."

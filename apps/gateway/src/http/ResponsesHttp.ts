import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import { CurrentCaller, InvalidRequest, RouteNotFound, supportedIncludes, SwitchyardApi } from "@switchyard/core"
import { makeContext, Responses } from "@switchyard/service"
import { Effect } from "effect"
import { Exchanges } from "./ListenerState.js"

const notHere = ({ request }: { readonly request: { readonly method: string; readonly url: string } }) =>
  Effect.fail(new RouteNotFound({ method: request.method, path: request.url.split("?")[0]! }))

const includeIssue = (include: string | ReadonlyArray<string> | undefined) => {
  const values = include === undefined ? [] : typeof include === "string" ? [include] : include
  const index = values.findIndex((value) => !supportedIncludes.has(value))
  return index === -1 ? Effect.void : Effect.fail(
    new InvalidRequest({
      message: `Unsupported value for 'include': \`${values[index]}\` cannot be included by Switchyard.`,
      param: "include",
      code: "unsupported_value"
    })
  )
}

// `POST /v5|v1/responses` is served by the fast path (ResponsesRoute), like the chat completions.
export const ResponsesHttpLive = HttpApiBuilder.group(SwitchyardApi, "responses", (handlers) =>
  Effect.gen(function*() {
    const responses = yield* Responses
    const exchanges = yield* Exchanges
    const context = Effect.gen(function*() {
      const caller = yield* CurrentCaller
      const request = yield* HttpServerRequest.HttpServerRequest
      const requestId = exchanges.of(request.source)?.requestId
      return makeContext({
        accountId: caller.accountId,
        keyId: caller.principal.keyId,
        ...(requestId !== undefined ? { requestId } : {})
      })
    })
    const retrieve = ({ path, urlParams }: { readonly path: { readonly response_id: string }; readonly urlParams: { readonly include?: string | ReadonlyArray<string> | undefined; readonly stream?: string | undefined } }) =>
      Effect.gen(function*() {
        if (urlParams.stream !== undefined && urlParams.stream !== "false") {
          return yield* new InvalidRequest({
            message: "Unsupported parameter: 'stream': a stored response cannot be streamed again; retrieve it as JSON.",
            param: "stream",
            code: "unsupported_parameter"
          })
        }
        yield* includeIssue(urlParams.include)
        return yield* responses.retrieve(path.response_id, yield* context)
      })
    const remove = ({ path }: { readonly path: { readonly response_id: string } }) =>
      Effect.flatMap(context, (ctx) => responses.delete(path.response_id, ctx))
    const inputItems = (
      { path, urlParams }: {
        readonly path: { readonly response_id: string }
        readonly urlParams: {
          readonly after?: string | undefined
          readonly limit?: number | undefined
          readonly order?: "asc" | "desc" | undefined
          readonly include?: string | ReadonlyArray<string> | undefined
        }
      }
    ) =>
      Effect.gen(function*() {
        yield* includeIssue(urlParams.include)
        const { include: _, ...page } = urlParams
        return yield* responses.inputItems(path.response_id, page, yield* context)
      })
    return handlers
      .handle("createV5", notHere)
      .handle("createV1", notHere)
      .handle("retrieveV5", retrieve)
      .handle("retrieveV1", retrieve)
      .handle("deleteV5", remove)
      .handle("deleteV1", remove)
      .handle("inputItemsV5", inputItems)
      .handle("inputItemsV1", inputItems)
  }))

import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import {
  CurrentCaller,
  includeParamIssue,
  type InputItemsParams,
  type InvalidRequest,
  type ResponseIdPath,
  retrieveParamsIssue,
  type RetrieveResponseParams,
  RouteNotFound,
  SwitchyardApi
} from "@switchyard/core"
import { makeContext, Responses } from "@switchyard/service"
import { Effect } from "effect"
import { Exchanges } from "./ListenerState.js"

const notHere = ({ request }: { readonly request: { readonly method: string; readonly url: string } }) =>
  Effect.fail(new RouteNotFound({ method: request.method, path: request.url.split("?")[0]! }))

const refuse = (issue: InvalidRequest | undefined) => issue === undefined ? Effect.void : Effect.fail(issue)

// `POST /v5|v1/responses` is served by the fast path (ResponsesRoute), like the chat completions.
export const ResponsesHttpLive = HttpApiBuilder.group(SwitchyardApi, "responses", (handlers) =>
  Effect.gen(function*() {
    const responses = yield* Responses
    const exchanges = yield* Exchanges
    const context = Effect.gen(function*() {
      const caller = yield* CurrentCaller
      const requestId = exchanges.of((yield* HttpServerRequest.HttpServerRequest).source)?.requestId
      return makeContext({ accountId: caller.accountId, keyId: caller.principal.keyId, ...(requestId !== undefined ? { requestId } : {}) })
    })
    const retrieve = ({ path, urlParams }: { readonly path: ResponseIdPath; readonly urlParams: RetrieveResponseParams }) =>
      Effect.zipRight(refuse(retrieveParamsIssue(urlParams)), Effect.flatMap(context, (ctx) => responses.retrieve(path.response_id, ctx)))
    const remove = ({ path }: { readonly path: ResponseIdPath }) =>
      Effect.flatMap(context, (ctx) => responses.delete(path.response_id, ctx))
    const inputItems = ({ path, urlParams: { include, ...page } }: { readonly path: ResponseIdPath; readonly urlParams: InputItemsParams }) =>
      Effect.zipRight(refuse(includeParamIssue(include)), Effect.flatMap(context, (ctx) => responses.inputItems(path.response_id, page, ctx)))
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

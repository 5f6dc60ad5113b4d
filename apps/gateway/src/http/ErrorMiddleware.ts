import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import { HttpApiDecodeError } from "@effect/platform/HttpApiError"
import * as HttpServerError from "@effect/platform/HttpServerError"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import {
  apiRoutes,
  GatewayError,
  InternalError,
  jsonInvalid,
  MethodNotAllowed,
  RequestTooLarge,
  RequestValidationError,
  RouteNotFound,
  SwitchyardApi,
  type ValidationError
} from "@switchyard/core"
import { Cause, Effect, Option, Schema } from "effect"
import { Gateway } from "../config/GatewayConfig.js"
import { Exchanges } from "./ListenerState.js"
import { renderError } from "./Respond.js"

const isGatewayError = Schema.is(GatewayError)

/** The methods each route of the API allows, by path template (`:param` segments match one segment). */
const routeTable = () => {
  const byPath = new Map<string, { pattern: RegExp; methods: Array<string> }>()
  for (const { method, path } of apiRoutes(SwitchyardApi)) {
    const entry = byPath.get(path) ?? {
      pattern: new RegExp(`^${path.split("/").map((part) => part.startsWith(":") ? "[^/]+" : part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("/")}$`),
      methods: []
    }
    entry.methods.push(method)
    byPath.set(path, entry)
  }
  const entries = [...byPath.values()]
  return (path: string): ReadonlyArray<string> => entries.filter((entry) => entry.pattern.test(path)).flatMap((entry) => entry.methods)
}

const pathOf = (url: string) => {
  const query = url.indexOf("?")
  return query === -1 ? url : url.slice(0, query)
}

/**
 * HttpApi's decode failures (path, query, headers, body) as the 422 body. It
 * does not say which part failed: `loc` starts at `body` for requests with one,
 * `query` otherwise.
 */
const fromDecodeError = (error: HttpApiDecodeError, root: string): RequestValidationError =>
  new RequestValidationError({
    detail: error.issues.map((issue): ValidationError => ({
      loc: [root, ...issue.path.map((key) => typeof key === "symbol" ? String(key) : key as string | number)],
      msg: issue.message,
      type: issue._tag === "Missing" ? "missing" : issue._tag === "Unexpected" ? "extra_forbidden" : "value_error"
    }))
  })

/**
 * The one API-level error middleware: every failure of the HttpApi side
 * becomes OpenAI's envelope (or the 422 body), as the fast path answers. Typed
 * gateway errors keep their status; HttpApi's decode errors and malformed JSON
 * are 422s; a body over the limit is a 413; an unknown route a 404, a known one
 * with another method a 405 with `allow`; anything else a 500 without details
 * (logged). Never a stack trace or an HTML page.
 */
export const ErrorMiddlewareLive = HttpApiBuilder.middleware(
  SwitchyardApi,
  Effect.gen(function*() {
    const allowed = routeTable()
    const exchanges = yield* Exchanges
    const limit = (yield* Gateway).bodyLimitBytes
    const toGatewayError = (cause: Cause.Cause<unknown>, request: HttpServerRequest.HttpServerRequest) =>
      Effect.gen(function*() {
        const failure = Cause.failureOption(cause)
        if (Option.isSome(failure)) {
          const error = failure.value
          if (isGatewayError(error)) return error
          if (error instanceof HttpApiDecodeError) {
            return fromDecodeError(error, request.method === "GET" || request.method === "HEAD" ? "query" : "body")
          }
          if (error instanceof HttpServerError.RouteNotFound) {
            const path = pathOf(request.url)
            const methods = allowed(path)
            return methods.length > 0
              ? new MethodNotAllowed({ method: request.method, path, allowed: methods })
              : new RouteNotFound({ method: request.method, path })
          }
        }
        const defect = Cause.dieOption(cause)
        if (Option.isSome(defect) && defect.value instanceof HttpServerError.RequestError && defect.value.reason === "Decode") {
          const reason = defect.value.cause
          if (reason instanceof Error && reason.message === "maxBytes exceeded") return new RequestTooLarge({ limitBytes: limit })
          if (reason instanceof SyntaxError) {
            const text = yield* Effect.orElseSucceed(request.text, () => "")
            return new RequestValidationError(jsonInvalid(reason, text))
          }
        }
        yield* Effect.logError("Unexpected failure", cause)
        return new InternalError({ message: "Internal error: the request could not be completed." })
      })
    return (app) =>
      Effect.catchAllCause(app, (cause) =>
        Cause.isInterruptedOnly(cause)
          ? Effect.failCause(cause)
          : Effect.gen(function*() {
            const request = yield* HttpServerRequest.HttpServerRequest
            const error = yield* toGatewayError(cause, request)
            const exchange = exchanges.of(request.source)
            if (exchange !== undefined) exchange.error ??= error.message
            const { headers, status, text } = renderError(error)
            return HttpServerResponse.text(text, { status, headers, contentType: "application/json" })
          }))
  }),
  { withContext: true }
)

import * as HttpApi from "@effect/platform/HttpApi"
import * as OpenApi from "@effect/platform/OpenApi"
import { ChatGroup } from "./ChatGroup.js"
import { DashboardGroup, DashboardPageGroup } from "./DashboardGroup.js"
import { DocsGroup } from "./DocsGroup.js"
import { HealthGroup } from "./HealthGroup.js"
import { KeysGroup } from "./KeysGroup.js"
import { MetricsGroup } from "./MetricsGroup.js"
import { ModelsGroup } from "./ModelsGroup.js"
import { ResponsesGroup } from "./ResponsesGroup.js"
import { StoredCompletionsGroup } from "./StoredCompletionsGroup.js"
import { UsageGroup } from "./UsageGroup.js"

type Json = Record<string, unknown>

/** What each error status means, for the document's response descriptions. */
const STATUS_DESCRIPTIONS: Readonly<Record<string, string>> = {
  "400": "Invalid request, unsupported parameter, or rejected by the vendor",
  "401": "Missing or invalid API key",
  "403": "The key may not act for the selected account, or is not an admin key",
  "404": "Unknown model vendor, or no such stored completion, response, item or key for this account",
  "413": "Request body too large",
  "415": "Body is not JSON",
  "422": "Validation Error",
  "429": "Rate limited upstream (retry-after passed on)",
  "502": "Upstream failed or answered badly",
  "503": "Upstream unavailable or overloaded, or the database unavailable",
  "504": "Upstream timed out",
  "500": "Internal error (details are in the gateway's logs)"
}

const DECODE_ERROR = "#/components/schemas/HttpApiDecodeError"

/** Effect writes `Schema.Unknown` as `{"$id": "/schemas/unknown"}`; plain JSON Schema says "anything" with `{}`. */
const dropEffectIds = (node: unknown): void => {
  if (typeof node !== "object" || node === null) return
  if (!Array.isArray(node) && (node as Json).$id === "/schemas/unknown") delete (node as Json).$id
  for (const value of Object.values(node)) dropEffectIds(value)
}

/**
 * Says in the document what is actually sent. HttpApi documents its own
 * `HttpApiDecodeError` (400) on every endpoint; the gateway's error middleware
 * answers decode failures with the 422 body or OpenAI's envelope instead, so
 * those entries go (a 400 that also carries the envelope keeps the envelope).
 * Error responses get a description of their status.
 */
const describeErrors = (spec: Record<string, any>): Record<string, any> => {
  dropEffectIds(spec)
  const schemas = (spec as OpenApi.OpenAPISpec).components.schemas as Json
  for (const name of ["HttpApiDecodeError", "Issue", "PropertyKey"]) delete schemas[name]
  for (const item of Object.values((spec as OpenApi.OpenAPISpec).paths as Record<string, Record<string, Json>>)) {
    for (const operation of Object.values(item)) {
      const responses = operation.responses as Record<string, { description: string; content?: Record<string, { schema: Json }> }>
      for (const [status, response] of Object.entries(responses)) {
        const content = response.content?.["application/json"]
        if (content?.schema.$ref === DECODE_ERROR) {
          delete responses[status]
          continue
        }
        const members = content?.schema.anyOf as Array<Json> | undefined
        if (content !== undefined && members?.some((member) => member.$ref === DECODE_ERROR)) {
          const rest = members.filter((member) => member.$ref !== DECODE_ERROR)
          content.schema = rest.length === 1 ? rest[0]! : { anyOf: rest }
        }
        if (STATUS_DESCRIPTIONS[status] !== undefined) response.description = STATUS_DESCRIPTIONS[status]
      }
    }
  }
  return spec
}

/**
 * Switchyard's HTTP contract: every endpoint, in groups by concern. The gateway
 * serves it (the chat completions on a fast path of their own), and
 * `/openapi.json` and `/docs` are generated from it.
 */
export class SwitchyardApi extends HttpApi.make("switchyard")
  .add(ChatGroup)
  .add(ResponsesGroup)
  .add(ModelsGroup)
  .add(StoredCompletionsGroup)
  .add(UsageGroup)
  .add(KeysGroup)
  .add(DashboardGroup)
  .add(DashboardPageGroup)
  .add(HealthGroup)
  .add(DocsGroup)
  .add(MetricsGroup)
  .annotateContext(OpenApi.annotations({
    title: "Switchyard: EGP/SGP v5 Chat Completions",
    version: "0.1.0",
    description: "An OpenAI-compatible chat completions gateway, with the Responses API over every vendor. Authenticate with `x-api-key` or `Authorization: Bearer`.",
    transform: describeErrors
  }))
{}

let document: OpenApi.OpenAPISpec | undefined

/**
 * The OpenAPI document of {@link SwitchyardApi}; objects allow additional
 * properties, as in the spec. Computed once (and `OpenApi.fromApi` caches it
 * for the API, so the docs page shows the same document).
 */
export const openApiDocument = (): OpenApi.OpenAPISpec =>
  document ??= OpenApi.fromApi(SwitchyardApi, { additionalPropertiesStrategy: "allow" })

/** One route of the API: an HTTP method and a path template (`/v1/things/:id`). */
export interface ApiRoute {
  readonly method: string
  readonly path: string
  /** The group that declares it. */
  readonly group: string
  /** The endpoint's name in its group. */
  readonly name: string
}

/** Every route an API declares, in order. */
export const apiRoutes = (api: HttpApi.HttpApi.Any): ReadonlyArray<ApiRoute> => {
  const routes: Array<ApiRoute> = []
  HttpApi.reflect(api as HttpApi.HttpApi.AnyWithProps, {
    onGroup: () => undefined,
    onEndpoint: ({ endpoint, group }) =>
      routes.push({ method: endpoint.method, path: endpoint.path, group: group.identifier, name: endpoint.name })
  })
  return routes
}

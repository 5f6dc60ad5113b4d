import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import * as OpenApi from "@effect/platform/OpenApi"
import { Schema } from "effect"
import { InternalError } from "../GatewayError.js"
import { errorEnvelopeAt } from "./Errors.js"

/** `GET /openapi.json` (this document) and `GET /docs` (its API reference page); open. */
export class DocsGroup extends HttpApiGroup.make("docs")
  .add(
    HttpApiEndpoint.get("openapi", "/openapi.json")
      .addSuccess(Schema.Record({ key: Schema.String, value: Schema.Unknown }).annotations({ description: "This OpenAPI document" }))
  )
  .add(
    HttpApiEndpoint.get("docs", "/docs")
      .addSuccess(HttpApiSchema.Text({ contentType: "text/html" }).annotations({ description: "The API reference (Scalar)" }))
      .addError(errorEnvelopeAt(InternalError, 500))
  )
  .annotate(OpenApi.Title, "Documentation")
{}

import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as OpenApi from "@effect/platform/OpenApi"
import { Schema } from "effect"
import { Authentication } from "./Authentication.js"

/** A model the gateway can route to, in OpenAI's list format. */
export const Model = Schema.Struct({
  id: Schema.String,
  object: Schema.Literal("model"),
  created: Schema.Int,
  owned_by: Schema.String
}).annotations({ identifier: "Model" })
export interface Model extends Schema.Schema.Type<typeof Model> {}

/** `GET /v1/models`. */
export const ModelList = Schema.Struct({
  object: Schema.Literal("list"),
  data: Schema.Array(Model)
}).annotations({ identifier: "ModelList" })
export interface ModelList extends Schema.Schema.Type<typeof ModelList> {}

/** `GET /v5/models` and `GET /v1/models`: the configured vendors' known models and aliases. */
export class ModelsGroup extends HttpApiGroup.make("models")
  .add(HttpApiEndpoint.get("listV5", "/v5/models").addSuccess(ModelList))
  .add(HttpApiEndpoint.get("listV1", "/v1/models").addSuccess(ModelList))
  .middleware(Authentication)
  .annotate(OpenApi.Title, "Models")
{}

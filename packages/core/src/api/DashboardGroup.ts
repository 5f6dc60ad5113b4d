import * as HttpApi from "@effect/platform/HttpApi"
import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import * as OpenApi from "@effect/platform/OpenApi"
import { Schema } from "effect"
import {
  DashboardCompletionDeleted,
  DashboardCompletionDetail,
  DashboardCompletionPage,
  DashboardExportParams,
  DashboardListParams,
  DashboardMetadataUpdate,
  DashboardUsage,
  DashboardUsageParams,
  WhoAmI
} from "../Dashboard.js"
import { AccountForbidden, InvalidRequest, ResourceNotFound, StoreUnavailable } from "../GatewayError.js"
import { Authentication } from "./Authentication.js"
import { errorEnvelopeAt, ValidationFailure } from "./Errors.js"
import { KeysGroup } from "./KeysGroup.js"

const CompletionPath = Schema.Struct({ id: Schema.String })

/**
 * What the dashboard reads and changes: who the key is, stored completions
 * across the key's accounts (all accounts for an admin key) with filters,
 * export and metadata edits, and usage with latency percentiles. Another
 * account's completion answers like a missing one (404).
 */
export class DashboardGroup extends HttpApiGroup.make("dashboard")
  .add(
    HttpApiEndpoint.get("me", "/v5/me")
      .addSuccess(WhoAmI)
      .annotate(OpenApi.Summary, "The presented key: its accounts, and whether it is an admin key")
  )
  .add(
    HttpApiEndpoint.get("list", "/v5/dashboard/completions")
      .setUrlParams(DashboardListParams)
      .addSuccess(DashboardCompletionPage)
      .addError(ValidationFailure)
      .addError(errorEnvelopeAt(InvalidRequest, 400))
      .addError(errorEnvelopeAt(AccountForbidden, 403))
      .addError(errorEnvelopeAt(StoreUnavailable, 503))
      .annotate(OpenApi.Summary, "Search stored completions (newest first, without messages)")
  )
  .add(
    HttpApiEndpoint.get("export", "/v5/dashboard/export")
      .setUrlParams(DashboardExportParams)
      .addSuccess(HttpApiSchema.Text({ contentType: "application/x-ndjson" }).annotations({
        description: "JSON Lines (one completion with its request per line) or CSV (one row per completion)"
      }))
      .addError(ValidationFailure)
      .addError(errorEnvelopeAt(InvalidRequest, 400))
      .addError(errorEnvelopeAt(AccountForbidden, 403))
      .addError(errorEnvelopeAt(StoreUnavailable, 503))
      .annotate(OpenApi.Summary, "Export the filtered stored completions as JSONL or CSV")
  )
  .add(
    HttpApiEndpoint.get("retrieve", "/v5/dashboard/completions/:id")
      .setPath(CompletionPath)
      .addSuccess(DashboardCompletionDetail)
      .addError(errorEnvelopeAt(ResourceNotFound, 404))
      .addError(errorEnvelopeAt(StoreUnavailable, 503))
      .annotate(OpenApi.Summary, "A stored completion with its request and answer")
  )
  .add(
    HttpApiEndpoint.patch("update", "/v5/dashboard/completions/:id")
      .setPath(CompletionPath)
      .setPayload(DashboardMetadataUpdate)
      .addSuccess(DashboardCompletionDetail)
      .addError(ValidationFailure)
      .addError(errorEnvelopeAt(ResourceNotFound, 404))
      .addError(errorEnvelopeAt(StoreUnavailable, 503))
      .annotate(OpenApi.Summary, "Replace a stored completion's metadata")
  )
  .add(
    HttpApiEndpoint.del("delete", "/v5/dashboard/completions/:id")
      .setPath(CompletionPath)
      .addSuccess(DashboardCompletionDeleted)
      .addError(errorEnvelopeAt(ResourceNotFound, 404))
      .addError(errorEnvelopeAt(StoreUnavailable, 503))
      .annotate(OpenApi.Summary, "Delete a stored completion")
  )
  .add(
    HttpApiEndpoint.get("usage", "/v5/dashboard/usage")
      .setUrlParams(DashboardUsageParams)
      .addSuccess(DashboardUsage)
      .addError(ValidationFailure)
      .addError(errorEnvelopeAt(InvalidRequest, 400))
      .addError(errorEnvelopeAt(AccountForbidden, 403))
      .addError(errorEnvelopeAt(StoreUnavailable, 503))
      .annotate(OpenApi.Summary, "Usage, cost, error rate and p50/p95 latency by model, account, key or target")
  )
  .middleware(Authentication)
  .annotate(OpenApi.Title, "Dashboard")
{}

/** The dashboard's single-page app and its assets, served by the gateway (open: the app signs in with a key). */
export class DashboardPageGroup extends HttpApiGroup.make("dashboardPage")
  .add(
    HttpApiEndpoint.get("page", "/dashboard")
      .addSuccess(HttpApiSchema.Text({ contentType: "text/html" }).annotations({ description: "The dashboard" }))
      .addError(errorEnvelopeAt(ResourceNotFound, 404))
  )
  .add(
    HttpApiEndpoint.get("asset", "/dashboard/assets/:file")
      .setPath(Schema.Struct({ file: Schema.String }))
      .addSuccess(HttpApiSchema.Text({ contentType: "application/javascript" }).annotations({ description: "A script or stylesheet" }))
      .addError(errorEnvelopeAt(ResourceNotFound, 404))
  )
  .annotate(OpenApi.Title, "Dashboard")
{}

/** The part of the API the dashboard calls, for a typed client in the browser (`HttpApiClient.make(DashboardApi)`). */
export class DashboardApi extends HttpApi.make("dashboard").add(DashboardGroup).add(KeysGroup) {}

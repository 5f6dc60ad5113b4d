/**
 * `@switchyard/service`: inference logic.
 *
 * - `ChatCompletions` (the service), `ResiliencePolicy` (retries and
 *   timeouts), `Deadlines` (where timeouts are enforced), `RequestContext`,
 *   `ServiceConfig` (a configuration object + the environment → the ready service);
 * - `Provider` (the port) and `ProviderRegistry` (which provider serves which vendor);
 * - `routing/`: routes over several targets (`RoutingPolicy`, fallbacks, load
 *   balancing, hedging) and the targets' circuit breakers (`CircuitBreaker`);
 * - `auth/`: the `Authenticator` port (a gateway key → its principal);
 * - `providers/`: the HTTP skeleton (`HttpProvider`) and one folder per vendor family;
 * - `transport/`: outbound HTTP (`UpstreamHttp`), upstream error classification,
 *   streamed bodies as chunk pulls (`ChunkStream`);
 * - `telemetry/`: the metrics (`SwitchyardMetrics`, Effect `Metric`s with bounded
 *   labels) and the GenAI attributes of attempt spans; `Tracing`: spans only when
 *   a tracer is installed, `traceparent` for vendors, content capture;
 * - `responses/`: the OpenAI Responses API over `ChatCompletions` (`Responses`),
 *   its event writer, input translation and the `ResponsesStore` port;
 * - `storage/`: the ports of state outside the process (`StoredCompletions`,
 *   `UsageLedger`, `ApiKeys`, `StoreHealth`) with in-memory implementations,
 *   the `ApiKeyCache` (database keys for the `Authenticator`) and the
 *   `CompletionRecorder`; `pricing/`: the `PriceCatalogue`;
 * - `limits/`: rate limits, concurrency limits and budgets (`Limits`) over a
 *   counters' store (`LimitStore`, in memory here, Redis in `@switchyard/store`);
 * - `testing/` (`@switchyard/service/testing`): fake upstreams and vendor fixtures.
 */
export * from "./auth/Authenticator.js"
export * from "./CallRecord.js"
export * from "./ChatCompletions.js"
export * from "./Provider.js"
export * from "./ProviderRegistry.js"
export * from "./providers/index.js"
export * from "./RequestContext.js"
export * from "./ResiliencePolicy.js"
export * from "./routing/index.js"
export * as ServiceConfig from "./ServiceConfig.js"
export * from "./telemetry/index.js"
export * from "./Tracing.js"
export * from "./transport/index.js"
export * from "./responses/ResponseEventWriter.js"
export * as ResponseIds from "./responses/ResponseIds.js"
export * as ResponseInput from "./responses/ResponseInput.js"
export * from "./responses/Responses.js"
export * from "./responses/ResponsesStore.js"
export * from "./responses/ResponseUsage.js"
export * from "./pricing/PriceCatalogue.js"
export * from "./limits/index.js"
export * from "./Tokenizer.js"
export * from "./storage/index.js"

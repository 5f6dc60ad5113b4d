/** routing/: routes over several targets (fallbacks, weights, hedging) and the targets' circuit breakers. */
export * from "./CircuitBreaker.js"
export * from "./RouteExecutor.js"
export * from "./Routing.js"
export * from "./RoutingPolicy.js"

export * from "./GenAiSpans.js"
export * from "./LabelledMetric.js"
export * from "./MetricLabels.js"
export * from "./SwitchyardMetrics.js"

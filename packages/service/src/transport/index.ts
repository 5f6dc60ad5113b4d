/** transport/: outbound HTTP to vendors (`UpstreamHttp`), upstream failures as typed errors (`UpstreamErrors`), streamed bodies as chunk pulls (`ChunkStream`). */
export * as ChunkStream from "./ChunkStream.js"
export * as UpstreamErrors from "./UpstreamErrors.js"
export { describeBody } from "./UpstreamErrors.js"
export * from "./UpstreamHttp.js"

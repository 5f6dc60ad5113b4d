export * from "./ResponseObject.js"
export * from "./ResponseRequest.js"
export * from "./ResponseStreamEvent.js"
export * from "./ResponseSupport.js"

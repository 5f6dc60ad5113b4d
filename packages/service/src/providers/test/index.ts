/** test/: `TestProvider`, a scripted provider for tests on the Effect clock. */
export * from "./TestProvider.js"

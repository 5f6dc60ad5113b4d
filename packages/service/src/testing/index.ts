export * as FakeUpstream from "./FakeUpstream.js"

/** echo/: the offline `echo` vendor (`EchoProvider`), no upstream, no key. */
export * as EchoProvider from "./EchoProvider.js"

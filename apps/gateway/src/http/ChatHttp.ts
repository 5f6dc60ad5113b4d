import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import { RouteNotFound, SwitchyardApi } from "@switchyard/core"
import { Effect } from "effect"

const notHere = ({ request }: { readonly request: { readonly method: string; readonly url: string } }) =>
  Effect.fail(new RouteNotFound({ method: request.method, path: request.url.split("?")[0]! }))

// The listener sends `POST /v5|v1/chat/completions` to the fast path (CompletionRoute); only other
// spellings of those paths (percent-encoded letters) reach the router, and they are not routes.
export const ChatHttpLive = HttpApiBuilder.group(SwitchyardApi, "chat", (handlers) =>
  handlers.handle("createV5", notHere).handle("createV1", notHere))

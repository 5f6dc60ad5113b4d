// Type-checked twice: with skipLibCheck off (every .d.ts the packages ship, and what they reach), and
// under the older `moduleResolution: node10`, which finds each package's types through its top-level
// `types` and the subpaths through `typesVersions`.
import { ChatCompletionRequest } from "@switchyard/core"
import { ChatCompletions } from "@switchyard/service"
import { FakeUpstream } from "@switchyard/service/testing"
import { layer as storeLayer } from "@switchyard/store"
import { resolveDatabase } from "@switchyard/store/StoreConfig"
import { Gateway } from "@switchyard/gateway"

export const names: ReadonlyArray<unknown> = [ChatCompletionRequest, ChatCompletions, FakeUpstream.start, storeLayer, resolveDatabase, Gateway.layer]

import { Effect, type Scope } from "effect"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"

/** A span as an OTLP/HTTP JSON export carries it, with its attributes decoded. */
export interface ExportedSpan {
  readonly traceId: string
  readonly spanId: string
  readonly parentSpanId: string | undefined
  readonly name: string
  /** OTLP's enum: 1 internal, 2 server, 3 client. */
  readonly kind: number
  readonly attributes: Readonly<Record<string, unknown>>
  readonly status: { readonly code?: number; readonly message?: string }
  /** The resource's attributes. */
  readonly resource: Readonly<Record<string, unknown>>
}

/** What the collector received in one export request. */
export interface ExportRequest {
  readonly contentType: string | undefined
  readonly headers: Http.IncomingHttpHeaders
  readonly body: Buffer
}

export interface FakeCollector {
  /** `http://127.0.0.1:<port>/v1/traces` */
  readonly url: string
  readonly requests: ReadonlyArray<ExportRequest>
  /** Every span of the JSON exports so far. */
  readonly spans: () => ReadonlyArray<ExportedSpan>
}

type AnyValue = {
  readonly stringValue?: string
  readonly intValue?: number | string
  readonly doubleValue?: number
  readonly boolValue?: boolean
  readonly arrayValue?: { readonly values?: ReadonlyArray<AnyValue> }
}

const decodeValue = (value: AnyValue): unknown => {
  if (value.stringValue !== undefined) return value.stringValue
  if (value.intValue !== undefined) return Number(value.intValue)
  if (value.doubleValue !== undefined) return value.doubleValue
  if (value.boolValue !== undefined) return value.boolValue
  if (value.arrayValue !== undefined) return (value.arrayValue.values ?? []).map(decodeValue)
  return undefined
}

const decodeAttributes = (attributes: ReadonlyArray<{ key: string; value: AnyValue }> | undefined) =>
  Object.fromEntries((attributes ?? []).map(({ key, value }) => [key, decodeValue(value)]))

interface JsonExport {
  readonly resourceSpans?: ReadonlyArray<{
    readonly resource?: { readonly attributes?: ReadonlyArray<{ key: string; value: AnyValue }> }
    readonly scopeSpans?: ReadonlyArray<{
      readonly spans?: ReadonlyArray<{
        traceId: string
        spanId: string
        parentSpanId?: string
        name: string
        kind: number
        attributes?: ReadonlyArray<{ key: string; value: AnyValue }>
        status?: { code?: number; message?: string }
      }>
    }>
  }>
}

/**
 * An OpenTelemetry collector on an ephemeral loopback port for tests: accepts
 * OTLP/HTTP exports at `/v1/traces` (JSON decoded, protobuf kept raw). With
 * `hang`, it never answers (a collector that is up but stuck).
 */
export const scoped = (options: { readonly hang?: boolean } = {}): Effect.Effect<FakeCollector, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.async<{ server: Http.Server; collector: FakeCollector }>((resume) => {
      const requests: Array<ExportRequest> = []
      const server = Http.createServer((req, res) => {
        const parts: Array<Buffer> = []
        req.on("data", (part: Buffer) => parts.push(part))
        req.on("end", () => {
          requests.push({ contentType: req.headers["content-type"], headers: req.headers, body: Buffer.concat(parts) })
          if (options.hang === true) return
          res.writeHead(200, { "content-type": req.headers["content-type"] ?? "application/json" })
          res.end(req.headers["content-type"] === "application/json" ? "{}" : "")
        })
      })
      server.listen(0, "127.0.0.1", () => {
        const { port } = server.address() as AddressInfo
        const spans = () =>
          requests
            .filter((request) => request.contentType === "application/json")
            .flatMap((request) =>
              ((JSON.parse(request.body.toString("utf8")) as JsonExport).resourceSpans ?? []).flatMap((resourceSpan) => {
                const resource = decodeAttributes(resourceSpan.resource?.attributes)
                return (resourceSpan.scopeSpans ?? []).flatMap((scope) =>
                  (scope.spans ?? []).map((span): ExportedSpan => ({
                    traceId: span.traceId,
                    spanId: span.spanId,
                    parentSpanId: span.parentSpanId === undefined || span.parentSpanId === "" ? undefined : span.parentSpanId,
                    name: span.name,
                    kind: span.kind,
                    attributes: decodeAttributes(span.attributes),
                    status: span.status ?? {},
                    resource
                  }))
                )
              })
            )
        resume(Effect.succeed({ server, collector: { url: `http://127.0.0.1:${port}/v1/traces`, requests, spans } }))
      })
    }),
    ({ server }) =>
      Effect.promise(() =>
        new Promise<void>((resolve) => {
          server.closeAllConnections()
          server.close(() => resolve())
        })
      )
  ).pipe(Effect.map(({ collector }) => collector))

/** A URL where nothing listens (a collector that is down). */
export const downUrl = (): Effect.Effect<string> =>
  Effect.async((resume) => {
    const server = Http.createServer()
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo
      server.close(() => resume(Effect.succeed(`http://127.0.0.1:${port}/v1/traces`)))
    })
  })

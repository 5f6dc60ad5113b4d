/**
 * The cost of observability (issue 11; not in the default run:
 * `BENCH_ONLY=observability`), two ways:
 * - direct: the listener's telemetry per request, measured in this process
 *   (lib/telemetryCost.ts): steady, the figure the goals check;
 * - whole gateway: CPU per request of gateways with metrics off, on (the
 *   default), and on with tracing at 100% sampling exported to a collector (a
 *   node:http sink in the driver that answers every export at once; OTLP/HTTP
 *   protobuf, the default, and JSON): the honest total, but on a shared
 *   machine its differences are within the noise of a run.
 * Targets: metrics < 15 µs and tracing < 60 µs of CPU per request.
 */
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import { measure, renderNotes, renderTable } from "../lib/measure.js"
import { recordRows } from "../lib/record.js"
import type { Scenario } from "../lib/scenario.js"
import { gateway } from "../lib/targets.js"
import { telemetryCost } from "../lib/telemetryCost.js"

interface Collector {
  readonly url: string
  readonly exports: () => number
  readonly spans: () => number
  readonly close: () => Promise<void>
}

/** A collector that accepts OTLP/HTTP exports and counts them (spans: JSON exports only). */
const startCollector = (): Promise<Collector> =>
  new Promise((resolve) => {
    let exports = 0
    let spans = 0
    const server = Http.createServer((req, res) => {
      const json = req.headers["content-type"] === "application/json"
      let text = ""
      req.on("data", (part: Buffer) => {
        if (json) text += part.toString("utf8")
      })
      req.on("end", () => {
        exports++
        if (json) spans += text.split("\"spanId\":").length - 1
        res.writeHead(200, { "content-type": json ? "application/json" : "application/x-protobuf" })
        res.end(json ? "{}" : "")
      })
    })
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo
      resolve({
        url: `http://127.0.0.1:${port}`,
        exports: () => exports,
        spans: () => spans,
        close: () => new Promise((done) => server.close(() => done()))
      })
    })
  })

const us = (value: number, digits = 0) => `${value >= 0 ? "+" : ""}${value.toFixed(digits)} µs`

export const observability: Scenario = {
  name: "observability",
  title: "Observability: CPU per request with metrics off, on, and with tracing at 100% sampling",
  byDefault: false,
  run: async (ctx) => {
    ctx.log("telemetry's direct cost per request…")
    const direct = await telemetryCost()
    ctx.results.set("obs.direct.metrics", direct.metrics - direct.off)
    ctx.results.set("obs.direct.tracing", direct.tracing - direct.metrics)
    const directTable = [
      "| direct cost per request (in-process, least of 5 runs of 20,000) | CPU µs | added |",
      "|---|---|---|",
      `| metrics off, tracing off (timings for the access log and Server-Timing) | ${direct.off.toFixed(1)} | — |`,
      `| metrics on | ${direct.metrics.toFixed(1)} | ${us(direct.metrics - direct.off, 1)} |`,
      `| metrics + tracing 100%, OTLP protobuf (spans built, batched, serialized, sent) | ${direct.tracing.toFixed(1)} | ${
        us(direct.tracing - direct.metrics, 1)
      } over metrics |`,
      `| metrics + tracing 100%, OTLP JSON | ${direct.tracingJson.toFixed(1)} | ${us(direct.tracingJson - direct.metrics, 1)} over metrics |`
    ].join("\n")
    const protobuf = await startCollector()
    const json = await startCollector()
    const tracing = (collector: Collector, protocol: string) => ({
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
      OTEL_TRACES_SAMPLER: "always_on",
      OTEL_BSP_SCHEDULE_DELAY: "1000"
    })
    try {
      const { relay, direct: baseline, rows } = await measure(ctx, [
        gateway("Switchyard, metrics off", { env: { SWITCHYARD_METRICS_ENABLED: "false" } }),
        gateway("Switchyard, metrics on (default)"),
        gateway("Switchyard, metrics + tracing 100%, protobuf", { env: tracing(protobuf, "http/protobuf") }),
        gateway("Switchyard, metrics + tracing 100%, JSON", { env: tracing(json, "http/json") })
      ])
      const ids = ["obs.off", "obs.metrics", "obs.tracing", "obs.tracingJson"]
      recordRows(ctx, relay, baseline, rows.map((row, i) => [ids[i]!, row] as const))
      // Metrics against metrics off; tracing against metrics on.
      const against = [undefined, rows[0]!, rows[1]!, rows[1]!]
      const requests = rows[3]!.plain.rps + rows[3]!.stream.rps
      const lines = [
        "| row | CPU µs per request (plain) | added | CPU µs per 20-chunk stream | added | added to |",
        "|---|---|---|---|---|---|",
        ...rows.map((row, i) => {
          const base = against[i]
          return `| ${row.spec.name} | ${row.plain.cpuUs.toFixed(0)} | ${base === undefined ? "—" : us(row.plain.cpuUs - base.plain.cpuUs)} | ${
            row.stream.cpuUs.toFixed(0)
          } | ${base === undefined ? "—" : us(row.stream.cpuUs - base.stream.cpuUs)} | ${base?.spec.name ?? ""} |`
        })
      ]
      for (const [i, row] of rows.entries()) {
        const base = against[i]
        if (base === undefined) continue
        ctx.results.set(`${ids[i]}.addedPlainCpuUs`, row.plain.cpuUs - base.plain.cpuUs)
        ctx.results.set(`${ids[i]}.addedStreamCpuUs`, row.stream.cpuUs - base.stream.cpuUs)
      }
      const exported = `Collectors received ${protobuf.exports()} protobuf and ${json.exports()} JSON exports ` +
        `(${json.spans()} spans in JSON, for ~${requests.toFixed(0)} req/s over the closed-loop phases of that row).`
      return `${directTable}\n\nWhole gateway:\n\n${renderTable(relay, baseline, rows)}\n\n${lines.join("\n")}\n\n${exported}\n\n${
        renderNotes(relay, baseline, rows)
      }`
    } finally {
      await protobuf.close()
      await json.close()
    }
  }
}

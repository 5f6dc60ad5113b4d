/** Records a comparison's figures in `ctx.results`, for the goals. */
import type { BenchContext } from "./context.js"
import { type Direct, errorsOf, type Measured } from "./measure.js"

/** Records `relay.*` and, for each row, `<id>.*`: shares, CPU, added latencies, peak RSS, errors. */
export const recordRows = (
  ctx: BenchContext,
  relay: Measured,
  direct: Direct,
  rows: ReadonlyArray<readonly [string, Measured]>
): void => {
  for (const [id, row] of [["relay", relay] as const, ...rows]) {
    const put = (key: string, value: number) => ctx.results.set(`${id}.${key}`, value)
    put("plain.rps", row.plain.rps)
    put("stream.rps", row.stream.rps)
    put("plain.share", (100 * row.plain.rps) / relay.plain.rps)
    put("stream.share", (100 * row.stream.rps) / relay.stream.rps)
    put("plain.cpuShare", (100 * relay.plain.cpuUs) / row.plain.cpuUs)
    put("stream.cpuShare", (100 * relay.stream.cpuUs) / row.stream.cpuUs)
    put("plain.cpuUs", row.plain.cpuUs)
    put("stream.cpuUs", row.stream.cpuUs)
    put("added.p50", row.fixed.total.p50 - direct.fixed.total.p50)
    put("added.p99", row.fixed.total.p99 - direct.fixed.total.p99)
    put("added.ttfc", row.streams.firstChunk.p50 - direct.streams.firstChunk.p50)
    put("peakMb", row.peakMb)
    put("errors", errorsOf(row))
  }
}

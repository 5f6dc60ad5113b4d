import { expect } from "@effect/vitest"

/** A Responses API event as it arrived: its `event:` name and its `data:` JSON. */
export interface RawEvent {
  readonly event: string
  readonly data: Record<string, any>
}

/** The events of a Responses API stream, and its comments (`: keep-alive`), in order. */
export const parseEvents = (text: string): { readonly events: Array<RawEvent>; readonly comments: Array<string> } => {
  const events: Array<RawEvent> = []
  const comments: Array<string> = []
  for (const block of text.split("\n\n")) {
    if (block.length === 0) continue
    if (block.startsWith(":")) {
      comments.push(block)
      continue
    }
    const lines = block.split("\n")
    expect(lines, block).toHaveLength(2)
    expect(lines[0], block).toMatch(/^event: \S+$/)
    expect(lines[1], block).toMatch(/^data: \{/)
    events.push({ event: lines[0]!.slice("event: ".length), data: JSON.parse(lines[1]!.slice("data: ".length)) })
  }
  return { events, comments }
}

const TERMINAL = new Set(["response.completed", "response.incomplete", "response.failed"])

/**
 * Checks OpenAI's ordering rules on a whole stream and gives its events:
 * every block is `event: <type>` + `data: <json>` with the same type; no
 * `[DONE]`; `sequence_number` 0, 1, 2…; `response.created` then
 * `response.in_progress` first; exactly one terminal event, last (after an
 * `error` event when it is `response.failed`); items added at contiguous
 * `output_index`es from 0, one at a time, each closed by
 * `output_item.done` before the next is added; every item-scoped event
 * between its item's `added` and `done`, naming that item's id; content parts
 * and text events in order; the same response id throughout, and the final
 * output made of the items as they were done.
 */
export const checkStream = (text: string): Array<RawEvent> => {
  expect(text).not.toContain("[DONE]")
  const { events } = parseEvents(text)
  expect(events.length).toBeGreaterThanOrEqual(3)
  for (const { data, event } of events) expect(data.type).toBe(event)
  expect(events.map((e) => e.data.sequence_number)).toEqual(events.map((_, i) => i))
  expect(events[0]!.event).toBe("response.created")
  expect(events[1]!.event).toBe("response.in_progress")
  const terminal = events.filter((e) => TERMINAL.has(e.event))
  expect(terminal).toHaveLength(1)
  const last = events[events.length - 1]!
  expect(TERMINAL.has(last.event)).toBe(true)
  if (last.event === "response.failed") expect(events[events.length - 2]!.event).toBe("error")
  else expect(events.some((e) => e.event === "error")).toBe(false)
  const id = events[0]!.data.response.id as string
  expect(id).toMatch(/^resp_/)
  for (const e of [events[0]!, events[1]!, last]) expect(e.data.response.id).toBe(id)
  expect(events[0]!.data.response.status).toBe("in_progress")
  expect(events[0]!.data.response.output).toEqual([])

  const done: Array<Record<string, any>> = []
  let open: { readonly id: string; readonly index: number; readonly type: string } | undefined
  let part: { readonly index: number; text: string; closed: boolean } | undefined
  for (const { data, event } of events.slice(2, -1)) {
    if (event === "error") continue
    if (event === "response.output_item.added") {
      expect(open, "an item is added while another is open").toBeUndefined()
      expect(data.output_index).toBe(done.length)
      expect(data.item.id).toMatch(/^(msg|fc|rs)_/)
      expect(data.item.status ?? "in_progress").toBe("in_progress")
      open = { id: data.item.id, index: data.output_index, type: data.item.type }
      part = undefined
      continue
    }
    expect(open, `${event} outside an item`).toBeDefined()
    expect(data.output_index).toBe(open!.index)
    if (event === "response.output_item.done") {
      expect(data.item.id).toBe(open!.id)
      if (part !== undefined) expect(part.closed).toBe(true)
      done.push(data.item)
      open = undefined
      continue
    }
    expect(data.item_id, event).toBe(open!.id)
    switch (event) {
      case "response.content_part.added":
        expect(open!.type).toBe("message")
        if (part !== undefined) expect(part.closed).toBe(true)
        expect(data.content_index).toBe(part === undefined ? 0 : part.index + 1)
        part = { index: data.content_index, text: "", closed: false }
        break
      case "response.output_text.delta":
      case "response.refusal.delta":
        expect(part?.closed).toBe(false)
        expect(data.content_index).toBe(part!.index)
        part!.text += data.delta
        break
      case "response.output_text.done":
        expect(data.text).toBe(part!.text)
        break
      case "response.refusal.done":
        expect(data.refusal).toBe(part!.text)
        break
      case "response.content_part.done":
        expect(data.content_index).toBe(part!.index)
        part!.closed = true
        break
      case "response.function_call_arguments.delta":
      case "response.function_call_arguments.done":
        expect(open!.type).toBe("function_call")
        break
      default:
        expect(event).toMatch(/^response\.reasoning_summary_(part|text)\./)
        expect(open!.type).toBe("reasoning")
    }
  }
  if (last.event !== "response.failed") {
    expect(open, "an item left open").toBeUndefined()
    expect(last.data.response.output).toEqual(done)
  }
  return events
}

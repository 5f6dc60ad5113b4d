import { describe, expect, it } from "@effect/vitest"
import { FastCheck as fc, Schema } from "effect"
import { ModelRef, parseModelRef } from "../src/index.js"
import { detailOf, PROPERTY_TIMEOUT } from "./support/json.js"

describe("parseModelRef", () => {
  it("splits at the first slash: the model part may contain more", () => {
    expect(parseModelRef("openrouter/meta-llama/llama-3.1-8b")).toStrictEqual({
      vendor: "openrouter",
      model: "meta-llama/llama-3.1-8b"
    })
    expect(parseModelRef("openai/gpt-4o")).toStrictEqual({ vendor: "openai", model: "gpt-4o" })
    expect(parseModelRef("ollama/llama3.2:1b")).toStrictEqual({ vendor: "ollama", model: "llama3.2:1b" })
  })

  it("is undefined without a vendor or without a model", () => {
    expect(parseModelRef("gpt-4o")).toBeUndefined()
    expect(parseModelRef("/gpt-4o")).toBeUndefined()
    expect(parseModelRef("openai/")).toBeUndefined()
    expect(parseModelRef("")).toBeUndefined()
  })

  it.prop("round-trips every ModelRef: vendor + \"/\" + model is the reference", [ModelRef], ([ref]) => {
    const parsed = parseModelRef(ref)
    expect(parsed).toBeDefined()
    expect(`${parsed?.vendor}/${parsed?.model}`).toBe(ref)
    expect(parsed?.vendor).not.toContain("/")
  }, { timeout: PROPERTY_TIMEOUT })

  it.prop("parses every string the ModelRef Schema accepts", [fc.string()], ([text]) => {
    if (Schema.is(ModelRef)(text)) expect(parseModelRef(text)).toBeDefined()
  }, { timeout: PROPERTY_TIMEOUT })
})

describe("the ModelRef Schema", () => {
  const is = Schema.is(ModelRef)

  it("accepts vendor/model, with slashes, dots and colons in the model", () => {
    for (const ref of ["openai/gpt-4o", "openrouter/meta-llama/llama-3.1-8b", "ollama/llama3.2:1b", "gemini/gemini-2.0-flash"]) {
      expect(is(ref), ref).toBe(true)
    }
  })

  it("rejects a missing vendor, a missing model, and whitespace around the slash", () => {
    for (const ref of ["gpt-4o", "/gpt-4o", "openai/", "open ai/gpt-4o", "openai/ gpt-4o", " openai/gpt-4o", ""]) {
      expect(is(ref), JSON.stringify(ref)).toBe(false)
    }
  })

  it("the request Schema rejects \"gpt-4o\" at [body, model] with a message that shows the expected form", () => {
    expect(detailOf({ model: "gpt-4o", messages: [] })).toStrictEqual([{
      loc: ["body", "model"],
      msg: "model must be `vendor/model`, for example `openai/gpt-4o`",
      type: "value_error",
      input: "gpt-4o"
    }])
  })
})

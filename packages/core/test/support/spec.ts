import { Ajv2020, type ErrorObject } from "ajv/dist/2020.js"
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { parse } from "yaml"

/** The committed copy of the spec, so the package's tests need nothing outside the repository. */
export const specPath = fileURLToPath(new URL("../fixtures/chat-completions.openapi.yaml", import.meta.url))

/** The shared spec the copy is taken from (`../shared/spec/` beside the repository), when it exists. */
export const sharedSpecPath = fileURLToPath(
  new URL("../../../../../shared/spec/chat-completions.openapi.yaml", import.meta.url)
)

/** A JSON Schema, as far as these tests look into one. */
export interface JsonSchema {
  readonly [keyword: string]: unknown
  readonly properties?: Readonly<Record<string, JsonSchema>>
  readonly required?: ReadonlyArray<string>
}

/** The part of the OpenAPI document these tests use. */
export interface Spec {
  readonly [key: string]: unknown
  readonly components: { readonly schemas: Readonly<Record<string, JsonSchema>> }
}

/** The spec, parsed. */
export const loadSpec = (): Spec => parse(readFileSync(specPath, "utf8")) as Spec

/** The names of the components a component refers to, directly or not, itself included. */
export const reachableComponents = (spec: Spec, roots: ReadonlyArray<string>): Set<string> => {
  const seen = new Set<string>()
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(visit)
    if (typeof node !== "object" || node === null) return
    for (const [key, value] of Object.entries(node)) {
      if (key === "$ref" && typeof value === "string") {
        const name = value.replace("#/components/schemas/", "")
        if (!seen.has(name)) {
          seen.add(name)
          visit(spec.components.schemas[name])
        }
      } else {
        visit(value)
      }
    }
  }
  for (const root of roots) {
    seen.add(root)
    visit(spec.components.schemas[root])
  }
  return seen
}

const withNull = (schema: JsonSchema): JsonSchema => ({ anyOf: [schema, { type: "null" }] })

/**
 * The "nullable overlay" for responses. The spec was generated from OpenAI's
 * Python types with `exclude_none`, so it lists optional response fields with
 * a plain type (`finish_reason: string`, `logprobs: ChoiceLogprobs`). OpenAI's
 * real wire format sends those fields as `null` instead of leaving them out
 * (`"finish_reason": null` in every chunk but the last, `"content": null` next
 * to `tool_calls`, `"logprobs": null`, `"usage": null`), and our response
 * Schemas accept and keep that `null` so that what we relay is what the vendor
 * sent. So before comparing our responses with the spec we let every
 * optional (not `required`) property of the response components also be
 * `null`. Required properties and every non-null type stay exactly as the
 * spec says.
 */
export const nullableOverlay = (spec: Spec, componentNames: Iterable<string>): Spec => {
  const schemas: Record<string, JsonSchema> = { ...spec.components.schemas }
  for (const name of componentNames) {
    const schema = schemas[name]
    if (schema?.properties === undefined) continue
    const required = new Set(schema.required ?? [])
    const properties: Record<string, JsonSchema> = {}
    for (const [key, property] of Object.entries(schema.properties)) {
      properties[key] = required.has(key) ? property : withNull(property)
    }
    schemas[name] = { ...schema, properties }
  }
  return { ...spec, components: { ...spec.components, schemas } }
}

/**
 * The request overlay: the two places where our request Schema is knowingly
 * more lenient than the spec. (1) `null` for an optional top-level field
 * means "absent", as in OpenAI's API and pydantic (`"temperature": null`);
 * (2) the deprecated `function_call` may be the string `"none"` or `"auto"`,
 * as OpenAI documents, while the spec only allows an object. Each is also a
 * listed divergence in the corpus test, asserted against the raw spec.
 */
export const requestOverlay = (spec: Spec): Spec => {
  const overlaid = nullableOverlay(spec, ["ChatCompletionRequest"])
  const request = overlaid.components.schemas["ChatCompletionRequest"]!
  const functionCall = spec.components.schemas["ChatCompletionRequest"]!.properties!["function_call"]!
  const properties = {
    ...request.properties,
    function_call: { anyOf: [functionCall, { enum: ["none", "auto"] }, { type: "null" }] }
  }
  return {
    ...overlaid,
    components: { ...overlaid.components, schemas: { ...overlaid.components.schemas, ChatCompletionRequest: { ...request, properties } } }
  }
}

/** A verdict of the spec on a value: valid, or the errors ajv found. */
export interface Verdict {
  readonly valid: boolean
  readonly errors: ReadonlyArray<ErrorObject>
}

/** Validates values against the components of one (possibly overlaid) copy of the spec. */
export class SpecValidator {
  private readonly ajv = new Ajv2020({ strict: false, allErrors: true })
  private readonly id: string

  constructor(spec: Spec, id: string) {
    this.id = `https://switchyard.test/${id}.json`
    // The whole OpenAPI document is one schema; its `#/components/schemas/X` refs resolve inside it.
    this.ajv.addSchema(spec as object, this.id)
  }

  /** Validates `value` against `#/components/schemas/<component>`. */
  validate(component: string, value: unknown): Verdict {
    const validate = this.ajv.getSchema(`${this.id}#/components/schemas/${component}`)
    if (validate === undefined) throw new Error(`No component ${component} in the spec`)
    const valid = validate(value) as boolean
    return { valid, errors: validate.errors ?? [] }
  }
}

/** The spec and its three validators: raw, responses with the nullable overlay, requests with theirs. */
export const makeValidators = (spec: Spec = loadSpec()) => {
  const responseComponents = reachableComponents(spec, ["ChatCompletion", "ChatCompletionChunk"])
  return {
    spec,
    responseComponents,
    raw: new SpecValidator(spec, "raw"),
    responses: new SpecValidator(nullableOverlay(spec, responseComponents), "responses"),
    requests: new SpecValidator(requestOverlay(spec), "requests")
  }
}

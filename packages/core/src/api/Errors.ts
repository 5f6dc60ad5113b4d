import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import { ParseResult, Schema, type SchemaAST } from "effect"
import { ErrorEnvelope, errorResponse, type GatewayError, RequestValidationError, toErrorEnvelope } from "../GatewayError.js"
import { ValidationError } from "../ValidationError.js"

const encodeOnly = (value: unknown, _: SchemaAST.ParseOptions, ast: SchemaAST.AST) =>
  ParseResult.fail(new ParseResult.Forbidden(ast, value, "a gateway error is encoded into its envelope, not decoded from it"))

/**
 * A gateway error as the HTTP API declares it: on the wire, OpenAI's envelope
 * at the given status; in a handler, the typed error. Used to document each
 * error status; the gateway's error middleware writes the actual answer. (The
 * identifier names the document's component after the wire shape, not the error.)
 */
export const errorEnvelopeAt = <A extends GatewayError, I, R>(error: Schema.Schema<A, I, R>, status: number) =>
  Schema.transformOrFail(ErrorEnvelope, Schema.typeSchema(error), {
    strict: true,
    decode: encodeOnly,
    encode: (value) => ParseResult.succeed(toErrorEnvelope(value))
  }).annotations({ ...HttpApiSchema.annotations({ status }), identifier: "ErrorEnvelope" })

/**
 * The 422 body on the wire: the spec's `HTTPValidationError` (`detail`), plus
 * the OpenAI `error` envelope it also carries so SDKs show a message.
 */
export const ValidationErrorBody = Schema.Struct({
  detail: Schema.Array(ValidationError),
  error: Schema.optional(ErrorEnvelope.fields.error)
}).annotations({ identifier: "HTTPValidationError", title: "HTTPValidationError" })

/** A request that failed validation, as the HTTP API declares it: the 422 body. */
export const ValidationFailure = Schema.transformOrFail(ValidationErrorBody, Schema.typeSchema(RequestValidationError), {
  strict: true,
  decode: encodeOnly,
  encode: (error) => ParseResult.succeed(errorResponse(error).body as typeof ValidationErrorBody.Type)
}).annotations({ ...HttpApiSchema.annotations({ status: 422 }), identifier: "HTTPValidationError" })

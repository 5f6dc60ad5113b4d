/**
 * Wire fixtures of the Gemini API, written from its published reference:
 * `generateContent` responses (text, function calls, several candidates,
 * thoughts, log probabilities), `streamGenerateContent?alt=sse` events, and
 * Google's error bodies. Builders take the parts that vary.
 */

/** Token counts, as Gemini reports them. */
export interface UsageFixture {
  readonly promptTokenCount: number
  readonly candidatesTokenCount: number
  readonly totalTokenCount: number
  readonly cachedContentTokenCount?: number
  readonly thoughtsTokenCount?: number
}

const defaultUsage: UsageFixture = { promptTokenCount: 25, candidatesTokenCount: 12, totalTokenCount: 37 }

/** Options shared by the fixtures. */
export interface ResponseOptions {
  readonly responseId?: string
  readonly modelVersion?: string
  readonly usage?: UsageFixture
}

/** A function call in a fixture. */
export interface FunctionCallFixture {
  readonly name: string
  readonly args: Record<string, unknown>
}

/** A part of a candidate's content. */
export type PartFixture =
  | { readonly text: string; readonly thought?: boolean }
  | { readonly functionCall: FunctionCallFixture; readonly thoughtSignature?: string }

/** A candidate: its parts and why it stopped (`undefined` while a stream goes on). */
export interface CandidateFixture {
  readonly parts: ReadonlyArray<PartFixture>
  readonly finishReason?: string
  readonly index?: number
}

const candidate = (fixture: CandidateFixture, i: number) => ({
  content: { parts: fixture.parts, role: "model" },
  ...(fixture.finishReason !== undefined ? { finishReason: fixture.finishReason } : {}),
  index: fixture.index ?? i
})

/** A `generateContent` response with the given candidates. */
export const response = (candidates: ReadonlyArray<CandidateFixture>, options: ResponseOptions = {}) => ({
  candidates: candidates.map(candidate),
  usageMetadata: options.usage ?? defaultUsage,
  modelVersion: options.modelVersion ?? "gemini-2.5-flash",
  responseId: options.responseId ?? "mPv4aN7ZJ5S7nvgPqbXW-Qw"
})

/** A `generateContent` response answering with text. */
export const textResponse = (text: string, options: ResponseOptions & { readonly finishReason?: string } = {}) =>
  response([{ parts: [{ text }], finishReason: options.finishReason ?? "STOP" }], options)

/** A `generateContent` response calling functions. */
export const functionCallResponse = (calls: ReadonlyArray<FunctionCallFixture>, options: ResponseOptions = {}) =>
  response([{ parts: calls.map((functionCall) => ({ functionCall })), finishReason: "STOP" }], options)

/**
 * The events of a streamed text answer, one piece per event, the finish
 * reason and the usage on the last (as the API sends them: every event a
 * `GenerateContentResponse`).
 */
export const textStream = (
  pieces: ReadonlyArray<string>,
  options: ResponseOptions & { readonly finishReason?: string } = {}
): Array<Record<string, unknown>> =>
  pieces.map((text, i) => {
    const last = i === pieces.length - 1
    return {
      candidates: [candidate({ parts: [{ text }], ...(last ? { finishReason: options.finishReason ?? "STOP" } : {}) }, 0)],
      usageMetadata: last
        ? options.usage ?? defaultUsage
        : { promptTokenCount: (options.usage ?? defaultUsage).promptTokenCount, totalTokenCount: (options.usage ?? defaultUsage).promptTokenCount },
      modelVersion: options.modelVersion ?? "gemini-2.5-flash",
      responseId: options.responseId ?? "mPv4aN7ZJ5S7nvgPqbXW-Qw"
    }
  })

/** The events of a streamed answer with thoughts first (`includeThoughts`), then text. */
export const thinkingStream = (
  thoughts: ReadonlyArray<string>,
  pieces: ReadonlyArray<string>,
  options: ResponseOptions = {}
): Array<Record<string, unknown>> => [
  ...thoughts.map((text) => ({
    candidates: [candidate({ parts: [{ text, thought: true }] }, 0)],
    modelVersion: options.modelVersion ?? "gemini-2.5-flash",
    responseId: options.responseId ?? "mPv4aN7ZJ5S7nvgPqbXW-Qw"
  })),
  ...textStream(pieces, { ...options, usage: options.usage ?? { ...defaultUsage, thoughtsTokenCount: 40, totalTokenCount: 77 } })
]

/** The events of a streamed function call: Gemini sends each call whole. */
export const functionCallStream = (
  calls: ReadonlyArray<FunctionCallFixture>,
  options: ResponseOptions & { readonly thoughtSignature?: string } = {}
): Array<Record<string, unknown>> => [{
  candidates: [candidate({
    parts: calls.map((functionCall, i) => ({
      functionCall,
      ...(i === 0 && options.thoughtSignature !== undefined ? { thoughtSignature: options.thoughtSignature } : {})
    })),
    finishReason: "STOP"
  }, 0)],
  usageMetadata: options.usage ?? defaultUsage,
  modelVersion: options.modelVersion ?? "gemini-2.5-flash",
  responseId: options.responseId ?? "mPv4aN7ZJ5S7nvgPqbXW-Qw"
}]

/** Google's error body; a 429 may carry `RetryInfo` with a delay such as `"37s"`. */
export const errorBody = (code: number, status: string, message: string, retryDelay?: string) => ({
  error: {
    code,
    message,
    status,
    ...(retryDelay !== undefined
      ? {
        details: [
          { "@type": "type.googleapis.com/google.rpc.QuotaFailure", violations: [{ quotaMetric: "generativelanguage.googleapis.com/generate_content_free_tier_requests" }] },
          { "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay }
        ]
      }
      : {})
  }
})

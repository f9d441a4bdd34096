/**
 * The worker's Hrana-over-HTTP answers as values, independent of how the request arrived: both
 * HTTP front ends (node:http in ./http.ts, the keep-alive hot path in ./hot-path.ts) compute
 * them here and only write them, so the two cannot answer the same request differently.
 */
import { type Access, AuthError } from "../../../core/jwt";
import { decodeCursorRequest, decodePipeline } from "../hrana/decode";
import { serialize, serializePipeline } from "../hrana/encode";
import { ProtocolError, StreamExpiredError } from "../hrana/errors";
import { runCursor, runPipeline } from "../hrana/pipeline";
import type { Version } from "../hrana/proto";
import { log } from "../log";
import { compress, type Encoding, encodingFor } from "./compression";
import type { WorkerContext } from "./context";

/** A whole answer. `encoding` when `body` is compressed already. */
export interface Answer {
  status: number;
  contentType: string | undefined;
  body: string | Buffer;
  encoding?: Encoding;
  /** The connection cannot be reused after this answer (the request's body was not read). */
  close?: boolean;
}

/**
 * What a Hrana POST carries that the answer depends on. Its credentials are checked before its
 * body is read (an unauthenticated client must not make the worker hold a body), so the
 * answer gets the access they give.
 */
export interface HranaRequest {
  access: Access;
  acceptEncoding: string | undefined;
  /** The whole body, already bounded by the worker's body limit. */
  body: Buffer;
}

export class PayloadTooLarge extends Error {
  constructor(maxBytes: number) {
    super(`Request body is larger than the limit of ${maxBytes} bytes`);
  }
}

/** POST /v2/pipeline and /v3/pipeline. */
export async function pipelineAnswer(
  ctx: WorkerContext,
  version: Version,
  request: HranaRequest,
): Promise<Answer> {
  const body = decodePipeline(parseJson(request.body), version);
  const readOnly = request.access === "read-only";
  const result = await runPipeline(ctx.streams, ctx.limits, body, readOnly);
  return okAnswer(request, "application/json", serializePipeline(result));
}

/** POST /v3/cursor: the cursor's head and entries, a JSON text per line. */
export async function cursorAnswer(ctx: WorkerContext, request: HranaRequest): Promise<Answer> {
  const body = decodeCursorRequest(parseJson(request.body), 3);
  const readOnly = request.access === "read-only";
  const { head, entries } = await runCursor(ctx.streams, ctx.limits, body, readOnly);
  const lines = [serialize(head), ...entries.map((entry) => serialize(entry))];
  return okAnswer(request, "text/plain", `${lines.join("\n")}\n`);
}

/** A 200 answer, compressed when the client accepts it and it is large enough to gain. */
async function okAnswer(request: HranaRequest, contentType: string, body: string): Promise<Answer> {
  // body.length ≤ its bytes: a cheap lower bound of the size.
  const encoding = encodingFor(request.acceptEncoding, body.length);
  const compressing = encoding && compress(body, encoding);
  if (!encoding || !compressing) return { status: 200, contentType, body };
  return { status: 200, contentType, body: await compressing, encoding };
}

/** Errors as sqld reports them: protocol errors as text, the rest as JSON with a code. */
export function errorAnswer(err: unknown): Answer {
  const json = (status: number, code: string, message: string, error = message): Answer => ({
    status,
    contentType: "application/json",
    body: JSON.stringify({ error, message, code }),
  });
  if (err instanceof ProtocolError) {
    return { status: 400, contentType: "text/plain", body: err.message };
  }
  if (err instanceof PayloadTooLarge) {
    return { status: 413, contentType: "text/plain", body: err.message, close: true };
  }
  if (err instanceof StreamExpiredError) return json(400, err.code, err.message);
  if (err instanceof AuthError) {
    const prefix = err.status === 401 ? "Unauthorized" : "Forbidden";
    return json(err.status, err.code, err.message, `${prefix}: \`${err.message}\``);
  }
  log("error", "internal error", {
    error: err instanceof Error ? (err.stack ?? err.message) : String(err),
  });
  return json(500, "INTERNAL_ERROR", "Internal server error");
}

/**
 * An answer's headers as raw pairs (the cheapest form for node:http), in the order both front
 * ends write them. sqld allows any origin.
 */
export function answerHeaders(answer: Answer): (string | number)[] {
  const headers = [
    "Access-Control-Allow-Origin",
    "*",
    "Content-Length",
    Buffer.byteLength(answer.body),
  ];
  if (answer.contentType) headers.push("Content-Type", answer.contentType);
  if (answer.encoding) headers.push("Content-Encoding", answer.encoding, "Vary", "Accept-Encoding");
  return headers;
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString("utf8"));
  } catch (err) {
    throw ProtocolError.json((err as Error).message);
  }
}

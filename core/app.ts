import { OpenAPIHono } from "@hono/zod-openapi";
import type { Context, Env, MiddlewareHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import { requestId } from "hono/request-id";
import {
  ApiError,
  DomainError,
  ERROR_CODE_HEADER,
  PROBLEM_CONTENT_TYPE,
  toProblem,
} from "./errors";

/**
 * Builds every DB-Forge HTTP app (each function entry and the control plane) the same way:
 * request ids, validation failures as BAD_REQUEST, every error as RFC 9457 problem details.
 * Routes never format errors: they throw ApiError (or let anything else become INTERNAL_ERROR).
 */
export function createApp<E extends Env = Env>(
  options: { hranaErrors?: boolean } = {},
): OpenAPIHono<E> {
  const app = new OpenAPIHono<E>({
    defaultHook: (result) => {
      if (!result.success) {
        const issues = result.error.issues.map((issue) => ({
          path: issue.path.join("."),
          message: issue.message,
        }));
        const where = result.target === "json" ? "body" : result.target;
        throw new ApiError(
          "BAD_REQUEST",
          `Invalid request ${where}: ${issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join("; ")}`,
          { issues },
        );
      }
    },
  });
  app.use(requestId());
  app.use(readableBody);
  const respond = (c: Context, err: ApiError) => problemResponse(c, err, options.hranaErrors);
  app.notFound((c) =>
    respond(
      c,
      new ApiError("NOT_FOUND", `No route for ${c.req.method} ${new URL(c.req.url).pathname}`),
    ),
  );
  app.onError((err, c) => respond(c, toApiError(err)));
  return app;
}

/**
 * The problem document of `err`. For libSQL clients (`hranaErrors`) it is served as
 * application/json with a `message` member too: the Hrana client reads errors only in that
 * shape, and then reports `code` (e.g. DATABASE_NOT_FOUND) to the application.
 */
export function problemResponse(c: Context, err: ApiError, hranaErrors = false): Response {
  const requestId = c.get("requestId" as never) as string | undefined;
  return problemFor(err, { instance: new URL(c.req.url).pathname, requestId, hranaErrors });
}

/** problemResponse outside an app (a host answering a request itself, e.g. its fast lane). */
export function problemFor(
  err: ApiError,
  options: { instance: string; requestId?: string; hranaErrors?: boolean },
): Response {
  const { requestId, hranaErrors } = options;
  const problem = toProblem(err, { instance: options.instance, requestId });
  const body = hranaErrors ? { ...problem, message: problem.detail } : problem;
  const headers: Record<string, string> = {
    ...err.headers,
    "Content-Type": hranaErrors ? "application/json" : PROBLEM_CONTENT_TYPE,
    [ERROR_CODE_HEADER]: err.code,
    ...(requestId ? { "X-Request-Id": requestId } : {}),
  };
  // The rest of an oversized body is not read: the connection cannot carry another request.
  if (err.code === "PAYLOAD_TOO_LARGE") headers.Connection = "close";
  return new Response(JSON.stringify(body), { status: err.status, headers });
}

/** Anything thrown becomes an ApiError; unexpected errors are logged and hidden. */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof DomainError) return new ApiError(err.code, err.message, err.extra);
  if (err instanceof HTTPException) {
    if (err.status === 413) return new ApiError("PAYLOAD_TOO_LARGE", err.message || undefined);
    if (err.status === 415) return new ApiError("UNSUPPORTED_MEDIA_TYPE", err.message || undefined);
    if (err.status === 401) return new ApiError("UNAUTHORIZED", err.message || undefined);
    if (err.status < 500) return new ApiError("BAD_REQUEST", err.message || undefined);
  }
  console.error("unexpected error", err);
  return new ApiError("INTERNAL_ERROR", "An unexpected error occurred; see the server log");
}

/**
 * The request body as routes and middleware read it. A runtime that hands a GET or HEAD a body
 * (workerd does for `Transfer-Encoding: chunked`) passes none on: HTTP gives it no meaning, and
 * Request refuses to copy it.
 *
 * A body that fails while being read (broken chunked framing, the connection lost) must be the
 * client's error, BAD_REQUEST, not an opaque runtime error in whichever reader met it first. A
 * chunked body (read early, by the body limit) is wrapped so that its errors say so. A body of
 * known length is not, since wrapping costs a Request and a ReadableStream per request (the
 * largest part of a Node host's time): JSON bodies are read by the validator, which reports a
 * failure to read them as a malformed body (400), and a route reading the raw body uses
 * readBody.
 */
const readableBody: MiddlewareHandler = async (c, next) => {
  const raw = c.req.raw;
  // Decided on the headers: touching `body` makes the Node adapter build a full Request (its
  // fast path reads a body of known length straight from the socket).
  const chunked = isChunked(raw.headers);
  if ((raw.method === "GET" || raw.method === "HEAD") && (chunked || hasLength(raw.headers))) {
    if (raw.body) {
      c.req.raw = new Request(raw.url, {
        method: raw.method,
        headers: withoutBody(raw.headers),
        signal: raw.signal,
      });
    }
  } else if (chunked && raw.body) {
    c.req.raw = new Request(raw, {
      body: clientErrorsOnly(raw.body),
      duplex: "half",
    } as RequestInit);
  }
  await next();
};

/** A body of unknown length follows (Transfer-Encoding, or no Content-Length on a body). */
export function isChunked(headers: Headers): boolean {
  return headers.has("transfer-encoding");
}

function hasLength(headers: Headers): boolean {
  const length = headers.get("content-length");
  return length !== null && length !== "0";
}

/** The raw request body; a body that cannot be read is the client's BAD_REQUEST. */
export async function readBody(c: Context): Promise<ArrayBuffer> {
  try {
    return await c.req.arrayBuffer();
  } catch (err) {
    if (err instanceof ApiError) throw err;
    throw unreadableBody();
  }
}

/** The headers without those describing a body (none follows any more). */
function withoutBody(headers: Headers): Headers {
  const out = new Headers(headers);
  for (const name of ["content-length", "transfer-encoding", "content-type", "content-encoding"])
    out.delete(name);
  return out;
}

function clientErrorsOnly(body: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      let chunk: Awaited<ReturnType<typeof reader.read>>;
      try {
        chunk = await reader.read();
      } catch {
        controller.error(unreadableBody());
        return;
      }
      if (chunk.done) controller.close();
      else controller.enqueue(chunk.value);
    },
    cancel: (reason) => reader.cancel(reason),
  });
}

export function unreadableBody(): ApiError {
  return new ApiError(
    "BAD_REQUEST",
    "The request body could not be read: invalid framing or a broken connection",
  );
}

import { OpenAPIHono } from "@hono/zod-openapi";
import type { Context, Env } from "hono";
import { HTTPException } from "hono/http-exception";
import { requestId } from "hono/request-id";
import { ApiError, PROBLEM_CONTENT_TYPE, toProblem } from "./errors";

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
  const problem = toProblem(err, {
    instance: new URL(c.req.url).pathname,
    requestId: c.get("requestId" as never) as string | undefined,
  });
  const body = hranaErrors ? { ...problem, message: problem.detail } : problem;
  const headers: Record<string, string> = {
    "Content-Type": hranaErrors ? "application/json" : PROBLEM_CONTENT_TYPE,
  };
  // The rest of an oversized body is not read: the connection cannot carry another request.
  if (err.code === "PAYLOAD_TOO_LARGE") headers.Connection = "close";
  return new Response(JSON.stringify(body), { status: err.status, headers });
}

/** Anything thrown becomes an ApiError; unexpected errors are logged and hidden. */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof HTTPException) {
    if (err.status === 413) return new ApiError("PAYLOAD_TOO_LARGE", err.message || undefined);
    if (err.status === 415) return new ApiError("UNSUPPORTED_MEDIA_TYPE", err.message || undefined);
    if (err.status === 401) return new ApiError("UNAUTHORIZED", err.message || undefined);
    if (err.status < 500) return new ApiError("BAD_REQUEST", err.message || undefined);
  }
  console.error("unexpected error", err);
  return new ApiError("INTERNAL_ERROR", "An unexpected error occurred; see the server log");
}

import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import { ApiError } from "../../core/errors";
import { bearerSecurity, DatabaseNameParam, problems } from "../../core/openapi";
import { createFunctionApp, type FunctionsEnv } from "../lib/context";
import { callerOf, callWorker } from "../lib/database";
import { manifestRoute } from "../route-table";

/** The worker's snapshot route (ours; sqld has none). */
const SNAPSHOT_PATH = "/dbforge/v1/snapshot";

export const route = createRoute({
  ...manifestRoute("data/export"),
  summary: "Export a database as SQL or as a SQLite file (streamed)",
  description:
    "A dump of one consistent snapshot, taken online (writers go on): schema, rows, then indexes, triggers and views, in one transaction, loadable with `sqlite3 db < dump.sql` or POST /admin/databases/{name}/import. `format=sqlite` streams a compact, consistent copy of the database file instead (VACUUM INTO, online). FTS and R-tree tables come out as their CREATE VIRTUAL TABLE and their rows (an external-content FTS table as a `rebuild`), never as shadow-table rows; 64-bit integers, reals and blobs are exact. Any token of the database (read-only too), or a key with data:read.",
  tags: ["Data"],
  security: bearerSecurity,
  request: {
    params: z.object({ name: DatabaseNameParam }),
    query: z.object({
      format: z.enum(["sql", "sqlite"]).default("sql").openapi({
        description: "`sql`: a dump; `sqlite`: the database file",
      }),
    }),
  },
  responses: {
    200: {
      description: "The dump, or the database file",
      content: {
        "application/sql": { schema: z.string() },
        "application/vnd.sqlite3": { schema: z.string().openapi({ format: "binary" }) },
      },
    },
    ...problems(400, 401, 403, 404, 429, 503),
  },
});

export const handler: RouteHandler<typeof route, FunctionsEnv> = async (c) => {
  const { name } = c.req.valid("param");
  const { format } = c.req.valid("query");
  const file = format === "sqlite";
  const caller = callerOf(c);
  const res = await callWorker(
    caller,
    name,
    (resolved) =>
      caller.transport.response(`${resolved.url}${file ? SNAPSHOT_PATH : "/dump"}`, {
        method: "GET",
        headers: { Authorization: `Bearer ${resolved.token}` },
      }),
    (r) => r.status === 401,
  );
  if (!res.ok || !res.body) {
    await res.body?.cancel();
    throw new ApiError(
      "WORKER_UNAVAILABLE",
      `The database's worker could not dump it (${res.status})`,
    );
  }
  return new Response(res.body, {
    status: 200,
    headers: {
      "Content-Type": file ? "application/vnd.sqlite3" : "application/sql; charset=utf-8",
      "Content-Disposition": `attachment; filename="${name}.${file ? "db" : "sql"}"`,
      ...(res.headers.get("content-length")
        ? { "Content-Length": res.headers.get("content-length") as string }
        : {}),
      "Cache-Control": "no-store",
    },
  }) as never;
};

export default createFunctionApp().openapi(route, handler);

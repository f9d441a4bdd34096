import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import { ApiError } from "../../core/errors";
import { bearerSecurity, DatabaseNameParam, problems } from "../../core/openapi";
import { createFunctionApp, type FunctionsEnv } from "../lib/context";
import { callerOf, callWorker } from "../lib/database";
import { manifestRoute } from "../route-table";

export const route = createRoute({
  ...manifestRoute("data/export"),
  summary: "Export a database as SQL (streamed)",
  description:
    "A dump of one consistent snapshot, taken online (writers go on): schema, rows, then indexes, triggers and views, in one transaction, loadable with `sqlite3 db < dump.sql` or POST /admin/databases/{name}/import. FTS and R-tree tables come out as their CREATE VIRTUAL TABLE and their rows (an external-content FTS table as a `rebuild`), never as shadow-table rows; 64-bit integers, reals and blobs are exact. Any token of the database (read-only too), or a key with data:read.",
  tags: ["Data"],
  security: bearerSecurity,
  request: {
    params: z.object({ name: DatabaseNameParam }),
    query: z.object({
      format: z.enum(["sql"]).default("sql").openapi({ description: "Only `sql` so far" }),
    }),
  },
  responses: {
    200: {
      description: "The dump",
      content: { "application/sql": { schema: z.string() } },
    },
    ...problems(400, 401, 403, 404, 429, 503),
  },
});

export const handler: RouteHandler<typeof route, FunctionsEnv> = async (c) => {
  const { name } = c.req.valid("param");
  const caller = callerOf(c);
  const res = await callWorker(
    caller,
    name,
    (resolved) =>
      caller.transport.response(`${resolved.url}/dump`, {
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
      "Content-Type": "application/sql; charset=utf-8",
      "Content-Disposition": `attachment; filename="${name}.sql"`,
      "Cache-Control": "no-store",
    },
  }) as never;
};

export default createFunctionApp().openapi(route, handler);

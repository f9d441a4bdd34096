import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import { bearerOf } from "../../core/bearer";
import { SQLITE_MEDIA_TYPE } from "../../core/control-plane-api";
import { BackupParams, bearerSecurity, problems } from "../../core/openapi";
import { createFunctionApp, type FunctionsEnv } from "../lib/context";
import { manifestRoute } from "../route-table";

export const route = createRoute({
  ...manifestRoute("backups/download"),
  summary: "Download a backup as a SQLite database file",
  description:
    "The database as the backup took it, decrypted and checked against its SHA-256, streamed. It opens with sqlite3 or any SQLite library, and imports as a new database (`POST /admin/databases/{name}/import`). Needs backups:read and data:read.",
  tags: ["Backups"],
  security: bearerSecurity,
  request: {
    params: BackupParams,
  },
  responses: {
    200: {
      description: "The database file",
      content: { [SQLITE_MEDIA_TYPE]: { schema: z.string().openapi({ format: "binary" }) } },
    },
    ...problems(401, 403, 404, 422, 429, 503),
  },
});

export const handler: RouteHandler<typeof route, FunctionsEnv> = async (c) => {
  const { name, id } = c.req.valid("param");
  const file = await c.get("controlPlane").downloadBackup(bearerOf(c), name, id);
  const headers = new Headers({ "Content-Type": SQLITE_MEDIA_TYPE });
  for (const header of ["content-length", "content-disposition"]) {
    const value = file.headers.get(header);
    if (value) headers.set(header, value);
  }
  return new Response(file.body, { status: 200, headers }) as never;
};

export default createFunctionApp().openapi(route, handler);

import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import { bearerOf } from "../../core/bearer";
import { BackupSchema } from "../../core/control-plane-api";
import { bearerSecurity, DatabaseNameParam, problems } from "../../core/openapi";
import { createFunctionApp, type FunctionsEnv } from "../lib/context";
import { manifestRoute } from "../route-table";

export const route = createRoute({
  ...manifestRoute("backups/create"),
  summary: "Back a database up now",
  description:
    "A new backup: a copy of the database file, taken online, encrypted (AES-256-GCM) and shipped to the backup target (a local directory or S3) before this answers. Every change after it is archived continuously, so the database can be restored to any instant from then on. Needs backups:manage.",
  tags: ["Backups"],
  security: bearerSecurity,
  request: { params: z.object({ name: DatabaseNameParam }) },
  responses: {
    201: { description: "Taken", content: { "application/json": { schema: BackupSchema } } },
    ...problems(401, 403, 404, 429, 503, 507),
  },
});

export const handler: RouteHandler<typeof route, FunctionsEnv> = async (c) => {
  const { name } = c.req.valid("param");
  return c.json(await c.get("controlPlane").createBackup(bearerOf(c), name), 201);
};

export default createFunctionApp().openapi(route, handler);

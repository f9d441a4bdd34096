import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import { bearerOf } from "../../core/bearer";
import { BackupListSchema } from "../../core/control-plane-api";
import { bearerSecurity, DatabaseNameParam, problems } from "../../core/openapi";
import { createFunctionApp, type FunctionsEnv } from "../lib/context";
import { manifestRoute } from "../route-table";

export const route = createRoute({
  ...manifestRoute("backups/list"),
  summary: "A database's backups, its schedule, and how far back it can be restored",
  description:
    "Newest first. Each backup records its size, SHA-256 and the engine that wrote it; `current` is the one the database's changes are archived against. `restorableFrom` is the earliest instant `POST …/restore` accepts. Needs backups:read.",
  tags: ["Backups"],
  security: bearerSecurity,
  request: { params: z.object({ name: DatabaseNameParam }) },
  responses: {
    200: { description: "Backups", content: { "application/json": { schema: BackupListSchema } } },
    ...problems(401, 403, 429, 503),
  },
});

export const handler: RouteHandler<typeof route, FunctionsEnv> = async (c) => {
  const { name } = c.req.valid("param");
  return c.json(await c.get("controlPlane").listBackups(bearerOf(c), name), 200);
};

export default createFunctionApp().openapi(route, handler);

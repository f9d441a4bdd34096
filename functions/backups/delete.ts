import { createRoute, type RouteHandler } from "@hono/zod-openapi";
import { bearerOf } from "../../core/bearer";
import { BackupParams, bearerSecurity, problems } from "../../core/openapi";
import { createFunctionApp, type FunctionsEnv } from "../lib/context";
import { manifestRoute } from "../route-table";

export const route = createRoute({
  ...manifestRoute("backups/delete"),
  summary: "Delete a backup",
  description:
    "Its base and archived changes go: the database can no longer be restored to instants only it covered. The current backup (the one changes are archived against) cannot be deleted: BACKUP_IN_USE (409). Needs backups:manage.",
  tags: ["Backups"],
  security: bearerSecurity,
  request: {
    params: BackupParams,
  },
  responses: {
    204: { description: "Deleted" },
    ...problems(401, 403, 404, 409, 429, 503),
  },
});

export const handler: RouteHandler<typeof route, FunctionsEnv> = async (c) => {
  const { name, id } = c.req.valid("param");
  await c.get("controlPlane").deleteBackup(bearerOf(c), name, id);
  return c.body(null, 204);
};

export default createFunctionApp().openapi(route, handler);

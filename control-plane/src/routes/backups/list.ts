import { createRoute } from "@hono/zod-openapi";
import { BackupListSchema, CONTROL_PLANE_API } from "../../../../core/control-plane-api";
import { bearerSecurity, NameParams, problems } from "../../../../core/openapi";
import { authorize, type ControlPlaneApp } from "../context";

export const route = createRoute({
  ...CONTROL_PLANE_API.listBackups,
  summary: "A database's backups (newest first), its schedule and how far back it can be restored",
  security: bearerSecurity,
  request: { params: NameParams },
  responses: {
    200: { description: "Backups", content: { "application/json": { schema: BackupListSchema } } },
    ...problems(401, 403),
  },
});

export function register(app: ControlPlaneApp): void {
  app.openapi(route, async (c) => {
    const { name } = c.req.valid("param");
    authorize(c, "backups:read", name);
    return c.json(await c.get("backups").list(name), 200);
  });
}

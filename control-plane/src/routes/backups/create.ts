import { createRoute } from "@hono/zod-openapi";
import { BackupSchema, CONTROL_PLANE_API } from "../../../../core/control-plane-api";
import { bearerSecurity, NameParams, problems } from "../../../../core/openapi";
import { audited, type ControlPlaneApp } from "../context";

export const route = createRoute({
  ...CONTROL_PLANE_API.createBackup,
  summary: "Back a database up now (a new base; changes after it are archived continuously)",
  security: bearerSecurity,
  request: { params: NameParams },
  responses: {
    201: {
      description: "Taken and shipped",
      content: { "application/json": { schema: BackupSchema } },
    },
    ...problems(401, 403, 404, 503, 507),
  },
});

export function register(app: ControlPlaneApp): void {
  app.openapi(route, async (c) => {
    const { name } = c.req.valid("param");
    const backup = await audited(
      c,
      { action: "backup.create", permission: "backups:manage", database: name },
      () => c.get("backups").create(name),
    );
    return c.json(backup, 201);
  });
}

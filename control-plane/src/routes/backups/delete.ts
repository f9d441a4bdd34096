import { createRoute } from "@hono/zod-openapi";
import { CONTROL_PLANE_API } from "../../../../core/control-plane-api";
import { BackupParams, bearerSecurity, problems } from "../../../../core/openapi";
import { audited, type ControlPlaneApp } from "../context";

export const route = createRoute({
  ...CONTROL_PLANE_API.deleteBackup,
  summary: "Delete a backup (not the one the database's changes are archived against)",
  security: bearerSecurity,
  request: {
    params: BackupParams,
  },
  responses: {
    204: { description: "Deleted" },
    ...problems(401, 403, 404, 409),
  },
});

export function register(app: ControlPlaneApp): void {
  app.openapi(route, async (c) => {
    const { name, id } = c.req.valid("param");
    await audited(
      c,
      { action: "backup.delete", permission: "backups:manage", database: name, detail: { id } },
      () => c.get("backups").remove(name, id),
    );
    return c.body(null, 204);
  });
}

import { createRoute } from "@hono/zod-openapi";
import {
  CONTROL_PLANE_API,
  DatabaseInfoSchema,
  UpdateDatabaseSchema,
} from "../../../../core/control-plane-api";
import { bearerSecurity, NameParams, problems } from "../../../../core/openapi";
import { audited, type ControlPlaneApp } from "../context";

export const route = createRoute({
  ...CONTROL_PLANE_API.updateDatabase,
  summary:
    "Change a database's settings: its quota (a running worker restarts to apply it) and its backup schedule",
  security: bearerSecurity,
  request: {
    params: NameParams,
    body: { required: true, content: { "application/json": { schema: UpdateDatabaseSchema } } },
  },
  responses: {
    200: {
      description: "The database with its new settings",
      content: { "application/json": { schema: DatabaseInfoSchema } },
    },
    ...problems(400, 401, 403, 404, 503),
  },
});

export function register(app: ControlPlaneApp): void {
  app.openapi(route, async (c) => {
    const { name } = c.req.valid("param");
    const changes = c.req.valid("json");
    const info = await audited(
      c,
      {
        action: "database.update",
        permission: "databases:update",
        database: name,
        detail: changes,
      },
      async () => {
        const { backupSchedule, ...settings } = changes;
        const info = await c.get("manager").update(name, settings);
        if (backupSchedule !== undefined) c.get("backups").setSchedule(name, backupSchedule);
        return info;
      },
    );
    return c.json(info, 200);
  });
}

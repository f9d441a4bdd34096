import { createRoute } from "@hono/zod-openapi";
import { CONTROL_PLANE_API } from "../../../../core/control-plane-api";
import { bearerSecurity, NameParams, problems } from "../../../../core/openapi";
import { audited, type ControlPlaneApp } from "../context";

export const route = createRoute({
  ...CONTROL_PLANE_API.deleteDatabase,
  summary: "Delete a database: its worker is stopped and its files removed",
  security: bearerSecurity,
  request: { params: NameParams },
  responses: {
    204: { description: "Deleted" },
    ...problems(401, 403, 404, 503),
  },
});

export function register(app: ControlPlaneApp): void {
  app.openapi(route, async (c) => {
    const { name } = c.req.valid("param");
    await audited(
      c,
      { action: "database.delete", permission: "databases:delete", database: name },
      () => c.get("manager").delete(name),
    );
    return c.body(null, 204);
  });
}

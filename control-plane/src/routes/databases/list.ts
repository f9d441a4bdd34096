import { createRoute } from "@hono/zod-openapi";
import { CONTROL_PLANE_API, DatabaseListSchema } from "../../../../core/control-plane-api";
import { bearerSecurity, problems } from "../../../../core/openapi";
import { scopeCovers } from "../../../../core/permissions";
import { authorize, type ControlPlaneApp } from "../context";

export const route = createRoute({
  ...CONTROL_PLANE_API.listDatabases,
  summary: "List databases",
  security: bearerSecurity,
  responses: {
    200: {
      description: "The databases in the credential's scope",
      content: { "application/json": { schema: DatabaseListSchema } },
    },
    ...problems(401, 403),
  },
});

export function register(app: ControlPlaneApp): void {
  app.openapi(route, (c) => {
    const principal = authorize(c, "databases:read");
    const databases = c
      .get("manager")
      .list()
      .filter((db) => scopeCovers(principal.scope, db.name));
    return c.json({ databases }, 200);
  });
}

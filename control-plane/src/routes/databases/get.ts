import { createRoute } from "@hono/zod-openapi";
import { CONTROL_PLANE_API, DatabaseInfoSchema } from "../../../../core/control-plane-api";
import { bearerSecurity, NameParams, problems } from "../../../../core/openapi";
import { type ControlPlaneApp, requireAdmin } from "../context";

export const route = createRoute({
  ...CONTROL_PLANE_API.getDatabase,
  summary: "Show a database",
  security: bearerSecurity,
  request: { params: NameParams },
  responses: {
    200: {
      description: "The database",
      content: { "application/json": { schema: DatabaseInfoSchema } },
    },
    ...problems(401, 404),
  },
});

export function register(app: ControlPlaneApp): void {
  app.openapi(route, (c) => {
    requireAdmin(c);
    return c.json(c.get("manager").get(c.req.valid("param").name), 200);
  });
}

import { createRoute } from "@hono/zod-openapi";
import { CONTROL_PLANE_API, DatabaseInfoSchema } from "../../../../core/control-plane-api";
import { bearerSecurity, NameParams, problems } from "../../../../core/openapi";
import { authorize, type ControlPlaneApp } from "../context";

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
    ...problems(401, 403, 404),
  },
});

export function register(app: ControlPlaneApp): void {
  app.openapi(route, (c) => {
    const { name } = c.req.valid("param");
    authorize(c, "databases:read", name);
    return c.json(c.get("manager").get(name), 200);
  });
}

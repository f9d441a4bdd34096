import { createRoute } from "@hono/zod-openapi";
import {
  CONTROL_PLANE_API,
  CreateDatabaseSchema,
  DatabaseInfoSchema,
} from "../../../../core/control-plane-api";
import { bearerSecurity, problems } from "../../../../core/openapi";
import { type ControlPlaneApp, requireAdmin } from "../context";

export const route = createRoute({
  ...CONTROL_PLANE_API.createDatabase,
  summary: "Create a database and start its worker",
  security: bearerSecurity,
  request: {
    body: { required: true, content: { "application/json": { schema: CreateDatabaseSchema } } },
  },
  responses: {
    201: {
      description: "Created",
      content: { "application/json": { schema: DatabaseInfoSchema } },
    },
    ...problems(400, 401, 409, 503, 507),
  },
});

export function register(app: ControlPlaneApp): void {
  app.openapi(route, async (c) => {
    requireAdmin(c);
    const { name, memoryMb } = c.req.valid("json");
    return c.json(
      await c.get("manager").create(name, memoryMb === undefined ? {} : { memoryMb }),
      201,
    );
  });
}

import { createRoute } from "@hono/zod-openapi";
import {
  CONTROL_PLANE_API,
  CreateDatabaseSchema,
  DatabaseInfoSchema,
} from "../../../../core/control-plane-api";
import { bearerSecurity, problems } from "../../../../core/openapi";
import { audited, type ControlPlaneApp } from "../context";

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
    ...problems(400, 401, 403, 409, 503, 507),
  },
});

export function register(app: ControlPlaneApp): void {
  app.openapi(route, async (c) => {
    const { name, memoryMb, quotaBytes } = c.req.valid("json");
    const options = {
      ...(memoryMb === undefined ? {} : { memoryMb }),
      ...(quotaBytes === undefined ? {} : { quotaBytes }),
    };
    const info = await audited(
      c,
      {
        action: "database.create",
        permission: "databases:create",
        database: name,
        detail: options,
      },
      () => c.get("manager").create(name, options),
    );
    return c.json(info, 201);
  });
}

import { createRoute } from "@hono/zod-openapi";
import {
  CONTROL_PLANE_API,
  DatabaseInfoSchema,
  ForkRequestSchema,
} from "../../../../core/control-plane-api";
import { bearerSecurity, NameParams, problems } from "../../../../core/openapi";
import { audited, authorize, type ControlPlaneApp } from "../context";

export const route = createRoute({
  ...CONTROL_PLANE_API.forkDatabase,
  summary: "Fork a database: a new one from a consistent snapshot of it, or from an instant",
  security: bearerSecurity,
  request: {
    params: NameParams,
    body: { required: true, content: { "application/json": { schema: ForkRequestSchema } } },
  },
  responses: {
    201: {
      description: "The fork",
      content: { "application/json": { schema: DatabaseInfoSchema } },
    },
    ...problems(400, 401, 403, 404, 409, 422, 503, 507),
  },
});

export function register(app: ControlPlaneApp): void {
  app.openapi(route, async (c) => {
    const { name } = c.req.valid("param");
    const { name: fork, timestamp } = c.req.valid("json");
    // The fork holds the source's data: reading it is needed as well as creating the fork.
    authorize(c, "data:read", name);
    const info = await audited(
      c,
      {
        action: "database.fork",
        permission: "databases:create",
        database: fork,
        detail: { from: name, ...(timestamp ? { timestamp } : {}) },
      },
      () =>
        c
          .get("backups")
          .fork(name, fork, timestamp === undefined ? undefined : Date.parse(timestamp)),
    );
    return c.json(info, 201);
  });
}

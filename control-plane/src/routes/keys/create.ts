import { createRoute } from "@hono/zod-openapi";
import {
  CONTROL_PLANE_API,
  CreatedKeySchema,
  CreateKeySchema,
} from "../../../../core/control-plane-api";
import { bearerSecurity, problems } from "../../../../core/openapi";
import { publicKey } from "../../api-keys";
import { audited, type ControlPlaneApp } from "../context";

export const route = createRoute({
  ...CONTROL_PLANE_API.createKey,
  summary: "Create an API key with a role and a scope of databases (shown once)",
  security: bearerSecurity,
  request: {
    body: { required: true, content: { "application/json": { schema: CreateKeySchema } } },
  },
  responses: {
    201: {
      description: "The new key; `key` is not shown again",
      content: { "application/json": { schema: CreatedKeySchema } },
    },
    ...problems(400, 401, 403),
  },
});

export function register(app: ControlPlaneApp): void {
  app.openapi(route, async (c) => {
    const { name, role, databases } = c.req.valid("json");
    const created = await audited(
      c,
      { action: "key.create", permission: "keys:manage", detail: { name, role, databases } },
      // keys:manage needs a key for every database, so no key can make one wider than itself.
      (principal) =>
        c.get("keys").create({ name, role, scope: databases, createdBy: principal.actor }),
    );
    return c.json({ ...publicKey(created.record), key: created.key }, 201);
  });
}

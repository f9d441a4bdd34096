import { createRoute } from "@hono/zod-openapi";
import { ApiKeySchema, CONTROL_PLANE_API, KeyIdParams } from "../../../../core/control-plane-api";
import { bearerSecurity, problems } from "../../../../core/openapi";
import { publicKey } from "../../api-keys";
import { audited, type ControlPlaneApp } from "../context";

export const route = createRoute({
  ...CONTROL_PLANE_API.revokeKey,
  summary: "Revoke an API key: every later request with it is refused",
  security: bearerSecurity,
  request: { params: KeyIdParams },
  responses: {
    200: {
      description: "The revoked key",
      content: { "application/json": { schema: ApiKeySchema } },
    },
    ...problems(400, 401, 403, 404),
  },
});

export function register(app: ControlPlaneApp): void {
  app.openapi(route, async (c) => {
    const { id } = c.req.valid("param");
    const revoked = await audited(
      c,
      { action: "key.revoke", permission: "keys:manage", detail: { key: id } },
      () => c.get("keys").revoke(id),
    );
    return c.json(publicKey(revoked), 200);
  });
}

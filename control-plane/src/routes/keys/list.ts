import { createRoute } from "@hono/zod-openapi";
import { CONTROL_PLANE_API, KeyListSchema } from "../../../../core/control-plane-api";
import { bearerSecurity, problems } from "../../../../core/openapi";
import { publicKey } from "../../api-keys";
import { authorize, type ControlPlaneApp } from "../context";

export const route = createRoute({
  ...CONTROL_PLANE_API.listKeys,
  summary: "List API keys (never their secrets), revoked ones included",
  security: bearerSecurity,
  responses: {
    200: { description: "Every key", content: { "application/json": { schema: KeyListSchema } } },
    ...problems(401, 403),
  },
});

export function register(app: ControlPlaneApp): void {
  app.openapi(route, (c) => {
    authorize(c, "keys:manage");
    return c.json({ keys: c.get("keys").list().map(publicKey) }, 200);
  });
}

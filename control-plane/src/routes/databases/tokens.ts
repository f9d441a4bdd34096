import { createRoute } from "@hono/zod-openapi";
import {
  CONTROL_PLANE_API,
  MintedTokenSchema,
  MintTokenSchema,
} from "../../../../core/control-plane-api";
import { bearerSecurity, NameParams, problems } from "../../../../core/openapi";
import { type ControlPlaneApp, requireAdmin } from "../context";

export const route = createRoute({
  ...CONTROL_PLANE_API.mintToken,
  summary: "Mint a token for one database (works with @libsql/client directly)",
  security: bearerSecurity,
  request: {
    params: NameParams,
    body: { required: true, content: { "application/json": { schema: MintTokenSchema } } },
  },
  responses: {
    201: {
      description: "A new token",
      content: { "application/json": { schema: MintedTokenSchema } },
    },
    ...problems(400, 401, 404),
  },
});

export function register(app: ControlPlaneApp): void {
  app.openapi(route, (c) => {
    requireAdmin(c);
    const { access, expiresIn } = c.req.valid("json");
    const minted = c.get("manager").mintToken(c.req.valid("param").name, access, expiresIn);
    return c.json({ token: minted.token, access, expiresAt: minted.expiresAt }, 201);
  });
}

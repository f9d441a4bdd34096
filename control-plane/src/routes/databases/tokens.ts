import { createRoute } from "@hono/zod-openapi";
import {
  CONTROL_PLANE_API,
  MintedTokenSchema,
  MintTokenSchema,
} from "../../../../core/control-plane-api";
import { bearerSecurity, NameParams, problems } from "../../../../core/openapi";
import { audited, type ControlPlaneApp } from "../context";

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
    ...problems(400, 401, 403, 404),
  },
});

export function register(app: ControlPlaneApp): void {
  app.openapi(route, async (c) => {
    const { name } = c.req.valid("param");
    const { access, expiresIn } = c.req.valid("json");
    const minted = await audited(
      c,
      {
        action: "token.mint",
        permission: "tokens:manage",
        database: name,
        detail: { access, expiresIn },
      },
      () => c.get("manager").mintToken(name, access, expiresIn),
    );
    return c.json({ token: minted.token, access, expiresAt: minted.expiresAt }, 201);
  });
}

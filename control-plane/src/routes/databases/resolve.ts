import { createRoute } from "@hono/zod-openapi";
import type { Access } from "../../../../core/access";
import { CONTROL_PLANE_API, ResolvedSchema } from "../../../../core/control-plane-api";
import { ApiError } from "../../../../core/errors";
import { bearerSecurity, NameParams, problems } from "../../../../core/openapi";
import { bearer, type ControlPlaneApp, principalOf } from "../context";

export const route = createRoute({
  ...CONTROL_PLANE_API.resolve,
  summary: "Where to reach a database: starts its worker if it is stopped",
  description:
    "Authorized by the admin token (full access), an API key whose scope covers the database (full access with data:write, read-only with data:read), or a token of this database (its own access). Returns the worker URL and a short-lived token with that access.",
  security: bearerSecurity,
  request: { params: NameParams },
  responses: {
    200: {
      description: "The running worker",
      content: { "application/json": { schema: ResolvedSchema } },
    },
    ...problems(401, 403, 404, 503),
  },
});

export function register(app: ControlPlaneApp): void {
  app.openapi(route, async (c) => {
    const { name } = c.req.valid("param");
    const manager = c.get("manager");
    const token = bearer(c);
    if (!token)
      throw new ApiError("UNAUTHORIZED", "Send a token as `Authorization: Bearer <token>`");
    const access = c.get("access");
    let credential: { access: Access; exp?: number | undefined };
    if (access.isAdminCredential(token)) {
      credential = { access: access.dataAccess(principalOf(c), name) };
    } else {
      credential = manager.authenticateDatabaseToken(name, token);
    }
    return c.json(await manager.resolve(name, credential.access, credential.exp), 200);
  });
}

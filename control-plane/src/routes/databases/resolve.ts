import { createRoute, z } from "@hono/zod-openapi";
import { ApiError } from "../../../../functions/lib/errors";
import { isAdminToken } from "../../admin-token";
import { bearer, bearerSecurity, type ControlPlaneApp } from "../context";
import { NameParams, problems } from "../schemas";

const Resolved = z
  .object({
    url: z.string().openapi({ description: "The worker's Hrana base URL" }),
    token: z.string().openapi({ description: "A short-lived token for the worker" }),
    access: z.enum(["read", "write"]),
    expiresAt: z.number().int().nullable(),
  })
  .openapi("Resolved");

export const route = createRoute({
  method: "post",
  path: "/v1/databases/{name}/resolve",
  summary: "Where to reach a database: starts its worker if it is stopped",
  description:
    "Authorized by the admin token (write access) or by a token of this database (its own access). Returns the worker URL and a short-lived token with that access.",
  security: bearerSecurity,
  request: { params: NameParams },
  responses: {
    200: {
      description: "The running worker",
      content: { "application/json": { schema: Resolved } },
    },
    ...problems(401, 403, 404, 503),
  },
});

export type ResolveResponse = z.infer<typeof Resolved>;

export function register(app: ControlPlaneApp): void {
  app.openapi(route, async (c) => {
    const { name } = c.req.valid("param");
    const manager = c.get("manager");
    const token = bearer(c);
    if (!token)
      throw new ApiError("UNAUTHORIZED", "Send a token as `Authorization: Bearer <token>`");
    const credential = isAdminToken(token, c.get("adminToken"))
      ? { access: "write" as const, exp: undefined }
      : manager.authenticateDatabaseToken(name, token);
    return c.json(await manager.resolve(name, credential.access, credential.exp), 200);
  });
}

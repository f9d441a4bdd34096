import { createRoute, z } from "@hono/zod-openapi";
import { bearerSecurity, type ControlPlaneApp, requireAdmin } from "../context";
import { NameParams, problems } from "../schemas";

const TokenRequest = z.object({
  access: z.enum(["read-only", "full-access"]).default("full-access"),
  /** Seconds; null for a token that never expires. */
  expiresIn: z
    .number()
    .int()
    .positive()
    .max(10 * 365 * 24 * 3600)
    .nullable()
    .default(3600),
});

const TokenResponse = z
  .object({
    token: z.string(),
    access: z.enum(["read-only", "full-access"]),
    expiresAt: z.number().int().nullable().openapi({ description: "Unix seconds" }),
  })
  .openapi("DatabaseToken");

export const route = createRoute({
  method: "post",
  path: "/v1/databases/{name}/tokens",
  summary: "Mint a token for one database (works with @libsql/client directly)",
  security: bearerSecurity,
  request: {
    params: NameParams,
    body: { required: true, content: { "application/json": { schema: TokenRequest } } },
  },
  responses: {
    201: { description: "A new token", content: { "application/json": { schema: TokenResponse } } },
    ...problems(400, 401, 404),
  },
});

export type CreateTokenBody = z.input<typeof TokenRequest>;
export type CreateTokenResponse = z.infer<typeof TokenResponse>;

export function register(app: ControlPlaneApp): void {
  app.openapi(route, (c) => {
    requireAdmin(c);
    const { access, expiresIn } = c.req.valid("json");
    const minted = c.get("manager").mintToken(c.req.valid("param").name, access, expiresIn);
    return c.json({ token: minted.token, access, expiresAt: minted.expiresAt }, 201);
  });
}

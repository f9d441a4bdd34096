import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import { AccessSchema } from "../../core/access";
import { bearerOf } from "../../core/bearer";
import { MintedTokenSchema } from "../../core/control-plane-api";
import { ApiError } from "../../core/errors";
import { bearerSecurity, DatabaseNameParam, problems } from "../../core/openapi";
import { createFunctionApp, type FunctionsEnv } from "../lib/context";
import { libsqlUrl } from "../lib/databases";
import { manifestRoute } from "../route-table";

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

const ExpiresIn = z
  .union([z.number().int().positive(), z.string().regex(/^\d+[smhd]$/), z.null()])
  .optional()
  .openapi({
    default: 86_400,
    description:
      'Seconds, or a duration like "30m", "12h", "7d"; null for no expiry. Default: 1 day',
  });

const TokenBody = z
  .object({
    access: AccessSchema.optional().openapi({ default: "full-access" }),
    expiresIn: ExpiresIn,
  })
  .openapi("CreateTokenRequest");

/** The control plane's minted token, plus the URL to use it at (this API's libSQL proxy). */
const TokenResponse = MintedTokenSchema.extend({
  url: z
    .string()
    .openapi({ description: "Use with @libsql/client: createClient({ url, authToken: token })" }),
}).openapi("DatabaseToken");

export const route = createRoute({
  ...manifestRoute("databases/tokens"),
  summary: "Mint a token for one database",
  description:
    "The token works with this API's /api/db/{name}/ routes and with @libsql/client at `url`.",
  tags: ["Databases"],
  security: bearerSecurity,
  request: {
    params: z.object({ name: DatabaseNameParam }),
    body: { required: true, content: { "application/json": { schema: TokenBody } } },
  },
  responses: {
    201: { description: "A new token", content: { "application/json": { schema: TokenResponse } } },
    ...problems(400, 401, 403, 404, 429, 503),
  },
});

export type CreateTokenRequest = z.input<typeof TokenBody>;
export type CreateTokenResponse = z.infer<typeof TokenResponse>;

function seconds(expiresIn: number | string | null): number | null {
  if (expiresIn === null || typeof expiresIn === "number") return expiresIn;
  const value = Number(expiresIn.slice(0, -1)) * (UNITS[expiresIn.slice(-1)] ?? 1);
  if (value <= 0) throw new ApiError("BAD_REQUEST", "expiresIn must be positive");
  return value;
}

export const handler: RouteHandler<typeof route, FunctionsEnv> = async (c) => {
  const { name } = c.req.valid("param");
  const { access = "full-access", expiresIn = 86_400 } = c.req.valid("json");
  const minted = await c
    .get("controlPlane")
    .mintToken(bearerOf(c), name, { access, expiresIn: seconds(expiresIn) });
  return c.json(
    {
      token: minted.token,
      url: libsqlUrl(c, name),
      access: minted.access,
      expiresAt: minted.expiresAt,
    },
    201,
  );
};

export default createFunctionApp().openapi(route, handler);

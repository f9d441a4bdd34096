import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import { bearerOf } from "../../core/bearer";
import { AuditPageSchema } from "../../core/control-plane-api";
import { bearerSecurity, problems } from "../../core/openapi";
import { createFunctionApp, type FunctionsEnv } from "../lib/context";
import { manifestRoute } from "../route-table";

const AuditQuery = z.object({
  database: z.string().max(200).optional(),
  actor: z.string().max(100).optional().openapi({ description: 'A key id, or "admin"' }),
  from: z.string().max(40).optional().openapi({ description: "ISO 8601 or Unix milliseconds" }),
  to: z.string().max(40).optional().openapi({ description: "ISO 8601 or Unix milliseconds" }),
  limit: z.string().max(5).optional().openapi({ description: "1-1000, default 100" }),
  cursor: z.string().max(20).optional().openapi({ description: "An earlier page's nextCursor" }),
});

export const route = createRoute({
  ...manifestRoute("audit/list"),
  summary: "The audit log, newest first",
  description:
    "Every admin action (database create, update, delete; token mint and revoke; key create and revoke) with its actor (a key id, or `admin`), time, client address and outcome (`ok` or the error code; refusals are FORBIDDEN). Append-only: the registry refuses to change or delete entries.",
  tags: ["Audit"],
  security: bearerSecurity,
  request: { query: AuditQuery },
  responses: {
    200: { description: "A page", content: { "application/json": { schema: AuditPageSchema } } },
    ...problems(400, 401, 403, 429, 503),
  },
});

export const handler: RouteHandler<typeof route, FunctionsEnv> = async (c) =>
  c.json(await c.get("controlPlane").audit(bearerOf(c), c.req.valid("query")), 200);

export default createFunctionApp().openapi(route, handler);

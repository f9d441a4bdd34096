import { createRoute } from "@hono/zod-openapi";
import {
  AuditPageSchema,
  AuditQuerySchema,
  CONTROL_PLANE_API,
} from "../../../core/control-plane-api";
import { bearerSecurity, problems } from "../../../core/openapi";
import { authorize, type ControlPlaneApp } from "./context";

export const route = createRoute({
  ...CONTROL_PLANE_API.audit,
  summary: "The audit log, newest first: every admin action with its actor, client and outcome",
  security: bearerSecurity,
  request: { query: AuditQuerySchema },
  responses: {
    200: { description: "A page", content: { "application/json": { schema: AuditPageSchema } } },
    ...problems(400, 401, 403),
  },
});

export function register(app: ControlPlaneApp): void {
  app.openapi(route, (c) => {
    authorize(c, "audit:read");
    const q = c.req.valid("query");
    const page = c.get("audit").query({
      limit: q.limit,
      ...(q.database === undefined ? {} : { database: q.database }),
      ...(q.actor === undefined ? {} : { actor: q.actor }),
      ...(q.from === undefined ? {} : { from: q.from }),
      ...(q.to === undefined ? {} : { to: q.to }),
      ...(q.cursor === undefined ? {} : { before: Number(q.cursor) }),
    });
    return c.json(
      {
        entries: page.entries.map((e) => ({ ...e, at: new Date(e.at).toISOString() })),
        nextCursor: page.nextCursor,
      },
      200,
    );
  });
}

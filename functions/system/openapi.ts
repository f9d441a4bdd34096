import { createRoute, OpenAPIHono, type RouteHandler, z } from "@hono/zod-openapi";
import { API_ROUTES } from "../api-routes";
import { createFunctionApp, type FunctionsEnv } from "../lib/context";

/** The OpenAPI 3.1 document of every route, from the routes' own definitions. */
export function buildDocument(serverUrl: string) {
  const registry = new OpenAPIHono();
  for (const definition of [...API_ROUTES, route])
    registry.openAPIRegistry.registerPath(definition);
  registry.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", {
    type: "http",
    scheme: "bearer",
    description:
      "The admin token, or a database token minted by POST /admin/databases/{name}/tokens",
  });
  return registry.getOpenAPI31Document({
    openapi: "3.1.0",
    info: {
      title: "DB-Forge API",
      version: "0.1.0",
      description:
        "Self-hosted SQLite databases on libSQL. Errors are RFC 9457 problem details (application/problem+json) with a stable `code`.",
    },
    servers: [{ url: serverUrl }],
  });
}

export const route = createRoute({
  method: "get",
  path: "/openapi.json",
  summary: "This API's OpenAPI 3.1 document",
  tags: ["System"],
  responses: {
    200: {
      description: "OpenAPI document",
      content: { "application/json": { schema: z.object({}).passthrough() } },
    },
  },
});

let cached: { origin: string; doc: unknown } | undefined;

export const handler: RouteHandler<typeof route, FunctionsEnv> = (c) => {
  const origin = c.get("config").DBFORGE_PUBLIC_URL ?? new URL(c.req.url).origin;
  if (cached?.origin !== origin) cached = { origin, doc: buildDocument(origin) };
  return c.json(cached.doc as Record<string, unknown>, 200);
};

export default createFunctionApp().openapi(route, handler);

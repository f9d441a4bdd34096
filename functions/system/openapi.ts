import {
  createRoute,
  OpenAPIHono,
  type RouteConfig,
  type RouteHandler,
  z,
} from "@hono/zod-openapi";
import { createFunctionApp, type FunctionsEnv } from "../lib/context";
import { manifestRoute } from "../route-table";
import { HOST_ROUTES } from "./metrics-route";

/** The OpenAPI 3.1 document of `routes` (every entry's, see ENTRY_ROUTES). */
export function buildDocument(serverUrl: string, routes: RouteConfig[]) {
  const registry = new OpenAPIHono();
  for (const definition of [...routes, ...HOST_ROUTES])
    registry.openAPIRegistry.registerPath(definition);
  registry.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", {
    type: "http",
    scheme: "bearer",
    description:
      "An API key (POST /admin/keys), the admin token, or a database token minted by POST /admin/databases/{name}/tokens",
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
  ...manifestRoute("system/openapi"),
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

export const handler: RouteHandler<typeof route, FunctionsEnv> = async (c) => {
  const origin = c.get("config").DBFORGE_PUBLIC_URL ?? new URL(c.req.url).origin;
  if (cached?.origin !== origin) {
    // Loaded when first asked for: the entries include this module.
    const { ENTRY_ROUTES } = await import("../entries");
    cached = { origin, doc: buildDocument(origin, ENTRY_ROUTES) };
  }
  return c.json(cached.doc as Record<string, unknown>, 200);
};

export default createFunctionApp().openapi(route, handler);

import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import { createFunctionApp, type FunctionsEnv } from "../lib/context";
import { manifestRoute } from "../route-table";
import { DOCS_HTML } from "./docs-page";

export const route = createRoute({
  ...manifestRoute("system/docs"),
  summary: "Interactive API reference",
  tags: ["System"],
  responses: {
    200: { description: "HTML page", content: { "text/html": { schema: z.string() } } },
  },
});

export const handler: RouteHandler<typeof route, FunctionsEnv> = (c) => c.html(DOCS_HTML, 200);

export default createFunctionApp().openapi(route, handler);

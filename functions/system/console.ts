import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import { ApiError } from "../../core/errors";
import { createFunctionApp, type FunctionsContext, type FunctionsEnv } from "../lib/context";
import { manifestRoute } from "../route-table";

/**
 * The web console: a static single-page app (built by Vite from functions/console into
 * dist/console) served from the ASSETS binding: Workers static assets on Cloudflare, a
 * directory-backed binding in the Node host and under Miniflare.
 */
export const route = createRoute({
  ...manifestRoute("system/console"),
  summary: "The web console",
  tags: ["System"],
  responses: {
    200: {
      description: "The console's HTML page",
      content: { "text/html": { schema: z.string() } },
    },
  },
});

interface AssetsBinding {
  fetch(request: Request): Promise<Response>;
}

/**
 * Static files are plain GETs: the binding gets the method, URL and caching headers only, never
 * hop-by-hop ones (an `Upgrade: websocket` or `Expect` on a file request made Miniflare's
 * binding fail with a 5xx; there is nothing to upgrade or continue here).
 */
const ASSET_HEADERS = ["accept", "accept-encoding", "if-none-match", "if-modified-since", "range"];

function serve(c: FunctionsContext): Promise<Response> {
  const assets = c.env.ASSETS as AssetsBinding | undefined;
  if (!assets)
    throw new ApiError("NOT_FOUND", "The console is not deployed here (no ASSETS binding)");
  const headers = new Headers();
  for (const name of ASSET_HEADERS) {
    const value = c.req.header(name);
    if (value !== undefined) headers.set(name, value);
  }
  return assets.fetch(new Request(c.req.url, { method: c.req.method, headers }));
}

export const handler: RouteHandler<typeof route, FunctionsEnv> = (c) => serve(c) as never;

const app = createFunctionApp().openapi(route, handler);
app.get("/assets/*", serve);
app.get("/favicon.svg", serve);

export default app;

import { createRoute, z } from "@hono/zod-openapi";
import { bearerSecurity, DatabaseNameParam, problems } from "../../core/openapi";
import { createFunctionApp } from "../lib/context";
import { manifestRoute } from "../route-table";
import { handler } from "./delete";

export const route = createRoute({
  ...manifestRoute("databases/prune"),
  summary: "Delete a database (alias of DELETE /admin/databases/{name})",
  tags: ["Databases"],
  security: bearerSecurity,
  request: { params: z.object({ name: DatabaseNameParam }) },
  responses: { 204: { description: "Deleted" }, ...problems(401, 403, 404, 429, 503) },
});

/** The same handler as DELETE /admin/databases/{name}: same parameters, same answers. */
export { handler };

export default createFunctionApp().openapi(route, handler);

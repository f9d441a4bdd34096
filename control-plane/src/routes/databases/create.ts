import { createRoute, z } from "@hono/zod-openapi";
import { bearerSecurity, type ControlPlaneApp, requireAdmin } from "../context";
import { DatabaseInfo, problems } from "../schemas";

export const route = createRoute({
  method: "post",
  path: "/v1/databases",
  summary: "Create a database and start its worker",
  security: bearerSecurity,
  request: {
    body: {
      required: true,
      content: {
        "application/json": {
          schema: z.object({
            name: z.string().min(1).max(200),
            memoryMb: z.number().int().min(128).max(65_536).optional(),
          }),
        },
      },
    },
  },
  responses: {
    201: { description: "Created", content: { "application/json": { schema: DatabaseInfo } } },
    ...problems(400, 401, 409, 503, 507),
  },
});

export type CreateDatabaseBody = z.infer<
  (typeof route.request.body.content)["application/json"]["schema"]
>;
export type CreateDatabaseResponse = z.infer<typeof DatabaseInfo>;

export function register(app: ControlPlaneApp): void {
  app.openapi(route, async (c) => {
    requireAdmin(c);
    const { name, memoryMb } = c.req.valid("json");
    return c.json(
      await c.get("manager").create(name, memoryMb === undefined ? {} : { memoryMb }),
      201,
    );
  });
}

/** OpenAPI building blocks every DB-Forge HTTP API shares (functions and control plane). */
import { z } from "@hono/zod-openapi";
import { ERROR_CODES } from "./errors";

export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.enum(Object.keys(ERROR_CODES) as [keyof typeof ERROR_CODES]),
    instance: z.string().optional(),
    requestId: z.string().optional(),
  })
  .openapi("Problem", { description: "RFC 9457 problem details with a stable `code`" });

/** Problem responses for the given statuses, for a route's `responses`. */
export function problems(...statuses: number[]) {
  return Object.fromEntries(
    statuses.map((status) => [
      status,
      {
        description: "Error (RFC 9457 problem details)",
        content: { "application/problem+json": { schema: ProblemSchema } },
      },
    ]),
  );
}

export const DatabaseNameParam = z.string().openapi({
  param: { name: "name", in: "path" },
  example: "my-app",
  description: "Database name: a DNS label ([a-z0-9-], 1-63 characters)",
});

export const NameParams = z.object({ name: DatabaseNameParam });

/** A database's backup: `/…/databases/{name}/backups/{id}`. */
export const BackupParams = z.object({
  name: DatabaseNameParam,
  id: z
    .string()
    .max(100)
    .openapi({ param: { name: "id", in: "path" }, description: "A backup's id, as listed" }),
});

/** Every authenticated route: `Authorization: Bearer <token>` (see bearerAuthScheme). */
export const bearerSecurity = [{ bearerAuth: [] }];

export const bearerAuthScheme = { type: "http", scheme: "bearer" } as const;

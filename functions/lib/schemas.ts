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

export const TableNameParam = z
  .string()
  .min(1)
  .max(128)
  .openapi({ param: { name: "table", in: "path" }, example: "users" });

export const DatabaseSchema = z
  .object({
    name: z.string(),
    status: z.enum(["creating", "running", "stopped", "deleting"]),
    createdAt: z.string().openapi({ format: "date-time" }),
    lastActiveAt: z.string().openapi({ format: "date-time" }),
    sizeBytes: z.number().int(),
    url: z.string().openapi({ description: "libSQL URL for @libsql/client (through this API)" }),
    restarts: z.number().int(),
    lastError: z.string().nullable(),
    memoryMb: z.number().int().openapi({ description: "Memory cap of the database's worker, MiB" }),
  })
  .openapi("Database");

/** Errors every data route can return. */
export const DATA_ERRORS = [400, 401, 403, 404, 409, 413, 503, 504] as const;

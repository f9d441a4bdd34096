import { z } from "@hono/zod-openapi";
import { DatabaseInfoSchema } from "../../core/control-plane-api";

export const TableNameParam = z
  .string()
  .min(1)
  .max(128)
  .openapi({ param: { name: "table", in: "path" }, example: "users" });

/** A database as users see it: the public libSQL URL instead of the worker's internal one. */
export const DatabaseSchema = DatabaseInfoSchema.extend({
  url: z.string().openapi({ description: "libSQL URL for @libsql/client (through this API)" }),
})
  .omit({ workerId: true })
  .openapi("Database");

/** Errors every data route can return. */
export const DATA_ERRORS = [400, 401, 403, 404, 409, 413, 429, 503, 504, 507] as const;

/** `from` and `to` of a usage query, passed on to the control plane (which parses them). */
export const UsageWindowQuery = z.object({
  from: z
    .string()
    .max(40)
    .optional()
    .openapi({ description: "ISO 8601 or Unix milliseconds; default: a day before `to`" }),
  to: z
    .string()
    .max(40)
    .optional()
    .openapi({ description: "ISO 8601 or Unix milliseconds; default: now" }),
});

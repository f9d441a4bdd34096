import { z } from "@hono/zod-openapi";
import { DatabaseNameParam } from "../../../functions/lib/schemas";

export const NameParams = z.object({ name: DatabaseNameParam });

export const DatabaseInfo = z
  .object({
    name: z.string(),
    status: z.enum(["creating", "running", "stopped", "deleting"]),
    createdAt: z.string().openapi({ format: "date-time" }),
    lastActiveAt: z.string().openapi({ format: "date-time" }),
    sizeBytes: z.number().int(),
    url: z
      .string()
      .nullable()
      .openapi({ description: "The worker's internal Hrana URL while it runs" }),
    workerId: z
      .string()
      .nullable()
      .openapi({ description: "Container id or process id while it runs" }),
    restarts: z.number().int(),
    lastError: z.string().nullable(),
    memoryMb: z.number().int(),
  })
  .openapi("Database");

export { problems } from "../../../functions/lib/schemas";

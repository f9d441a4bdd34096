/**
 * The control plane's API contract, shared by its server (control-plane/src/routes) and its one
 * client (the functions' ControlPlaneClient): paths and schemas are written here once, and the
 * wire types are inferred from the schemas.
 */
import { z } from "@hono/zod-openapi";
import { AccessSchema } from "./access";

export const DATABASE_STATUSES = ["creating", "running", "stopped", "deleting"] as const;

/**
 * - creating: registered, worker being started (a crash here is cleaned up on the next start)
 * - running: the worker should be up; the health loop restarts it if it is not
 * - stopped: stopped when idle (scale to zero); the next resolve starts it
 * - deleting: being removed (a crash here is finished on the next start)
 */
export type DatabaseStatus = (typeof DATABASE_STATUSES)[number];

export const DatabaseInfoSchema = z
  .object({
    name: z.string(),
    status: z.enum(DATABASE_STATUSES),
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
    memoryMb: z.number().int().openapi({ description: "Memory cap of the database's worker, MiB" }),
  })
  .openapi("Database");

export type DatabaseInfo = z.infer<typeof DatabaseInfoSchema>;

export const DatabaseListSchema = z.object({ databases: z.array(DatabaseInfoSchema) });

export const MEMORY_MB = { min: 128, max: 65_536 } as const;

export const CreateDatabaseSchema = z.object({
  name: z.string().min(1).max(200).openapi({ example: "my-app" }),
  memoryMb: z.number().int().min(MEMORY_MB.min).max(MEMORY_MB.max).optional().openapi({
    description:
      "Memory cap of the database's worker in MiB (SQLite, JavaScript heap and OS limit); default: the server's DBFORGE_WORKER_MEMORY_MB",
  }),
});

export type CreateDatabaseRequest = z.infer<typeof CreateDatabaseSchema>;

/** Longest token lifetime, in seconds (ten years). */
export const MAX_TOKEN_LIFETIME_S = 10 * 365 * 24 * 3600;

export const MintTokenSchema = z.object({
  access: AccessSchema.default("full-access"),
  /** Seconds; null for a token that never expires. */
  expiresIn: z.number().int().positive().max(MAX_TOKEN_LIFETIME_S).nullable().default(3600),
});

export type MintTokenRequest = z.input<typeof MintTokenSchema>;

export const MintedTokenSchema = z
  .object({
    token: z.string(),
    access: AccessSchema,
    expiresAt: z
      .number()
      .int()
      .nullable()
      .openapi({ description: "Unix seconds; null if it never expires" }),
  })
  .openapi("DatabaseToken");

export type MintedToken = z.infer<typeof MintedTokenSchema>;

export const ResolvedSchema = z
  .object({
    url: z.string().openapi({ description: "The worker's Hrana base URL" }),
    token: z.string().openapi({ description: "A short-lived token for the worker" }),
    access: AccessSchema,
    expiresAt: z.number().int().nullable(),
  })
  .openapi("Resolved");

export type Resolved = z.infer<typeof ResolvedSchema>;

export const HealthSchema = z.object({
  status: z.literal("ok"),
  driver: z.string(),
  /** True until start-up recovery (adopting and reaping workers) has finished. */
  recovering: z.boolean(),
});

/** Every route of the control plane: its server and its client take method and path from here. */
export const CONTROL_PLANE_API = {
  health: { method: "get", path: "/health" },
  openapi: { method: "get", path: "/openapi.json" },
  createDatabase: { method: "post", path: "/v1/databases" },
  listDatabases: { method: "get", path: "/v1/databases" },
  getDatabase: { method: "get", path: "/v1/databases/{name}" },
  deleteDatabase: { method: "delete", path: "/v1/databases/{name}" },
  mintToken: { method: "post", path: "/v1/databases/{name}/tokens" },
  revokeTokens: { method: "post", path: "/v1/databases/{name}/tokens/revoke" },
  resolve: { method: "post", path: "/v1/databases/{name}/resolve" },
} as const satisfies Record<string, { method: "get" | "post" | "delete"; path: string }>;

export type ControlPlaneRoute = keyof typeof CONTROL_PLANE_API;

/** A route's path with the database's name filled in (percent-encoded). */
export function controlPlanePath(route: ControlPlaneRoute, name?: string): string {
  const { path } = CONTROL_PLANE_API[route];
  return name === undefined ? path : path.replace("{name}", encodeURIComponent(name));
}

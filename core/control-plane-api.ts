/**
 * The control plane's API contract, shared by its server (control-plane/src/routes) and its one
 * client (the functions' ControlPlaneClient): paths and schemas are written here once, and the
 * wire types are inferred from the schemas.
 */
import { z } from "@hono/zod-openapi";
import { AccessSchema } from "./access";
import { PERMISSIONS, RoleSchema, ScopeSchema } from "./permissions";

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
    quotaBytes: z.number().int().openapi({
      description:
        "Largest size of the database in bytes: past it writes fail with QUOTA_EXCEEDED (507), while deletes and VACUUM still work",
    }),
  })
  .openapi("Database");

export type DatabaseInfo = z.infer<typeof DatabaseInfoSchema>;

export const DatabaseListSchema = z.object({ databases: z.array(DatabaseInfoSchema) });

export const MEMORY_MB = { min: 128, max: 65_536 } as const;

/** Bounds of a database quota: at least a few pages, at most 16 TiB (SQLite's own limit is higher). */
export const QUOTA_BYTES = { min: 64 * 1024, max: 16 * 1024 ** 4 } as const;

const QuotaBytesSchema = z.number().int().min(QUOTA_BYTES.min).max(QUOTA_BYTES.max);

export const CreateDatabaseSchema = z.object({
  name: z.string().min(1).max(200).openapi({ example: "my-app" }),
  memoryMb: z.number().int().min(MEMORY_MB.min).max(MEMORY_MB.max).optional().openapi({
    description:
      "Memory cap of the database's worker in MiB (SQLite, JavaScript heap and OS limit); default: the server's DBFORGE_WORKER_MEMORY_MB",
  }),
  quotaBytes: QuotaBytesSchema.optional().openapi({
    description:
      "Largest size of the database in bytes; default: the server's DBFORGE_DEFAULT_QUOTA",
  }),
});

export const UpdateDatabaseSchema = z
  .object({
    quotaBytes: QuotaBytesSchema.nullable().optional().openapi({
      description: "A new quota in bytes; null: back to the server's default",
    }),
  })
  .openapi("UpdateDatabaseRequest");

export type UpdateDatabaseRequest = z.infer<typeof UpdateDatabaseSchema>;

export type CreateDatabaseRequest = z.infer<typeof CreateDatabaseSchema>;

/** A new database's settings, as query parameters of a request whose body is its data. */
export const NewDatabaseQuerySchema = z.object({
  memoryMb: z.coerce.number().int().min(MEMORY_MB.min).max(MEMORY_MB.max).optional(),
  quotaBytes: z.coerce.number().int().min(QUOTA_BYTES.min).max(QUOTA_BYTES.max).optional(),
});

export type NewDatabaseQuery = z.infer<typeof NewDatabaseQuerySchema>;

/** The media type of a SQLite database file. */
export const SQLITE_MEDIA_TYPE = "application/vnd.sqlite3";

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

export const CreateKeySchema = z
  .object({
    name: z.string().trim().min(1).max(100).openapi({ example: "ci deploys" }),
    role: RoleSchema,
    databases: ScopeSchema.default("*"),
  })
  .openapi("CreateKeyRequest");

export type CreateKeyRequest = z.input<typeof CreateKeySchema>;

export const ApiKeySchema = z
  .object({
    id: z.string().openapi({ description: "Public id: audit entries name it, revoke takes it" }),
    name: z.string(),
    role: RoleSchema,
    databases: ScopeSchema,
    createdAt: z.string().openapi({ format: "date-time" }),
    createdBy: z.string().openapi({ description: 'Id of the key that created it, or "admin"' }),
    revokedAt: z.string().nullable().openapi({ format: "date-time" }),
  })
  .openapi("ApiKey");

export type ApiKey = z.infer<typeof ApiKeySchema>;

export const CreatedKeySchema = ApiKeySchema.extend({
  key: z.string().openapi({ description: "The key itself: shown this once, stored only hashed" }),
}).openapi("CreatedApiKey");

export type CreatedKey = z.infer<typeof CreatedKeySchema>;

export const KeyListSchema = z.object({ keys: z.array(ApiKeySchema) });

export const KeyIdParams = z.object({
  id: z
    .string()
    .regex(/^[a-z0-9]{12}$/, "a key id: 12 characters [a-z0-9]")
    .openapi({ param: { name: "id", in: "path" }, example: "3f9a0c1b2d4e" }),
});

export const WhoAmISchema = z
  .object({
    actor: z.string(),
    name: z.string(),
    role: RoleSchema,
    databases: ScopeSchema,
    permissions: z.array(z.enum(PERMISSIONS)),
  })
  .openapi("WhoAmI");

export type WhoAmI = z.infer<typeof WhoAmISchema>;

/** An instant in a query string: ISO 8601 (a date or a date-time) or Unix milliseconds. */
export const InstantSchema = z
  .string()
  .transform((text, ctx) => {
    const ms = /^\d{1,15}$/.test(text) ? Number(text) : Date.parse(text);
    if (!Number.isFinite(ms)) {
      ctx.addIssue({ code: "custom", message: `not a date or date-time: "${text}"` });
      return z.NEVER;
    }
    return ms;
  })
  .openapi({ type: "string", example: "2026-12-01T00:00:00Z" });

export const AuditQuerySchema = z.object({
  database: z.string().max(200).optional(),
  actor: z.string().max(100).optional(),
  from: InstantSchema.optional(),
  to: InstantSchema.optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z
    .string()
    .regex(/^\d{1,15}$/, "a cursor from an earlier page's nextCursor")
    .optional(),
});

export const AuditEntrySchema = z
  .object({
    id: z.number().int(),
    at: z.string().openapi({ format: "date-time" }),
    actor: z.string().openapi({ description: 'The API key\'s id, or "admin" for the admin token' }),
    action: z.string().openapi({ example: "database.create" }),
    database: z.string().nullable(),
    client: z.string().openapi({ description: "The client's address" }),
    outcome: z.string().openapi({ description: '"ok", or the error code the action failed with' }),
    detail: z.record(z.string(), z.unknown()).nullable(),
  })
  .openapi("AuditEntry");

export const AuditPageSchema = z
  .object({
    entries: z.array(AuditEntrySchema),
    nextCursor: z
      .string()
      .nullable()
      .openapi({ description: "Pass as `cursor` for older entries" }),
  })
  .openapi("AuditPage");

export type AuditPage = z.infer<typeof AuditPageSchema>;

const UsageCountsSchema = z.object({
  statements: z.number().int(),
  rowsRead: z.number().int(),
  rowsWritten: z.number().int(),
  errors: z.number().int(),
});

export const UsageQuerySchema = z.object({
  from: InstantSchema.optional().openapi({ description: "Default: 24 hours before `to`" }),
  to: InstantSchema.optional().openapi({ description: "Default: now" }),
});

export const DatabaseUsageSchema = z
  .object({
    database: z.string(),
    from: z.string().openapi({ format: "date-time" }),
    to: z.string().openapi({ format: "date-time" }),
    totals: UsageCountsSchema,
    storageBytes: z.number().int(),
    quotaBytes: z.number().int(),
    hours: z.array(UsageCountsSchema.extend({ hour: z.string().openapi({ format: "date-time" }) })),
  })
  .openapi("DatabaseUsage");

export type DatabaseUsage = z.infer<typeof DatabaseUsageSchema>;

export const UsageSummarySchema = z
  .object({
    from: z.string().openapi({ format: "date-time" }),
    to: z.string().openapi({ format: "date-time" }),
    totals: UsageCountsSchema.extend({ storageBytes: z.number().int() }),
    databases: z.array(
      UsageCountsSchema.extend({ database: z.string(), storageBytes: z.number().int() }),
    ),
  })
  .openapi("UsageSummary");

export type UsageSummary = z.infer<typeof UsageSummarySchema>;

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
  importDatabaseFile: { method: "post", path: "/v1/databases/{name}/import" },
  updateDatabase: { method: "patch", path: "/v1/databases/{name}" },
  databaseUsage: { method: "get", path: "/v1/databases/{name}/usage" },
  mintToken: { method: "post", path: "/v1/databases/{name}/tokens" },
  revokeTokens: { method: "post", path: "/v1/databases/{name}/tokens/revoke" },
  resolve: { method: "post", path: "/v1/databases/{name}/resolve" },
  usage: { method: "get", path: "/v1/usage" },
  createKey: { method: "post", path: "/v1/keys" },
  listKeys: { method: "get", path: "/v1/keys" },
  revokeKey: { method: "delete", path: "/v1/keys/{id}" },
  audit: { method: "get", path: "/v1/audit" },
  whoami: { method: "get", path: "/v1/whoami" },
  metrics: { method: "get", path: "/metrics" },
} as const satisfies Record<string, { method: "get" | "post" | "patch" | "delete"; path: string }>;

export type ControlPlaneRoute = keyof typeof CONTROL_PLANE_API;

/** A route's path with its one parameter (a database's name, a key's id) filled in, encoded. */
export function controlPlanePath(route: ControlPlaneRoute, param?: string): string {
  const { path } = CONTROL_PLANE_API[route];
  return param === undefined ? path : path.replace(/\{(?:name|id)\}/, encodeURIComponent(param));
}

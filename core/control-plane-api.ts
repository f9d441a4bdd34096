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

export const BackupScheduleSchema = z
  .object({
    intervalS: z
      .number()
      .int()
      .min(60)
      .max(366 * 86_400)
      .openapi({
        description:
          "A new backup (base) this often, in seconds; changes in between are archived continuously",
      }),
    keep: z.number().int().min(1).max(1000).openapi({ description: "At most this many backups" }),
    maxAgeS: z
      .number()
      .int()
      .min(60)
      .max(10 * 366 * 86_400)
      .openapi({
        description: "Backups older than this (seconds) are pruned; the newest is always kept",
      }),
  })
  .openapi("BackupSchedule");

export type BackupSchedule = z.infer<typeof BackupScheduleSchema>;

export const UpdateDatabaseSchema = z
  .object({
    quotaBytes: QuotaBytesSchema.nullable().optional().openapi({
      description: "A new quota in bytes; null: back to the server's default",
    }),
    backupSchedule: BackupScheduleSchema.partial().nullable().optional().openapi({
      description:
        "The database's own backup schedule and retention (what it omits, and null, take the server's defaults)",
    }),
  })
  .openapi("UpdateDatabaseRequest");

export type UpdateDatabaseRequest = z.infer<typeof UpdateDatabaseSchema>;

export type CreateDatabaseRequest = z.infer<typeof CreateDatabaseSchema>;

export const BackupSchema = z
  .object({
    id: z.string(),
    database: z.string(),
    createdAt: z.string().openapi({ format: "date-time" }),
    sizeBytes: z.number().int().openapi({ description: "The database file's size" }),
    sha256: z.string().openapi({ description: "SHA-256 of the database file (before encryption)" }),
    engine: z.string().openapi({ description: "The engine and version that wrote it" }),
    encryptedBytes: z.number().int(),
    keyId: z.string().openapi({ description: "Which key encrypts it (a hash, not the key)" }),
    target: z.string().openapi({ description: "local or s3" }),
    current: z.boolean().openapi({
      description: "Changes since are archived against this backup (it cannot be deleted)",
    }),
  })
  .openapi("Backup");

export type BackupInfo = z.infer<typeof BackupSchema>;

export const BackupListSchema = z
  .object({
    schedule: BackupScheduleSchema,
    /** The earliest instant a restore can go back to, and the latest (now, while archiving). */
    restorableFrom: z.string().openapi({ format: "date-time" }).nullable(),
    backups: z.array(BackupSchema),
  })
  .openapi("BackupList");

export type BackupList = z.infer<typeof BackupListSchema>;

export const RestoreRequestSchema = z
  .object({
    backupId: z.string().min(1).max(100).optional().openapi({ description: "Restore this backup" }),
    timestamp: z.string().datetime({ offset: true }).optional().openapi({
      description: "Or: the database as it was at this instant (RFC 3339), within retention",
    }),
    as: z.string().min(1).max(200).optional().openapi({
      description: "Restore into a new database of this name and leave the source untouched",
    }),
  })
  .refine((r) => (r.backupId === undefined) !== (r.timestamp === undefined), {
    message: "Give either backupId or timestamp",
  })
  .openapi("RestoreRequest");

export type RestoreRequest = z.infer<typeof RestoreRequestSchema>;

export const ForkRequestSchema = z
  .object({
    name: z.string().min(1).max(200).openapi({ description: "The new database" }),
    timestamp: z.string().datetime({ offset: true }).optional().openapi({
      description:
        "Fork the database as it was at this instant; default: now (a consistent snapshot)",
    }),
  })
  .openapi("ForkRequest");

export type ForkRequest = z.infer<typeof ForkRequestSchema>;

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
    awakeForMs: z
      .number()
      .int()
      .nonnegative()
      .nullable()
      .openapi({
        description:
          "How long the worker is sure to keep running from this answer without further use: " +
          "an address is not worth keeping longer. Null: it never stops when idle",
      }),
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
  createBackup: { method: "post", path: "/v1/databases/{name}/backups" },
  listBackups: { method: "get", path: "/v1/databases/{name}/backups" },
  deleteBackup: { method: "delete", path: "/v1/databases/{name}/backups/{id}" },
  downloadBackup: { method: "get", path: "/v1/databases/{name}/backups/{id}/file" },
  restoreDatabase: { method: "post", path: "/v1/databases/{name}/restore" },
  forkDatabase: { method: "post", path: "/v1/databases/{name}/fork" },
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
export function controlPlanePath(route: ControlPlaneRoute, param?: string, id?: string): string {
  const { path } = CONTROL_PLANE_API[route];
  const named =
    param === undefined ? path : path.replace(/\{(?:name|id)\}/, encodeURIComponent(param));
  return id === undefined ? named : named.replace("{id}", encodeURIComponent(id));
}

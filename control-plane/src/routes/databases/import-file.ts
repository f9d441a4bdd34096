import { createRoute, z } from "@hono/zod-openapi";
import {
  CONTROL_PLANE_API,
  DatabaseInfoSchema,
  NewDatabaseQuerySchema,
  SQLITE_MEDIA_TYPE,
} from "../../../../core/control-plane-api";
import { DomainError } from "../../../../core/errors";
import { bearerSecurity, NameParams, problems } from "../../../../core/openapi";
import { discardRest } from "../../files/upload";
import { audited, type ControlPlaneApp } from "../context";

export const route = createRoute({
  ...CONTROL_PLANE_API.importDatabaseFile,
  summary: "Create a database from a SQLite file (streamed)",
  description:
    "The body is a SQLite database file. It is refused with INVALID_DATABASE_FILE (a bad header, a truncated file, a failed PRAGMA integrity_check) or PAYLOAD_TOO_LARGE (over the quota), and nothing is created; else it becomes the new database (journal mode WAL). Needs databases:create.",
  security: bearerSecurity,
  request: {
    params: NameParams,
    query: NewDatabaseQuerySchema,
    body: {
      required: true,
      content: { [SQLITE_MEDIA_TYPE]: { schema: z.string().openapi({ format: "binary" }) } },
    },
  },
  responses: {
    201: {
      description: "Created from the file",
      content: { "application/json": { schema: DatabaseInfoSchema } },
    },
    ...problems(400, 401, 403, 409, 413, 415, 503, 507),
  },
});

export function register(app: ControlPlaneApp): void {
  app.openapi(route, async (c) => {
    const { name } = c.req.valid("param");
    const settings = c.req.valid("query");
    const info = await audited(
      c,
      {
        action: "database.import",
        permission: "databases:create",
        database: name,
        detail: { ...settings, format: "sqlite" },
      },
      () => {
        const type = (c.req.header("content-type") ?? "").split(";")[0]?.trim().toLowerCase();
        if (type !== SQLITE_MEDIA_TYPE)
          throw new DomainError("UNSUPPORTED_MEDIA_TYPE", `Send the file as ${SQLITE_MEDIA_TYPE}`);
        const body = c.req.raw.body;
        if (!body) throw new DomainError("BAD_REQUEST", "The request has no body");
        return c.get("files").importFile(name, body, settings);
      },
    ).catch(async (err) => {
      // Refused before the body was read (no access, a taken name): read it off first.
      await discardRest(c.req.raw.body, 60_000);
      throw err;
    });
    return c.json(info, 201);
  });
}

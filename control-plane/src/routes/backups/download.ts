import { createReadStream, rmSync } from "node:fs";
import { Readable } from "node:stream";
import { createRoute, z } from "@hono/zod-openapi";
import { CONTROL_PLANE_API, SQLITE_MEDIA_TYPE } from "../../../../core/control-plane-api";
import { BackupParams, bearerSecurity, problems } from "../../../../core/openapi";
import { authorize, type ControlPlaneApp } from "../context";

export const route = createRoute({
  ...CONTROL_PLANE_API.downloadBackup,
  summary: "A backup as a SQLite database file (decrypted, checked against its SHA-256)",
  security: bearerSecurity,
  request: {
    params: BackupParams,
  },
  responses: {
    200: {
      description: "The database file",
      content: { [SQLITE_MEDIA_TYPE]: { schema: z.string().openapi({ format: "binary" }) } },
    },
    ...problems(401, 403, 404, 422),
  },
});

export function register(app: ControlPlaneApp): void {
  app.openapi(route, async (c) => {
    const { name, id } = c.req.valid("param");
    // All of the database's data as it was: reading it needs data:read too.
    authorize(c, "backups:read", name);
    authorize(c, "data:read", name);
    const file = await c.get("backups").backupFile(name, id);
    const stream = createReadStream(file.path);
    // The decrypted copy exists only while it is being sent.
    stream.once("close", () => rmSync(file.path, { force: true }));
    return c.body(Readable.toWeb(stream) as ReadableStream, 200, {
      "Content-Type": SQLITE_MEDIA_TYPE,
      "Content-Length": String(file.size),
      "Content-Disposition": `attachment; filename="${name}-${id}.db"`,
    });
  });
}

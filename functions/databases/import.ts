import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import { bearerOf } from "../../core/bearer";
import { NewDatabaseQuerySchema, SQLITE_MEDIA_TYPE } from "../../core/control-plane-api";
import { ApiError } from "../../core/errors";
import { bearerSecurity, DatabaseNameParam, problems } from "../../core/openapi";
import {
  analyzeSql,
  endsWithCompleteStatement,
  isTransactionControl,
} from "../../core/sql/analyze";
import { createFunctionApp, type FunctionsEnv } from "../lib/context";
import { callerOf, withDatabase } from "../lib/database";
import { publicDatabase } from "../lib/databases";
import { DatabaseSchema } from "../lib/schemas";
import { toApiSqlError } from "../lib/sql-errors";
import { manifestRoute } from "../route-table";

/** SQL text read before it is cut into statements and sent (the rest waits for more). */
const CHUNK_BYTES = 256 * 1024;
/** No single statement of a dump is larger. */
const MAX_STATEMENT_BYTES = 32 * 1024 * 1024;
/** Statements per batch (each batch one transaction on the worker). */
const BATCH = 500;

export const route = createRoute({
  ...manifestRoute("databases/import"),
  summary: "Create a database from a SQL dump or a SQLite file (streamed)",
  description:
    "`Content-Type: application/sql`: the dump is read as it arrives and run in order, in transactions of 500 statements; transaction control in the dump is left to those. If any statement fails, the database is deleted again: nothing is created, and the error names the statement.\n\n`Content-Type: application/vnd.sqlite3`: a database file, checked before it is used (header, whole pages, PRAGMA integrity_check, the quota): a bad one gets INVALID_DATABASE_FILE (400), one over the quota PAYLOAD_TOO_LARGE (413), and nothing is created. The new database runs in WAL mode.\n\nUp to IMPORT_MAX_BYTES (1 GiB) and the database's quota (`quotaBytes`, default the server's). Needs databases:create.",
  tags: ["Databases"],
  security: bearerSecurity,
  request: {
    params: z.object({ name: DatabaseNameParam }),
    query: NewDatabaseQuerySchema,
    body: {
      required: true,
      content: {
        "application/sql": { schema: z.string().openapi({ format: "binary" }) },
        [SQLITE_MEDIA_TYPE]: { schema: z.string().openapi({ format: "binary" }) },
      },
    },
  },
  responses: {
    201: {
      description: "Created, with every statement of the dump applied",
      content: { "application/json": { schema: DatabaseSchema } },
    },
    ...problems(400, 401, 403, 409, 413, 415, 429, 503, 507),
  },
});

export const handler: RouteHandler<typeof route, FunctionsEnv> = async (c) => {
  const { name } = c.req.valid("param");
  const settings = c.req.valid("query");
  const type = (c.req.header("content-type") ?? "").split(";")[0]?.trim().toLowerCase();
  if (type !== "application/sql" && type !== SQLITE_MEDIA_TYPE) {
    throw new ApiError(
      "UNSUPPORTED_MEDIA_TYPE",
      `Send a SQL dump as application/sql or a database file as ${SQLITE_MEDIA_TYPE}`,
    );
  }
  const body = c.req.raw.body;
  if (!body) throw new ApiError("BAD_REQUEST", "The request has no body");
  const controlPlane = c.get("controlPlane");
  const bearer = bearerOf(c);
  if (type === SQLITE_MEDIA_TYPE) {
    // The control plane has the files: the body goes there as it arrives.
    const info = await controlPlane.importDatabaseFile(bearer, name, body, settings);
    return c.json(publicDatabase(c, info), 201);
  }
  await controlPlane.createDatabase(bearer, { name, ...settings });
  let applied = 0;
  try {
    await withDatabase(callerOf(c), name, async ({ client }) => {
      const run = async (text: string) => {
        // Batches bring their own transactions.
        const statements = analyzeSql(text).filter((s) => !isTransactionControl(s));
        for (let i = 0; i < statements.length; i += BATCH) {
          const batch = statements.slice(i, i + BATCH);
          try {
            await client.batch(
              batch.map((s) => s.sql),
              "write",
            );
          } catch (err) {
            const failure = toApiSqlError(err);
            throw new ApiError(
              failure.code,
              `The import failed after ${applied} statements (nothing was created): ${failure.message}`,
              { ...failure.extra, statementsApplied: applied },
            );
          }
          applied += batch.length;
        }
      };
      const decoder = new TextDecoder();
      let pending = "";
      const reader = body.getReader();
      for (;;) {
        let chunk: Awaited<ReturnType<typeof reader.read>>;
        try {
          chunk = await reader.read();
        } catch {
          throw new ApiError("BAD_REQUEST", "The request body could not be read to its end");
        }
        if (chunk.done) break;
        pending += decoder.decode(chunk.value, { stream: true });
        if (pending.length < CHUNK_BYTES) continue;
        const cut = completeStatementsEnd(pending);
        if (cut > 0) {
          await run(pending.slice(0, cut));
          pending = pending.slice(cut);
        } else if (pending.length > MAX_STATEMENT_BYTES) {
          throw new ApiError("PAYLOAD_TOO_LARGE", "A statement of the dump is larger than 32 MiB");
        }
      }
      pending += decoder.decode();
      if (pending.trim()) {
        if (
          !endsWithCompleteStatement(
            `${pending.trimEnd()}${pending.trimEnd().endsWith(";") ? "" : ";"}`,
          )
        )
          throw new ApiError(
            "BAD_REQUEST",
            "The dump ends inside a statement (a string or comment is not closed)",
          );
        await run(pending);
      }
    });
  } catch (err) {
    // Nothing is created: the half-imported database goes again.
    await controlPlane.deleteDatabase(bearer, name).catch(() => undefined);
    throw err;
  }
  const info = await controlPlane.getDatabase(bearer, name);
  return c.json(publicDatabase(c, info), 201);
};

/**
 * The end of the last complete statement in `text` (0: none yet). Only the last few semicolons
 * are tried (each try reads the text): a statement needs one that ends it.
 */
function completeStatementsEnd(text: string): number {
  let tries = 0;
  for (let at = text.lastIndexOf(";"); at > 0 && tries < 16; at = text.lastIndexOf(";", at - 1)) {
    tries++;
    if (endsWithCompleteStatement(text.slice(0, at + 1))) return at + 1;
  }
  return 0;
}

export default createFunctionApp({ maxBodyBytes: (config) => config.IMPORT_MAX_BYTES }).openapi(
  route,
  handler,
);

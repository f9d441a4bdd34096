import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import { bearerOf } from "../../core/bearer";
import { ApiError } from "../../core/errors";
import { bearerSecurity, problems } from "../../core/openapi";
import { createFunctionApp, type FunctionsEnv } from "../lib/context";
import type { ControlPlaneClient } from "../lib/control-plane-client";
import { manifestRoute } from "../route-table";

/** How often a snapshot is sent, and how long one stream lasts (clients reconnect). */
const INTERVAL_MS = 2_000;
const STREAM_MS = 5 * 60_000;
/**
 * Open streams per credential and per isolate: each polls the control plane, so their number
 * is bounded (a console needs one per tab).
 */
const MAX_STREAMS_PER_CREDENTIAL = 4;
const MAX_STREAMS = 200;
const open = new Map<string, number>();
let openTotal = 0;

const EventSchema = z
  .object({
    at: z.number().int().openapi({ description: "Unix milliseconds of the snapshot" }),
    databases: z.array(
      z.object({
        name: z.string(),
        status: z.string(),
        sizeBytes: z.number().int(),
        quotaBytes: z.number().int(),
        statements: z.number().int().openapi({ description: "Statements in the last hour" }),
      }),
    ),
  })
  .openapi("DatabasesEvent");

export const route = createRoute({
  ...manifestRoute("databases/events"),
  summary: "Live status of the databases the credential may see (server-sent events)",
  description: `A \`text/event-stream\` of \`databases\` events every ${INTERVAL_MS / 1000} s: each database's status, size, quota and statements in the last hour (queries a second follow from the difference between events). A stream ends after ${STREAM_MS / 60_000} minutes; reconnect. Send the key in the Authorization header (read the stream with fetch).`,
  tags: ["Databases"],
  security: bearerSecurity,
  responses: {
    200: {
      description: "The event stream; each event's data is this JSON",
      content: { "text/event-stream": { schema: EventSchema } },
    },
    ...problems(401, 403, 429, 503),
  },
});

async function snapshot(controlPlane: ControlPlaneClient, bearer: string | undefined) {
  const from = String(Date.now() - 3_600_000);
  const [{ databases }, usage] = await Promise.all([
    controlPlane.listDatabases(bearer),
    controlPlane.usage(bearer, { from }),
  ]);
  const statements = new Map(usage.databases.map((d) => [d.database, d.statements]));
  return {
    at: Date.now(),
    databases: databases.map((db) => ({
      name: db.name,
      status: db.status,
      sizeBytes: db.sizeBytes,
      quotaBytes: db.quotaBytes,
      statements: statements.get(db.name) ?? 0,
    })),
  };
}

export const handler: RouteHandler<typeof route, FunctionsEnv> = async (c) => {
  const controlPlane = c.get("controlPlane");
  const bearer = bearerOf(c);
  // The first snapshot before the stream starts: a refused credential gets its problem, not a stream.
  const first = await snapshot(controlPlane, bearer);
  const key = bearer ?? "";
  if ((open.get(key) ?? 0) >= MAX_STREAMS_PER_CREDENTIAL || openTotal >= MAX_STREAMS) {
    throw new ApiError(
      "RATE_LIMITED",
      `At most ${MAX_STREAMS_PER_CREDENTIAL} event streams per credential are open at once; close one first`,
      { retryAfter: 5 },
      { "Retry-After": "5" },
    );
  }
  open.set(key, (open.get(key) ?? 0) + 1);
  openTotal++;
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    openTotal--;
    const left = (open.get(key) ?? 1) - 1;
    if (left > 0) open.set(key, left);
    else open.delete(key);
  };
  const encoder = new TextEncoder();
  let timer: ReturnType<typeof setInterval> | undefined;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      const started = Date.now();
      const send = (data: unknown) => {
        try {
          controller.enqueue(encoder.encode(`event: databases\ndata: ${JSON.stringify(data)}\n\n`));
        } catch {
          clearInterval(timer); // the client went away
          release();
        }
      };
      send(first);
      timer = setInterval(() => {
        if (Date.now() - started > STREAM_MS) {
          clearInterval(timer);
          release();
          controller.close();
          return;
        }
        snapshot(controlPlane, bearer).then(send, () => {
          clearInterval(timer);
          release();
          controller.close();
        });
      }, INTERVAL_MS);
    },
    cancel() {
      clearInterval(timer);
      release();
    },
  });
  return new Response(body, {
    status: 200,
    headers: {
      "Content-Type": "text/event-stream",
      "Cache-Control": "no-store",
      "X-Accel-Buffering": "no",
    },
  }) as never;
};

export default createFunctionApp().openapi(route, handler);

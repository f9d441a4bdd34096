import type { IncomingMessage, Server } from "node:http";
import type { Duplex } from "node:stream";
import { type HttpBindings, serve } from "@hono/node-server";
import { Hono } from "hono";
import { problemResponse, toApiError } from "../../core/app";
import { type HttpTimeouts, httpServerOptions, refuseTunnels } from "../../core/http-server";
import { dispatch } from "../dispatch";
import { ENTRIES } from "../entries";
import { functionsConfig } from "../lib/env";
import { directoryAssets } from "./static-assets";
import { HranaWebSocketRelays } from "./websocket-relay";

/**
 * Every function entry behind one Node HTTP server: the local stand-in for Traefik. Requests
 * are dispatched by the shared route table to the entries' own fetch handlers, unchanged.
 */
export function createHostApp(env: Record<string, unknown>): Hono<{ Bindings: HttpBindings }> {
  functionsConfig(env); // fail at start-up, not on the first request
  const host = new Hono<{ Bindings: HttpBindings }>();
  host.all("*", (c) =>
    dispatch(
      c.req.raw,
      (entry) => {
        const module = ENTRIES[entry];
        return module && ((req) => module.fetch(req, env));
      },
      // The socket's peer: this host is the edge (behind Traefik, the proxy's address).
      c.env.incoming.socket.remoteAddress,
    ),
  );
  // dispatch answers every request itself; anything escaping it is still a problem document.
  host.onError((err, c) => problemResponse(c, toApiError(err)));
  return host;
}

/** How long close() lets requests in flight finish before it drops their connections. */
const SHUTDOWN_GRACE_MS = 5_000;

export interface FunctionsHost {
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startFunctionsHost(options: {
  env: Record<string, unknown>;
  hostname: string;
  port: number;
  /** The built console (dist/console), served through the ASSETS binding. */
  consoleDir?: string;
  /** How long a client may take to send a request (default: DEFAULT_HTTP_TIMEOUTS). */
  timeouts?: Partial<HttpTimeouts>;
}): Promise<FunctionsHost> {
  const env = options.consoleDir
    ? { ...options.env, ASSETS: directoryAssets(options.consoleDir) }
    : options.env;
  const app = createHostApp(env);
  const server = await new Promise<ReturnType<typeof serve>>((ready) => {
    const s = serve(
      {
        fetch: app.fetch,
        hostname: options.hostname,
        port: options.port,
        serverOptions: httpServerOptions(options.timeouts),
      },
      () => ready(s),
    );
  });
  refuseTunnels(server as Server);
  const relays = new HranaWebSocketRelays(options.env);
  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) =>
    relays.handleUpgrade(req, socket, head),
  );
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : options.port;
  return {
    url: `http://${options.hostname}:${port}`,
    port,
    close: async () => {
      relays.closeAll();
      const closed = new Promise<void>((done) => server.close(() => done()));
      // Requests in flight get a grace period; a client still sending (or never finishing) its
      // request would otherwise hold the shutdown for as long as the request timeout allows.
      const cutoff = setTimeout(() => {
        (server as Server).closeAllConnections();
        relays.terminateAll();
      }, SHUTDOWN_GRACE_MS);
      await closed;
      clearTimeout(cutoff);
    },
  };
}

import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { WebSocket, WebSocketServer } from "ws";
import { dispatch } from "../dispatch";
import { ENTRIES } from "../entries";
import { ControlPlaneClient } from "../lib/control-plane-client";
import { cachedResolve } from "../lib/database";
import { functionsConfig } from "../lib/env";
import { ApiError } from "../lib/errors";
import { chooseSubprotocol, HranaRelay, type RelaySocket } from "../lib/hrana-relay";
import { validateDatabaseName } from "../lib/names";
import { directoryAssets } from "./static-assets";

/**
 * Every function entry behind one Node HTTP server: the local stand-in for Traefik. Requests
 * are dispatched by the shared route table to the entries' own fetch handlers, unchanged.
 */
export function createHostApp(env: Record<string, unknown>): Hono {
  functionsConfig(env); // fail at start-up, not on the first request
  const host = new Hono();
  host.all("*", (c) =>
    dispatch(c.req.raw, (entry) => {
      const module = ENTRIES[entry];
      return module && ((req) => module.fetch(req, env));
    }),
  );
  return host;
}

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
}): Promise<FunctionsHost> {
  const env = options.consoleDir
    ? { ...options.env, ASSETS: directoryAssets(options.consoleDir) }
    : options.env;
  const app = createHostApp(env);
  const server = await new Promise<ReturnType<typeof serve>>((ready) => {
    const s = serve({ fetch: app.fetch, hostname: options.hostname, port: options.port }, () =>
      ready(s),
    );
  });
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
      await new Promise<void>((done) => server.close(() => done()));
    },
  };
}

/** WebSocket side of the /db/{name}/ proxy in the Node host (Workers use WebSocketPair). */
class HranaWebSocketRelays {
  private readonly wss = new WebSocketServer({
    noServer: true,
    handleProtocols: (offered) => chooseSubprotocol([...offered].join(",")) ?? false,
  });
  private readonly controlPlane: ControlPlaneClient;
  private readonly cacheMs: number;

  constructor(env: Record<string, unknown>) {
    const config = functionsConfig(env);
    this.controlPlane = new ControlPlaneClient(config.CONTROL_PLANE_URL.replace(/\/$/, ""));
    this.cacheMs = config.RESOLVE_CACHE_MS;
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const match = /^\/db\/([^/?]+)\/?(?:\?.*)?$/.exec(req.url ?? "");
    const reject = (status: number, message: string): void =>
      void socket.end(
        `HTTP/1.1 ${status} ${status === 404 ? "Not Found" : "Bad Request"}\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(message)}\r\nConnection: close\r\n\r\n${message}`,
      );
    if (!match?.[1]) {
      reject(404, "WebSockets are served on /db/{name}/ only");
      return;
    }
    const name = decodeURIComponent(match[1]);
    const protocol = chooseSubprotocol(req.headers["sec-websocket-protocol"]);
    if (protocol === undefined) {
      reject(400, "Only the hrana3, hrana2 and hrana1 subprotocols are supported");
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (client) => {
      const relay = new HranaRelay({
        client: {
          send: (t) => client.send(t),
          close: (code, reason) => client.close(code, reason),
        },
        protocol: protocol ?? "hrana1",
        resolve: async (jwt) => {
          validateDatabaseName(name);
          if (!jwt) throw new ApiError("UNAUTHORIZED", "Send a token in the hello message");
          return cachedResolve(this.controlPlane, this.cacheMs, name, jwt, true);
        },
        connect: (url, subprotocol, events) => connectUpstream(url, subprotocol, events),
      });
      client.on("message", (data, isBinary) => {
        if (isBinary) client.close(1003, "Binary messages are not supported");
        else relay.clientMessage(data.toString());
      });
      client.on("close", () => relay.clientClosed());
      client.on("error", () => relay.clientClosed());
    });
  }

  closeAll(): void {
    for (const ws of this.wss.clients) ws.close(1001, "Server shutting down");
  }
}

function connectUpstream(
  url: string,
  protocol: string,
  events: { message(text: string): void; close(code: number, reason: string): void },
): Promise<RelaySocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url.replace(/^http/, "ws"), protocol);
    ws.once("open", () =>
      resolve({ send: (t) => ws.send(t), close: (code, reason) => ws.close(code, reason) }),
    );
    ws.once("error", reject);
    ws.on("message", (data) => events.message(data.toString()));
    ws.on("close", (code, reason) => events.close(code, reason.toString()));
  });
}

/**
 * The relay's adapter for the Node host (`ws`; Workers: functions/lib/websocket/workers.ts).
 * Node hands upgrade requests to the server's `upgrade` listener, outside the Hono app, so
 * this file routes them by the same manifest and answers them with the same handshake checks
 * (acceptHandshake) and the same relay (openRelay).
 */
import { type IncomingMessage, STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocket, WebSocketServer } from "ws";
import { toApiError } from "../../core/app";
import { ApiError, toProblem } from "../../core/errors";
import { endRawSocket } from "../../core/http-server";
import { databaseNameFromSegment, splitProxyPath } from "../../core/names";
import { ControlPlaneClient } from "../lib/control-plane-client";
import { checkCredentialSize } from "../lib/credentials";
import { type FunctionsConfig, functionsConfig } from "../lib/env";
import { acceptHandshake } from "../lib/websocket/handshake";
import { openRelay } from "../lib/websocket/open";
import { chooseSubprotocol, type RelaySocket } from "../lib/websocket/relay";
import { matchRoute } from "../route-table";

/** Relays for every WebSocket on /db/{name}/ of one Node host. */
export class HranaWebSocketRelays {
  private readonly wss: WebSocketServer;
  private readonly controlPlane: ControlPlaneClient;
  private readonly config: FunctionsConfig;

  constructor(env: Record<string, unknown>) {
    const config = functionsConfig(env);
    this.wss = new WebSocketServer({
      noServer: true,
      // A message is a request: no larger than a request body (ws's default is 100 MiB).
      maxPayload: config.MAX_BODY_BYTES,
      // acceptHandshake chose already; ws only needs it again.
      handleProtocols: (offered) => chooseSubprotocol([...offered].join(",")) ?? false,
    });
    this.controlPlane = new ControlPlaneClient(config.CONTROL_PLANE_URL.replace(/\/$/, ""));
    this.config = config;
  }

  /**
   * Never throws and never leaves the socket without an `error` listener: Node removes its own
   * before emitting `upgrade`, and an unhandled socket error (a client resetting mid-handshake)
   * would end the process. Every refusal is a 4xx with a problem document, the same one the
   * HTTP side of /db/{name}/ gives for the same request.
   */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on("error", () => socket.destroy());
    try {
      this.upgrade(req, socket, head);
    } catch (err) {
      rejectUpgrade(socket, toApiError(err), req.url);
    }
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const pathname = upgradePathname(req.url);
    const match = matchRoute("GET", pathname);
    if (!match || !("spec" in match) || match.spec.entry !== "libsql/proxy")
      throw new ApiError("NOT_FOUND", "WebSockets are served on /db/{name}/ only");
    const { segment, rest } = splitProxyPath(pathname);
    const name = databaseNameFromSegment(segment);
    // As dispatch does for every request on the HTTP side (the token itself comes in hello).
    checkCredentialSize(req.headers.authorization);
    const protocol = acceptHandshake({
      method: req.method ?? "",
      rest,
      header: (h) => {
        const value = req.headers[h];
        return Array.isArray(value) ? value.join(", ") : value;
      },
    });
    this.wss.handleUpgrade(req, socket, head, (client) => {
      const relay = openRelay({
        client: {
          send: (t) => client.send(t),
          close: (code, reason) => closeQuietly(client, code, reason),
        },
        protocol,
        name,
        clientAddress: req.socket.remoteAddress ?? "unknown",
        controlPlane: this.controlPlane,
        config: this.config,
        connect: (url, subprotocol, events) => connectUpstream(url, subprotocol, events),
      });
      client.on("message", (data, isBinary) => {
        if (isBinary) closeQuietly(client, 1003, "Binary messages are not supported");
        else relay.clientMessage(data.toString());
      });
      client.on("close", () => relay.clientClosed());
      client.on("error", () => relay.clientClosed());
    });
  }

  closeAll(): void {
    for (const ws of this.wss.clients) ws.close(1001, "Server shutting down");
  }

  /** Drops the WebSockets whose clients did not complete the closing handshake. */
  terminateAll(): void {
    for (const ws of this.wss.clients) ws.terminate();
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
      resolve({ send: (t) => ws.send(t), close: (code, reason) => closeQuietly(ws, code, reason) }),
    );
    // `on`, not `once`: a second error event without a listener would end the process. After
    // an error ws emits `close`, which ends the relay.
    ws.on("error", reject);
    ws.on("message", (data) => events.message(data.toString()));
    ws.on("close", (code, reason) => events.close(code, reason.toString()));
  });
}

/**
 * The pathname of an upgrade request as the HTTP side sees it (dot segments resolved, as
 * @hono/node-server and the WHATWG URL parser do), so both sides route the same paths. Only
 * origin-form targets ("/...") are accepted, like the HTTP side.
 */
function upgradePathname(target: string | undefined): string {
  if (!target?.startsWith("/"))
    throw new ApiError("BAD_REQUEST", "The request target must be a path");
  try {
    return new URL(`http://host${target}`).pathname;
  } catch {
    throw new ApiError("BAD_REQUEST", "The request target is not a valid URL path");
  }
}

/** A refused upgrade: the status and problem document the HTTP side would send (Hrana style). */
function rejectUpgrade(socket: Duplex, err: ApiError, target: string | undefined): void {
  if (socket.destroyed) return;
  const problem = toProblem(err, { instance: (target ?? "").slice(0, 200) });
  const body = JSON.stringify({ ...problem, message: problem.detail });
  endRawSocket(
    socket,
    `HTTP/1.1 ${err.status} ${STATUS_CODES[err.status] ?? ""}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** ws throws on close codes it may not send (1005, 1006) and on long reasons: never here. */
function closeQuietly(ws: WebSocket, code?: number, reason?: string): void {
  try {
    ws.close(code === 1005 || code === 1006 ? 1000 : code, reason);
  } catch {
    ws.terminate();
  }
}

/**
 * The WebSocket side of the /db/{name}/ proxy in the Node host (Workers runtimes use
 * WebSocketPair in functions/libsql/proxy.ts): Node hands upgrade requests to the server's
 * `upgrade` listener, outside the Hono app, so this file answers them by the same rules.
 */
import { type IncomingMessage, STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocket, WebSocketServer } from "ws";
import type { AuthFailureThrottle } from "../../core/auth-throttle";
import { endRawSocket } from "../../core/http-server";
import { toApiError } from "../lib/app";
import { sharedThrottle } from "../lib/auth-throttle";
import { ControlPlaneClient } from "../lib/control-plane-client";
import { checkCredentialSize } from "../lib/credentials";
import { resolveHello } from "../lib/database";
import { functionsConfig } from "../lib/env";
import { ApiError, toProblem } from "../lib/errors";
import { chooseSubprotocol, HranaRelay, type RelaySocket } from "../lib/hrana-relay";
import { databaseNameFromSegment, splitProxyPath } from "../lib/names";

/** Relays for every WebSocket on /db/{name}/ of one Node host. */
export class HranaWebSocketRelays {
  private readonly wss: WebSocketServer;
  private readonly controlPlane: ControlPlaneClient;
  private readonly cacheMs: number;
  /** The same failed-auth budget per client as the HTTP routes of this process. */
  private readonly throttle: AuthFailureThrottle;

  constructor(env: Record<string, unknown>) {
    const config = functionsConfig(env);
    this.wss = new WebSocketServer({
      noServer: true,
      // A message is a request: no larger than a request body (ws's default is 100 MiB).
      maxPayload: config.MAX_BODY_BYTES,
      handleProtocols: (offered) => chooseSubprotocol([...offered].join(",")) ?? false,
    });
    this.controlPlane = new ControlPlaneClient(config.CONTROL_PLANE_URL.replace(/\/$/, ""));
    this.cacheMs = config.RESOLVE_CACHE_MS;
    this.throttle = sharedThrottle({
      burst: config.AUTH_FAILURE_BURST,
      perMinute: config.AUTH_FAILURES_PER_MINUTE,
    });
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
    const { segment, rest } = splitProxyPath(pathname);
    if (!pathname.startsWith("/db/") || rest !== "/")
      throw new ApiError("NOT_FOUND", "WebSockets are served on /db/{name}/ only");
    const name = databaseNameFromSegment(segment);
    // As dispatch does for every request on the HTTP side (the token itself comes in hello).
    checkCredentialSize(req.headers.authorization);
    const protocol = chooseSubprotocol(req.headers["sec-websocket-protocol"]);
    if (protocol === undefined)
      throw new ApiError(
        "BAD_REQUEST",
        "Only the hrana3, hrana2 and hrana1 subprotocols are supported",
      );
    const address = req.socket.remoteAddress ?? "unknown";
    // ws answers malformed handshakes (key, version, method) with a 400 itself.
    this.wss.handleUpgrade(req, socket, head, (client) => {
      const relay = new HranaRelay({
        client: {
          send: (t) => client.send(t),
          close: (code, reason) => closeQuietly(client, code, reason),
        },
        protocol: protocol ?? "hrana1",
        resolve: (jwt) =>
          resolveHello({
            controlPlane: this.controlPlane.forClient(address),
            cacheMs: this.cacheMs,
            name,
            jwt,
            throttle: this.throttle,
            client: address,
          }),
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

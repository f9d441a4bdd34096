import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { WebSocketServer } from "ws";
import { endRawSocket } from "../../../core/http-server";
import { serialize } from "../hrana/encode";
import type { Version } from "../hrana/proto";
import { WsSession } from "../hrana/ws-session";
import type { WorkerContext } from "./context";

/** In sqld's order of preference; hrana3-protobuf is not offered (JSON only). */
const SUBPROTOCOLS: ReadonlyArray<[string, Version]> = [
  ["hrana3", 3],
  ["hrana2", 2],
  ["hrana1", 1],
];

const chosenProtocol = new WeakMap<IncomingMessage, string>();

/**
 * Hrana over WebSocket on the HTTP listener. The subprotocol is negotiated as sqld does: the
 * best one the client offers, hrana1 (and no Sec-WebSocket-Protocol) when it offers none,
 * 400 when it offers only ones we do not speak.
 */
export class WebSocketTransport {
  /**
   * Loaded on the first handshake: most databases are reached over HTTP only, and a worker that
   * never loads `ws` spares every database its memory (density: bench/density.ts).
   */
  private wss: WebSocketServer | undefined;
  private loading: Promise<WebSocketServer> | undefined;

  constructor(private readonly ctx: WorkerContext) {}

  private server(): Promise<WebSocketServer> {
    this.loading ??= import("ws").then(({ WebSocketServer }) => {
      this.wss = new WebSocketServer({
        noServer: true,
        maxPayload: this.ctx.maxBodyBytes,
        handleProtocols: (_offered, req) => chosenProtocol.get(req) ?? false,
      });
      return this.wss;
    });
    return this.loading;
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    // Node removes its own listener before emitting `upgrade`; without one, a client resetting
    // mid-handshake would raise an unhandled `error` and end the process.
    socket.on("error", () => socket.destroy());
    const header = req.headers["sec-websocket-protocol"];
    let version: Version = 1;
    if (header !== undefined) {
      const offered = header.split(",").map((p) => p.trim().toLowerCase());
      const match = SUBPROTOCOLS.find(([name]) => offered.includes(name));
      if (!match) {
        const body = `Only these WebSocket subprotocols are supported: ${SUBPROTOCOLS.map(([n]) => n).join(" ")}`;
        endRawSocket(
          socket,
          `HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
        );
        return;
      }
      chosenProtocol.set(req, match[0]);
      version = match[1];
    }
    void this.server().then((wss) => this.accept(wss, version, req, socket, head));
  }

  private accept(
    wss: WebSocketServer,
    version: Version,
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
  ): void {
    if (socket.destroyed) return;
    wss.handleUpgrade(req, socket, head, (ws) => {
      const session = new WsSession(version, this.ctx, {
        send: (msg) => {
          ws.send(serialize(msg));
          if (msg.type === "response_ok" || msg.type === "response_error") this.ctx.afterRequest();
        },
        close: (code, reason) => ws.close(code, reason),
      });
      ws.on("message", (data, isBinary) => {
        if (isBinary) session.handleBinary();
        else session.handleText(data.toString());
      });
      ws.on("close", () => session.close());
      ws.on("error", () => session.close());
    });
  }

  /** Closes every WebSocket (1001, going away); their streams roll back. */
  closeAll(): void {
    for (const ws of this.wss?.clients ?? []) ws.close(1001, "Server shutting down");
  }

  get connections(): number {
    return this.wss?.clients.size ?? 0;
  }
}

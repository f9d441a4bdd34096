/** The relay's adapter for Workers runtimes (workerd: Miniflare, wrangler, Cloudflare). */
import type { FunctionsContext } from "../context";
import { clientAddress } from "../context";
import { acceptHandshake } from "./handshake";
import { openRelay } from "./open";
import type { RelaySocket } from "./relay";

/** Answers a close frame (1005 "no status" cannot be sent back, so it becomes 1000). */
function closeQuietly(ws: WorkersWebSocket, code: number): void {
  try {
    ws.close(code === 1005 || code === 1006 ? 1000 : code);
  } catch {
    // already closed
  }
}

/** The 101 answer to a WebSocket handshake on /db/{name}/, with the relay running behind it. */
export function upgradeWorkers(c: FunctionsContext, name: string, rest: string): Response {
  const protocol = acceptHandshake({ method: c.req.method, rest, header: (h) => c.req.header(h) });
  const pair = new WebSocketPair();
  const [clientEnd, serverEnd] = [pair[0], pair[1]];
  serverEnd.accept();
  const relay = openRelay({
    client: {
      send: (t) => serverEnd.send(t),
      close: (code, reason) => serverEnd.close(code, reason),
    },
    protocol,
    name,
    clientAddress: clientAddress(c),
    controlPlane: c.get("controlPlane"),
    config: c.get("config"),
    connect: async (url, subprotocol, events): Promise<RelaySocket> => {
      const res = await fetch(url, {
        headers: { Upgrade: "websocket", "Sec-WebSocket-Protocol": subprotocol },
      });
      const ws = res.webSocket;
      if (!ws) throw new Error(`worker refused the WebSocket (HTTP ${res.status})`);
      ws.accept();
      ws.addEventListener("message", (e: MessageEvent) => events.message(String(e.data)));
      ws.addEventListener("close", (e: Event) => {
        const { code, reason } = e as WorkersCloseEvent;
        closeQuietly(ws, code);
        events.close(code, reason);
      });
      return { send: (t) => ws.send(t), close: (code, reason) => ws.close(code, reason) };
    },
  });
  serverEnd.addEventListener("message", (e: MessageEvent) => relay.clientMessage(String(e.data)));
  serverEnd.addEventListener("close", (e: Event) => {
    relay.clientClosed();
    // Complete the closing handshake, or the runtime keeps the request open.
    closeQuietly(serverEnd, (e as WorkersCloseEvent).code);
  });
  const headers: Record<string, string> = {};
  if (protocol) headers["Sec-WebSocket-Protocol"] = protocol;
  const init: WorkersUpgradeInit = { status: 101, webSocket: clientEnd, headers };
  return new Response(null, init as unknown as ResponseInit);
}

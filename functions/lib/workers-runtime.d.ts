/**
 * The few Workers runtime APIs the functions use (WebSocket upgrades), declared here because
 * @cloudflare/workers-types would replace Node's globals for the whole project.
 */
interface WorkersWebSocket extends WebSocket {
  accept(): void;
}

declare class WebSocketPair {
  0: WorkersWebSocket;
  1: WorkersWebSocket;
}

interface Response {
  readonly webSocket?: WorkersWebSocket | null;
}

/** ResponseInit of a WebSocket upgrade response (status 101). */
interface WorkersUpgradeInit {
  status: 101;
  webSocket: WorkersWebSocket;
  headers?: Record<string, string>;
}

interface WorkersCloseEvent extends Event {
  readonly code: number;
  readonly reason: string;
}

/** A raw Hrana WebSocket client for tests of the wire protocol (no library in between). */
import WebSocket from "ws";
import { sleep } from "./wait";

// biome-ignore lint/suspicious/noExplicitAny: tests read wire messages field by field
export type Json = Record<string, any>;

/** A raw Hrana WebSocket client: request() resolves with the response_ok/response_error. */
export class RawClient {
  private nextId = 1;
  private readonly pending = new Map<number, (msg: Json) => void>();
  readonly messages: Json[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly ws: WebSocket) {
    ws.on("message", (data) => {
      const msg = JSON.parse(data.toString()) as Json;
      this.messages.push(msg);
      const resolve = this.pending.get(msg.request_id);
      if (resolve) {
        this.pending.delete(msg.request_id);
        resolve(msg);
      }
    });
    this.closed = new Promise((resolve) =>
      ws.on("close", (code, reason) => resolve({ code, reason: reason.toString() })),
    );
  }

  /** `null` offers no subprotocol at all. */
  static async connect(url: string, protocols: string[] | null = ["hrana3"]): Promise<RawClient> {
    const ws = new WebSocket(url, protocols ?? undefined);
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    return new RawClient(ws);
  }

  async hello(jwt: string | null = null): Promise<Json> {
    this.ws.send(JSON.stringify({ type: "hello", jwt }));
    await waitFor(() => this.messages.some((m) => m.type.startsWith("hello")));
    return this.messages.find((m) => m.type.startsWith("hello")) as Json;
  }

  request(request: Json): Promise<Json> {
    const id = this.nextId++;
    this.ws.send(JSON.stringify({ type: "request", request_id: id, request }));
    return new Promise((resolve) => this.pending.set(id, resolve));
  }
}

export async function waitFor(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await sleep(10);
}

/**
 * A hop that frames HTTP by hand on both sides (node:net in and out, one kept-alive worker
 * connection per client connection, the head parsed with indexOf and one regular expression,
 * each message written in one write): what a Node hop costs without node:http's and undici's
 * objects, events and timers. It takes only what the bench sends (POSTs with a Content-Length,
 * answers with one); no checks, no limits, no log. A ceiling to measure, not a server to run.
 */
import { connect, createServer, type Socket } from "node:net";

const HEAD_END = Buffer.from("\r\n\r\n");
const CONTENT_LENGTH = /\r\ncontent-length: *(\d+)/i;

/** Calls `onMessage(head, body)` for every whole message in the bytes fed to it. */
function framer(onMessage: (head: string, body: Buffer) => void): (chunk: Buffer) => void {
  let pending: Buffer = Buffer.alloc(0);
  return (chunk) => {
    pending = pending.length > 0 ? Buffer.concat([pending, chunk]) : chunk;
    for (;;) {
      const end = pending.indexOf(HEAD_END);
      if (end < 0) return;
      const head = pending.toString("latin1", 0, end);
      const length = Number(CONTENT_LENGTH.exec(head)?.[1] ?? 0);
      const size = end + HEAD_END.length + length;
      if (pending.length < size) return;
      const body = pending.subarray(end + HEAD_END.length, size);
      pending = pending.subarray(size);
      onMessage(head, body);
    }
  };
}

export async function rawRelay(
  workerUrl: string,
  token: string,
): Promise<{ url: string; close(): Promise<void> }> {
  const { hostname, port } = new URL(workerUrl);
  const server = createServer({ noDelay: true }, (client: Socket) => {
    let worker: Socket | undefined;
    const toWorker = () => {
      if (worker) return worker;
      worker = connect({ host: hostname, port: Number(port), noDelay: true });
      worker.on(
        "data",
        framer((head, body) => {
          const status = head.slice(9, 12);
          const out = `HTTP/1.1 ${status} OK\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nDate: ${new Date().toUTCString()}\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\n\r\n`;
          client.write(Buffer.concat([Buffer.from(out, "latin1"), body]));
        }),
      );
      worker.on("error", () => client.destroy());
      return worker;
    };
    client.on(
      "data",
      framer((head, body) => {
        const target = head.slice(head.indexOf(" ") + 1, head.indexOf(" HTTP/"));
        const out = `POST ${target} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
        toWorker().write(Buffer.concat([Buffer.from(out, "latin1"), body]));
      }),
    );
    client.on("close", () => worker?.destroy());
    client.on("error", () => worker?.destroy());
  });
  await new Promise<void>((listening) => server.listen(0, "127.0.0.1", listening));
  const address = server.address();
  const listenPort = typeof address === "object" && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${listenPort}`,
    close: () => new Promise((closed) => server.close(() => closed())),
  };
}

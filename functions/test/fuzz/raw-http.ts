/**
 * HTTP/1.1 over a raw TCP socket, for requests fetch would refuse or normalize: invalid bytes in
 * the request line and headers, duplicate headers, lying Content-Length, unknown methods.
 * Only what the fuzz test checks is parsed: the status and, for 5xx, the body.
 */
import { connect } from "node:net";
import { sleep } from "../../../testkit/wait";

export interface RawResponse {
  /** The final status (1xx other than 101 skipped); undefined if none arrived. */
  status?: number;
  /** The response head, lowercased. */
  head: string;
  body: Buffer;
  /** No (complete) response before the deadline. */
  timedOut: boolean;
  /** The connection failed before any response (reset, refused). */
  error?: string;
}

export interface RawTarget {
  host: string;
  port: number;
}

export function targetOf(url: string): RawTarget {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port) };
}

/**
 * Writes `chunks` (with `pauseMs` between them) and reads the answer. Resolves early once the
 * status line is in for a 101, and for anything but a 5xx (whose body is needed) unless
 * `wholeBody`; else at the end of the body, the close of the connection or `timeoutMs`.
 */
export function sendRaw(
  target: RawTarget,
  chunks: Buffer[],
  options: { timeoutMs: number; pauseMs?: number; wholeBody?: boolean },
): Promise<RawResponse> {
  return new Promise((resolve) => {
    const socket = connect(target.port, target.host);
    let data = Buffer.alloc(0);
    let settled = false;
    const finish = (extra: Partial<RawResponse> = {}) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ ...parse(data), timedOut: false, ...extra });
    };
    const timer = setTimeout(() => finish({ timedOut: true }), options.timeoutMs);
    socket.on("connect", async () => {
      for (const [i, chunk] of chunks.entries()) {
        if (settled || socket.destroyed) return;
        if (i > 0 && options.pauseMs) await sleep(options.pauseMs);
        if (!socket.destroyed) socket.write(chunk, () => {});
      }
    });
    socket.on("data", (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      const parsed = parse(data);
      if (parsed.status === undefined) return;
      const early = parsed.status === 101 || (parsed.status < 500 && !options.wholeBody);
      if (early || parsed.complete) finish();
    });
    socket.on("error", (err) => finish(data.length ? {} : { error: err.message }));
    socket.on("close", () => finish());
  });
}

function parse(data: Buffer): Omit<RawResponse, "timedOut"> & { complete: boolean } {
  let rest = data;
  for (;;) {
    const end = rest.indexOf("\r\n\r\n");
    if (end < 0) return { head: "", body: Buffer.alloc(0), complete: false };
    const head = rest.subarray(0, end).toString("latin1").toLowerCase();
    const status = Number(/^http\/1\.[01] (\d{3})/.exec(head)?.[1]);
    if (!Number.isInteger(status)) return { head, body: Buffer.alloc(0), complete: false };
    const body = rest.subarray(end + 4);
    // Interim responses (100 Continue) precede the real one.
    if (status >= 100 && status < 200 && status !== 101) {
      rest = body;
      continue;
    }
    const length = Number(/\r\ncontent-length:\s*(\d+)/.exec(head)?.[1] ?? Number.NaN);
    const complete = Number.isInteger(length)
      ? body.length >= length
      : /\r\ntransfer-encoding:\s*chunked/.test(head) && body.includes("0\r\n\r\n");
    return { status, head, body, complete };
  }
}

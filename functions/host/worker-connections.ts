/**
 * The fast lane's way to its workers: HTTP/1.1 framed by hand on kept-alive node:net sockets,
 * instead of undici. undici's request machinery (its request and handler objects, the body
 * stream, the timers) cost a relay ~30 µs of CPU per point select against ~12 µs here
 * (bench/README.md), the larger half of what a Node hop spends beyond the worker's own work.
 *
 * A client of DB-Forge's own workers (or sqld): one request at a time per connection, the
 * request written in one write, the answer framed by Content-Length, chunked encoding or the
 * end of the connection, as HTTP/1.1 allows; 1xx answers are skipped. An answer up to
 * BUFFER_UP_TO bytes comes whole; a larger or unsized one streams, and its connection goes back
 * to the pool only once the body has been read to its end.
 *
 * Failures say what the caller may do (functions/lib/sql-errors.ts, connectionFailure): a
 * connection that could not be made is ECONNREFUSED (the request never left, sending it again
 * is safe); one that broke after the request was written is ECONNRESET (the worker may have
 * run it: not sent again). An idle connection is dropped before the worker's keep-alive
 * timeout can close it under a new request.
 */
import { connect, type Socket } from "node:net";
import { PassThrough, type Readable } from "node:stream";

/** Answers up to this size (by Content-Length) are read whole. */
export const BUFFER_UP_TO = 64 * 1024;
/** Connections per worker; more requests than this wait for one (as undici's pool). */
const CONNECTIONS_PER_WORKER = 32;
/** Workers kept (a restarted worker has a new port), least recently used dropped first. */
const MAX_ORIGINS = 1000;
/** How long before the worker's keep-alive timeout an idle connection is dropped. */
const IDLE_MARGIN_MS = 1000;
const DEFAULT_KEEP_ALIVE_MS = 5000;
/** A worker's answer head is small; anything longer is not a worker talking. */
const MAX_HEAD_BYTES = 16 * 1024;
/** How long a worker may stay silent during an exchange (undici's headers and body timeouts). */
const SILENCE_MS = 300_000;
const HEAD_END = Buffer.from("\r\n\r\n");
const CRLF = Buffer.from("\r\n");

export interface WorkerAnswer {
  status: number;
  /** The answer's headers, lower-case names (the last of a repeated one). */
  headers: Record<string, string>;
  /** The whole body, or a stream of it (large or unsized answers). */
  body: Buffer | Readable;
}

export class WorkerConnectionError extends Error {
  constructor(
    message: string,
    readonly code: "ECONNREFUSED" | "ECONNRESET",
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const brokenOff = (why: string, cause?: unknown) =>
  new WorkerConnectionError(`The connection to the worker broke: ${why}`, "ECONNRESET", {
    cause,
  });

export class WorkerConnections {
  /** By origin ("host:port"), least recently used first. */
  private readonly origins = new Map<string, Origin>();
  private closed = false;

  /** POSTs `body` to `path` of the worker at host:port; rejects with WorkerConnectionError. */
  post(
    host: string,
    port: number,
    path: string,
    headers: Record<string, string>,
    body: Buffer,
  ): Promise<WorkerAnswer> {
    if (this.closed) return Promise.reject(brokenOff("the host is shutting down"));
    const key = `${host}:${port}`;
    let origin = this.origins.get(key);
    if (origin) this.origins.delete(key);
    else origin = new Origin(host, port);
    this.origins.set(key, origin);
    if (this.origins.size > MAX_ORIGINS) {
      const [oldest, stale] = this.origins.entries().next().value as [string, Origin];
      this.origins.delete(oldest);
      stale.close();
    }
    let head = `POST ${path} HTTP/1.1\r\nHost: ${key}\r\n`;
    for (const name in headers) {
      const value = headers[name] as string;
      // node:http refused these in the client's request already; a header never splits here.
      if (/[\r\n]/.test(value)) return Promise.reject(new TypeError(`Invalid header ${name}`));
      head += `${name}: ${value}\r\n`;
    }
    head += `Content-Length: ${body.length}\r\n\r\n`;
    return origin.send(Buffer.concat([Buffer.from(head, "latin1"), body]));
  }

  close(): void {
    this.closed = true;
    for (const origin of this.origins.values()) origin.close();
    this.origins.clear();
  }
}

/** One worker's connections: idle ones, the count of all, and requests waiting for one. */
class Origin {
  private readonly idle: Connection[] = [];
  private readonly waiting: Array<() => void> = [];
  private open = 0;

  constructor(
    readonly host: string,
    readonly port: number,
  ) {}

  async send(request: Buffer): Promise<WorkerAnswer> {
    for (;;) {
      const connection = this.idle.pop();
      if (connection) {
        if (connection.usable()) return connection.exchange(request);
        connection.discard();
        this.open--;
        continue;
      }
      if (this.open < CONNECTIONS_PER_WORKER) {
        this.open++;
        return new Connection(this).exchange(request);
      }
      await new Promise<void>((next) => this.waiting.push(next));
    }
  }

  /** `connection` is free again (reusable) or gone: the next waiting request may go. */
  release(connection: Connection, reusable: boolean): void {
    if (reusable) this.idle.push(connection);
    else this.open--;
    this.waiting.shift()?.();
  }

  /** An idle connection closed by the worker. */
  dropIdle(connection: Connection): void {
    const at = this.idle.indexOf(connection);
    if (at >= 0) {
      this.idle.splice(at, 1);
      this.open--;
    }
  }

  close(): void {
    for (const connection of this.idle.splice(0)) connection.socket.destroy();
  }
}

type Framing =
  | { kind: "length"; left: number }
  | { kind: "chunked"; left: number; trailer: boolean }
  | { kind: "close" }
  | { kind: "none" };

/** One kept-alive socket; at most one exchange at a time. */
class Connection {
  readonly socket: Socket;
  private connected = false;
  private idleUntil = 0;
  /** The exchange in progress: its callbacks and what has arrived of its answer. */
  private current:
    | {
        resolve(answer: WorkerAnswer): void;
        reject(err: Error): void;
        answered: boolean;
      }
    | undefined;
  private pending: Buffer | undefined;
  private status = 0;
  private headers: Record<string, string> = {};
  private framing: Framing = { kind: "none" };
  private reusable = true;
  private chunks: Buffer[] = [];
  private stream: PassThrough | undefined;
  private keepAliveMs = DEFAULT_KEEP_ALIVE_MS;

  constructor(private readonly origin: Origin) {
    this.socket = connect({ host: origin.host, port: origin.port, noDelay: true });
    this.socket.once("connect", () => {
      this.connected = true;
    });
    this.socket.on("data", (chunk: Buffer) => this.receive(chunk));
    this.socket.on("end", () => this.ended());
    this.socket.on("error", (err) => this.failed(err));
    this.socket.on("close", () => this.failed(undefined));
    // As undici's default: a worker that says nothing for this long is given up.
    this.socket.setTimeout(SILENCE_MS, () => {
      if (this.current) this.broken(`no answer for ${SILENCE_MS / 1000} s`);
      else this.socket.destroy();
    });
  }

  /** An idle connection given up (past its keep-alive time): its later events change nothing. */
  discard(): void {
    this.idleUntil = Number.NEGATIVE_INFINITY;
    this.socket.destroy();
  }

  /** Idle and still within the worker's keep-alive time. */
  usable(): boolean {
    return !this.socket.destroyed && Date.now() < this.idleUntil;
  }

  exchange(request: Buffer): Promise<WorkerAnswer> {
    return new Promise((resolve, reject) => {
      this.current = { resolve, reject, answered: false };
      this.pending = undefined;
      this.status = 0;
      this.headers = {};
      this.framing = { kind: "none" };
      this.reusable = true;
      this.chunks = [];
      this.stream = undefined;
      this.socket.write(request);
    });
  }

  private receive(chunk: Buffer): void {
    const current = this.current;
    if (!current) {
      // Bytes nobody asked for: the connection cannot be trusted any more.
      this.socket.destroy();
      return;
    }
    let data = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = undefined;
    while (data.length > 0 && this.current) {
      if (this.status === 0) {
        const end = data.indexOf(HEAD_END);
        if (end < 0) {
          if (data.length > MAX_HEAD_BYTES) this.broken("an answer head too long");
          else this.pending = data;
          return;
        }
        if (!this.head(data.toString("latin1", 0, end))) return;
        data = data.subarray(end + HEAD_END.length);
        if (this.status === 0) continue; // a 1xx answer: the real one follows
        this.begin();
        continue;
      }
      data = this.body(data);
    }
    if (this.current && this.status !== 0) this.checkDone();
  }

  /** Parses a head; false if the connection was given up. */
  private head(text: string): boolean {
    const lines = text.split("\r\n");
    const status = /^HTTP\/1\.([01]) (\d{3})(?: |$)/.exec(lines[0] ?? "");
    if (!status) return this.broken("not an HTTP/1.1 answer");
    const code = Number(status[2]);
    if (code >= 100 && code < 200) return true;
    const headers: Record<string, string> = {};
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i] as string;
      const colon = line.indexOf(":");
      if (colon <= 0) return this.broken("a malformed answer header");
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    this.status = code;
    this.headers = headers;
    const connection = (headers.connection ?? "").toLowerCase();
    this.reusable =
      status[1] === "1" ? !/\bclose\b/.test(connection) : /\bkeep-alive\b/.test(connection);
    const keepAlive = /\btimeout=(\d+)/.exec(headers["keep-alive"] ?? "");
    if (keepAlive) this.keepAliveMs = Number(keepAlive[1]) * 1000;
    const length = headers["content-length"];
    if (code === 204 || code === 304) this.framing = { kind: "none" };
    else if (/\bchunked\b/i.test(headers["transfer-encoding"] ?? ""))
      this.framing = { kind: "chunked", left: 0, trailer: false };
    else if (length !== undefined) {
      if (!/^\d{1,15}$/.test(length)) return this.broken("a malformed Content-Length");
      this.framing = { kind: "length", left: Number(length) };
    } else {
      this.framing = { kind: "close" };
      this.reusable = false;
    }
    return true;
  }

  /** The head is in: a large or unsized body streams, so the answer goes out now. */
  private begin(): void {
    const framing = this.framing;
    const whole =
      framing.kind === "none" || (framing.kind === "length" && framing.left <= BUFFER_UP_TO);
    if (whole) return;
    const stream = new PassThrough();
    this.stream = stream;
    // Read at the reader's pace; a reader that gives up ends the connection.
    stream.on("drain", () => this.socket.resume());
    stream.on("close", () => {
      if (this.current && this.stream === stream) this.broken("the reader went away");
    });
    this.answer(stream);
  }

  /** Takes body bytes from `data`; returns what is left over. */
  private body(data: Buffer): Buffer {
    const framing = this.framing;
    if (framing.kind === "length") {
      const take = Math.min(framing.left, data.length);
      this.emit(data.subarray(0, take));
      framing.left -= take;
      return data.subarray(take);
    }
    if (framing.kind === "close") {
      this.emit(data);
      return data.subarray(data.length);
    }
    if (framing.kind === "chunked") {
      if (framing.left > 0) {
        const take = Math.min(framing.left, data.length);
        this.emit(data.subarray(0, take));
        framing.left -= take;
        data = data.subarray(take);
        if (framing.left === 0) framing.left = -2; // its CRLF follows
        return data;
      }
      const eol = data.indexOf(CRLF);
      if (eol < 0) {
        if (data.length > MAX_HEAD_BYTES) this.broken("a chunk size line too long");
        else this.pending = data;
        return data.subarray(data.length);
      }
      const line = data.toString("latin1", 0, eol);
      data = data.subarray(eol + 2);
      if (framing.left === -2) {
        if (line !== "") this.broken("a chunk not ended by CRLF");
        framing.left = 0;
        return data;
      }
      if (framing.trailer) {
        if (line === "") this.framing = { kind: "none" };
        return data;
      }
      const size = /^([0-9a-fA-F]{1,8})(?:;.*)?$/.exec(line);
      if (!size) {
        this.broken("a malformed chunk size");
        return data.subarray(data.length);
      }
      framing.left = Number.parseInt(size[1] as string, 16);
      if (framing.left === 0) framing.trailer = true;
      return data;
    }
    // No body expected, yet bytes came: not a worker to trust.
    this.broken("bytes after a complete answer");
    return data.subarray(data.length);
  }

  private emit(bytes: Buffer): void {
    if (bytes.length === 0) return;
    if (this.stream) {
      if (!this.stream.write(bytes)) this.socket.pause();
    } else this.chunks.push(bytes);
  }

  /** The answer complete? Then it is handed over (or its stream ended) and the socket freed. */
  private checkDone(): void {
    const framing = this.framing;
    const done = (framing.kind === "length" && framing.left === 0) || framing.kind === "none";
    if (!done) return;
    const stream = this.stream;
    if (stream) stream.end();
    else
      this.answer(
        this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks),
      );
    this.finish();
  }

  private answer(body: Buffer | Readable): void {
    const current = this.current;
    if (!current || current.answered) return;
    current.answered = true;
    current.resolve({ status: this.status, headers: this.headers, body });
  }

  /** The exchange is over: the connection goes back to its pool, or away. */
  private finish(): void {
    this.current = undefined;
    this.stream = undefined;
    this.chunks = [];
    if (this.reusable && !this.socket.destroyed) {
      // Paused for a slow reader of the last chunks, perhaps: the stream, ended, says no more
      // 'drain' and the next answer must be read.
      this.socket.resume();
      this.idleUntil = Date.now() + Math.max(0, this.keepAliveMs - IDLE_MARGIN_MS);
      this.origin.release(this, true);
    } else {
      this.socket.destroy();
      this.origin.release(this, false);
    }
  }

  /** The worker ended its side: the end of an unsized body, or a broken exchange. */
  private ended(): void {
    if (this.current && this.framing.kind === "close" && this.status !== 0) {
      this.framing = { kind: "none" };
      this.reusable = false;
      this.checkDone();
      return;
    }
    this.failed(undefined);
  }

  /** Gives the exchange up; false, for the parser's early returns. */
  private broken(why: string): false {
    this.fail(brokenOff(why));
    return false;
  }

  private failed(err: Error | undefined): void {
    if (!this.current) {
      // An idle connection the worker closed (or any late event of a finished one).
      if (!this.socket.destroyed) this.socket.destroy();
      if (this.idleUntil !== Number.NEGATIVE_INFINITY) {
        this.idleUntil = Number.NEGATIVE_INFINITY;
        this.origin.dropIdle(this);
      }
      return;
    }
    const refused = !this.connected;
    this.fail(
      refused
        ? new WorkerConnectionError(
            `connect ECONNREFUSED ${this.origin.host}:${this.origin.port}`,
            "ECONNREFUSED",
            { cause: err },
          )
        : brokenOff(err ? err.message : "the worker closed the connection", err),
    );
  }

  private fail(err: WorkerConnectionError): void {
    const current = this.current;
    if (!current) return;
    this.current = undefined;
    this.idleUntil = Number.NEGATIVE_INFINITY;
    this.socket.destroy();
    if (current.answered) this.stream?.destroy(err);
    else current.reject(err);
    this.stream = undefined;
    this.origin.release(this, false);
  }
}

/**
 * The worker's hot path: Hrana POSTs (pipelines, cursors) on keep-alive HTTP/1.1 connections,
 * framed and answered here on the raw socket instead of by node:http. node:http spends ~17 µs
 * of CPU per request on its own objects, events and timers (IncomingMessage, ServerResponse,
 * per-socket timeouts), as much as the worker's whole Hrana work on a point select: this is
 * what a point select's throughput is made of (bench/README.md).
 *
 * Safety rests on one rule: the hot path takes only a strict subset of HTTP, and a request
 * outside it hands its connection, bytes already read included, to node:http for good. The
 * subset: `POST /v2/pipeline`, `/v3/pipeline` or `/v3/cursor` with `HTTP/1.1`, one `Host`, one
 * `Content-Length` within the body limit, at most one of the headers the answer reads
 * (`Authorization`, `Accept-Encoding`), no `Transfer-Encoding`, `Expect` or `Upgrade`, no
 * `Connection` but `keep-alive`, header names of token characters, values of visible ASCII
 * (and tabs), lines ended by CRLF, the head within node:http's 16 KiB. Each of these requests
 * means the same to llhttp (node:http's parser), so both front ends frame every byte stream
 * alike: no request can be read one way here and another way there (request smuggling). Any
 * oddity, malformed or merely rare (HTTP/1.0, chunked bodies, a query string, WebSocket
 * upgrades, GETs), is node:http's to accept or refuse as it always did.
 *
 * What node:http does for these connections is done here alike: the same response bytes (see
 * hot-path.test.ts, which compares them), requests on a connection answered in order, no
 * reading while a request is answered (backpressure), the same timeouts (a request must arrive
 * within the headers and request timeouts or gets 408, an idle connection closes after the
 * keep-alive timeout), and on shutdown idle connections close at once and busy ones after their
 * answer, which says `Connection: close`.
 */
import { type Server as HttpServer, STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import type { Access } from "../../../core/jwt";
import { type Answer, answerHeaders, errorAnswer, type HranaRequest } from "./answers";

/** The routes the hot path serves: a pipeline of a protocol version, or a cursor. */
export type HotRoute = 2 | 3 | "cursor";

const REQUEST_LINES: Record<string, HotRoute> = {
  "POST /v2/pipeline HTTP/1.1": 2,
  "POST /v3/pipeline HTTP/1.1": 3,
  "POST /v3/cursor HTTP/1.1": "cursor",
};

/** node:http's default --max-http-header-size. */
const MAX_HEAD_BYTES = 16 * 1024;
const HEAD_END = Buffer.from("\r\n\r\n");
/** A header line: a token, a colon, then tabs and visible ASCII only. */
const HEADER_LINE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+:[\t\x20-\x7e]*$/;
const DIGITS = /^[0-9]{1,15}$/;
/** node:http's answer to a request that does not arrive in time (lib/_http_server.js). */
const REQUEST_TIMEOUT = "HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n";
/** …and to a request cut short by the client's end of sending. */
const BAD_REQUEST = "HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n";

export interface HotPathOptions {
  /**
   * The access a request's Authorization header gives; throws (an AuthError) to refuse it.
   * Asked as soon as the head has arrived: a refused request's body is not kept.
   */
  authenticate(authorization: string | undefined): Access;
  /** Answers a framed, authenticated request; never rejects (errors are answers too). */
  answer(route: HotRoute, request: HranaRequest): Promise<Answer>;
  /** Where connections go that the hot path does not take; it does not listen itself. */
  fallback: HttpServer;
  maxBodyBytes: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  /** A request starts (its head has arrived); the returned call marks its end. */
  onRequest(): () => void;
}

interface Head {
  route: HotRoute;
  bodyBytes: number;
  authorization: string | undefined;
  acceptEncoding: string | undefined;
  /** What the credentials give, or the answer that refuses them. */
  access?: Access;
  refusal?: Answer;
}

export class HotPath {
  private readonly connections = new Set<HotConnection>();
  private sweeper: NodeJS.Timeout | undefined;
  closing = false;

  constructor(readonly options: HotPathOptions) {
    // node:http tracks its connections' timeouts from its 'listening' event, which a server
    // that is handed connections instead of listening never has.
    options.fallback.emit("listening");
  }

  accept(socket: Socket): void {
    if (this.closing) return void this.handOff(socket, undefined);
    const connection = new HotConnection(this, socket);
    this.connections.add(connection);
    // One timer for all connections, as node:http's own check (connectionsCheckingInterval).
    this.sweeper ??= setInterval(() => this.sweep(), SWEEP_MS).unref();
  }

  /** Shutting down: idle connections close now, busy ones after their answer. */
  close(): void {
    this.closing = true;
    for (const connection of this.connections) connection.closeIfIdle();
  }

  closeAll(): void {
    for (const connection of this.connections) connection.socket.destroy();
  }

  forget(connection: HotConnection): void {
    this.connections.delete(connection);
    if (this.connections.size === 0 && this.sweeper) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
    }
  }

  /** Gives `socket` to node:http, with the bytes read but not used (`unread`). */
  handOff(socket: Socket, unread: Buffer | undefined): void {
    socket.pause();
    if (unread && unread.length > 0) socket.unshift(unread);
    this.options.fallback.emit("connection", socket);
    socket.resume();
  }

  private sweep(): void {
    const now = Date.now();
    for (const connection of this.connections) connection.checkTimeouts(now);
  }
}

const SWEEP_MS = 1000;
const EMPTY: Buffer = Buffer.alloc(0);

class HotConnection {
  /** Bytes of the next request's head not yet complete (or the start of its body). */
  private pending: Buffer | undefined;
  /** How much of `pending` was searched for the head's end already, without finding it. */
  private scanned = 0;
  /**
   * Where a head arriving in many pieces is gathered, grown by doubling: copying the whole
   * head again for every piece would make a client sending it a byte at a time cost the
   * worker the square of its size.
   */
  private spare: Buffer | undefined;
  /** The body being received: its head, its chunks and their size. */
  private head: Head | undefined;
  private chunks: Buffer[] = [];
  private received = 0;
  /**
   * An answer is being worked out, or waits for the client to take it (drain): nothing more is
   * read meanwhile, and no arrival timeout runs (the wait is the worker's, not the client's).
   */
  private busy = false;
  /** When the request being received started (0: none), and when the last answer ended. */
  private requestSince: number;
  private idleSince = 0;
  private requestDone: (() => void) | undefined;
  /** The client has sent all it will (half-close): what it sent is answered, then the end. */
  private clientEnded = false;
  private readonly onData = (chunk: Buffer) => this.receive(chunk);
  private readonly onEnd = () => {
    this.clientEnded = true;
    if (!this.busy) this.waitForMore();
  };
  private readonly onError = () => this.socket.destroy();
  private readonly onClose = () => {
    this.endRequest();
    this.path.forget(this);
  };

  constructor(
    private readonly path: HotPath,
    readonly socket: Socket,
  ) {
    // node:http counts a new connection's first request from the moment it connects.
    this.requestSince = Date.now();
    socket.on("data", this.onData);
    socket.on("end", this.onEnd);
    socket.on("error", this.onError);
    socket.on("close", this.onClose);
  }

  closeIfIdle(): void {
    if (!this.busy && this.pending === undefined && this.head === undefined) this.socket.destroy();
  }

  checkTimeouts(now: number): void {
    if (this.busy) return;
    const { headersTimeoutMs, requestTimeoutMs, keepAliveTimeoutMs } = this.path.options;
    if (this.requestSince > 0) {
      const age = now - this.requestSince;
      if (age >= requestTimeoutMs || (this.head === undefined && age >= headersTimeoutMs)) {
        // A head that has arrived (`head` set) has only the request timeout left. As node:http:
        // a 408 unless an answer was begun, then the connection is closed.
        this.socket.write(REQUEST_TIMEOUT);
        this.socket.destroy();
      }
    } else if (now - this.idleSince >= keepAliveTimeoutMs) {
      this.socket.destroy();
    }
  }

  private receive(chunk: Buffer): void {
    if (this.requestSince === 0) this.requestSince = Date.now();
    if (this.head) {
      this.chunks.push(chunk);
      this.received += chunk.length;
    } else {
      this.pending = this.pending ? this.append(this.pending, chunk) : chunk;
    }
    this.next();
  }

  /** Frames and answers what has arrived, a request at a time. */
  private next(): void {
    while (!this.busy && !this.socket.destroyed) {
      if (!this.head) {
        const pending = this.pending;
        if (!pending) return void this.waitForMore();
        // The end may straddle the last piece and the new one: look from 3 bytes back.
        const end = pending.indexOf(HEAD_END, Math.max(0, this.scanned - HEAD_END.length + 1));
        if (end < 0) {
          this.scanned = pending.length;
          if (pending.length > MAX_HEAD_BYTES) this.handOff();
          else this.waitForMore();
          return;
        }
        const head = end <= MAX_HEAD_BYTES ? parseHead(pending, end, this.path.options) : undefined;
        if (!head) return void this.handOff();
        try {
          head.access = this.path.options.authenticate(head.authorization);
        } catch (err) {
          head.refusal = errorAnswer(err);
        }
        this.head = head;
        this.requestDone = this.path.options.onRequest();
        const rest = pending.subarray(end + HEAD_END.length);
        this.pending = undefined;
        this.scanned = 0;
        // `rest`, and so the body, may be a view of it: it is never written again.
        this.spare = undefined;
        this.chunks = rest.length > 0 ? [rest] : [];
        this.received = rest.length;
      }
      const head = this.head;
      if (this.received < head.bodyBytes) {
        // A refused request's body is counted, not kept: all of what arrived so far is body.
        if (head.refusal) this.chunks = [];
        return void this.waitForMore();
      }
      let body: Buffer = EMPTY;
      let rest: Buffer;
      if (head.refusal) {
        // What arrived beyond the body (the next request) is at the end of the last chunk.
        const last = this.chunks.at(-1) ?? EMPTY;
        rest = last.subarray(last.length - (this.received - head.bodyBytes));
      } else {
        const all =
          this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks);
        body = all.subarray(0, head.bodyBytes);
        rest = all.subarray(head.bodyBytes);
      }
      this.pending = rest.length > 0 ? rest : undefined;
      this.head = undefined;
      this.chunks = [];
      this.received = 0;
      this.answer(head, body);
    }
  }

  /** `pending` followed by `chunk`, in `spare` (made or grown as needed). */
  private append(pending: Buffer, chunk: Buffer): Buffer {
    const size = pending.length + chunk.length;
    const spare = this.spare;
    // Appended in place only while `pending` is the start of `spare` and there is room.
    if (
      spare &&
      pending.buffer === spare.buffer &&
      pending.byteOffset === spare.byteOffset &&
      size <= spare.length
    ) {
      chunk.copy(spare, pending.length);
      return spare.subarray(0, size);
    }
    const grown = Buffer.allocUnsafeSlow(Math.max(size, 2 * pending.length, 4096));
    pending.copy(grown);
    chunk.copy(grown, pending.length);
    this.spare = grown;
    return grown.subarray(0, size);
  }

  /** Nothing more to frame: unless the client has ended, more bytes will come. */
  private waitForMore(): void {
    if (!this.clientEnded || this.socket.destroyed) return;
    const partial = this.pending !== undefined || this.head !== undefined;
    if (partial) {
      this.socket.write(BAD_REQUEST);
      this.socket.destroy();
    } else this.socket.end();
  }

  private answer(head: Head, body: Buffer): void {
    this.busy = true;
    this.socket.pause();
    const answering = head.refusal
      ? Promise.resolve(head.refusal)
      : this.path.options.answer(head.route, {
          // Set whenever there is no refusal (see next()).
          access: head.access as Access,
          acceptEncoding: head.acceptEncoding,
          body,
        });
    void answering
      .then((answer) => this.write(answer))
      // Nothing here is expected to throw; if it did, this connection ends, not the process.
      .catch(() => this.socket.destroy());
  }

  private write(answer: Answer): void {
    this.endRequest();
    const socket = this.socket;
    if (socket.destroyed) return;
    const close = answer.close === true || this.path.closing;
    const head = responseHead(answer, this.path.options, close);
    if (typeof answer.body === "string") {
      socket.write(head + answer.body);
    } else {
      socket.cork();
      socket.write(head, "latin1");
      socket.write(answer.body);
      socket.uncork();
    }
    if (close) return void socket.end();
    // A client that does not read its answers is not read from either.
    if (socket.writableNeedDrain) socket.once("drain", () => this.resume());
    else this.resume();
  }

  private resume(): void {
    this.busy = false;
    if (this.pending) this.requestSince = Date.now();
    else {
      this.requestSince = 0;
      this.idleSince = Date.now();
    }
    if (this.socket.destroyed) return;
    this.socket.resume();
    this.next();
  }

  private endRequest(): void {
    const done = this.requestDone;
    this.requestDone = undefined;
    done?.();
  }

  private handOff(): void {
    const unread = [...(this.pending ? [this.pending] : []), ...this.chunks];
    this.socket.removeListener("data", this.onData);
    this.socket.removeListener("end", this.onEnd);
    this.socket.removeListener("error", this.onError);
    this.socket.removeListener("close", this.onClose);
    this.path.forget(this);
    this.path.handOff(this.socket, unread.length > 0 ? Buffer.concat(unread) : undefined);
  }
}

/** The head of a request the hot path takes, or undefined for any other (see the top). */
function parseHead(bytes: Buffer, end: number, limits: { maxBodyBytes: number }): Head | undefined {
  const lines = bytes.toString("latin1", 0, end).split("\r\n");
  const route = REQUEST_LINES[lines[0] as string];
  if (route === undefined) return undefined;
  let bodyBytes: number | undefined;
  let authorization: string | undefined;
  let acceptEncoding: string | undefined;
  let host = false;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] as string;
    if (!HEADER_LINE.test(line)) return undefined;
    const colon = line.indexOf(":");
    // Only spaces and tabs can surround the value: HEADER_LINE allows no other white space.
    const value = line.slice(colon + 1).trim();
    switch (line.slice(0, colon).toLowerCase()) {
      case "content-length":
        if (bodyBytes !== undefined || !DIGITS.test(value)) return undefined;
        bodyBytes = Number(value);
        break;
      case "host":
        if (host) return undefined;
        host = true;
        break;
      case "authorization":
        if (authorization !== undefined) return undefined;
        authorization = value;
        break;
      case "accept-encoding":
        if (acceptEncoding !== undefined) return undefined;
        acceptEncoding = value;
        break;
      case "connection":
        if (value.toLowerCase() !== "keep-alive") return undefined;
        break;
      case "transfer-encoding":
      case "expect":
      case "upgrade":
        return undefined;
    }
  }
  if (!host || bodyBytes === undefined || bodyBytes > limits.maxBodyBytes) return undefined;
  return { route, bodyBytes, authorization, acceptEncoding };
}

/** The status line and headers node:http writes for `answer` (lib/_http_outgoing.js). */
function responseHead(
  answer: Answer,
  options: Pick<HotPathOptions, "keepAliveTimeoutMs">,
  close: boolean,
): string {
  let head = `HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status]}\r\n`;
  const headers = answerHeaders(answer);
  for (let i = 0; i < headers.length; i += 2) head += `${headers[i]}: ${headers[i + 1]}\r\n`;
  head += `Date: ${httpDate()}\r\n`;
  head += close
    ? "Connection: close\r\n"
    : `Connection: keep-alive\r\nKeep-Alive: timeout=${Math.floor(options.keepAliveTimeoutMs / 1000)}\r\n`;
  return `${head}\r\n`;
}

let date = "";
let dateUntil = 0;

/** The Date header's value, made once a second as node:http does. */
function httpDate(): string {
  const now = Date.now();
  if (now >= dateUntil) {
    date = new Date(now).toUTCString();
    dateUntil = now - (now % 1000) + 1000;
  }
  return date;
}

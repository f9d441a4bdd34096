/**
 * A hot path for a server's busiest requests: POSTs on keep-alive HTTP/1.1 connections, framed
 * and answered here on the raw socket instead of by node:http. node:http spends ~17 µs of CPU
 * per request on its own objects, events and timers (IncomingMessage, ServerResponse,
 * per-socket timeouts): in the worker as much as its whole Hrana work on a point select, in the
 * functions host as much as its proxying of one (bench/README.md). The worker serves its Hrana
 * POSTs here (workers-image/src/transport/hot-path.ts), the functions host its proxy's
 * pipelines (functions/host/proxy-lane.ts).
 *
 * Safety rests on one rule: the hot path takes only a strict subset of HTTP, and a request
 * outside it hands its connection, bytes already read included, to node:http for good. The
 * subset: a request line the user's `route` knows (`METHOD target HTTP/1.1`), one `Host`, at
 * most one `Content-Length` (none: no body), within the body limit, at most one of each header the user reads (`reads`),
 * no `Transfer-Encoding`, `Expect` or `Upgrade`, no `Connection` but `keep-alive`, header names
 * of token characters, values of visible ASCII (and tabs), lines ended by CRLF, the head within
 * node:http's 16 KiB. Each of these requests means the same to llhttp (node:http's parser), so
 * both front ends frame every byte stream alike: no request can be read one way here and
 * another way there (request smuggling). Any oddity, malformed or merely rare (HTTP/1.0,
 * chunked bodies, a query string, WebSocket upgrades, GETs), is node:http's to accept or refuse
 * as it always did. So is a request the user's `admit` declines on its head.
 *
 * What node:http does for these connections is done here alike: the same response bytes (see
 * workers-image/test/hot-path.test.ts, which compares them), requests on a connection answered
 * in order, no reading while a request is answered (backpressure), streamed answers written at
 * the client's pace (with their Content-Length, or chunked), the same timeouts (a request must
 * arrive within the headers and request timeouts or gets 408, an idle connection closes after
 * the keep-alive timeout), and on shutdown idle connections close at once and busy ones after
 * their answer, which says `Connection: close`.
 */
import { type Server as HttpServer, STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import type { Readable } from "node:stream";

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

/** A request's head as the hot path framed it. */
export interface HotHead<R> {
  /** What `route` made of the request line. */
  route: R;
  /** The request target of the request line. */
  target: string;
  /** The headers of `reads` the request has (lower-case names), each sent once. */
  headers: Map<string, string>;
  /** All its header lines as sent (each a `name: value` the hot path checked). */
  lines: readonly string[];
  bodyBytes: number;
  socket: Socket;
}

/** An answer to write: status, header pairs (names as written) and a body. */
export interface HotAnswer {
  status: number;
  /**
   * Name, value, name, value…, written in this order, then Date and Connection as node:http
   * writes them. A body without a Content-Length here gets one (a whole body) or is chunked (a
   * stream), as node:http would.
   */
  headers: (string | number)[];
  /** A stream is written at the client's pace; an error in it ends the connection. */
  body: string | Buffer | Readable;
  /** The connection cannot be reused after this answer (the request's body was not read). */
  close?: boolean;
}

/**
 * What `admit` decides on a head: to answer it (with what the answer needs), to refuse it (a
 * refused request's body is not kept), or, undefined, to leave it and its connection to
 * node:http with its bytes unread.
 */
export type HotAdmission<A> = { admitted: A } | { refusal: HotAnswer } | undefined;

export interface HotPathOptions<R, A> {
  /** The route of a request line (`POST /path HTTP/1.1`), undefined for any other. */
  route(requestLine: string): R | undefined;
  /** The request headers `admit` reads, lower-case; one sent twice leaves to node:http. */
  reads: ReadonlySet<string>;
  /** Asked as soon as a head has arrived, before any of its body is kept. Must not throw. */
  admit(head: HotHead<R>): HotAdmission<A>;
  /** Answers an admitted request; never rejects (errors are answers too). */
  answer(admitted: A, body: Buffer): Promise<HotAnswer>;
  /** Where connections go that the hot path does not take; it does not listen itself. */
  fallback: HttpServer;
  maxBodyBytes: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  /** A request was admitted or refused; the returned call marks the start of its answer. */
  onRequest?(): () => void;
}

interface Head<A> {
  bodyBytes: number;
  admitted?: A;
  refusal?: HotAnswer;
}

export class HotPath<R = unknown, A = unknown> {
  private readonly connections = new Set<HotConnection<R, A>>();
  private sweeper: NodeJS.Timeout | undefined;
  closing = false;

  constructor(readonly options: HotPathOptions<R, A>) {
    // node:http tracks its connections' timeouts from its 'listening' event, which a server
    // that is handed connections instead of listening never has.
    options.fallback.emit("listening");
  }

  accept(socket: Socket): void {
    if (this.closing) return void this.handOff(socket, undefined);
    const connection = new HotConnection<R, A>(this, socket);
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

  forget(connection: HotConnection<R, A>): void {
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

class HotConnection<R, A> {
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
  private head: Head<A> | undefined;
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
    private readonly path: HotPath<R, A>,
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
        const parsed =
          end <= MAX_HEAD_BYTES
            ? parseHead(pending, end, this.socket, this.path.options)
            : undefined;
        const admission = parsed && this.path.options.admit(parsed);
        if (!admission) return void this.handOff();
        const head: Head<A> =
          "refusal" in admission
            ? { bodyBytes: parsed.bodyBytes, refusal: admission.refusal }
            : { bodyBytes: parsed.bodyBytes, admitted: admission.admitted };
        this.head = head;
        this.requestDone = this.path.options.onRequest?.();
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

  private answer(head: Head<A>, body: Buffer): void {
    this.busy = true;
    this.socket.pause();
    const answering = head.refusal
      ? Promise.resolve(head.refusal)
      : // Set whenever there is no refusal (see next()).
        this.path.options.answer(head.admitted as A, body);
    void answering
      .then((answer) => this.write(answer))
      // Nothing here is expected to throw; if it did, this connection ends, not the process.
      .catch(() => this.socket.destroy());
  }

  private async write(answer: HotAnswer): Promise<void> {
    this.endRequest();
    const socket = this.socket;
    const { body } = answer;
    if (socket.destroyed) {
      if (typeof body === "object" && !Buffer.isBuffer(body)) body.destroy();
      return;
    }
    const close = answer.close === true || this.path.closing;
    if (typeof body === "string" || Buffer.isBuffer(body)) {
      const head = responseHead(answer, this.path.options, close, body);
      if (typeof body === "string") socket.write(head + body);
      else {
        socket.cork();
        socket.write(head, "latin1");
        socket.write(body);
        socket.uncork();
      }
    } else {
      const head = responseHead(answer, this.path.options, close, undefined);
      if (!(await streamBody(socket, head, body, !hasHeader(answer, "content-length")))) {
        return void socket.destroy();
      }
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

/** The head of a request the hot path may take, or undefined for any other (see the top). */
function parseHead<R>(
  bytes: Buffer,
  end: number,
  socket: Socket,
  options: Pick<HotPathOptions<R, unknown>, "route" | "reads" | "maxBodyBytes">,
): HotHead<R> | undefined {
  const lines = bytes.toString("latin1", 0, end).split("\r\n");
  const requestLine = lines[0] as string;
  const route = options.route(requestLine);
  if (route === undefined) return undefined;
  let bodyBytes: number | undefined;
  let host = false;
  const headers = new Map<string, string>();
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] as string;
    if (!HEADER_LINE.test(line)) return undefined;
    const colon = line.indexOf(":");
    // Only spaces and tabs can surround the value: HEADER_LINE allows no other white space.
    const value = line.slice(colon + 1).trim();
    const name = line.slice(0, colon).toLowerCase();
    switch (name) {
      case "content-length":
        if (bodyBytes !== undefined || !DIGITS.test(value)) return undefined;
        bodyBytes = Number(value);
        break;
      case "host":
        if (host) return undefined;
        host = true;
        break;
      case "connection":
        if (value.toLowerCase() !== "keep-alive") return undefined;
        break;
      case "transfer-encoding":
      case "expect":
      case "upgrade":
        return undefined;
    }
    if (options.reads.has(name)) {
      // node:http would join the values: a head read here must mean one thing.
      if (headers.has(name)) return undefined;
      headers.set(name, value);
    }
  }
  // No Content-Length (and no Transfer-Encoding, which is never taken): a request without a
  // body, to llhttp as to RFC 9112 (6.3).
  bodyBytes ??= 0;
  if (!host || bodyBytes > options.maxBodyBytes) return undefined;
  // The request line is `METHOD SP target SP HTTP/1.1`, and `route` knew it.
  const target = requestLine.slice(requestLine.indexOf(" ") + 1, requestLine.lastIndexOf(" "));
  return { route, target, headers, lines: lines.slice(1), bodyBytes, socket };
}

function hasHeader(answer: HotAnswer, lowerCaseName: string): boolean {
  const { headers } = answer;
  for (let i = 0; i < headers.length; i += 2)
    if (String(headers[i]).toLowerCase() === lowerCaseName) return true;
  return false;
}

/**
 * Writes `head` and then `body` at the client's pace, chunked or as it is (its length in the
 * head); false if the body failed or the connection went first.
 */
async function streamBody(
  socket: Socket,
  head: string,
  body: Readable,
  chunked: boolean,
): Promise<boolean> {
  socket.write(head, "latin1");
  // A client gone while the body waits for its next piece (an event stream, a slow export)
  // ends it now, not at that piece: its source is cancelled. Its end of sending counts as gone
  // here, as node:http aborts a request on it: a client that closed sends that end, and a
  // stream might never write again to find out.
  const abandon = () => body.destroy();
  socket.once("close", abandon);
  socket.once("end", abandon);
  try {
    for await (const piece of body) {
      const chunk: Buffer = typeof piece === "string" ? Buffer.from(piece) : piece;
      // An empty chunk would say "the end" in chunked encoding.
      if (chunk.length === 0) continue;
      if (socket.destroyed) {
        body.destroy();
        return false;
      }
      let flowing: boolean;
      if (chunked) {
        socket.cork();
        socket.write(`${chunk.length.toString(16)}\r\n`, "latin1");
        socket.write(chunk);
        flowing = socket.write("\r\n", "latin1");
        socket.uncork();
      } else flowing = socket.write(chunk);
      if (!flowing && !(await drained(socket))) {
        body.destroy();
        return false;
      }
    }
  } catch {
    return false;
  } finally {
    socket.off("close", abandon);
    socket.off("end", abandon);
  }
  if (chunked && !socket.destroyed) socket.write("0\r\n\r\n", "latin1");
  return !socket.destroyed;
}

/** Resolves true once `socket` can take more, false if it closed first. */
function drained(socket: Socket): Promise<boolean> {
  return new Promise((resolve) => {
    const settle = (ok: boolean) => () => {
      socket.off("drain", onDrain);
      socket.off("close", onClose);
      resolve(ok);
    };
    const onDrain = settle(true);
    const onClose = settle(false);
    socket.on("drain", onDrain);
    socket.on("close", onClose);
  });
}

/**
 * The status line and headers node:http writes for `answer` (lib/_http_outgoing.js): the
 * answer's own, Date, Connection (and Keep-Alive), then the body's length or chunking unless
 * the answer gave its length (none for 204 and 304, which have no body).
 */
function responseHead(
  answer: HotAnswer,
  options: Pick<HotPathOptions<unknown, unknown>, "keepAliveTimeoutMs">,
  close: boolean,
  /** The whole body, or undefined for a stream. */
  whole: string | Buffer | undefined,
): string {
  let head = `HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status]}\r\n`;
  const { headers } = answer;
  let length = false;
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i] as string;
    if (!length && name.length === 14 && name.toLowerCase() === "content-length") length = true;
    head += `${name}: ${headers[i + 1]}\r\n`;
  }
  head += `Date: ${httpDate()}\r\n`;
  head += close
    ? "Connection: close\r\n"
    : `Connection: keep-alive\r\nKeep-Alive: timeout=${Math.floor(options.keepAliveTimeoutMs / 1000)}\r\n`;
  if (!length && answer.status !== 204 && answer.status !== 304) {
    head +=
      whole === undefined
        ? "Transfer-Encoding: chunked\r\n"
        : `Content-Length: ${Buffer.byteLength(whole)}\r\n`;
  }
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

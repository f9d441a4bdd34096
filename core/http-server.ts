/**
 * Timeouts for DB-Forge's Node HTTP servers (functions host, control plane, worker).
 *
 * Node's defaults (60 s for headers, 300 s for a whole request, checked only every 30 s) let a
 * client that sends headers and then never finishes its body, or trickles bytes (slowloris),
 * hold a connection for minutes; a few hundred such clients exhaust the process. These options
 * cut such a client off with 408. They bound only how long the *request* may take to arrive,
 * never how long a handler may take to answer (slow queries have their own limits).
 */
import type { IncomingMessage, Server, ServerOptions } from "node:http";
import type { Duplex } from "node:stream";

export interface HttpTimeouts {
  /** All request headers must arrive within this (ms). */
  headersMs: number;
  /** The whole request, body included, must arrive within this (ms); at least `headersMs`. */
  requestMs: number;
  /**
   * How often Node looks for expired requests: the granularity of both timeouts. Default:
   * every second (at most half the headers timeout).
   */
  checkMs?: number;
}

/** For public and worker listeners: a 10 MB body still arrives at ~2 Mbit/s. */
export const DEFAULT_HTTP_TIMEOUTS: HttpTimeouts = { headersMs: 15_000, requestMs: 60_000 };

/** `http.createServer` options enforcing `timeouts`. */
export function httpServerOptions(timeouts: Partial<HttpTimeouts> = {}): ServerOptions {
  const headersMs = timeouts.headersMs ?? DEFAULT_HTTP_TIMEOUTS.headersMs;
  // Node refuses a headers timeout longer than the request timeout.
  const requestMs = Math.max(timeouts.requestMs ?? DEFAULT_HTTP_TIMEOUTS.requestMs, headersMs);
  return {
    headersTimeout: headersMs,
    requestTimeout: requestMs,
    // How often Node looks for expired requests: the granularity of both timeouts.
    connectionsCheckingInterval: timeouts.checkMs ?? Math.min(1000, Math.ceil(headersMs / 2)),
  };
}

/**
 * Answers CONNECT (a request for a proxy tunnel; none of these servers is a proxy) with 405
 * where Node would close the connection without a word.
 */
export function refuseTunnels(server: Server): void {
  server.on("connect", (_req: IncomingMessage, socket: Duplex) =>
    endRawSocket(
      socket,
      "HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    ),
  );
}

/**
 * Writes a last response on a socket Node has handed over (CONNECT, a refused upgrade) and
 * closes it. The `error` listener is needed because Node removes its own on handing the socket
 * over (an unhandled socket error ends the process). `end()` alone is not enough: nothing reads
 * the socket any more, so it would never see the client's FIN and stay open for good (a leaked
 * descriptor per hostile request, and a server.close() that never completes); ws destroys a
 * refused handshake's socket the same way.
 */
export function endRawSocket(socket: Duplex, response: string): void {
  socket.on("error", () => socket.destroy());
  socket.once("finish", () => socket.destroy());
  socket.end(response);
}

/**
 * A tighter arrival bound for most routes of a server whose `requestTimeout` is long for a few
 * (uploads): a request `exempt` does not cover that is still arriving after `ms` has its
 * connection closed, as Node's own timeout would.
 */
export function boundRequestArrival(
  server: Server,
  ms: number,
  exempt: (req: IncomingMessage) => boolean,
): void {
  server.prependListener("request", (req: IncomingMessage) => {
    if (exempt(req)) return;
    const timer = setTimeout(() => {
      if (!req.complete) req.socket.destroy();
    }, ms);
    timer.unref();
    req.once("end", () => clearTimeout(timer));
    req.once("close", () => clearTimeout(timer));
  });
}

/**
 * Relays a Hrana WebSocket between a client and a database worker, swapping credentials: the
 * client authenticates (in its `hello`) with its own token (admin or database token); the
 * worker receives the short-lived token resolve minted for that access. Everything else passes
 * through untouched. Runtime-agnostic: the Node host plugs in `ws`, Workers WebSocketPair.
 */

import { ApiError } from "../../../core/errors";
import type { Resolved } from "../control-plane-client";
import { checkCredentialSize } from "../credentials";

export interface RelaySocket {
  send(text: string): void;
  close(code?: number, reason?: string): void;
}

export interface RelayOptions {
  client: RelaySocket;
  /** The subprotocol agreed with the client (hrana1-3); the worker is asked for the same. */
  protocol: string;
  /** Resolves the database for the credentials in a hello (fresh on a re-hello). */
  resolve(jwt: string | null): Promise<Resolved>;
  /**
   * Admits one request message sent with the credential of the last hello: undefined, or the
   * error it gets instead of being relayed (rate limits).
   */
  admit?(jwt: string | null): { code: string; message: string } | undefined;
  /** Opens the worker side; its messages and close are fed back through the callbacks. */
  connect(
    url: string,
    protocol: string,
    events: { message(text: string): void; close(code: number, reason: string): void },
  ): Promise<RelaySocket>;
}

/** Our worker's and sqld's JSON subprotocols, best first (hrana3-protobuf is not relayed). */
export const RELAY_SUBPROTOCOLS = ["hrana3", "hrana2", "hrana1"];

export function chooseSubprotocol(offered: string | null | undefined): string | null | undefined {
  if (!offered) return null; // no header: hrana1, and no header in the response
  const list = offered.split(",").map((p) => p.trim().toLowerCase());
  return RELAY_SUBPROTOCOLS.find((p) => list.includes(p));
}

export class HranaRelay {
  private upstream: RelaySocket | undefined;
  /** Hellos are handled in order; other messages wait while one is being handled. */
  private hellos: Promise<void> = Promise.resolve();
  private hellosInFlight = 0;
  private readonly pending: string[] = [];
  private closed = false;
  /** The credential of the last hello: what request messages are counted against. */
  private jwt: string | null = null;
  /** Whether the worker has answered the first hello: clients take nothing else before. */
  private helloAnswered = false;
  /** Refusals waiting for that answer. */
  private readonly refusals: string[] = [];

  constructor(private readonly options: RelayOptions) {}

  /** A text message from the client. */
  clientMessage(text: string): void {
    if (this.closed) return;
    const hello = parseHello(text);
    if (hello) {
      // Credentials are swapped for every hello (Hrana 2+ clients may re-authenticate).
      this.jwt = hello.jwt;
      this.hellosInFlight++;
      this.hellos = this.hellos.then(async () => {
        // The chain never rejects: a failure ends the relay, and later hellos see it closed.
        try {
          await this.hello(hello.jwt);
          this.hellosInFlight--;
          if (this.hellosInFlight === 0 && this.upstream && !this.closed) {
            for (const pending of this.pending.splice(0)) this.upstream.send(pending);
          }
        } catch {
          this.fail(1011, "Relay failed");
        }
      });
      return;
    }
    const refusal = this.options.admit?.(this.jwt);
    if (refusal) {
      // Answered here, as the worker would answer a failed request: the stream goes on.
      const requestId = /"request_id"\s*:\s*(\d+)/.exec(text)?.[1];
      if (requestId !== undefined) {
        const answer = `{"type":"response_error","request_id":${requestId},"error":${JSON.stringify(refusal)}}`;
        if (this.helloAnswered) this.options.client.send(answer);
        else this.refusals.push(answer);
      }
      return;
    }
    if (this.upstream && this.hellosInFlight === 0) this.upstream.send(text);
    else this.pending.push(text);
  }

  clientClosed(): void {
    this.closed = true;
    this.upstream?.close(1000, "client closed");
  }

  /**
   * Invariant: once the relay is closed (client gone, or a hello failed) nothing more is
   * resolved or connected, and an upstream that connects after the close is closed at once.
   */
  private async hello(jwt: string | null): Promise<void> {
    if (this.closed) return;
    let resolved: Resolved;
    try {
      checkCredentialSize(jwt);
      resolved = await this.options.resolve(jwt);
    } catch (err) {
      if (this.closed) return;
      const error =
        err instanceof ApiError
          ? { message: err.message, code: err.code }
          : { message: "Authentication failed", code: "UNAUTHORIZED" };
      this.options.client.send(JSON.stringify({ type: "hello_error", error }));
      this.fail(1000, "Authentication failed");
      return;
    }
    if (this.closed) return;
    const message = JSON.stringify({ type: "hello", jwt: resolved.token });
    if (!this.upstream) {
      try {
        const upstream = await this.options.connect(resolved.url, this.options.protocol, {
          message: (text) => {
            if (this.closed) return;
            this.options.client.send(text);
            if (!this.helloAnswered && text.includes('"hello_ok"')) {
              this.helloAnswered = true;
              for (const answer of this.refusals.splice(0)) this.options.client.send(answer);
            }
          },
          close: (code, reason) => this.fail(code === 1005 || code === 1006 ? 1011 : code, reason),
        });
        if (this.closed) {
          // The client left while the worker's side was being opened.
          upstream.close(1000, "client closed");
          return;
        }
        this.upstream = upstream;
      } catch (err) {
        if (this.closed) return;
        this.options.client.send(
          JSON.stringify({
            type: "hello_error",
            error: {
              message: `Database worker unreachable: ${(err as Error).message}`,
              code: "WORKER_UNAVAILABLE",
            },
          }),
        );
        this.fail(1011, "Database worker unreachable");
        return;
      }
    }
    this.upstream.send(message);
  }

  private fail(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.options.client.close(code, reason.slice(0, 120));
    this.upstream?.close(1000, "relay closed");
  }
}

function parseHello(text: string): { jwt: string | null } | undefined {
  // Cheap test first: only hello messages are parsed.
  if (!text.includes('"hello"')) return undefined;
  try {
    const msg = JSON.parse(text) as { type?: unknown; jwt?: unknown };
    if (msg.type !== "hello") return undefined;
    return { jwt: typeof msg.jwt === "string" ? msg.jwt : null };
  } catch {
    return undefined;
  }
}

import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { Database } from "../engine/database";
import { ProtocolError, StreamExpiredError } from "./errors";
import { httpSqlStore } from "./sql-store";
import { HranaStream } from "./stream";

interface Entry {
  stream: HranaStream;
  /** Sequence number the next baton must carry: a baton is good for exactly one request. */
  seq: bigint;
  inUse: boolean;
  /** Idle deadline while open; removal deadline once expired (a tombstone). */
  deadline: number;
  expired: boolean;
}

export interface HttpStreamsOptions {
  /** An unused stream is closed (its transaction rolled back) after this long. sqld: 10 s. */
  idleTimeoutMs: number;
  /** How long an expired stream's baton still answers STREAM_EXPIRED. sqld: 300 s. */
  tombstoneMs: number;
}

/** A stream taken by one HTTP request; give it back with `release`. */
export interface StreamLease {
  readonly id: bigint;
  readonly stream: HranaStream;
}

const BATON_BYTES = 48;

/**
 * Hrana-over-HTTP streams and their batons. A baton is base64 of stream id (8 bytes, BE),
 * sequence (8 bytes, BE) and an HMAC-SHA256 of both under a per-process key, like sqld's: it
 * cannot be forged, and each one can be used once.
 */
export class HttpStreams {
  private readonly key = randomBytes(32);
  private readonly entries = new Map<bigint, Entry>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly db: Database,
    private readonly options: HttpStreamsOptions,
  ) {
    this.sweeper = setInterval(() => this.sweep(), 1000);
    this.sweeper.unref();
  }

  /** A new stream when `baton` is undefined, else the stream the baton continues. */
  acquire(baton: string | undefined): StreamLease {
    if (baton === undefined) {
      const id = randomBytes(8).readBigUInt64BE();
      const entry: Entry = {
        stream: new HranaStream(this.db, httpSqlStore()),
        seq: randomBytes(8).readBigUInt64BE(),
        inUse: true,
        deadline: Number.POSITIVE_INFINITY,
        expired: false,
      };
      this.entries.set(id, entry);
      return { id, stream: entry.stream };
    }
    const { id, seq } = this.decodeBaton(baton);
    const entry = this.entries.get(id);
    if (!entry) throw new ProtocolError("Received an invalid baton");
    if (entry.inUse) throw new ProtocolError("Received a baton that has already been used");
    if (entry.expired) throw new StreamExpiredError();
    if (entry.seq !== seq) throw new ProtocolError("Received a baton that has already been used");
    entry.inUse = true;
    entry.deadline = Number.POSITIVE_INFINITY;
    return { id, stream: entry.stream };
  }

  /** Ends the request's use of the stream; returns the next baton, or null if it was closed. */
  release(lease: StreamLease): string | null {
    const entry = this.entries.get(lease.id);
    if (!entry) return null;
    if (entry.stream.isClosed) {
      this.entries.delete(lease.id);
      return null;
    }
    entry.inUse = false;
    entry.seq = BigInt.asUintN(64, entry.seq + 1n);
    entry.deadline = Date.now() + this.options.idleTimeoutMs;
    return this.encodeBaton(lease.id, entry.seq);
  }

  /** Closes the stream after a request failed at the protocol level (sqld does the same). */
  abort(lease: StreamLease): void {
    lease.stream.close();
    this.entries.delete(lease.id);
  }

  get openStreams(): number {
    let open = 0;
    for (const entry of this.entries.values()) if (!entry.expired) open++;
    return open;
  }

  /** Closes every stream (rolling back open transactions). */
  close(): void {
    clearInterval(this.sweeper);
    for (const entry of this.entries.values()) entry.stream.close();
    this.entries.clear();
  }

  private sweep(): void {
    const now = Date.now();
    for (const [id, entry] of this.entries) {
      if (entry.inUse || now < entry.deadline) continue;
      if (entry.expired) {
        this.entries.delete(id);
      } else {
        entry.stream.close();
        entry.expired = true;
        entry.deadline = now + this.options.tombstoneMs;
      }
    }
  }

  private encodeBaton(id: bigint, seq: bigint): string {
    const payload = Buffer.alloc(16);
    payload.writeBigUInt64BE(id, 0);
    payload.writeBigUInt64BE(seq, 8);
    return Buffer.concat([payload, this.mac(payload)]).toString("base64url");
  }

  private decodeBaton(baton: string): { id: bigint; seq: bigint } {
    const bytes = Buffer.from(baton, "base64url");
    if (bytes.length !== BATON_BYTES) throw new ProtocolError("Received an invalid baton");
    const payload = bytes.subarray(0, 16);
    if (!timingSafeEqual(bytes.subarray(16), this.mac(payload))) {
      throw new ProtocolError("Received an invalid baton");
    }
    return { id: payload.readBigUInt64BE(0), seq: payload.readBigUInt64BE(8) };
  }

  private mac(payload: Buffer): Buffer {
    return createHmac("sha256", this.key).update(payload).digest();
  }
}

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
  /** Idle deadline. */
  deadline: number;
}

export interface HttpStreamsOptions {
  /** An unused stream is closed (its transaction rolled back) after this long. sqld: 10 s. */
  idleTimeoutMs: number;
  /** How long an expired stream's baton still answers STREAM_EXPIRED. sqld: 300 s. */
  tombstoneMs: number;
  /**
   * Open streams kept at once (and 16 times as many tombstones). A client that never closes its streams
   * (tursodb's clients send no `close`) must not grow the worker without bound: past this, the
   * longest unused stream that holds no transaction expires early.
   */
  maxStreams: number;
}

/** A stream taken by one HTTP request; give it back with `release`. */
export interface StreamLease {
  readonly id: bigint;
  readonly stream: HranaStream;
}

const BATON_BYTES = 48;
/** Tombstones are a few bytes each: keep many more than open streams. */
const TOMBSTONES_PER_STREAM = 16;

/**
 * Hrana-over-HTTP streams and their batons. A baton is base64 of stream id (8 bytes, BE),
 * sequence (8 bytes, BE) and an HMAC-SHA256 of both under a per-process key, like sqld's: it
 * cannot be forged, and each one can be used once.
 */
export class HttpStreams {
  private readonly key = randomBytes(32);
  /** Open streams, oldest first. */
  private readonly entries = new Map<bigint, Entry>();
  /** Expired streams' ids and when they are forgotten, oldest first. */
  private readonly tombstones = new Map<bigint, number>();
  private lastId = 0n;
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
      // Batons are authenticated (HMAC), so ids and sequences need not be unpredictable: a
      // counter is enough, and costs no random bytes per request.
      const id = ++this.lastId;
      const entry: Entry = {
        stream: new HranaStream(this.db, httpSqlStore()),
        seq: 0n,
        inUse: true,
        deadline: Number.POSITIVE_INFINITY,
      };
      if (this.entries.size >= this.options.maxStreams) this.expireOneUnused();
      this.entries.set(id, entry);
      return { id, stream: entry.stream };
    }
    const { id, seq } = this.decodeBaton(baton);
    const entry = this.entries.get(id);
    if (!entry) {
      if (this.tombstones.has(id)) throw new StreamExpiredError();
      throw new ProtocolError("Received an invalid baton");
    }
    if (entry.inUse) throw new ProtocolError("Received a baton that has already been used");
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
    return this.entries.size;
  }

  /** Closes every stream (rolling back open transactions). */
  close(): void {
    clearInterval(this.sweeper);
    for (const entry of this.entries.values()) entry.stream.close();
    this.entries.clear();
    this.tombstones.clear();
  }

  private sweep(): void {
    const now = Date.now();
    for (const [id, entry] of this.entries) {
      if (!entry.inUse && now >= entry.deadline) this.expire(id, entry, now);
    }
    for (const [id, forgetAt] of this.tombstones) {
      if (now < forgetAt) break; // oldest first: the rest are younger
      this.tombstones.delete(id);
    }
  }

  /** Closes a stream; its baton answers STREAM_EXPIRED for a while. */
  private expire(id: bigint, entry: Entry, now = Date.now()): void {
    entry.stream.close();
    this.entries.delete(id);
    if (this.tombstones.size >= TOMBSTONES_PER_STREAM * this.options.maxStreams) {
      const oldest = this.tombstones.keys().next().value;
      if (oldest !== undefined) this.tombstones.delete(oldest);
    }
    this.tombstones.set(id, now + this.options.tombstoneMs);
  }

  /** Makes room: the longest unused stream that holds no connection (no transaction) expires. */
  private expireOneUnused(): void {
    for (const [id, entry] of this.entries) {
      if (entry.inUse || entry.stream.holdsConnection) continue;
      this.expire(id, entry);
      return;
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

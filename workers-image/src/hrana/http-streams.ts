import { randomBytes, timingSafeEqual } from "node:crypto";
import type { Database } from "../engine/database";
import { ProtocolError, StreamExpiredError } from "./errors";
import { httpSqlStore, type StoredSqlBudget } from "./sql-store";
import { HranaStream } from "./stream";

interface Entry {
  stream: HranaStream;
  /** Sequence number the next baton must carry: a baton is good for exactly one request. */
  seq: number;
  /** The random part of the baton handed out last. */
  secret: Buffer;
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
  /** What the streams' stored SQL texts may take together (shared with the WebSockets). */
  storedSql: StoredSqlBudget;
}

/** A stream taken by one HTTP request; give it back with `release`. */
export interface StreamLease {
  /** Undefined for a new stream: it is registered only if it is still open at `release`. */
  readonly id: number | undefined;
  readonly stream: HranaStream;
}

/** Tombstones are a few bytes each: keep many more than open streams. */
const TOMBSTONES_PER_STREAM = 16;

/**
 * Hrana-over-HTTP streams and their batons. A baton is base64 of stream id (8 bytes, BE),
 * sequence (8 bytes, BE) and 16 random bytes made for that baton alone: it cannot be guessed or
 * derived from an earlier one, and each one can be used once. (sqld signs id and sequence with an
 * HMAC instead; random bytes from a pool cost a tenth of an HMAC per request.)
 */
export class HttpStreams {
  /**
   * Open streams, oldest first. Ids and sequence numbers are numbers, not bigints: a Map hashes
   * a bigint key anew on every lookup, and 2^53 requests are centuries of any load.
   */
  private readonly entries = new Map<number, Entry>();
  /** Expired streams, whose batons answer STREAM_EXPIRED for a while. */
  private readonly tombstones: Tombstones;
  private lastId = 0;
  /**
   * Stream ids, oldest first, for expireOneUnused (walking the Map from its start instead gets
   * slower and slower: deleted entries stay in it as holes until it is rebuilt).
   */
  private order: number[] = [];
  private orderHead = 0;
  /** Runs only while streams are open: an idle worker is not woken every second for none. */
  private sweeper: NodeJS.Timeout | undefined;
  private readonly random = new RandomPool();

  constructor(
    private readonly db: Database,
    private readonly options: HttpStreamsOptions,
  ) {
    this.tombstones = new Tombstones(TOMBSTONES_PER_STREAM * options.maxStreams);
  }

  /**
   * A new stream when `baton` is undefined, else the stream the baton continues. A new stream
   * is not registered yet: most pipelines that open one also close it (@libsql/client ends
   * every request with `close`), and such a stream never needs an id, a baton or an entry.
   */
  acquire(baton: string | undefined): StreamLease {
    if (baton === undefined)
      return {
        id: undefined,
        stream: new HranaStream(this.db, httpSqlStore(this.options.storedSql), true),
      };
    const { id, seq, secret } = decodeBaton(baton);
    const entry = this.entries.get(id);
    if (!entry) {
      if (this.tombstones.holds(id, secret)) throw new StreamExpiredError();
      throw new ProtocolError("Received an invalid baton");
    }
    // An earlier baton of this stream (its secret is no longer known): used already.
    if (seq < entry.seq) throw new ProtocolError("Received a baton that has already been used");
    if (seq !== entry.seq || !sameSecret(entry.secret, secret)) {
      throw new ProtocolError("Received an invalid baton");
    }
    if (entry.inUse) throw new ProtocolError("Received a baton that has already been used");
    entry.inUse = true;
    entry.deadline = Number.POSITIVE_INFINITY;
    return { id, stream: entry.stream };
  }

  /** Ends the request's use of the stream; returns the next baton, or null if it was closed. */
  release(lease: StreamLease): string | null {
    if (lease.id === undefined) return lease.stream.isClosed ? null : this.register(lease.stream);
    const entry = this.entries.get(lease.id);
    if (!entry) return null;
    if (entry.stream.isClosed) {
      this.entries.delete(lease.id);
      return null;
    }
    return this.nextBaton(lease.id, entry);
  }

  /** A new stream that stays open: it gets an id and its first baton. */
  private register(stream: HranaStream): string {
    if (this.entries.size >= this.options.maxStreams) this.expireOneUnused();
    // The baton's secret makes it unguessable, so ids need not be: a counter is enough.
    const id = ++this.lastId;
    const entry: Entry = { stream, seq: 0, secret: EMPTY, inUse: false, deadline: 0 };
    this.entries.set(id, entry);
    this.sweeper ??= setInterval(() => this.sweep(), 1000).unref();
    this.order.push(id);
    // Streams closed by a later request leave their ids behind: drop them once they
    // outnumber the open ones, or the list grows with every such stream.
    if (this.order.length - this.orderHead > 2 * this.entries.size + 1024) this.compactOrder();
    return this.nextBaton(id, entry);
  }

  private nextBaton(id: number, entry: Entry): string {
    entry.inUse = false;
    entry.seq++;
    entry.secret = this.random.take(SECRET_BYTES);
    entry.deadline = Date.now() + this.options.idleTimeoutMs;
    return encodeBaton(id, entry.seq, entry.secret);
  }

  /** Closes the stream after a request failed at the protocol level (sqld does the same). */
  abort(lease: StreamLease): void {
    lease.stream.close();
    if (lease.id !== undefined) this.entries.delete(lease.id);
  }

  get openStreams(): number {
    return this.entries.size;
  }

  /** Closes every stream (rolling back open transactions). */
  close(): void {
    clearInterval(this.sweeper);
    this.sweeper = undefined;
    for (const entry of this.entries.values()) entry.stream.close();
    this.entries.clear();
    this.order = [];
    this.orderHead = 0;
  }

  private sweep(): void {
    const now = Date.now();
    for (const [id, entry] of this.entries) {
      if (!entry.inUse && now >= entry.deadline) this.expire(id, entry, now);
    }
    if (this.entries.size === 0) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
    }
  }

  /** Closes a stream; its baton answers STREAM_EXPIRED for a while. */
  private expire(id: number, entry: Entry, now = Date.now()): void {
    entry.stream.close();
    this.entries.delete(id);
    this.tombstones.add(id, entry.secret, now + this.options.tombstoneMs);
  }

  /** Makes room: the oldest unused stream that holds no connection (no transaction) expires. */
  private expireOneUnused(): void {
    // Streams in use or holding a transaction go to the back; each is looked at once at most.
    for (let looked = this.order.length - this.orderHead; looked > 0; looked--) {
      const id = this.order[this.orderHead++] as number;
      const entry = this.entries.get(id);
      if (!entry) continue;
      if (entry.inUse || entry.stream.holdsConnection) {
        this.order.push(id);
        continue;
      }
      this.expire(id, entry);
      break;
    }
    if (this.orderHead > 1024 && this.orderHead * 2 > this.order.length) {
      this.order = this.order.slice(this.orderHead);
      this.orderHead = 0;
    }
  }

  /** The ids of open streams only, in the same order. */
  private compactOrder(): void {
    this.order = this.order.slice(this.orderHead).filter((id) => this.entries.has(id));
    this.orderHead = 0;
  }
}

const SECRET_BYTES = 16;
const BATON_BYTES = 16 + SECRET_BYTES;
const EMPTY = Buffer.alloc(0);

/** Ids and sequence numbers travel as 8 bytes, big-endian, as they always have. */
function encodeBaton(id: number, seq: number, secret: Buffer): string {
  const bytes = Buffer.allocUnsafe(BATON_BYTES);
  writeUint64(bytes, id, 0);
  writeUint64(bytes, seq, 8);
  secret.copy(bytes, 16);
  return bytes.toString("base64url");
}

function decodeBaton(baton: string): { id: number; seq: number; secret: Buffer } {
  const bytes = Buffer.from(baton, "base64url");
  if (bytes.length !== BATON_BYTES) throw new ProtocolError("Received an invalid baton");
  const id = readUint64(bytes, 0);
  const seq = readUint64(bytes, 8);
  // Past 2^53 no stream or baton was ever given out: as invalid as any unknown one.
  if (id < 0 || seq < 0) throw new ProtocolError("Received an invalid baton");
  return { id, seq, secret: bytes.subarray(16) };
}

function writeUint64(bytes: Buffer, value: number, at: number): void {
  bytes.writeUInt32BE(Math.floor(value / 2 ** 32), at);
  bytes.writeUInt32BE(value >>> 0, at + 4);
}

/** The 8 bytes at `at` as a number; -1 beyond Number.MAX_SAFE_INTEGER (never given out). */
function readUint64(bytes: Buffer, at: number): number {
  const high = bytes.readUInt32BE(at);
  if (high >= 2 ** 21) return -1;
  return high * 2 ** 32 + bytes.readUInt32BE(at + 4);
}

function sameSecret(expected: Buffer, given: Buffer): boolean {
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/**
 * Expired streams' last secrets, for STREAM_EXPIRED: a ring of `capacity` slots indexed by
 * stream id, in typed arrays. No object per tombstone (tens of thousands of them, each living
 * minutes, made old-generation garbage at the request rate of clients that never close their
 * streams), memory bounded, and the arrays made on the first expiry only.
 */
class Tombstones {
  private ids: Float64Array | undefined;
  private forgetAt: Float64Array | undefined;
  private secrets: Buffer | undefined;

  constructor(private readonly capacity: number) {}

  add(id: number, secret: Buffer, forgetAt: number): void {
    if (secret.length !== SECRET_BYTES) return;
    this.ids ??= new Float64Array(this.capacity);
    this.forgetAt ??= new Float64Array(this.capacity);
    this.secrets ??= Buffer.alloc(this.capacity * SECRET_BYTES);
    const slot = id % this.capacity;
    // A newer stream's tombstone takes the slot of one `capacity` ids older.
    this.ids[slot] = id;
    this.forgetAt[slot] = forgetAt;
    secret.copy(this.secrets, slot * SECRET_BYTES);
  }

  /** Whether `secret` is the last secret of the expired stream `id`, not yet forgotten. */
  holds(id: number, secret: Buffer): boolean {
    if (!this.ids || !this.forgetAt || !this.secrets || id <= 0) return false;
    const slot = id % this.capacity;
    if (this.ids[slot] !== id || Date.now() >= (this.forgetAt[slot] as number)) return false;
    const at = slot * SECRET_BYTES;
    return sameSecret(this.secrets.subarray(at, at + SECRET_BYTES), secret);
  }
}

/** Random bytes from the system's generator, fetched 64 KiB at a time. */
class RandomPool {
  private pool = Buffer.alloc(0);
  private offset = 0;

  take(bytes: number): Buffer {
    if (this.offset + bytes > this.pool.length) {
      this.pool = randomBytes(64 * 1024);
      this.offset = 0;
    }
    // A copy: the pool is replaced, never rewritten, but a baton must not pin 64 KiB.
    const taken = Buffer.from(this.pool.subarray(this.offset, this.offset + bytes));
    this.offset += bytes;
    return taken;
  }
}

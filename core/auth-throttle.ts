/**
 * Throttling of failed authentication, per client: a token bucket that each failed attempt
 * drains. A client whose bucket is empty gets 429 with Retry-After for *every* attempt until it
 * refills, also for a token that would be valid, so guessing stays at `perMinute` tries a
 * minute. Clients that stop failing cost nothing: full buckets are forgotten.
 *
 * State is in memory: per process (Node host, control plane) or per isolate (Workers), see
 * README "Security" for what that means on Cloudflare.
 */

export interface ThrottleOptions {
  /** Failed attempts a client may make in a row before it is throttled. */
  burst: number;
  /** Failed attempts a minute a client may make in the long run. */
  perMinute: number;
  /** Clients tracked at once; the oldest entries are dropped past this. */
  maxClients?: number;
}

interface Bucket {
  tokens: number;
  updatedAt: number;
}

export class AuthFailureThrottle {
  private readonly buckets = new Map<string, Bucket>();
  private readonly perMs: number;
  private readonly maxClients: number;

  constructor(private readonly options: ThrottleOptions) {
    this.perMs = options.perMinute / 60_000;
    this.maxClients = options.maxClients ?? 10_000;
  }

  /** Whole seconds `client` must wait before its next attempt; 0 when it may try now. */
  retryAfterSeconds(client: string, now = Date.now()): number {
    const bucket = this.refilled(client, now);
    if (!bucket || bucket.tokens >= 1) return 0;
    return Math.max(1, Math.ceil((1 - bucket.tokens) / this.perMs / 1000));
  }

  /** Records a failed attempt by `client`. */
  failed(client: string, now = Date.now()): void {
    const bucket = this.refilled(client, now) ?? { tokens: this.options.burst, updatedAt: now };
    bucket.tokens = Math.max(0, bucket.tokens - 1);
    // Re-insert: the map's order is then least recently failed first, for eviction.
    this.buckets.delete(client);
    this.buckets.set(client, bucket);
    if (this.buckets.size > this.maxClients) {
      const oldest = this.buckets.keys().next().value;
      if (oldest !== undefined) this.buckets.delete(oldest);
    }
  }

  private refilled(client: string, now: number): Bucket | undefined {
    const bucket = this.buckets.get(client);
    if (!bucket) return undefined;
    bucket.tokens = Math.min(
      this.options.burst,
      bucket.tokens + Math.max(0, now - bucket.updatedAt) * this.perMs,
    );
    bucket.updatedAt = now;
    if (bucket.tokens >= this.options.burst) {
      this.buckets.delete(client);
      return undefined;
    }
    return bucket;
  }
}

/**
 * The header through which DB-Forge's own hosts pass the client's address to the functions and
 * the functions pass it to the control plane. Hosts always overwrite it, so a client cannot
 * choose the address it is throttled under.
 */
export const CLIENT_ADDRESS_HEADER = "x-dbforge-client-address";

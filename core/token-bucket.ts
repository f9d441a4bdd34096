/**
 * Token buckets by key, in memory: each holds up to `capacity` tokens and refills at `perMs`
 * tokens a millisecond. Full buckets are forgotten (a key that stops being used costs nothing);
 * past `maxKeys` the least recently used bucket is dropped.
 */
export class TokenBuckets {
  private readonly buckets = new Map<string, { tokens: number; updatedAt: number }>();

  constructor(
    readonly capacity: number,
    /** Tokens added per millisecond. */
    readonly perMs: number,
    private readonly maxKeys = 10_000,
  ) {}

  /** The tokens `key` has now. */
  tokens(key: string, now = Date.now()): number {
    const bucket = this.buckets.get(key);
    if (!bucket) return this.capacity;
    const tokens = Math.min(
      this.capacity,
      bucket.tokens + Math.max(0, now - bucket.updatedAt) * this.perMs,
    );
    if (tokens >= this.capacity) this.buckets.delete(key);
    return tokens;
  }

  /** Takes a token if `key` has one; the tokens left (negative: refused, none taken). */
  take(key: string, now = Date.now()): number {
    const tokens = this.tokens(key, now);
    if (tokens < 1) return tokens - 1;
    this.store(key, tokens - 1, now);
    return tokens - 1;
  }

  /** Takes a token, or what is left of one (a failure to count, whatever the balance). */
  drain(key: string, now = Date.now()): void {
    this.store(key, Math.max(0, this.tokens(key, now) - 1), now);
  }

  /** Whole seconds until `key` has a token again; 0 when it has one. */
  waitSeconds(key: string, now = Date.now()): number {
    const tokens = this.tokens(key, now);
    return tokens >= 1 ? 0 : Math.max(1, Math.ceil((1 - tokens) / this.perMs / 1000));
  }

  /** Whole seconds until `key`'s bucket is full again. */
  fullInSeconds(key: string, now = Date.now()): number {
    return Math.ceil((this.capacity - this.tokens(key, now)) / this.perMs / 1000);
  }

  private store(key: string, tokens: number, now: number): void {
    // Re-inserted: the map's order is then least recently used first, for eviction.
    this.buckets.delete(key);
    this.buckets.set(key, { tokens, updatedAt: now });
    if (this.buckets.size > this.maxKeys) {
      const oldest = this.buckets.keys().next().value;
      if (oldest !== undefined) this.buckets.delete(oldest);
    }
  }
}

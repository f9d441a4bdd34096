import { TokenBuckets } from "./token-bucket";

/**
 * Throttling of failed authentication, per client: a token bucket that each failed attempt
 * drains. A client whose bucket is empty gets 429 with Retry-After for *every* attempt until it
 * refills, also for a token that would be valid, so guessing stays at `perMinute` tries a
 * minute. Clients that stop failing cost nothing: full buckets are forgotten.
 *
 * State is in memory (core/token-bucket.ts): per process (Node host, control plane) or per isolate (Workers), see
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

export class AuthFailureThrottle {
  private readonly buckets: TokenBuckets;

  constructor(options: ThrottleOptions) {
    this.buckets = new TokenBuckets(
      options.burst,
      options.perMinute / 60_000,
      options.maxClients ?? 10_000,
    );
  }

  /** Whole seconds `client` must wait before its next attempt; 0 when it may try now. */
  retryAfterSeconds(client: string, now = Date.now()): number {
    return this.buckets.waitSeconds(client, now);
  }

  /** Records a failed attempt by `client`. */
  failed(client: string, now = Date.now()): void {
    this.buckets.drain(client, now);
  }
}

/**
 * The header through which DB-Forge's own hosts pass the client's address to the functions and
 * the functions pass it to the control plane. Hosts always overwrite it, so a client cannot
 * choose the address it is throttled under.
 */
export const CLIENT_ADDRESS_HEADER = "x-dbforge-client-address";

import { SqlError, StmtErrorCode } from "./errors";

/**
 * sqld's response size limits: one request (execute, batch or sequence) may produce at most
 * `maxResponseBytes`, and all responses being built at once at most `maxTotalBytes`.
 */
export class ResponseLimits {
  private inFlightBytes = 0;

  constructor(
    readonly maxResponseBytes: number,
    readonly maxTotalBytes: number,
  ) {}

  /** A budget for one request; release it once the response is serialized. */
  newBudget(): ResponseBudget {
    return new ResponseBudget(this);
  }

  /** @internal */
  reserve(bytes: number): boolean {
    this.inFlightBytes += bytes;
    return this.inFlightBytes <= this.maxTotalBytes;
  }

  /** @internal */
  free(bytes: number): void {
    this.inFlightBytes -= bytes;
  }
}

export class ResponseBudget {
  private usedBytes = 0;

  constructor(private readonly limits: ResponseLimits) {}

  /** Counts `bytes` more of response; throws RESPONSE_TOO_LARGE past either limit. */
  charge(bytes: number): void {
    this.usedBytes += bytes;
    const withinTotal = this.limits.reserve(bytes);
    if (!withinTotal || this.usedBytes > this.limits.maxResponseBytes) {
      throw new SqlError(StmtErrorCode.responseTooLarge, "Response is too large");
    }
  }

  release(): void {
    this.limits.free(this.usedBytes);
    this.usedBytes = 0;
  }
}

/** Estimated JSON size of a value, the way sqld estimates it (type tag and quoting included). */
export function valueSize(value: null | bigint | number | string | Uint8Array): number {
  if (value === null) return 15;
  if (typeof value === "string") return 28 + value.length;
  if (typeof value === "object") return 28 + Math.ceil((value.byteLength * 4) / 3);
  // A 64-bit integer or double prints as at most 24 characters.
  return 48;
}

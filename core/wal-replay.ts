import { closeSync, fsyncSync, ftruncateSync, openSync, writeSync } from "node:fs";
import { DomainError } from "./errors";
import type { ParsedSegment } from "./wal-archive";

export interface ReplayState {
  /** The last commit applied (unix ms), or the base's own time. */
  appliedUntil: number;
  commits: number;
  /** True once a commit later than the target instant was seen (the archive reaches past it). */
  passedTarget: boolean;
}

/**
 * Applies a generation's archived commits to a copy of its base, in order, up to and including
 * the last commit at or before `until` (unix ms): each commit's pages written where they belong
 * and the file cut to the commit's size, as a checkpoint would. The archive is the worker's
 * work, so it is checked like input: page numbers within the commit's size, sizes within
 * `maxBytes`.
 */
export class Replay {
  private readonly fd: number;
  readonly state: ReplayState;

  constructor(
    file: string,
    private readonly until: number,
    private readonly maxBytes: number,
    baseTime: number,
  ) {
    this.fd = openSync(file, "r+");
    this.state = { appliedUntil: baseTime, commits: 0, passedTarget: false };
  }

  /** Applies what `segment` has up to the target; false once past it (the rest is not needed). */
  apply(segment: ParsedSegment): boolean {
    const { pageSize } = segment;
    for (const mark of segment.marks) {
      if (mark.kind !== "commit") continue;
      if (mark.at > this.until) {
        this.state.passedTarget = true;
        return false;
      }
      if (mark.dbPages * pageSize > this.maxBytes)
        throw new DomainError(
          "BACKUP_CORRUPT",
          "The archive holds a commit larger than the database's quota",
        );
      for (const { pgno, data } of mark.pages) {
        if (pgno < 1 || pgno > mark.dbPages) continue;
        writeSync(this.fd, data, 0, data.length, (pgno - 1) * pageSize);
      }
      ftruncateSync(this.fd, mark.dbPages * pageSize);
      this.state.appliedUntil = mark.at;
      this.state.commits++;
    }
    return true;
  }

  close(): void {
    fsyncSync(this.fd);
    closeSync(this.fd);
  }
}

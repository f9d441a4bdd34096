import { randomBytes } from "node:crypto";
import { renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { USAGE_FILE, type UsageCounts, type UsageSnapshot } from "../../core/usage-file";

/** What the worker did for its database since it started (see core/usage-file.ts). */
export class UsageMeter implements UsageCounts {
  statements = 0;
  rowsRead = 0;
  rowsWritten = 0;
  errors = 0;

  statement(rowsRead: number, rowsWritten: number): void {
    this.statements++;
    this.rowsRead += rowsRead;
    this.rowsWritten += rowsWritten;
  }

  failed(): void {
    this.statements++;
    this.errors++;
  }
}

/**
 * Writes a meter's counters to the database directory at most every `intervalMs`, within
 * `intervalMs` of a request (`changed`), and once more on close. No timer runs while nothing is
 * asked: an interval woke every idle worker for nothing (bench/density.ts). Best effort: a full
 * disk skips a write (the next one carries the totals).
 */
export class UsageFileWriter {
  private readonly boot = `${Date.now().toString(36)}-${randomBytes(6).toString("hex")}`;
  private readonly file: string;
  private written = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly meter: UsageMeter,
    directory: string,
    private readonly intervalMs: number,
  ) {
    this.file = join(directory, USAGE_FILE);
  }

  /** A request ended: its counts are written within `intervalMs`, with any others by then. */
  changed(): void {
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, this.intervalMs);
    this.timer.unref();
  }

  flush(): void {
    const { statements, rowsRead, rowsWritten, errors } = this.meter;
    if (statements === this.written) return;
    const snapshot: UsageSnapshot = {
      boot: this.boot,
      at: Date.now(),
      statements,
      rowsRead,
      rowsWritten,
      errors,
    };
    try {
      writeFileSync(`${this.file}.tmp`, JSON.stringify(snapshot));
      renameSync(`${this.file}.tmp`, this.file);
      this.written = statements;
    } catch {
      // the next flush tries again
    }
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.flush();
  }
}

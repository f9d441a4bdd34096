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
 * Writes a meter's counters to the database directory every `intervalMs` when they changed, and
 * once more on close. Best effort: a full disk skips a write (the next one carries the totals).
 */
export class UsageFileWriter {
  private readonly boot = `${Date.now().toString(36)}-${randomBytes(6).toString("hex")}`;
  private readonly file: string;
  private written = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly meter: UsageMeter,
    directory: string,
    intervalMs: number,
  ) {
    this.file = join(directory, USAGE_FILE);
    this.timer = setInterval(() => this.flush(), intervalMs);
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
    clearInterval(this.timer);
    this.flush();
  }
}

import type { BackupSchedule } from "../../../core/control-plane-api";
import type { Registry } from "../registry";

/** A database's own backup schedule and retention; what it does not set comes from env. */
export const BACKUP_SCHEDULE_SCHEMA = `
CREATE TABLE IF NOT EXISTS backup_schedules (
  database TEXT PRIMARY KEY,
  interval_s INTEGER,
  keep INTEGER,
  max_age_s INTEGER
) STRICT`;

export class BackupSchedules {
  constructor(
    private readonly registry: Registry,
    private readonly defaults: BackupSchedule,
  ) {}

  /** The schedule in force for `database`: its own settings over the defaults. */
  of(database: string): BackupSchedule {
    const row = this.registry.rows(
      "SELECT interval_s, keep, max_age_s FROM backup_schedules WHERE database = ?",
      [database],
    )[0];
    const own = (value: unknown, fallback: number) =>
      value === null || value === undefined ? fallback : Number(value);
    return {
      intervalS: own(row?.interval_s, this.defaults.intervalS),
      keep: own(row?.keep, this.defaults.keep),
      maxAgeS: own(row?.max_age_s, this.defaults.maxAgeS),
    };
  }

  /** Sets (or, with null, clears) a database's own schedule. */
  set(database: string, schedule: Partial<BackupSchedule> | null): void {
    if (schedule === null) {
      this.registry.write("DELETE FROM backup_schedules WHERE database = ?", [database]);
      return;
    }
    const current = this.registry.rows(
      "SELECT interval_s, keep, max_age_s FROM backup_schedules WHERE database = ?",
      [database],
    )[0];
    const pick = (value: number | undefined, old: unknown) =>
      value ?? (old === undefined || old === null ? null : Number(old));
    this.registry.write(
      `INSERT INTO backup_schedules (database, interval_s, keep, max_age_s) VALUES (?, ?, ?, ?)
       ON CONFLICT (database) DO UPDATE SET interval_s = excluded.interval_s, keep = excluded.keep, max_age_s = excluded.max_age_s`,
      [
        database,
        pick(schedule.intervalS, current?.interval_s),
        pick(schedule.keep, current?.keep),
        pick(schedule.maxAgeS, current?.max_age_s),
      ],
    );
  }

  forget(database: string): void {
    this.registry.write("DELETE FROM backup_schedules WHERE database = ?", [database]);
  }
}

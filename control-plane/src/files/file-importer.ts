import { mkdirSync, renameSync, rmSync } from "node:fs";
import { dirname } from "node:path";
import { formatBytes } from "../../../core/byte-size";
import type { DatabaseInfo } from "../../../core/control-plane-api";
import { DomainError } from "../../../core/errors";
import { secureDataDir } from "../drivers/data-dir";
import type { DatabaseManager, DatabaseSeed } from "../manager";
import { checkWithEngine, inspectSqliteHeader } from "./sqlite-file";
import { receiveUpload } from "./upload";

export interface FileImporterOptions {
  /** Where uploads wait for their checks (on the data directory's file system, for rename). */
  uploadsDir: string;
  /** The worker bundle, which checks files with the engine (`--check-file`). */
  workerBundle: string;
  /** The engine choice and tunables the workers get. */
  workerEnv: Record<string, string>;
  defaultQuotaBytes: number;
  checkTimeoutMs: number;
}

/**
 * Creates databases from uploaded SQLite files (`POST …/import` with application/vnd.sqlite3).
 * A file is refused with INVALID_DATABASE_FILE or PAYLOAD_TOO_LARGE, and nothing created, unless
 * it is a whole SQLite file within the database's quota that passes integrity_check. The worker
 * then opens it as any database (journal mode WAL, its quota as max_page_count).
 */
export class FileImporter {
  constructor(
    private readonly manager: DatabaseManager,
    private readonly options: FileImporterOptions,
  ) {
    // Uploads of a control plane that was killed midway are of no use to anyone.
    rmSync(options.uploadsDir, { recursive: true, force: true });
  }

  async importFile(
    name: string,
    body: ReadableStream<Uint8Array>,
    settings: { memoryMb?: number; quotaBytes?: number },
  ): Promise<DatabaseInfo> {
    this.manager.assertCreatable(name);
    const quota = settings.quotaBytes ?? this.options.defaultQuotaBytes;
    const upload = await receiveUpload(
      body,
      this.options.uploadsDir,
      quota,
      `The file is larger than the database's quota (${formatBytes(quota)})`,
    );
    try {
      inspectSqliteHeader(upload.path);
      return await this.manager.create(name, { ...settings, seed: this.seedFrom(upload.path) });
    } finally {
      rmSync(upload.path, { force: true });
    }
  }

  /** Moves a checked file into place as a new database's file (see DatabaseManager.create). */
  seedFrom(path: string): DatabaseSeed {
    return async ({ dbFile, owner, quotaBytes }) => {
      const facts = inspectSqliteHeader(path);
      if (facts.sizeBytes > quotaBytes)
        throw new DomainError(
          "PAYLOAD_TOO_LARGE",
          `The file (${formatBytes(facts.sizeBytes)}) is larger than the database's quota (${formatBytes(quotaBytes)})`,
        );
      const dataDir = dirname(dirname(dirname(dirname(dbFile))));
      mkdirSync(dirname(dbFile), { recursive: true, mode: 0o700 });
      renameSync(path, dbFile);
      // The database's own user owns every directory and the file before the engine reads it.
      secureDataDir(dataDir, owner);
      await checkWithEngine(dbFile, {
        bundle: this.options.workerBundle,
        owner,
        env: this.options.workerEnv,
        timeoutMs: this.options.checkTimeoutMs,
      });
    };
  }
}

import { execFile } from "node:child_process";
import { closeSync, fchownSync, openSync, readSync, statSync } from "node:fs";
import { DomainError } from "../../../core/errors";

/** The 16 bytes every SQLite database file starts with. */
const MAGIC = Buffer.from("SQLite format 3\0", "latin1");
const HEADER_BYTES = 100;

export interface SqliteFileFacts {
  pageSize: number;
  pageCount: number;
  sizeBytes: number;
}

/**
 * Reads an uploaded file's 100-byte header without the engine, so what is plainly not a SQLite
 * database (or a cut-off one) is refused before any engine opens it: the magic string, a page
 * size SQLite can have, a file that is whole pages, and (where the header's page count is valid)
 * as many pages as the header says.
 */
export function inspectSqliteHeader(path: string): SqliteFileFacts {
  const sizeBytes = statSync(path).size;
  const header = Buffer.alloc(HEADER_BYTES);
  const fd = openSync(path, "r");
  try {
    readSync(fd, header, 0, HEADER_BYTES, 0);
  } finally {
    closeSync(fd);
  }
  const invalid = (why: string) =>
    new DomainError("INVALID_DATABASE_FILE", `This is not a usable SQLite database file: ${why}`);
  if (sizeBytes < HEADER_BYTES || !header.subarray(0, 16).equals(MAGIC))
    throw invalid("it does not start with the SQLite header");
  const raw = header.readUInt16BE(16);
  const pageSize = raw === 1 ? 65536 : raw;
  if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0)
    throw invalid(`its page size (${raw}) is not one SQLite uses`);
  if (sizeBytes % pageSize !== 0)
    throw invalid(
      `its size (${sizeBytes} bytes) is not a whole number of ${pageSize}-byte pages: it is truncated`,
    );
  const pages = sizeBytes / pageSize;
  // The header's own page count is trusted by SQLite only when its "version-valid-for" number
  // matches the change counter (SQLite ≥ 3.7.0 writes both).
  const headerPages = header.readUInt32BE(28);
  const valid = header.readUInt32BE(92) === header.readUInt32BE(24);
  if (valid && headerPages !== 0 && headerPages !== pages)
    throw invalid(
      `its header counts ${headerPages} pages but the file has ${pages}: it is truncated`,
    );
  if (header[21] !== 64 || header[22] !== 32 || header[23] !== 32)
    throw invalid("its header's payload fractions are not SQLite's");
  return { pageSize, pageCount: pages, sizeBytes };
}

export interface EngineCheck {
  /** The worker bundle, whose `--check-file` mode runs integrity_check (workers-image). */
  bundle: string;
  /** The database's own user, when DB-Forge runs as root: the check runs as it. */
  owner: { uid: number; gid: number } | null;
  env: Record<string, string>;
  timeoutMs: number;
}

/** What the engine reports on one file (workers-image/src/engine/check-file.ts). */
interface FileCheck {
  ok: boolean;
  problems: string[];
  pageSize: number;
  pageCount: number;
}

/**
 * Runs the engine's integrity_check on an uploaded file in a throwaway process of the worker
 * bundle, as the database's own user and under a memory cap: a file crafted against the engine
 * can at worst end that process, never the control plane. INVALID_DATABASE_FILE when it is not
 * sound.
 */
export async function checkWithEngine(path: string, check: EngineCheck): Promise<void> {
  if (check.owner) {
    const fd = openSync(path, "r");
    try {
      fchownSync(fd, check.owner.uid, check.owner.gid);
    } finally {
      closeSync(fd);
    }
  }
  const output = await new Promise<string>((resolve, reject) => {
    execFile(
      process.execPath,
      ["--max-old-space-size=128", check.bundle, "--check-file", path],
      {
        env: { ...check.env, DBFORGE_CHECK_HEAP_MB: "256" },
        timeout: check.timeoutMs,
        maxBuffer: 1024 * 1024,
        ...(check.owner ? { uid: check.owner.uid, gid: check.owner.gid } : {}),
      },
      (err, stdout) => {
        if (err && !stdout) reject(err);
        else resolve(stdout);
      },
    );
  }).catch((err: NodeJS.ErrnoException & { killed?: boolean }) => {
    throw new DomainError(
      "INVALID_DATABASE_FILE",
      err.killed
        ? `The file's integrity check did not finish within ${Math.round(check.timeoutMs / 1000)} s`
        : "The engine could not check the file (it ended the checking process)",
    );
  });
  let result: FileCheck;
  try {
    result = JSON.parse(output.trim().split("\n").pop() ?? "") as FileCheck;
  } catch {
    throw new DomainError("INVALID_DATABASE_FILE", "The engine could not check the file");
  }
  if (!result.ok) {
    throw new DomainError(
      "INVALID_DATABASE_FILE",
      `The file failed PRAGMA integrity_check: ${result.problems.slice(0, 3).join("; ")}`,
      { problems: result.problems },
    );
  }
}

/**
 * How the control plane keeps tenants apart below SQL (see README "Security"):
 * - as root, every database's worker runs as the database's own unprivileged uid (and gid),
 *   and owns its directory (0700); the control plane's own directory stays root's (0700);
 * - otherwise every worker runs as the service user: directories 0700 and files 0600 keep
 *   other users of the machine out, but not one database's worker out of another's files.
 */
import {
  chmodSync,
  closeSync,
  constants,
  fchmodSync,
  fstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  statSync,
} from "node:fs";
import { dirname, join } from "node:path";

export interface UidRange {
  from: number;
  to: number;
}

/** The uids workers get, or undefined when DB-Forge does not run as root (or isolation is off). */
export function workerUidRange(setting: UidRange | "off"): UidRange | undefined {
  if (setting === "off" || process.getuid?.() !== 0) return undefined;
  return setting;
}

/**
 * Sets up the data directory's permissions at start: files the control plane creates are
 * private (umask 077), its state directory and files are 0700/0600 (also repairing files an
 * older version left 0644), and with per-database uids the data root is 0711 so that each
 * worker can reach its own directory and list none.
 */
export function secureDataRoot(
  dataRoot: string,
  stateDir: string,
  uids: UidRange | undefined,
): void {
  process.umask(0o077);
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  chmodSync(dataRoot, uids ? 0o711 : 0o700);
  secureStateDir(stateDir);
  if (uids) assertReachableByWorkers(dataRoot);
}

function secureStateDir(dir: string): void {
  chmodSync(dir, 0o700);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) secureStateDir(path);
    else if (entry.isFile()) {
      const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
      try {
        if ((fstatSync(fd).mode & 0o077) !== 0) fchmodSync(fd, 0o600);
      } finally {
        closeSync(fd);
      }
    }
  }
}

/**
 * Workers running as their own uid must be able to pass through every directory above the
 * data root: a 0700 home directory above it would make every database fail at start, so say so
 * at once instead.
 */
function assertReachableByWorkers(dataRoot: string): void {
  for (let dir = dirname(dataRoot); ; dir = dirname(dir)) {
    if ((statSync(dir).mode & 0o001) === 0) {
      throw new Error(
        `DB-Forge runs as root, so every database's worker runs as its own unprivileged user, but ${dir} (above the data directory ${dataRoot}) is not searchable by other users. Move the data directory (DBFORGE_DATA_DIR) elsewhere, allow passing through (chmod o+x ${dir}), run DB-Forge as a non-root user, or set DBFORGE_WORKER_UIDS=off to run every worker as root (no isolation between databases below SQL).`,
      );
    }
    if (dirname(dir) === dir) return;
  }
}

/** Worker code must not be writable by workers: refuse to start one from a writable bundle. */
export function assertNotWritableByWorkers(paths: string[]): void {
  for (const path of paths) {
    const mode = statSync(path).mode;
    if ((mode & 0o022) !== 0) {
      throw new Error(
        `${path} is writable by other users (mode ${(mode & 0o777).toString(8)}); a worker could change the code it runs. chmod go-w ${path}`,
      );
    }
  }
}

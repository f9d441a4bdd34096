import {
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  fstatSync,
  mkdirSync,
  openSync,
  readdirSync,
} from "node:fs";
import { join } from "node:path";

/** Who owns a database's files: its own worker user (DB-Forge as root), or the service user. */
export type DataOwner = { uid: number; gid: number } | null;

/**
 * Makes a database's directory private before its worker starts: owned by the database's own
 * uid when there is one (so no other worker can read it), directories 0700 and files 0600
 * either way. Also repairs files left by older versions (0644) or by another owner.
 *
 * Every entry is opened with O_NOFOLLOW and changed through its descriptor, and (on Linux) a
 * directory's entries are reached through the directory's descriptor: a symbolic link a
 * worker planted, or swaps in meanwhile, can never make the control plane chown or chmod a file
 * outside the directory.
 */
export function secureDataDir(dir: string, owner: DataOwner): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  secureEntry(dir, owner);
}

function secureEntry(path: string, owner: DataOwner): void {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    // A symbolic link (ELOOP) or a special file is left alone; a vanished one too.
    if (["ELOOP", "ENOENT", "ENXIO"].includes((err as NodeJS.ErrnoException).code ?? "")) return;
    throw err;
  }
  try {
    const stat = fstatSync(fd);
    const isDirectory = stat.isDirectory();
    if (!isDirectory && !stat.isFile()) return;
    if (owner && (stat.uid !== owner.uid || stat.gid !== owner.gid)) {
      fchownSync(fd, owner.uid, owner.gid);
    }
    const mode = isDirectory ? 0o700 : stat.mode & 0o600;
    if ((stat.mode & 0o777) !== mode) fchmodSync(fd, mode);
    if (isDirectory) {
      const self = process.platform === "linux" ? `/proc/self/fd/${fd}` : path;
      for (const entry of readdirSync(self)) secureEntry(join(self, entry), owner);
    }
  } finally {
    closeSync(fd);
  }
}

import { closeSync, constants, fstatSync, lstatSync, openSync, readFileSync } from "node:fs";
import { DomainError } from "../../../core/errors";

/** Who may own a database's archive files: its worker's uid, or (no uid) anyone. */
export type ArchiveOwner = { uid: number } | null;

const NO_FOLLOW = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/**
 * Opens a file of a worker's archive the way only that worker's own files may be read: never
 * through a symbolic link (O_NOFOLLOW), a regular file, owned by the database's uid. The
 * control plane reads these as root: a worker that plants a link to another database's file
 * (or /etc/shadow) must not get it shipped into its own backups and restored to it.
 */
export function openArchiveFile(path: string, owner: ArchiveOwner): number {
  const fd = openSync(path, NO_FOLLOW);
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile() || (owner && stat.uid !== owner.uid))
      throw new DomainError("BACKUP_CORRUPT", "An archive file is not the database's own");
    return fd;
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}

export function readArchiveFile(path: string, owner: ArchiveOwner): Buffer {
  const fd = openArchiveFile(path, owner);
  try {
    return readFileSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Whether `path` is a real directory (not a link to one) of the database's own uid. */
export function isOwnDirectory(path: string, owner: ArchiveOwner): boolean {
  try {
    const stat = lstatSync(path);
    return stat.isDirectory() && (!owner || stat.uid === owner.uid);
  } catch {
    return false;
  }
}

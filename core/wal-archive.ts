/**
 * The WAL archive a DB-Forge worker keeps of its database, for point-in-time restore (as
 * Litestream does): every committed transaction's pages, copied out of the WAL before a
 * checkpoint can remove them, with the moment it was archived. The worker writes it
 * (workers-image/src/engine/wal-archiver.ts); the control plane ships it to the backup target and
 * replays it (control-plane/src/backups).
 *
 * Layout, inside the worker's data directory:
 *
 *   dbforge-wal/<generation>/generation.json   when and from which engine it started
 *   dbforge-wal/<generation>/base.db           the database file when it started (written last;
 *                                              base.shipped once the control plane shipped it)
 *   dbforge-wal/<generation>/00000001.seg …    every transaction since, in order
 *
 * A generation is a base copy plus everything after it: a backup. The database at any instant
 * since the base is the base with every commit up to that instant applied, page by page.
 *
 * A segment is a 32-byte header (magic, page size, sequence number) and entries:
 *   F  u8 'F', u32 page number, the page            a page of the next commit
 *   C  u8 'C', f64 unix ms, u32 pages in the file after the commit, u32 WAL salt 1,
 *      u32 WAL salt 2, u32 WAL frame of the commit, 8 bytes SHA-256 of the commit's F entries
 *   E  the same fields as C (no pages): the WAL ended cleanly here (the worker closed it)
 *   G  the same: the generation ended here (the next one's base holds all of it)
 *   P  the same: where the WAL stood when this segment was opened (archiving continues from it)
 * Only whole, verified commits count: a torn tail (a worker killed mid-write) is ignored.
 */
import { readdirSync } from "node:fs";

export const WAL_ARCHIVE_DIR = "dbforge-wal";
export const GENERATION_FILE = "generation.json";
export const BASE_FILE = "base.db";
/** Left in place of the base once the control plane has shipped it to the backup target. */
export const BASE_SHIPPED_FILE = "base.shipped";
/** A worker's data directory gets this file when the control plane wants a new generation now. */
export const GENERATION_REQUEST_FILE = "dbforge-new-generation";

export const SEGMENT_MAGIC = Buffer.from("DBFWAL01", "latin1");
export const SEGMENT_HEADER_BYTES = 32;
/** Bytes of a C, E or G entry. */
export const MARK_BYTES = 1 + 8 + 4 * 4 + 8;

export const ENTRY = {
  page: 0x46,
  commit: 0x43,
  end: 0x45,
  generationEnd: 0x47,
  position: 0x50,
} as const;

const KIND_OF: Record<number, Mark["kind"]> = {
  [ENTRY.commit]: "commit",
  [ENTRY.end]: "end",
  [ENTRY.generationEnd]: "generationEnd",
  [ENTRY.position]: "position",
};

export interface GenerationInfo {
  id: string;
  /** Unix ms: the base is the database at this instant. */
  startedAt: number;
  engine: string;
}

/** A generation's directory name: sortable by start time, unique. */
export function generationId(startedAt: number, random: string): string {
  return `${startedAt.toString().padStart(15, "0")}-${random}`;
}

export function segmentName(seq: number): string {
  return `${seq.toString().padStart(8, "0")}.seg`;
}

export const isSegmentName = (name: string): boolean => /^\d{8}\.seg$/.test(name);

export function segmentHeader(pageSize: number, seq: number): Buffer {
  const header = Buffer.alloc(SEGMENT_HEADER_BYTES);
  SEGMENT_MAGIC.copy(header, 0);
  header.writeUInt32BE(pageSize, 8);
  header.writeUInt32BE(seq, 12);
  return header;
}

/** Where a commit (or a clean end) left the WAL. */
export interface WalPosition {
  salt1: number;
  salt2: number;
  /** The WAL frame of the last archived commit (1-based; 0: none of this WAL yet). */
  frame: number;
}

export interface Mark extends WalPosition {
  kind: "commit" | "end" | "generationEnd" | "position";
  at: number;
  /** Pages in the database file after the commit (0 for end marks). */
  dbPages: number;
}

export function markEntry(
  kind: Mark["kind"],
  at: number,
  dbPages: number,
  position: WalPosition,
  digest: Buffer,
): Buffer {
  const entry = Buffer.allocUnsafe(MARK_BYTES);
  entry[0] = ENTRY[kind];
  entry.writeDoubleBE(at, 1);
  entry.writeUInt32BE(dbPages, 9);
  entry.writeUInt32BE(position.salt1 >>> 0, 13);
  entry.writeUInt32BE(position.salt2 >>> 0, 17);
  entry.writeUInt32BE(position.frame, 21);
  digest.copy(entry, 25, 0, 8);
  return entry;
}

export function pageEntryHeader(pgno: number): Buffer {
  const header = Buffer.alloc(5);
  header[0] = ENTRY.page;
  header.writeUInt32BE(pgno, 1);
  return header;
}

/**
 * The running digest of a commit's pages: two 32-bit sums over each page number and page (the
 * shape of SQLite's own WAL checksum), which catches a torn or damaged segment. Not a MAC: the
 * archive's integrity against tampering comes from the backup encryption once shipped. Pages
 * are whole multiples of 8 bytes (SQLite page sizes), read as 32-bit words.
 */
export class CommitDigest {
  private s1 = 0;
  private s2 = 0;

  update(pgno: number, page: Uint8Array): void {
    let s1 = (this.s1 + pgno) >>> 0;
    let s2 = (this.s2 + s1) >>> 0;
    const aligned = page.byteOffset % 4 === 0;
    const words = aligned
      ? new Uint32Array(page.buffer, page.byteOffset, page.byteLength >>> 2)
      : new Uint32Array(new Uint8Array(page).buffer, 0, page.byteLength >>> 2);
    for (let i = 0; i + 1 < words.length; i += 2) {
      s1 = (s1 + (words[i] as number) + s2) >>> 0;
      s2 = (s2 + (words[i + 1] as number) + s1) >>> 0;
    }
    this.s1 = s1;
    this.s2 = s2;
  }

  digest(): Buffer {
    const out = Buffer.alloc(8);
    out.writeUInt32BE(this.s1, 0);
    out.writeUInt32BE(this.s2, 4);
    return out;
  }
}

export const newCommitDigest = () => new CommitDigest();

export interface ArchivedCommit extends Mark {
  /** The commit's pages: page number and its bytes, in WAL order (a later one wins). */
  pages: Array<{ pgno: number; data: Buffer }>;
}

export interface ParsedSegment {
  pageSize: number;
  seq: number;
  /** Whole, verified entries in order: commits with their pages, and end marks. */
  marks: ArchivedCommit[];
  /** Bytes up to the end of the last whole mark (what follows is a torn or open commit). */
  validBytes: number;
}

/** Reads a segment's whole entries; undefined when it is not a segment at all. */
export function parseSegment(bytes: Buffer): ParsedSegment | undefined {
  if (bytes.length < SEGMENT_HEADER_BYTES) return undefined;
  if (!bytes.subarray(0, 8).equals(SEGMENT_MAGIC)) return undefined;
  const pageSize = bytes.readUInt32BE(8);
  const seq = bytes.readUInt32BE(12);
  // The worker's output is input here: a page size SQLite cannot have is not a segment.
  if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0) return undefined;
  const marks: ArchivedCommit[] = [];
  let at = SEGMENT_HEADER_BYTES;
  let validBytes = at;
  let pages: Array<{ pgno: number; data: Buffer }> = [];
  let digest = newCommitDigest();
  while (at < bytes.length) {
    const type = bytes[at];
    if (type === ENTRY.page) {
      const end = at + 5 + pageSize;
      if (end > bytes.length) break;
      const pgno = bytes.readUInt32BE(at + 1);
      const data = bytes.subarray(at + 5, end);
      digest.update(pgno, data);
      pages.push({ pgno, data });
      at = end;
      continue;
    }
    const kind = type === undefined ? undefined : KIND_OF[type];
    if (!kind) break;
    if (at + MARK_BYTES > bytes.length) break;
    const expected = digest.digest().subarray(0, 8);
    if (type === ENTRY.commit && !expected.equals(bytes.subarray(at + 25, at + 33))) break;
    marks.push({
      kind,
      at: bytes.readDoubleBE(at + 1),
      dbPages: bytes.readUInt32BE(at + 9),
      salt1: bytes.readUInt32BE(at + 13),
      salt2: bytes.readUInt32BE(at + 17),
      frame: bytes.readUInt32BE(at + 21),
      pages: type === ENTRY.commit ? pages : [],
    });
    pages = [];
    digest = newCommitDigest();
    at += MARK_BYTES;
    validBytes = at;
  }
  return { pageSize, seq, marks, validBytes };
}

export function parseGenerationInfo(text: string): GenerationInfo | undefined {
  try {
    const value = JSON.parse(text) as Partial<GenerationInfo>;
    if (typeof value.id !== "string" || typeof value.startedAt !== "number") return undefined;
    return { id: value.id, startedAt: value.startedAt, engine: String(value.engine ?? "") };
  } catch {
    return undefined;
  }
}

/** A generation directory's segment numbers, in order (none if it is gone). */
export function listSegments(dir: string): number[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .filter(isSegmentName)
    .map((name) => Number(name.slice(0, 8)))
    .sort((a, b) => a - b);
}

export const isGenerationId = (name: string): boolean => /^\d{15}-[0-9a-f]{8}$/.test(name);

/** An archive's generation directories, oldest first (none if there is no archive). */
export function listGenerations(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory() && isGenerationId(e.name))
      .map((e) => e.name)
      .sort();
  } catch {
    return [];
  }
}

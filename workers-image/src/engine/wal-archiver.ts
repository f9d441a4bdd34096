import { randomBytes } from "node:crypto";
import {
  close,
  closeSync,
  copyFile,
  existsSync,
  type FSWatcher,
  fstatSync,
  fsync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  open,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  watch,
  writeFileSync,
  writeSync,
  writevSync,
} from "node:fs";
import { basename, dirname, join } from "node:path";
import { promisify } from "node:util";
import { type NativeDatabase, openNative } from "../../../core/sqlite/index";
import {
  BASE_FILE,
  BASE_SHIPPED_FILE,
  GENERATION_FILE,
  type GenerationInfo,
  generationId,
  listGenerations,
  listSegments,
  type Mark,
  markEntry,
  newCommitDigest,
  pageEntryHeader,
  parseGenerationInfo,
  parseSegment,
  segmentHeader,
  segmentName,
  type WalPosition,
} from "../../../core/wal-archive";
import { log } from "../log";
import {
  type Checksum,
  FRAME_HEADER_BYTES,
  frameChecksum,
  readFrame,
  readWalHeader,
  WAL_HEADER_BYTES,
  type WalHeader,
} from "./wal-reader";

const copyAsync = promisify(copyFile);
const openAsync = promisify(open);
const fsyncAsync = promisify(fsync);
const closeAsync = promisify(close);

export interface WalArchiverOptions {
  dbFile: string;
  /** The archive's root (core/wal-archive.ts's layout). */
  dir: string;
  /** Its presence asks for a new generation (a backup) now; removed once it has started. */
  requestFile: string;
  /** Engine name and version, recorded with each generation. */
  engine: string;
  /** A segment is closed (and can be shipped) past this size … */
  segmentMaxBytes: number;
  /** … or this age, once it holds a commit. */
  segmentMaxAgeMs: number;
  /** The WAL is checkpointed once this many frames have been archived since the last time. */
  checkpointFrames: number;
  /**
   * How often the WAL is looked at without being asked, while the database is in use …
   */
  pollMs: number;
  /**
   * … and at most this seldom once it is not: the delay doubles from `pollMs` with every look
   * that finds nothing new. A request (`poke`) or a find brings it back to `pollMs`.
   */
  idlePollMs: number;
  /**
   * Once nothing is left that only a look could find, looks come this seldom, as a safety net:
   * writes come with requests (which poke), and an ask is seen by watching for its file.
   * Without such a watch (fs.watch refused: inotify's limits, say) they stay at `idlePollMs`.
   */
  restPollMs: number;
}

interface OpenSegment {
  fd: number;
  seq: number;
  pageSize: number;
  bytes: number;
  openedAt: number;
  commits: number;
}

/** Where archiving stands in the WAL: its salts, the last frame taken and its checksum. */
interface Follow extends WalPosition {
  checksum: Checksum;
}

/**
 * Copies every committed transaction out of the database's WAL into the archive
 * (core/wal-archive.ts), before anything can checkpoint it away: tenants cannot checkpoint
 * (the sandbox refuses wal_checkpoint and wal_autocheckpoint while archiving), automatic
 * checkpoints are off on every connection, and this class checkpoints only right after it has
 * archived, in the same synchronous step. SQLite restarts a WAL only once it is wholly
 * checkpointed, so no frame is ever overwritten before it was archived. Everything here runs
 * on the worker's one thread between statements, so the WAL does not change while it is read.
 *
 * Its own connection stays open for the worker's life: SQLite checkpoints and deletes the WAL
 * when the last connection closes, and that must only happen after the final archive.
 */
export class WalArchiver {
  private readonly conn: NativeDatabase;
  private readonly walFile: string;
  private generation: GenerationInfo & { dir: string };
  private segment: OpenSegment | undefined;
  /** Undefined: the next WAL header starts a new WAL (from frame 1, whatever its salts). */
  private follow: Follow | undefined;
  private framesSinceCheckpoint = 0;
  private basePending: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** The delay before the next unasked look (see `idlePollMs`). */
  private pollDelayMs: number;
  private scheduled = false;
  /** Set as `close` begins: no timer is armed after it. */
  private closing = false;
  private closed = false;
  /** The WAL's size and mtime when last archived. */
  private lastStamp = "";
  private walFd: number | undefined;
  private header: WalHeader | undefined;
  private readonly headerBytes = Buffer.alloc(WAL_HEADER_BYTES);
  private readonly lastHeaderBytes = Buffer.alloc(WAL_HEADER_BYTES);
  /** Watches the request file's directory, so that an idle worker need not look for asks. */
  private watcher: FSWatcher | undefined;
  /** The last look found an ask it could not take yet (a reader held the WAL). */
  private askPending = false;

  constructor(private readonly options: WalArchiverOptions) {
    this.walFile = `${options.dbFile}-wal`;
    mkdirSync(options.dir, { recursive: true, mode: 0o700 });
    mkdirSync(dirname(options.dbFile), { recursive: true, mode: 0o700 });
    this.conn = openNative(options.dbFile, 0);
    this.conn.exec("PRAGMA journal_mode = WAL");
    this.conn.exec("PRAGMA wal_autocheckpoint = 0");
    const resumed = this.resume();
    if (resumed) this.generation = resumed;
    else {
      // A first start, or an archive that does not follow on from this WAL: a new base.
      this.generation = this.placeholderGeneration();
      if (!this.startGeneration("start")) {
        throw new Error("could not checkpoint the database to start its WAL archive");
      }
    }
    this.archiveQuietly();
    this.pollDelayMs = options.pollMs;
    this.watchForAsks();
    this.scheduleTick();
  }

  /**
   * Looks soon whenever the ask's file appears (or anything else in its directory changes
   * that the platform does not name). The directory holds the database's directory, the
   * archive's and a few files written seldom, so this fires seldom; changes inside the
   * subdirectories (the WAL, the segments) are not reported.
   */
  private watchForAsks(): void {
    const name = basename(this.options.requestFile);
    try {
      this.watcher = watch(dirname(this.options.requestFile), { persistent: false }, (_, file) => {
        if (file === null || file === name) this.lookSoon();
      });
      this.watcher.on("error", () => {
        this.watcher?.close();
        this.watcher = undefined;
        this.lookSoon();
      });
    } catch {
      // No watch: looks stay every `idlePollMs` while idle.
      this.watcher = undefined;
    }
  }

  /** The next unasked look at `pollMs` from now, and on from there. */
  private lookSoon(): void {
    if (this.closing || this.pollDelayMs === this.options.pollMs) return;
    this.pollDelayMs = this.options.pollMs;
    clearTimeout(this.timer);
    this.scheduleTick();
  }

  /**
   * Archives soon (after the current request), coalescing many calls into one. Called after
   * every request, on either transport: it must stay cheap.
   */
  poke(): void {
    if (this.closed) return;
    // In use again: unasked looks come often (a WebSocket's writes, a backup request).
    this.lookSoon();
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      // A full disk must not end the worker: the WAL keeps the frames (nothing checkpoints
      // them away) until archiving succeeds again.
      this.archiveQuietly(true);
    });
  }

  /**
   * Copies every new committed transaction from the WAL into the current segment. Returns the
   * number of commits archived.
   */
  archive(quick = false): number {
    if (this.closed) return 0;
    const fd = this.walDescriptor();
    if (fd === undefined) return 0; // no WAL yet
    const stat = fstatSync(fd);
    // `quick` (after each request): nothing more when the WAL's size and time are as last
    // archived (reads). Timestamps are coarse (a few ms) and a restarted WAL can keep its
    // size, so the timer, closing and new generations always read.
    const stamp = `${stat.size}:${stat.mtimeMs}`;
    if (quick && stamp === this.lastStamp && this.follow) return 0;
    this.lastStamp = stamp;
    const size = stat.size;
    const header = this.headerOf(fd, size);
    if (!header) return 0;
    let follow = this.follow;
    if (!follow || follow.salt1 !== header.salt1 || follow.salt2 !== header.salt2) {
      // A new WAL: after our checkpoint SQLite restarts it with salt 1 + 1.
      if (follow && header.salt1 !== (follow.salt1 + 1) >>> 0) {
        log("warn", "the WAL restarted unexpectedly: starting a new archive generation");
        this.follow = undefined;
        this.startGeneration("unexpected WAL");
        return 0;
      }
      follow = { salt1: header.salt1, salt2: header.salt2, frame: 0, checksum: header.checksum };
      this.follow = follow;
    }
    const commits = this.copyFrames(fd, size, header, follow);
    this.rotateIfDue();
    this.checkpointIfDue();
    return commits;
  }

  /**
   * The WAL, kept open: SQLite truncates and rewrites it in place, and removes it only when
   * its last connection (this class's own) closes.
   */
  private walDescriptor(): number | undefined {
    if (this.walFd === undefined) {
      try {
        this.walFd = openSync(this.walFile, "r");
      } catch {
        return undefined;
      }
    }
    return this.walFd;
  }

  /** The WAL's header, checked again only when its 32 bytes changed. */
  private headerOf(fd: number, size: number): WalHeader | undefined {
    if (size < WAL_HEADER_BYTES) return undefined;
    const raw = this.headerBytes;
    if (readSync(fd, raw, 0, WAL_HEADER_BYTES, 0) < WAL_HEADER_BYTES) return undefined;
    if (this.header && raw.equals(this.lastHeaderBytes)) return this.header;
    this.header = readWalHeader(fd, size);
    raw.copy(this.lastHeaderBytes);
    return this.header;
  }

  /**
   * Copies the committed frames after `follow` into the segment: one write per commit (its
   * pages and its mark). An open (or rolled back) transaction's frames are left for later,
   * held in memory only up to SPILL_BYTES, past which they are written and cut off again.
   */
  private copyFrames(fd: number, size: number, header: WalHeader, follow: Follow): number {
    const segment = this.segmentFor(header.pageSize);
    const frameBytes = FRAME_HEADER_BYTES + header.pageSize;
    let index = follow.frame + 1;
    let checksum = follow.checksum;
    let digest = newCommitDigest();
    let held: Buffer[] = [];
    let heldBytes = 0;
    let frames = 0;
    let commits = 0;
    let keep = segment.bytes;
    const write = () => {
      writeAll(segment.fd, held, segment.bytes);
      segment.bytes += heldBytes;
      held = [];
      heldBytes = 0;
    };
    for (;;) {
      if (WAL_HEADER_BYTES + index * frameBytes > size) break;
      // A buffer per frame (not zeroed: it is read into whole), so its page can be held.
      const frame = readFrame(
        fd,
        size,
        header,
        index,
        checksum,
        Buffer.allocUnsafeSlow(frameBytes),
      );
      if (!frame) break;
      const entryHeader = pageEntryHeader(frame.pgno);
      held.push(entryHeader, frame.page);
      heldBytes += entryHeader.length + frame.page.length;
      digest.update(frame.pgno, frame.page);
      frames++;
      checksum = frame.checksum;
      if (frame.commitPages !== 0) {
        const position = { salt1: header.salt1, salt2: header.salt2, frame: index };
        const mark = markEntry("commit", Date.now(), frame.commitPages, position, digest.digest());
        held.push(mark);
        heldBytes += mark.length;
        write();
        this.follow = { ...position, checksum };
        this.framesSinceCheckpoint += frames;
        digest = newCommitDigest();
        frames = 0;
        commits++;
        segment.commits++;
        keep = segment.bytes;
      } else if (heldBytes >= SPILL_BYTES) {
        write();
      }
      index++;
    }
    if (segment.bytes > keep) {
      // Spilled frames of a transaction that has not committed: read again once it does.
      ftruncateSync(segment.fd, keep);
      segment.bytes = keep;
    }
    return commits;
  }

  private writeMark(
    kind: Mark["kind"],
    dbPages: number,
    position: WalPosition,
    digest = Buffer.alloc(8),
  ): void {
    const segment = this.segment;
    if (!segment) return;
    const entry = markEntry(kind, Date.now(), dbPages, position, digest);
    writeSync(segment.fd, entry, 0, entry.length, segment.bytes);
    segment.bytes += entry.length;
  }

  /** The open segment, a new one if the page size changed or none is open. */
  private segmentFor(pageSize: number): OpenSegment {
    if (this.segment && this.segment.pageSize === pageSize) return this.segment;
    const seq = this.segment ? this.segment.seq + 1 : this.nextSeq();
    this.closeSegment();
    const segment = this.openSegment(seq, pageSize);
    if (this.follow) this.writeMark("position", 0, this.follow);
    return segment;
  }

  private openSegment(seq: number, pageSize: number): OpenSegment {
    const path = join(this.generation.dir, segmentName(seq));
    const fd = openSync(path, "w", 0o600);
    const header = segmentHeader(pageSize, seq);
    writeSync(fd, header, 0, header.length, 0);
    this.segment = { fd, seq, pageSize, bytes: header.length, openedAt: Date.now(), commits: 0 };
    return this.segment;
  }

  private closeSegment(): void {
    if (!this.segment) return;
    fsyncSync(this.segment.fd);
    closeSync(this.segment.fd);
    this.segment = undefined;
  }

  private nextSeq(): number {
    const seqs = listSegments(this.generation.dir);
    return (seqs.at(-1) ?? 0) + 1;
  }

  /** Closes the segment once it is big or old enough, so the control plane can ship it. */
  private rotateIfDue(): void {
    const segment = this.segment;
    if (!segment || segment.commits === 0) return;
    const due =
      segment.bytes >= this.options.segmentMaxBytes ||
      Date.now() - segment.openedAt >= this.options.segmentMaxAgeMs;
    if (!due) return;
    const { seq, pageSize } = segment;
    this.closeSegment();
    this.openSegment(seq + 1, pageSize);
    // The new segment says where the WAL stands: once the closed ones are shipped (and gone
    // from here), a restarted worker still knows where to go on from.
    if (this.follow) this.writeMark("position", 0, this.follow);
  }

  /**
   * Checkpoints once enough has been archived, right after archiving (nothing runs in
   * between): what the checkpoint copies into the file, and what a WAL restart then
   * overwrites, is all in the archive, durably. Not while a base copy is being made: the
   * database file must not change under it.
   */
  private checkpointIfDue(): void {
    if (this.framesSinceCheckpoint < this.options.checkpointFrames || this.basePending) return;
    if (this.segment) fsyncSync(this.segment.fd);
    const row = this.conn.prepare("PRAGMA wal_checkpoint(PASSIVE)").raw(true).get();
    if (row && Number(row[1]) === Number(row[2])) this.framesSinceCheckpoint = 0;
  }

  /**
   * Starts a new generation (a backup): archives what is left, checkpoints the whole WAL
   * into the database file (TRUNCATE: the WAL is then empty), ends the old generation and
   * copies the database file as the new one's base, in the background; until the copy is
   * done nothing checkpoints, so the file does not change under it. False when the WAL
   * cannot be checkpointed now (a reader holds it): try again later.
   */
  startGeneration(reason: string): boolean {
    if (this.basePending || this.closed) return false;
    if (this.segment) this.archiveQuietly();
    const row = this.conn.prepare("PRAGMA wal_checkpoint(TRUNCATE)").raw(true).get();
    if (!row || Number(row[0]) !== 0) return false;
    if (this.segment && this.follow) this.writeMark("generationEnd", 0, this.follow);
    this.closeSegment();
    this.follow = undefined;
    this.framesSinceCheckpoint = 0;
    const startedAt = Date.now();
    const id = generationId(startedAt, randomBytes(4).toString("hex"));
    const dir = join(this.options.dir, id);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const info: GenerationInfo = { id, startedAt, engine: this.options.engine };
    writeFileSync(join(dir, `${GENERATION_FILE}.tmp`), JSON.stringify(info), { mode: 0o600 });
    renameSync(join(dir, `${GENERATION_FILE}.tmp`), join(dir, GENERATION_FILE));
    this.generation = { ...info, dir };
    // The WAL is empty: whatever comes next is a new WAL, from its first frame.
    const pageSize = Number(this.conn.prepare("PRAGMA page_size").raw(true).get()?.[0]) || 4096;
    this.openSegment(1, pageSize);
    this.writeMark("end", 0, { salt1: 0, salt2: 0, frame: 0 });
    fsyncSync((this.segment as OpenSegment).fd);
    log("info", "archive generation started", { generation: id, reason });
    this.basePending = this.copyBase(dir).finally(() => {
      this.basePending = undefined;
    });
    return true;
  }

  private archiveQuietly(quick = false): void {
    try {
      this.archive(quick);
    } catch (err) {
      log("error", "could not archive the WAL", { error: String(err) });
    }
  }

  private async copyBase(dir: string): Promise<void> {
    const partial = join(dir, `${BASE_FILE}.partial`);
    try {
      // Off the thread (libuv's pool), as the base can be the whole database; through fs's
      // callbacks, not node:fs/promises, whose module costs every archiving worker 0.2 MiB
      // of private memory for its life (density, bench/density.ts).
      if (existsSync(this.options.dbFile)) await copyAsync(this.options.dbFile, partial);
      else writeFileSync(partial, "");
      const fd = await openAsync(partial, "r+");
      try {
        await fsyncAsync(fd);
      } finally {
        await closeAsync(fd);
      }
      renameSync(partial, join(dir, BASE_FILE));
    } catch (err) {
      rmSync(partial, { force: true });
      log("error", "could not copy the archive's base", { error: String(err) });
    }
  }

  /**
   * One timer, re-armed after each look. A fixed 100 ms interval woke every idle worker ten
   * times a second for a stat, a read and an access(2): at 1,000 databases on two cores, most
   * of the machine (bench/density.ts); a look every second was still a third of an idle
   * worker's CPU.
   */
  private scheduleTick(): void {
    if (this.closing) return;
    this.timer = setTimeout(() => this.tick(), this.pollDelayMs);
    this.timer.unref();
  }

  private tick(): void {
    let found = false;
    try {
      const stamp = this.lastStamp;
      found = this.archive() > 0 || this.lastStamp !== stamp;
      this.askPending = existsSync(this.options.requestFile);
      if (this.askPending && this.startGeneration("requested")) {
        rmSync(this.options.requestFile, { force: true });
        this.askPending = false;
        found = true;
      }
    } catch (err) {
      log("error", "could not archive the WAL", { error: String(err) });
    }
    this.pollDelayMs = found
      ? this.options.pollMs
      : Math.min(this.pollDelayMs * 2, this.longestDelayMs());
    this.scheduleTick();
  }

  /**
   * How long the next unasked look may wait. Only a look rotates a segment that is due by age,
   * finishes after a base copy, or takes an ask that had to wait: while any of these is
   * pending, or nothing watches for asks, at most `idlePollMs`.
   */
  private longestDelayMs(): number {
    const pending =
      this.askPending ||
      this.basePending !== undefined ||
      (this.segment?.commits ?? 0) > 0 ||
      this.watcher === undefined;
    return pending ? this.options.idlePollMs : this.options.restPollMs;
  }

  /**
   * Picks up where the last worker left off: the newest generation with a base, its last
   * whole mark, and a WAL that follows on from it (the same WAL, or the one SQLite started
   * after a checkpoint). Undefined when it cannot be sure: then a new generation starts.
   */
  private resume(): (GenerationInfo & { dir: string }) | undefined {
    const generations = listGenerations(this.options.dir);
    // Generations a worker died in before their base was copied are of no use.
    for (const gen of generations.slice(0, -1)) {
      if (!hasBase(join(this.options.dir, gen)))
        rmSync(join(this.options.dir, gen), { recursive: true, force: true });
    }
    const newest = generations.at(-1);
    if (!newest) return undefined;
    const dir = join(this.options.dir, newest);
    const info = existsSync(join(dir, GENERATION_FILE))
      ? parseGenerationInfo(readFileSync(join(dir, GENERATION_FILE), "utf8"))
      : undefined;
    if (!info || !hasBase(dir)) {
      rmSync(dir, { recursive: true, force: true });
      return undefined;
    }
    const seq = listSegments(dir).at(-1);
    if (seq === undefined) return undefined;
    const path = join(dir, segmentName(seq));
    const parsed = parseSegment(readFileSync(path));
    const last = parsed?.marks.at(-1);
    if (!parsed || !last || last.kind === "generationEnd") return undefined;
    const follow = this.followOn(last);
    if (follow === null) return undefined;
    this.generation = { ...info, dir };
    // The torn tail of a worker killed mid-write goes; appending continues after the mark.
    const fd = openSync(path, "r+");
    ftruncateSync(fd, parsed.validBytes);
    this.segment = {
      fd,
      seq,
      pageSize: parsed.pageSize,
      bytes: parsed.validBytes,
      openedAt: Date.now(),
      commits: parsed.marks.filter((m) => m.kind === "commit").length,
    };
    this.follow = follow;
    return this.generation;
  }

  /** How archiving continues after `last` given the WAL now; null: it cannot. */
  private followOn(last: Mark): Follow | undefined | null {
    let fd: number;
    try {
      fd = openSync(this.walFile, "r");
    } catch {
      // No WAL: the last worker closed it cleanly (checkpointed) after its end mark.
      return last.kind === "end" ? undefined : null;
    }
    try {
      const header = readWalHeader(fd, fstatSync(fd).size);
      if (!header) return last.kind === "end" ? undefined : null;
      if (last.kind === "end") return undefined;
      if (header.salt1 === last.salt1 && header.salt2 === last.salt2) {
        const checksum = last.frame === 0 ? header.checksum : frameChecksum(fd, header, last.frame);
        return checksum ? { ...last, checksum } : null;
      }
      // SQLite restarted the WAL after the last checkpoint (all of which was archived).
      if (header.salt1 === (last.salt1 + 1) >>> 0) return undefined;
      return null;
    } finally {
      closeSync(fd);
    }
  }

  private placeholderGeneration(): GenerationInfo & { dir: string } {
    return { id: "", startedAt: 0, engine: this.options.engine, dir: this.options.dir };
  }

  /**
   * Archives the rest, marks a clean end and closes the connection (the last one: SQLite then
   * checkpoints the WAL away). Waits for a base copy in progress.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closing = true;
    clearTimeout(this.timer);
    this.watcher?.close();
    this.archiveQuietly();
    await this.basePending;
    this.archiveQuietly();
    this.closed = true;
    if (this.segment) {
      this.writeMark("end", 0, this.follow ?? { salt1: 0, salt2: 0, frame: 0 });
      this.closeSegment();
    }
    if (this.walFd !== undefined) closeSync(this.walFd);
    this.conn.close();
  }
}

/** An open transaction's frames held in memory before they are written (and maybe cut off). */
const SPILL_BYTES = 4 * 1024 * 1024;

/** Writes `buffers` at `position`, in as many writev calls as the system's limit needs. */
function writeAll(fd: number, buffers: Buffer[], position: number): void {
  let at = position;
  for (let i = 0; i < buffers.length; i += 512) {
    const batch = buffers.slice(i, i + 512);
    let written = writevSync(fd, batch, at);
    const total = batch.reduce((sum, b) => sum + b.length, 0);
    // A short write (rare: signals, full disks) finishes buffer by buffer.
    if (written < total) {
      let skip = written;
      for (const b of batch) {
        if (skip >= b.length) {
          skip -= b.length;
          continue;
        }
        const rest = b.subarray(skip);
        skip = 0;
        writeFullySync(fd, rest, at + written);
        written += rest.length;
      }
    }
    at += total;
  }
}

function writeFullySync(fd: number, buffer: Buffer, position: number): void {
  let done = 0;
  while (done < buffer.length)
    done += writeSync(fd, buffer, done, buffer.length - done, position + done);
}

/** Whether a generation's base was copied (and maybe shipped since). */
function hasBase(dir: string): boolean {
  return existsSync(join(dir, BASE_FILE)) || existsSync(join(dir, BASE_SHIPPED_FILE));
}

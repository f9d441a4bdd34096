import { randomBytes } from "node:crypto";
import {
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import {
  type BackupInfo,
  type BackupList,
  type DatabaseInfo,
  QUOTA_BYTES,
} from "../../../core/control-plane-api";
import { DomainError } from "../../../core/errors";
import { validateDatabaseName } from "../../../core/names";
import {
  BASE_FILE,
  BASE_SHIPPED_FILE,
  GENERATION_FILE,
  GENERATION_REQUEST_FILE,
  type GenerationInfo,
  isGenerationId,
  listGenerations,
  listSegments,
  parseGenerationInfo,
  parseSegment,
  segmentName,
  WAL_ARCHIVE_DIR,
} from "../../../core/wal-archive";
import { Replay } from "../../../core/wal-replay";
import { secureDataDir } from "../drivers/data-dir";
import type { FileImporter } from "../files/file-importer";
import { checkWithEngine, type EngineCheck } from "../files/sqlite-file";
import type { DatabaseManager } from "../manager";
import {
  type ArchiveOwner,
  isOwnDirectory,
  openArchiveFile,
  readArchiveFile,
} from "./archive-files";
import type { BackupKey } from "./encryption";
import type { BackupSchedules } from "./schedules";
import type { BackupTarget } from "./targets";

export interface BackupServiceOptions {
  /** Scratch space on the data directory's file system (restores are renamed into place). */
  workDir: string;
  /** How often closed archive segments and new bases are shipped, and schedules looked at. */
  shipIntervalMs: number;
  /** How long a requested backup may take to start (the worker checkpoints and copies). */
  startTimeoutMs: number;
  /** For checking restored files with the engine, as uploads are. */
  engineCheck: Omit<EngineCheck, "owner">;
}

/** What a backup's manifest (`<db>/<id>/manifest.json` on the target) records. */
interface Manifest {
  id: string;
  database: string;
  startedAt: number;
  sizeBytes: number;
  sha256: string;
  engine: string;
  encryptedBytes: number;
  keyId: string;
}

/** A point to restore to: a backup as it was taken, or an instant within retention. */
export type RestorePoint = { backupId: string } | { timestamp: number };

const MANIFEST = "manifest.json";
/** Objects of a backup that never got its manifest are removed once this old. */
const ORPHAN_AGE_MS = 10 * 60_000;
/**
 * Retention is applied after every new backup and when a backup reaches its maximum age or an
 * orphan its ORPHAN_AGE_MS; at least this often besides. Each pass lists the database's objects
 * on the target and reads every manifest: once a minute for every database, that was a LIST and
 * a GET per backup per database a minute on S3, for retention that had nothing to do.
 */
const PRUNE_AT_LEAST_MS = 60 * 60_000;
const BASE_OBJECT = "base.dbfb";
const segmentObject = (seq: number) => `${segmentName(seq)}.dbfb`;

/**
 * Backups and point-in-time restore. Each database's worker archives its WAL into generations
 * (core/wal-archive.ts): a base copy of the file and every commit since. This service ships
 * them, encrypted (./encryption.ts), to the target (a local directory or S3) as they close,
 * starts new generations on schedule or on request (a backup is a generation), prunes by
 * retention, and rebuilds a database file for any instant: the newest base at or before it,
 * with every archived commit up to it applied. Restores go in place (the worker stops, the
 * file is swapped, it starts again) or into a new database; forks too.
 *
 * A backup is listed once its manifest exists, and the manifest is written last: a backup cut
 * short (a worker or this process killed) is never listed, and those before it stay usable.
 */
export class BackupService {
  private readonly serials = new Map<string, Promise<unknown>>();
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;
  /** When each database's retention next has something to do (see PRUNE_AT_LEAST_MS). */
  private readonly nextPrune = new Map<string, number>();

  constructor(
    private readonly manager: DatabaseManager,
    private readonly files: FileImporter,
    private readonly target: BackupTarget,
    private readonly key: BackupKey,
    private readonly schedules: BackupSchedules,
    private readonly options: BackupServiceOptions,
  ) {
    rmSync(options.workDir, { recursive: true, force: true });
    mkdirSync(options.workDir, { recursive: true, mode: 0o700 });
  }

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.options.shipIntervalMs);
    this.timer.unref();
  }

  /** Stops the schedule and waits for shipping in flight. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await Promise.allSettled([...this.serials.values()]);
  }

  setSchedule(name: string, schedule: Parameters<BackupSchedules["set"]>[1]): void {
    this.schedules.set(name, schedule);
    // New retention: applied on the next round.
    this.nextPrune.delete(name);
  }

  private async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      const names = this.manager.names();
      // Deleted databases' entries go.
      if (this.nextPrune.size > names.length) {
        const live = new Set(names);
        for (const name of this.nextPrune.keys()) if (!live.has(name)) this.nextPrune.delete(name);
      }
      for (const name of names) {
        try {
          // The archive's listing read once a round, for shipping and for the schedule.
          const { shippedBase, newest } = await this.serial(name, async () => {
            const generations = this.localGenerations(name);
            return {
              shippedBase: await this.ship(name, { generations }),
              newest: generations.at(-1),
            };
          });
          this.requestIfDue(name, newest);
          if (shippedBase || Date.now() >= (this.nextPrune.get(name) ?? 0)) {
            this.nextPrune.set(name, await this.serial(name, () => this.prune(name)));
          }
        } catch (err) {
          console.error(
            JSON.stringify({
              msg: "backup: could not ship",
              database: name,
              error: String(err),
            }),
          );
        }
      }
    } finally {
      this.ticking = false;
    }
  }

  /** Asks the worker for a new generation when the schedule says a backup is due. */
  private requestIfDue(name: string, newest: GenerationInfo | undefined): void {
    if (!newest) return;
    const { intervalS } = this.schedules.of(name);
    const request = join(this.manager.workerDir(name), GENERATION_REQUEST_FILE);
    if (Date.now() - newest.startedAt >= intervalS * 1000 && !existsSync(request))
      writeFileSync(request, String(Date.now()));
  }

  /** Takes a backup now: a new generation, shipped before this returns. */
  async create(name: string): Promise<BackupInfo> {
    this.manager.get(name);
    const requestedAt = Date.now();
    // Asked first, then woken: a stopped database's worker starts the generation as it starts;
    // a running one is sent a request by the resolve, after which it looks for the ask at once
    // (an idle worker looks only every second or so unasked).
    writeFileSync(join(this.manager.workerDir(name), GENERATION_REQUEST_FILE), String(requestedAt));
    await this.manager.resolve(name, "read-only");
    const deadline = Date.now() + this.options.startTimeoutMs;
    let started: (GenerationInfo & { dir: string }) | undefined;
    while (!started) {
      started = this.localGenerations(name).find(
        // The base may have been shipped already by the schedule (base.shipped).
        (g) =>
          g.startedAt >= requestedAt &&
          (existsSync(join(g.dir, BASE_FILE)) || existsSync(join(g.dir, BASE_SHIPPED_FILE))),
      );
      if (started) break;
      if (Date.now() > deadline) {
        const archiving = existsSync(this.archiveRoot(name));
        throw new DomainError(
          "WORKER_UNAVAILABLE",
          archiving
            ? "The database's worker did not take the backup in time (a long transaction may hold its WAL); try again"
            : "This database's worker keeps no WAL archive (DBFORGE_BACKUPS=off, or the official sqld image): it cannot be backed up",
        );
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    await this.serial(name, () => this.ship(name));
    this.nextPrune.set(name, await this.serial(name, () => this.prune(name)));
    const made = (await this.list(name)).backups.find((b) => b.id === started.id);
    if (!made) throw new DomainError("INTERNAL_ERROR", "The backup was taken but is not listed");
    return made;
  }

  async list(name: string): Promise<BackupList> {
    validateDatabaseName(name);
    const manifests = await this.manifests(name);
    const current = this.localGenerations(name).at(-1)?.id;
    const backups = manifests
      .sort((a, b) => b.startedAt - a.startedAt)
      .map((m) => this.toInfo(m, m.id === current));
    const oldest = manifests.reduce<number | undefined>(
      (min, m) => (min === undefined || m.startedAt < min ? m.startedAt : min),
      undefined,
    );
    return {
      schedule: this.schedules.of(name),
      restorableFrom: oldest === undefined ? null : new Date(oldest).toISOString(),
      backups,
    };
  }

  async remove(name: string, id: string): Promise<void> {
    validateDatabaseName(name);
    if (!isGenerationId(id))
      throw new DomainError("BACKUP_NOT_FOUND", `No backup ${id} of ${name}`);
    const current = this.localGenerations(name).at(-1)?.id;
    if (id === current)
      throw new DomainError(
        "BACKUP_IN_USE",
        `Backup ${id} is the one ${name}'s changes are archived against; take a new backup first`,
      );
    await this.serial(name, async () => {
      const keys = await this.target.list(`${name}/${id}/`);
      if (keys.length === 0)
        throw new DomainError("BACKUP_NOT_FOUND", `No backup ${id} of ${name}`);
      // The manifest first: from then on the backup is not listed, whatever happens next.
      const manifest = keys.find((k) => k.endsWith(`/${MANIFEST}`));
      if (manifest) await this.target.delete(manifest);
      for (const key of keys) if (key !== manifest) await this.target.delete(key);
      rmSync(join(this.archiveRoot(name), id), { recursive: true, force: true });
    });
  }

  /**
   * Restores `name` to `point`: in place (the worker stops, the file is swapped, it starts
   * again, its archive starts a new generation) or, with `as`, into a new database.
   */
  async restore(
    name: string,
    point: RestorePoint,
    as?: string,
  ): Promise<{ database: DatabaseInfo; restoredTo: string; backupId: string }> {
    validateDatabaseName(name);
    if (as !== undefined) this.manager.assertCreatable(as);
    else this.manager.get(name);
    const built = await this.serial(name, () => this.materialize(name, point));
    try {
      const database =
        as === undefined
          ? await this.replaceInPlace(name, built.file)
          : await this.manager.create(as, { seed: this.files.seedFrom(built.file) });
      return {
        database,
        restoredTo: new Date(built.restoredTo).toISOString(),
        backupId: built.backupId,
      };
    } finally {
      rmSync(built.file, { force: true });
    }
  }

  /**
   * A backup as a SQLite file (decrypted, checked against its SHA-256), in the work directory:
   * the caller streams it and removes it.
   */
  async backupFile(name: string, id: string): Promise<{ path: string; size: number }> {
    validateDatabaseName(name);
    if (!isGenerationId(id))
      throw new DomainError("BACKUP_NOT_FOUND", `No backup ${id} of ${name}`);
    const built = await this.serial(name, () => this.materialize(name, { backupId: id }));
    return { path: built.file, size: statSync(built.file).size };
  }

  /**
   * A new database from `name`: a consistent snapshot of it now (the worker's VACUUM INTO
   * copy, taken in one read transaction while writes go on), or as it was at `timestamp`.
   */
  async fork(name: string, newName: string, timestamp?: number): Promise<DatabaseInfo> {
    this.manager.assertCreatable(newName);
    if (timestamp !== undefined) return (await this.restore(name, { timestamp }, newName)).database;
    const resolved = await this.manager.resolve(name, "read-only");
    const file = join(this.options.workDir, `fork-${randomBytes(8).toString("hex")}.db`);
    try {
      const res = await fetch(`${resolved.url}/dbforge/v1/snapshot`, {
        headers: { Authorization: `Bearer ${resolved.token}` },
      });
      if (!res.ok || !res.body)
        throw new DomainError(
          "WORKER_UNAVAILABLE",
          `The worker could not snapshot ${name} (${res.status})`,
        );
      await pipeline(
        Readable.fromWeb(res.body as WebReadableStream),
        createWriteStream(file, { mode: 0o600 }),
      );
      return await this.manager.create(newName, { seed: this.files.seedFrom(file) });
    } finally {
      rmSync(file, { force: true });
    }
  }

  /**
   * Rebuilds the database file for `point` into a new file in the work directory: the base of
   * the generation that covers it, and (for an instant) every archived commit up to it.
   */
  private async materialize(
    name: string,
    point: RestorePoint,
  ): Promise<{ file: string; restoredTo: number; backupId: string }> {
    const manifests = new Map((await this.manifests(name)).map((m) => [m.id, m]));
    const local = new Map(this.localGenerations(name).map((g) => [g.id, g]));
    const ids = [...new Set([...manifests.keys(), ...local.keys()])].sort();
    const startOf = (id: string) => manifests.get(id)?.startedAt ?? local.get(id)?.startedAt ?? 0;
    const hasBase = (id: string) => {
      const here = local.get(id);
      return manifests.has(id) || (here !== undefined && existsSync(join(here.dir, BASE_FILE)));
    };
    let id: string | undefined;
    if ("backupId" in point) {
      if (!manifests.has(point.backupId))
        throw new DomainError("BACKUP_NOT_FOUND", `No backup ${point.backupId} of ${name}`);
      id = point.backupId;
    } else {
      if (point.timestamp > Date.now())
        throw new DomainError("BAD_REQUEST", "The timestamp is in the future");
      id = ids.filter((g) => startOf(g) <= point.timestamp && hasBase(g)).at(-1);
      if (!id) {
        const first = ids.find(hasBase);
        throw new DomainError(
          "RESTORE_POINT_UNAVAILABLE",
          first
            ? `${name} can be restored to ${new Date(startOf(first)).toISOString()} or later, not before`
            : `${name} has no backups`,
        );
      }
    }
    const file = join(this.options.workDir, `restore-${randomBytes(8).toString("hex")}.db`);
    try {
      await this.fetchBase(name, id, manifests.get(id), local.get(id)?.dir, file);
      let restoredTo = startOf(id);
      if ("timestamp" in point) {
        restoredTo = await this.replay(
          name,
          id,
          local.get(id)?.dir,
          file,
          point.timestamp,
          startOf(id),
        );
      }
      return { file, restoredTo, backupId: id };
    } catch (err) {
      rmSync(file, { force: true });
      throw err;
    }
  }

  private async fetchBase(
    name: string,
    id: string,
    manifest: Manifest | undefined,
    localDir: string | undefined,
    file: string,
  ): Promise<void> {
    const localBase = localDir && join(localDir, BASE_FILE);
    if (localBase && existsSync(localBase)) {
      const fd = openArchiveFile(localBase, this.ownerOf(name));
      await pipeline(createReadStream("", { fd }), createWriteStream(file, { mode: 0o600 }));
      return;
    }
    if (!manifest) throw new DomainError("BACKUP_NOT_FOUND", `The base of backup ${id} is missing`);
    const sealed = `${file}.sealed`;
    try {
      await this.target.get(`${name}/${id}/${BASE_OBJECT}`, sealed);
      const { sha256 } = await this.key.decryptFile(sealed, file);
      if (sha256 !== manifest.sha256)
        throw new DomainError("BACKUP_CORRUPT", `Backup ${id} does not match its checksum`);
    } finally {
      rmSync(sealed, { force: true });
    }
  }

  /** Applies generation `id`'s archived commits up to `until`; returns the instant reached. */
  private async replay(
    name: string,
    id: string,
    localDir: string | undefined,
    file: string,
    until: number,
    baseTime: number,
  ): Promise<number> {
    const shipped = new Set(
      (await this.target.list(`${name}/${id}/`))
        .map((key) => /\/(\d{8})\.seg\.dbfb$/.exec(key)?.[1])
        .filter((seq): seq is string => seq !== undefined)
        .map(Number),
    );
    const localSeqs = new Set(localDir ? listSegments(localDir) : []);
    const seqs = [...new Set([...shipped, ...localSeqs])].sort((a, b) => a - b);
    const replay = new Replay(file, until, this.sizeLimitOf(name), baseTime);
    try {
      let expected = 1;
      for (const seq of seqs) {
        // A missing segment ends what can be replayed: what follows it does not apply.
        if (seq !== expected) break;
        expected++;
        const bytes = localSeqs.has(seq)
          ? readArchiveFile(join(localDir as string, segmentName(seq)), this.ownerOf(name))
          : await this.download(`${name}/${id}/${segmentObject(seq)}`);
        const parsed = parseSegment(bytes);
        if (!parsed) throw new DomainError("BACKUP_CORRUPT", `Segment ${seq} of ${id} is damaged`);
        if (!replay.apply(parsed)) break;
      }
    } finally {
      replay.close();
    }
    return replay.state.passedTarget ? until : replay.state.appliedUntil;
  }

  private async download(key: string): Promise<Buffer> {
    const sealed = join(this.options.workDir, `get-${randomBytes(8).toString("hex")}`);
    const plain = `${sealed}.plain`;
    try {
      await this.target.get(key, sealed);
      await this.key.decryptFile(sealed, plain);
      return readFileSync(plain);
    } finally {
      rmSync(sealed, { force: true });
      rmSync(plain, { force: true });
    }
  }

  private async replaceInPlace(name: string, built: string): Promise<DatabaseInfo> {
    const dbFile = this.manager.databaseFile(name);
    const owner = this.manager.ownerOf(name);
    // Checked with the engine beside the live file, as the database's user, before the swap.
    const staged = `${dbFile}.restore`;
    mkdirSync(dirname(dbFile), { recursive: true, mode: 0o700 });
    renameSync(built, staged);
    try {
      secureDataDir(this.manager.workerDir(name), owner);
      await checkWithEngine(staged, { ...this.options.engineCheck, owner });
      return await this.manager.replaceFiles(name, async () => {
        // The stopped worker archived and checkpointed everything: ship it all, so the
        // history before the restore stays restorable, then start the archive afresh.
        await this.serial(name, () => this.ship(name, { everything: true }));
        rmSync(this.archiveRoot(name), { recursive: true, force: true });
        // The old WAL must never be applied to the new file: it goes first.
        rmSync(`${dbFile}-wal`, { force: true });
        rmSync(`${dbFile}-shm`, { force: true });
        renameSync(staged, dbFile);
      });
    } finally {
      rmSync(staged, { force: true });
    }
  }

  /**
   * Ships what the worker has finished: new bases (with their manifests, written last) and
   * closed segments, encrypted; then removes the local copies, and generations wholly
   * shipped. The newest generation's last segment is still being written unless `everything`
   * (the worker is stopped).
   */
  private async ship(
    name: string,
    { everything = false, generations = this.localGenerations(name) } = {},
  ): Promise<boolean> {
    const owner = this.ownerOf(name);
    let shippedBase = false;
    for (const [index, generation] of generations.entries()) {
      const newest = index === generations.length - 1;
      const { dir } = generation;
      const base = join(dir, BASE_FILE);
      const shippedMark = join(dir, BASE_SHIPPED_FILE);
      if (existsSync(base) && !existsSync(shippedMark)) {
        await this.shipBase(name, generation, openArchiveFile(base, owner));
        writeFileSync(shippedMark, "");
        rmSync(base, { force: true });
        shippedBase = true;
      }
      // No base yet (being copied) or never (its worker died first: it cleans that up).
      if (!existsSync(shippedMark)) continue;
      const seqs = listSegments(dir);
      for (const seq of newest && !everything ? seqs.slice(0, -1) : seqs) {
        const path = join(dir, segmentName(seq));
        await this.upload(
          openArchiveFile(path, owner),
          `${name}/${generation.id}/${segmentObject(seq)}`,
        );
        rmSync(path, { force: true });
      }
      if (!newest && listSegments(dir).length === 0) rmSync(dir, { recursive: true, force: true });
    }
    return shippedBase;
  }

  private async shipBase(name: string, generation: GenerationInfo, base: number): Promise<void> {
    const sealed = await this.upload(base, `${name}/${generation.id}/${BASE_OBJECT}`);
    const manifest: Manifest = {
      id: generation.id,
      database: name,
      startedAt: generation.startedAt,
      sizeBytes: sealed.bytes,
      sha256: sealed.sha256,
      engine: generation.engine,
      encryptedBytes: sealed.encryptedBytes,
      keyId: this.key.id,
    };
    await this.target.putText(`${name}/${generation.id}/${MANIFEST}`, JSON.stringify(manifest));
  }

  /** Encrypts an archive file (an open descriptor, closed here) and puts it at `key`. */
  private async upload(
    fd: number,
    key: string,
  ): Promise<{ sha256: string; bytes: number; encryptedBytes: number }> {
    const sealed = join(this.options.workDir, `put-${randomBytes(8).toString("hex")}`);
    try {
      const result = await this.key.encryptFile(fd, sealed);
      const { size } = statSync(sealed);
      await this.target.put(key, sealed);
      return { ...result, encryptedBytes: size };
    } finally {
      rmSync(sealed, { force: true });
    }
  }

  /**
   * Prunes by retention: beyond `keep`, or older than `maxAgeS`; never the newest or current.
   * Also removes what a backup cut short left on the target (objects without a manifest, of
   * a generation this worker no longer has, after ORPHAN_AGE_MS).
   */
  /** Returns when retention next has something to do for `name`. */
  private async prune(name: string): Promise<number> {
    const { keep, maxAgeS } = this.schedules.of(name);
    const local = this.localGenerations(name);
    const current = local.at(-1)?.id;
    const manifests = (await this.manifests(name)).sort((a, b) => b.startedAt - a.startedAt);
    const now = Date.now();
    const listed = new Set(manifests.map((m) => m.id));
    const here = new Set(local.map((g) => g.id));
    const orphans = new Map<string, string[]>();
    let next = now + PRUNE_AT_LEAST_MS;
    for (const key of await this.target.list(`${name}/`)) {
      const id = key.split("/")[1] ?? "";
      if (!isGenerationId(id) || listed.has(id) || here.has(id)) continue;
      const orphanAt = Number(id.slice(0, 15)) + ORPHAN_AGE_MS;
      if (now < orphanAt) {
        next = Math.min(next, orphanAt);
        continue;
      }
      orphans.set(id, [...(orphans.get(id) ?? []), key]);
    }
    for (const keys of orphans.values()) for (const key of keys) await this.target.delete(key);
    for (const [rank, manifest] of manifests.entries()) {
      if (rank === 0 || manifest.id === current) continue;
      if (rank >= keep || now - manifest.startedAt > maxAgeS * 1000) {
        const keys = await this.target.list(`${name}/${manifest.id}/`);
        const first = keys.find((k) => k.endsWith(`/${MANIFEST}`));
        if (first) await this.target.delete(first);
        for (const key of keys) if (key !== first) await this.target.delete(key);
      } else {
        // Kept for now: it goes once older than the maximum age (1 ms past, as above).
        next = Math.min(next, manifest.startedAt + maxAgeS * 1000 + 1);
      }
    }
    return next;
  }

  private async manifests(name: string): Promise<Manifest[]> {
    const keys = (await this.target.list(`${name}/`)).filter((k) => k.endsWith(`/${MANIFEST}`));
    const manifests: Manifest[] = [];
    for (const key of keys) {
      const text = await this.target.getText(key);
      if (!text) continue;
      try {
        const manifest = JSON.parse(text) as Manifest;
        if (isGenerationId(manifest.id) && manifest.database === name) manifests.push(manifest);
      } catch {
        // A damaged manifest is not a backup.
      }
    }
    return manifests;
  }

  private toInfo(m: Manifest, current: boolean): BackupInfo {
    return {
      id: m.id,
      database: m.database,
      createdAt: new Date(m.startedAt).toISOString(),
      sizeBytes: m.sizeBytes,
      sha256: m.sha256,
      engine: m.engine,
      encryptedBytes: m.encryptedBytes,
      keyId: m.keyId,
      target: this.target.kind,
      current,
    };
  }

  /**
   * How large a restored file may grow: the database's quota (twice: a commit may have grown
   * it before a later one shrank it), or SQLite's own bound once the database is gone.
   */
  private sizeLimitOf(name: string): number {
    try {
      return this.manager.get(name).quotaBytes * 2;
    } catch {
      return QUOTA_BYTES.max;
    }
  }

  /** Whose files the database's archive holds (its worker's uid), if it still exists. */
  private ownerOf(name: string): ArchiveOwner {
    try {
      return this.manager.ownerOf(name);
    } catch {
      return null;
    }
  }

  private archiveRoot(name: string): string {
    return join(this.manager.workerDir(name), WAL_ARCHIVE_DIR);
  }

  /** The generations in the worker's archive that have their info file, oldest first. */
  private localGenerations(name: string): Array<GenerationInfo & { dir: string }> {
    const root = this.archiveRoot(name);
    const owner = this.ownerOf(name);
    if (!isOwnDirectory(root, owner)) return [];
    return listGenerations(root).flatMap((id) => {
      const dir = join(root, id);
      try {
        const info = parseGenerationInfo(
          readArchiveFile(join(dir, GENERATION_FILE), owner).toString("utf8"),
        );
        return info && info.id === id ? [{ ...info, dir }] : [];
      } catch {
        return [];
      }
    });
  }

  /** Runs `op` after every earlier shipping or restore step of the same database. */
  private serial<T>(name: string, op: () => Promise<T>): Promise<T> {
    const previous = this.serials.get(name) ?? Promise.resolve();
    const result = previous.then(op, op);
    const tail = result.catch(() => undefined);
    this.serials.set(name, tail);
    void tail.then(() => {
      if (this.serials.get(name) === tail) this.serials.delete(name);
    });
    return result;
  }
}

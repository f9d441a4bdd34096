import { randomBytes } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import {
  copyFile,
  mkdir,
  open,
  readdir,
  readFile,
  rename,
  rm,
  rmdir,
  stat,
} from "node:fs/promises";
import { dirname, join, relative, sep } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { S3Client } from "@aws-sdk/client-s3";
import { DomainError } from "../../../core/errors";

/**
 * Where backups go. Keys are `/`-separated paths made of database names and generation ids
 * (never from a client's text). `put` is all-or-nothing: a reader sees the whole object or none.
 */
export interface BackupTarget {
  readonly kind: "local" | "s3";
  /** Says where, for people (no credentials). */
  readonly describe: string;
  put(key: string, file: string): Promise<void>;
  putText(key: string, text: string): Promise<void>;
  /** Downloads `key` into a new file; BACKUP_NOT_FOUND when there is no such object. */
  get(key: string, file: string): Promise<void>;
  /** The object's text, or undefined when there is none. */
  getText(key: string): Promise<string | undefined>;
  /** Every key under `prefix`. */
  list(prefix: string): Promise<string[]>;
  delete(key: string): Promise<void>;
}

const missing = (key: string) => new DomainError("BACKUP_NOT_FOUND", `No backup object ${key}`);

/** A directory on this machine (default: db-data/.backups). */
export class LocalTarget implements BackupTarget {
  readonly kind = "local";
  readonly describe: string;

  constructor(private readonly root: string) {
    this.describe = root;
  }

  private path(key: string): string {
    if (key.split("/").some((part) => part === "" || part === "." || part === ".."))
      throw new Error(`not a backup key: ${key}`);
    return join(this.root, ...key.split("/"));
  }

  async put(key: string, file: string): Promise<void> {
    const target = this.path(key);
    await mkdir(dirname(target), { recursive: true, mode: 0o700 });
    const partial = `${target}.partial-${randomBytes(4).toString("hex")}`;
    try {
      await copyFile(file, partial);
      const handle = await open(partial, "r+");
      await handle.sync();
      await handle.close();
      await rename(partial, target);
    } catch (err) {
      await rm(partial, { force: true });
      throw err;
    }
  }

  async putText(key: string, text: string): Promise<void> {
    const target = this.path(key);
    await mkdir(dirname(target), { recursive: true, mode: 0o700 });
    const partial = `${target}.partial-${randomBytes(4).toString("hex")}`;
    const handle = await open(partial, "w", 0o600);
    try {
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(partial, target);
  }

  async get(key: string, file: string): Promise<void> {
    try {
      await copyFile(this.path(key), file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") throw missing(key);
      throw err;
    }
  }

  async getText(key: string): Promise<string | undefined> {
    try {
      return await readFile(this.path(key), "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw err;
    }
  }

  async list(prefix: string): Promise<string[]> {
    const base = this.path(prefix.replace(/\/$/, ""));
    const keys: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      let entries: Array<import("node:fs").Dirent>;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
        throw err;
      }
      for (const entry of entries) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) await walk(path);
        else if (!entry.isFile()) continue;
        else if (!entry.name.includes(".partial-"))
          keys.push(relative(this.root, path).split(sep).join("/"));
        else await removeAbandoned(path);
      }
    };
    await walk(base);
    return keys.sort();
  }

  async delete(key: string): Promise<void> {
    const path = this.path(key);
    await rm(path, { force: true });
    // Empty directories go with their last object.
    for (
      let dir = dirname(path);
      dir !== this.root && dir.startsWith(this.root);
      dir = dirname(dir)
    ) {
      if ((await readdir(dir).catch(() => ["?"])).length > 0) break;
      await rmdir(dir).catch(() => undefined);
    }
  }
}

/**
 * A partial file nobody has written to for this long was left by a control plane that died
 * mid-upload (a live copy moves its mtime as it writes): it is removed when its directory is
 * next listed. It is never listed as a key.
 */
const ABANDONED_PARTIAL_MS = 10 * 60_000;

async function removeAbandoned(partial: string): Promise<void> {
  try {
    if (Date.now() - (await stat(partial)).mtimeMs > ABANDONED_PARTIAL_MS)
      await rm(partial, { force: true });
  } catch {
    // renamed into place or removed meanwhile
  }
}

export interface S3TargetOptions {
  bucket: string;
  prefix: string;
  region: string;
  endpoint?: string;
  forcePathStyle: boolean;
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

/** An S3-compatible bucket (AWS, MinIO, R2, …) through @aws-sdk/client-s3. */
export class S3Target implements BackupTarget {
  readonly kind = "s3";
  readonly describe: string;
  private connection: Promise<{ sdk: S3Sdk; client: S3Client }> | undefined;

  constructor(private readonly options: S3TargetOptions) {
    this.describe = `s3://${options.bucket}/${options.prefix}`;
  }

  /**
   * The SDK is loaded on first use, not with the control plane: it takes ~200 ms to load, which
   * every start would pay before it listens, S3 or not (a restart's budget is a second).
   */
  private connect(): Promise<{ sdk: S3Sdk; client: S3Client }> {
    const { options } = this;
    this.connection ??= import("@aws-sdk/client-s3").then((sdk) => ({
      sdk,
      client: new sdk.S3Client({
        region: options.region,
        forcePathStyle: options.forcePathStyle,
        // Checksums only where S3 requires them: the SDK's default sends streamed bodies as
        // aws-chunked with a CRC trailer, which many S3-compatible servers store verbatim.
        // Every object is authenticated by its own encryption anyway (./encryption.ts).
        requestChecksumCalculation: "WHEN_REQUIRED",
        responseChecksumValidation: "WHEN_REQUIRED",
        ...(options.endpoint ? { endpoint: options.endpoint } : {}),
        ...(options.credentials ? { credentials: options.credentials } : {}),
      }),
    }));
    return this.connection;
  }

  private key(key: string): string {
    return `${this.options.prefix}${key}`;
  }

  async put(key: string, file: string): Promise<void> {
    const { size } = await stat(file);
    const { sdk, client } = await this.connect();
    await client.send(
      new sdk.PutObjectCommand({
        Bucket: this.options.bucket,
        Key: this.key(key),
        Body: createReadStream(file),
        ContentLength: size,
      }),
    );
  }

  async putText(key: string, text: string): Promise<void> {
    const { sdk, client } = await this.connect();
    await client.send(
      new sdk.PutObjectCommand({
        Bucket: this.options.bucket,
        Key: this.key(key),
        Body: text,
        ContentType: "application/json",
      }),
    );
  }

  async get(key: string, file: string): Promise<void> {
    const { sdk, client } = await this.connect();
    let body: unknown;
    try {
      const res = await client.send(
        new sdk.GetObjectCommand({ Bucket: this.options.bucket, Key: this.key(key) }),
      );
      body = res.Body;
    } catch (err) {
      if (isNoSuchKey(err)) throw missing(key);
      throw err;
    }
    await pipeline(body as Readable, createWriteStream(file, { mode: 0o600 }));
  }

  async getText(key: string): Promise<string | undefined> {
    const { sdk, client } = await this.connect();
    try {
      const res = await client.send(
        new sdk.GetObjectCommand({ Bucket: this.options.bucket, Key: this.key(key) }),
      );
      return await res.Body?.transformToString("utf8");
    } catch (err) {
      if (isNoSuchKey(err)) return undefined;
      throw err;
    }
  }

  async list(prefix: string): Promise<string[]> {
    const { sdk, client } = await this.connect();
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const res = await client.send(
        new sdk.ListObjectsV2Command({
          Bucket: this.options.bucket,
          Prefix: this.key(prefix),
          ...(token ? { ContinuationToken: token } : {}),
        }),
      );
      for (const object of res.Contents ?? [])
        if (object.Key) keys.push(object.Key.slice(this.options.prefix.length));
      token = res.IsTruncated ? res.NextContinuationToken : undefined;
    } while (token);
    return keys.sort();
  }

  async delete(key: string): Promise<void> {
    const { sdk, client } = await this.connect();
    await client.send(
      new sdk.DeleteObjectCommand({ Bucket: this.options.bucket, Key: this.key(key) }),
    );
  }
}

type S3Sdk = typeof import("@aws-sdk/client-s3");

/** S3's NoSuchKey (the SDK's class, or any S3-compatible server's error of that name). */
const isNoSuchKey = (err: unknown): boolean =>
  (err as { name?: string } | null)?.name === "NoSuchKey";

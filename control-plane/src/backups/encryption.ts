import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
import { closeSync, existsSync, read, readFileSync } from "node:fs";
import { open } from "node:fs/promises";
import { DomainError } from "../../../core/errors";
import { writeSecretFile } from "../secret-file";

/**
 * Backups are encrypted at rest with AES-256-GCM, in chunks so that files of any size stream
 * through a fixed amount of memory and every chunk is authenticated on its own:
 *
 *   header  "DBFBK001" | key id (8: SHA-256 of the key) | nonce prefix (8, random) | chunk size (u32)
 *   chunk   length (u32) | ciphertext | tag (16)      nonce = prefix | chunk number (u32)
 *
 * Each chunk's additional data is the header and a final-chunk flag, so chunks cannot be
 * reordered, moved between files or cut off at a chunk boundary unnoticed. The key id tells a
 * wrong key apart from a damaged file.
 */
const MAGIC = Buffer.from("DBFBK001", "latin1");
const HEADER_BYTES = 8 + 8 + 8 + 4;
const CHUNK_BYTES = 1024 * 1024;
const TAG_BYTES = 16;

export class BackupKey {
  readonly id: string;

  private constructor(
    private readonly key: Buffer,
    readonly source: string,
  ) {
    this.id = createHash("sha256").update(key).digest("hex").slice(0, 16);
  }

  /**
   * The key from DBFORGE_BACKUP_KEY (32 bytes as 64 hex digits or base64), from
   * DBFORGE_BACKUP_KEY_FILE, or generated once and kept at `defaultPath` (0600).
   */
  static load(configured: string | undefined, file: string | undefined, defaultPath: string) {
    if (configured)
      return new BackupKey(parseKey(configured, "DBFORGE_BACKUP_KEY"), "DBFORGE_BACKUP_KEY");
    if (file) return new BackupKey(parseKey(readFileSync(file, "utf8"), file), file);
    if (!existsSync(defaultPath))
      writeSecretFile(defaultPath, `${randomBytes(32).toString("hex")}\n`);
    return new BackupKey(parseKey(readFileSync(defaultPath, "utf8"), defaultPath), defaultPath);
  }

  /**
   * Encrypts `from` (a path, or a descriptor the caller opened and this closes) into a new
   * file `to`; returns the plaintext's SHA-256 and size.
   */
  async encryptFile(from: string | number, to: string): Promise<{ sha256: string; bytes: number }> {
    const prefix = randomBytes(8);
    const header = Buffer.concat([MAGIC, Buffer.from(this.id, "hex"), prefix, u32(CHUNK_BYTES)]);
    const input = typeof from === "number" ? await fdHandle(from) : await open(from, "r");
    const output = await open(to, "w", 0o600);
    const hash = createHash("sha256");
    let bytes = 0;
    try {
      await output.write(header);
      let chunk = Buffer.alloc(CHUNK_BYTES);
      let next = Buffer.alloc(CHUNK_BYTES);
      let { bytesRead } = await input.read(chunk, 0, CHUNK_BYTES, null);
      for (let index = 0; ; index++) {
        const { bytesRead: nextRead } =
          bytesRead === CHUNK_BYTES
            ? await input.read(next, 0, CHUNK_BYTES, null)
            : { bytesRead: 0 };
        const final = nextRead === 0;
        const plain = chunk.subarray(0, bytesRead);
        hash.update(plain);
        bytes += bytesRead;
        const cipher = createCipheriv("aes-256-gcm", this.key, nonce(prefix, index));
        cipher.setAAD(Buffer.concat([header, Buffer.from([final ? 1 : 0])]));
        const sealed = Buffer.concat([cipher.update(plain), cipher.final()]);
        await output.write(Buffer.concat([u32(sealed.length), sealed, cipher.getAuthTag()]));
        if (final) break;
        [chunk, next] = [next, chunk];
        bytesRead = nextRead;
      }
      await output.sync();
    } finally {
      await input.close();
      await output.close();
    }
    return { sha256: hash.digest("hex"), bytes };
  }

  /**
   * Decrypts file `from` into a new file `to`: BACKUP_KEY_MISMATCH when it was encrypted under
   * another key, BACKUP_CORRUPT when it was changed or cut off. Returns the plaintext's SHA-256.
   */
  async decryptFile(from: string, to: string): Promise<{ sha256: string; bytes: number }> {
    const input = await open(from, "r");
    const output = await open(to, "w", 0o600);
    const hash = createHash("sha256");
    let bytes = 0;
    const corrupt = (why: string) =>
      new DomainError("BACKUP_CORRUPT", `The backup file is damaged: ${why}`);
    try {
      const header = Buffer.alloc(HEADER_BYTES);
      const { bytesRead } = await input.read(header, 0, HEADER_BYTES, 0);
      if (bytesRead < HEADER_BYTES || !header.subarray(0, 8).equals(MAGIC))
        throw corrupt("it is not a DB-Forge backup");
      const keyId = header.subarray(8, 16).toString("hex");
      if (keyId !== this.id)
        throw new DomainError(
          "BACKUP_KEY_MISMATCH",
          `The backup was encrypted with another key (key id ${keyId}; this server's key is ${this.id}): set DBFORGE_BACKUP_KEY to the key it was made with`,
        );
      const prefix = header.subarray(16, 24);
      let position = HEADER_BYTES;
      const lengthBuffer = Buffer.alloc(4);
      for (let index = 0; ; index++) {
        const read = await input.read(lengthBuffer, 0, 4, position);
        if (read.bytesRead < 4) throw corrupt("it ends before its last chunk");
        const length = lengthBuffer.readUInt32BE(0);
        if (length > CHUNK_BYTES) throw corrupt("a chunk is larger than any chunk written");
        const sealed = Buffer.alloc(length + TAG_BYTES);
        const got = await input.read(sealed, 0, sealed.length, position + 4);
        if (got.bytesRead < sealed.length) throw corrupt("it ends inside a chunk");
        position += 4 + sealed.length;
        const atEnd = (await input.stat()).size === position;
        const decipher = createDecipheriv("aes-256-gcm", this.key, nonce(prefix, index));
        decipher.setAAD(Buffer.concat([header, Buffer.from([atEnd ? 1 : 0])]));
        decipher.setAuthTag(sealed.subarray(length));
        let plain: Buffer;
        try {
          plain = Buffer.concat([decipher.update(sealed.subarray(0, length)), decipher.final()]);
        } catch {
          throw corrupt(`chunk ${index} does not authenticate (changed or cut off)`);
        }
        hash.update(plain);
        bytes += plain.length;
        await output.write(plain);
        if (atEnd) break;
      }
    } finally {
      await input.close();
      await output.close();
    }
    return { sha256: hash.digest("hex"), bytes };
  }
}

/** What encryptFile reads through: a FileHandle's read and close, on a bare descriptor. */
async function fdHandle(fd: number) {
  return {
    read: (buffer: Buffer, offset: number, length: number, position: number | null) =>
      new Promise<{ bytesRead: number }>((done, fail) =>
        read(fd, buffer, offset, length, position, (err, bytesRead) =>
          err ? fail(err) : done({ bytesRead }),
        ),
      ),
    close: async () => closeSync(fd),
  };
}

function parseKey(text: string, source: string): Buffer {
  const trimmed = text.trim();
  const key = /^[0-9a-f]{64}$/i.test(trimmed)
    ? Buffer.from(trimmed, "hex")
    : Buffer.from(trimmed, "base64");
  if (key.length !== 32)
    throw new Error(`${source}: a backup key is 32 bytes, as 64 hex digits or base64`);
  return key;
}

function u32(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(value, 0);
  return b;
}

function nonce(prefix: Buffer, index: number): Buffer {
  return Buffer.concat([prefix, u32(index)]);
}

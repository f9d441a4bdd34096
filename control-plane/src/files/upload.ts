import { randomBytes } from "node:crypto";
import { createWriteStream, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { DomainError } from "../../../core/errors";

/**
 * Writes a streamed request body to a new private file in `dir`, refusing it as soon as it
 * passes `maxBytes` (PAYLOAD_TOO_LARGE with `limitMessage`); a body that breaks off midway is
 * BAD_REQUEST. Nothing is left behind on failure.
 */
export async function receiveUpload(
  body: ReadableStream<Uint8Array>,
  dir: string,
  maxBytes: number,
  limitMessage: string,
): Promise<{ path: string; size: number }> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, `upload-${randomBytes(8).toString("hex")}`);
  let size = 0;
  const counted = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      size += chunk.length;
      if (size > maxBytes) done(new DomainError("PAYLOAD_TOO_LARGE", limitMessage));
      else done(null, chunk);
    },
  });
  try {
    await pipeline(
      Readable.fromWeb(body as WebReadableStream<Uint8Array>),
      counted,
      createWriteStream(path, { mode: 0o600 }),
    );
  } catch (err) {
    rmSync(path, { force: true });
    if (err instanceof DomainError) throw err;
    if ((err as NodeJS.ErrnoException).code === "ENOSPC") throw err;
    throw new DomainError("BAD_REQUEST", "The request body could not be read to its end");
  }
  return { path, size };
}

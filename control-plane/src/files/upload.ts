import { randomBytes } from "node:crypto";
import { mkdirSync, rmSync } from "node:fs";
import { open } from "node:fs/promises";
import { join } from "node:path";
import { DomainError } from "../../../core/errors";

/**
 * Writes a streamed request body to a new private file in `dir`. Past `maxBytes` it is refused
 * (PAYLOAD_TOO_LARGE with `limitMessage`), but only once the rest has been read and dropped:
 * a caller still sending (the functions stream what their client sends) would otherwise fail
 * to read the answer. A body that breaks off midway is BAD_REQUEST. Nothing is left behind.
 */
export async function receiveUpload(
  body: ReadableStream<Uint8Array>,
  dir: string,
  maxBytes: number,
  limitMessage: string,
): Promise<{ path: string; size: number }> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, `upload-${randomBytes(8).toString("hex")}`);
  const file = await open(path, "w", 0o600);
  let size = 0;
  try {
    const reader = body.getReader();
    for (;;) {
      let chunk: Awaited<ReturnType<typeof reader.read>>;
      try {
        chunk = await reader.read();
      } catch {
        throw new DomainError("BAD_REQUEST", "The request body could not be read to its end");
      }
      if (chunk.done) break;
      size += chunk.value.length;
      if (size <= maxBytes) await file.write(chunk.value);
    }
    if (size > maxBytes) throw new DomainError("PAYLOAD_TOO_LARGE", limitMessage);
    await file.sync();
  } catch (err) {
    await file.close();
    rmSync(path, { force: true });
    throw err;
  }
  await file.close();
  return { path, size };
}

/**
 * Reads what is left of a refused upload and drops it, for at most `withinMs` (then gives up,
 * and the connection closes): the caller then reads the refusal instead of a broken pipe.
 */
export async function discardRest(body: ReadableStream<Uint8Array> | null, withinMs: number) {
  if (!body || body.locked) return;
  const reader = body.getReader();
  const deadline = Date.now() + withinMs;
  try {
    while (Date.now() < deadline) if ((await reader.read()).done) return;
    await reader.cancel();
  } catch {
    // broken off: nothing left to read
  }
}

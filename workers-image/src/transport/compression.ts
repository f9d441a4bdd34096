/**
 * Compressed answers, as sqld gives them (tower-http's compression on every route): brotli or
 * gzip as the client's Accept-Encoding prefers, for answers of COMPRESS_FROM bytes and more
 * (big selects, cursors, dumps). A point select's answer stays as it is. Whole answers are
 * compressed by zlib's asynchronous calls, which run on libuv's threads, not the event loop.
 * node:zlib is loaded on the first compressed answer: most workers never send one, and each
 * would keep it in memory (density, bench/density.ts).
 */
import type { Transform } from "node:stream";
import { BROTLI_QUALITY, COMPRESS_FROM, GZIP_LEVEL, negotiate } from "../../../core/compression";

export type Encoding = "br" | "gzip";

const zlib = () => process.getBuiltinModule("node:zlib");
const brotliOptions = () => ({
  params: { [zlib().constants.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY },
});
const GZIP = { level: GZIP_LEVEL };

/**
 * Answers being compressed at once (whole ones and dump streams alike); past this, answers go
 * uncompressed. Compression is a saving, not a promise: a burst of big selects must not queue on
 * libuv's threads (4, shared with file I/O) with every waiting answer in memory, and each
 * streaming compressor keeps a window of its own (brotli's is MiBs).
 */
export const MAX_COMPRESSING = 2;
let compressing = 0;

/** A compression slot, or undefined when MAX_COMPRESSING are taken; call the result to give it back. */
function takeSlot(): (() => void) | undefined {
  if (compressing >= MAX_COMPRESSING) return undefined;
  compressing++;
  let given = false;
  return () => {
    if (given) return;
    given = true;
    compressing--;
  };
}

/** The encoding for an answer of `size` bytes (at least), if it is worth one. */
export function encodingFor(
  acceptEncoding: string | undefined,
  size: number,
): Encoding | undefined {
  if (size < COMPRESS_FROM) return undefined;
  return negotiate(acceptEncoding);
}

/** `body`, compressed; undefined when no compression slot is free. */
export function compress(body: string, encoding: Encoding): Promise<Buffer> | undefined {
  const release = takeSlot();
  if (!release) return undefined;
  return new Promise<Buffer>((resolve, reject) => {
    const done = (err: Error | null, out: Buffer) => (err ? reject(err) : resolve(out));
    if (encoding === "br") zlib().brotliCompress(body, brotliOptions(), done);
    else zlib().gzip(body, GZIP, done);
  }).finally(release);
}

/**
 * A compressing stream for an answer written piece by piece, holding a slot until it closes
 * (ends, fails or is destroyed); undefined when no slot is free.
 */
export function compressor(encoding: Encoding): Transform | undefined {
  const release = takeSlot();
  if (!release) return undefined;
  const stream =
    encoding === "br" ? zlib().createBrotliCompress(brotliOptions()) : zlib().createGzip(GZIP);
  stream.once("close", release);
  return stream;
}

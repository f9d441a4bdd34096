/**
 * Compressed answers, as sqld gives them (tower-http's compression on every route): brotli or
 * gzip as the client's Accept-Encoding prefers, for answers of COMPRESS_FROM bytes and more
 * (big selects, cursors, dumps). A point select's answer stays as it is. Whole answers are
 * compressed by zlib's asynchronous calls, which run on libuv's threads, not the event loop.
 * node:zlib is loaded on the first compressed answer: most workers never send one, and each
 * would keep it in memory (density, bench/density.ts).
 */
import type { IncomingMessage } from "node:http";
import type { Transform } from "node:stream";
import { BROTLI_QUALITY, COMPRESS_FROM, GZIP_LEVEL, negotiate } from "../../../core/compression";

export type Encoding = "br" | "gzip";

const zlib = () => process.getBuiltinModule("node:zlib");
const brotliOptions = () => ({
  params: { [zlib().constants.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY },
});
const GZIP = { level: GZIP_LEVEL };

/**
 * Whole answers being compressed at once; past this, answers go uncompressed. Compression is a
 * saving, not a promise: a burst of big selects must not queue on libuv's threads (4, shared
 * with file I/O), each waiting answer kept in memory meanwhile.
 */
export const MAX_COMPRESSING = 2;
let compressing = 0;

/** The encoding for an answer to `req` of `size` bytes (at least), if it is worth one. */
export function encodingFor(req: IncomingMessage, size: number): Encoding | undefined {
  if (size < COMPRESS_FROM) return undefined;
  return negotiate(req.headers["accept-encoding"]);
}

/** `body`, compressed; undefined when MAX_COMPRESSING answers are being compressed already. */
export function compress(body: string, encoding: Encoding): Promise<Buffer> | undefined {
  if (compressing >= MAX_COMPRESSING) return undefined;
  compressing++;
  return new Promise<Buffer>((resolve, reject) => {
    const done = (err: Error | null, out: Buffer) => (err ? reject(err) : resolve(out));
    if (encoding === "br") zlib().brotliCompress(body, brotliOptions(), done);
    else zlib().gzip(body, GZIP, done);
  }).finally(() => {
    compressing--;
  });
}

/** A compressing stream, for answers written piece by piece. */
export function compressor(encoding: Encoding): Transform {
  return encoding === "br" ? zlib().createBrotliCompress(brotliOptions()) : zlib().createGzip(GZIP);
}

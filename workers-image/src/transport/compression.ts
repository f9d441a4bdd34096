/**
 * Compressed answers, as sqld gives them (tower-http's compression on every route): brotli or
 * gzip as the client's Accept-Encoding prefers, for answers of COMPRESS_FROM bytes and more
 * (big selects, cursors, dumps). A point select's answer stays as it is. Whole answers are
 * compressed by zlib's asynchronous calls, which run on libuv's threads, not the event loop.
 */
import type { IncomingMessage } from "node:http";
import type { Transform } from "node:stream";
import { brotliCompress, constants, createBrotliCompress, createGzip, gzip } from "node:zlib";
import { BROTLI_QUALITY, COMPRESS_FROM, GZIP_LEVEL, negotiate } from "../../../core/compression";

export type Encoding = "br" | "gzip";

const BROTLI = { params: { [constants.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY } };
const GZIP = { level: GZIP_LEVEL };

/** The encoding for an answer to `req` of `size` bytes (at least), if it is worth one. */
export function encodingFor(req: IncomingMessage, size: number): Encoding | undefined {
  if (size < COMPRESS_FROM) return undefined;
  return negotiate(req.headers["accept-encoding"]);
}

/** `body`, compressed. */
export function compress(body: string, encoding: Encoding): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const done = (err: Error | null, out: Buffer) => (err ? reject(err) : resolve(out));
    if (encoding === "br") brotliCompress(body, BROTLI, done);
    else gzip(body, GZIP, done);
  });
}

/** A compressing stream, for answers written piece by piece. */
export function compressor(encoding: Encoding): Transform {
  return encoding === "br" ? createBrotliCompress(BROTLI) : createGzip(GZIP);
}

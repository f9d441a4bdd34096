/**
 * Compression of large JSON answers (big selects, exports, Hrana results) by the Node host:
 * brotli or gzip, as the client's Accept-Encoding prefers; answers under COMPRESS_FROM bytes go
 * as they are (compressing them costs more than it saves). On Cloudflare the platform
 * compresses at its edge, so the functions themselves do not.
 */
import { Readable } from "node:stream";
import { constants, createBrotliCompress, createGzip } from "node:zlib";
import { BROTLI_QUALITY, COMPRESS_FROM, GZIP_LEVEL, negotiate } from "../../core/compression";
import { webStream } from "./web-stream";

const COMPRESSIBLE = /^application\/(json|problem\+json)\b/i;

/** `response`, compressed for `request` when that is worth it. */
export function compressed(request: Request, response: Response): Response {
  // Headers first, the body last: under @hono/node-server, reading a Response's body turns a
  // buffered answer into a web stream (most answers are small and need none of this).
  if (response.headers.has("content-encoding")) return response;
  if (!COMPRESSIBLE.test(response.headers.get("content-type") ?? "")) return response;
  const length = response.headers.get("content-length");
  if (length !== null && Number(length) < COMPRESS_FROM) return response;
  const encoding = negotiate(request.headers.get("accept-encoding"));
  if (!encoding || !response.body) return response;
  const compressor =
    encoding === "br"
      ? createBrotliCompress({ params: { [constants.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY } })
      : createGzip({ level: GZIP_LEVEL });
  const source = Readable.fromWeb(response.body as import("node:stream/web").ReadableStream);
  source.on("error", (err) => compressor.destroy(err));
  const headers = new Headers(response.headers);
  headers.delete("content-length");
  headers.set("content-encoding", encoding);
  headers.append("vary", "Accept-Encoding");
  return new Response(webStream(source.pipe(compressor)), {
    status: response.status,
    statusText: response.statusText,
    headers,
  });
}

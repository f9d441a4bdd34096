/**
 * Compression of large JSON answers (big selects, exports, Hrana results) by the Node host:
 * brotli or gzip, as the client's Accept-Encoding prefers; answers under COMPRESS_FROM bytes go
 * as they are (compressing them costs more than it saves). On Cloudflare the platform
 * compresses at its edge, so the functions themselves do not.
 */
import { Readable } from "node:stream";
import { constants, createBrotliCompress, createGzip } from "node:zlib";
import { webStream } from "./web-stream";

/** Answers smaller than this (by Content-Length) are not compressed. */
export const COMPRESS_FROM = 2048;

const COMPRESSIBLE = /^application\/(json|problem\+json)\b/i;

/** The encoding to use for `accept` (an Accept-Encoding header), if any: br, then gzip. */
export function negotiate(accept: string | null): "br" | "gzip" | undefined {
  if (!accept) return undefined;
  const offered = new Map<string, number>();
  for (const part of accept.toLowerCase().split(",")) {
    const [name, ...params] = part.trim().split(";");
    const q = params.map((p) => /^\s*q=([\d.]+)\s*$/.exec(p)?.[1]).find((v) => v !== undefined);
    if (name) offered.set(name, q === undefined ? 1 : Number(q));
  }
  const weight = (name: string) => offered.get(name) ?? offered.get("*") ?? 0;
  if (weight("br") > 0 && weight("br") >= weight("gzip")) return "br";
  if (weight("gzip") > 0) return "gzip";
  return undefined;
}

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
      ? // Quality 4: most of brotli's gain at a fraction of its default (11) cost, for answers
        // made on the fly.
        createBrotliCompress({ params: { [constants.BROTLI_PARAM_QUALITY]: 4 } })
      : createGzip({ level: 5 });
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

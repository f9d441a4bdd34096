/**
 * Compression of large JSON answers (big selects, exports, Hrana results) by the Node host:
 * brotli or gzip, as the client's Accept-Encoding prefers; answers under COMPRESS_FROM bytes go
 * as they are (compressing them costs more than it saves). On Cloudflare the platform
 * compresses at its edge, so the functions themselves do not.
 */
import { Readable, type Transform } from "node:stream";
import { constants, createBrotliCompress, createGzip } from "node:zlib";
import { BROTLI_QUALITY, COMPRESS_FROM, GZIP_LEVEL, negotiate } from "../../core/compression";
import { webStream } from "./web-stream";

const COMPRESSIBLE = /^application\/(json|problem\+json)\b/i;

/** What an answer's headers and the client's Accept-Encoding call for: an encoding, or none. */
export function encodingFor(
  acceptEncoding: string | null | undefined,
  answer: {
    contentType: string | null | undefined;
    contentLength: string | null | undefined;
    contentEncoding: string | null | undefined;
  },
): "br" | "gzip" | undefined {
  if (answer.contentEncoding) return undefined;
  if (!COMPRESSIBLE.test(answer.contentType ?? "")) return undefined;
  const length = answer.contentLength;
  if (length !== null && length !== undefined && Number(length) < COMPRESS_FROM) return undefined;
  return negotiate(acceptEncoding);
}

export function compressor(encoding: "br" | "gzip"): Transform {
  return encoding === "br"
    ? createBrotliCompress({ params: { [constants.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY } })
    : createGzip({ level: GZIP_LEVEL });
}

/**
 * `response`, compressed for a client sending `acceptEncoding` when that is worth it. An answer
 * of unknown length (most JSON a route makes) is read up to COMPRESS_FROM bytes first: one that
 * ends sooner goes as it is, like any small answer.
 */
export async function compressed(
  acceptEncoding: string | null | undefined,
  response: Response,
): Promise<Response> {
  // Headers first, the body last: under @hono/node-server, reading a Response's body turns a
  // buffered answer into a web stream (most answers are small and need none of this).
  const encoding = encodingFor(acceptEncoding, {
    contentType: response.headers.get("content-type"),
    contentLength: response.headers.get("content-length"),
    contentEncoding: response.headers.get("content-encoding"),
  });
  if (!encoding || !response.body) return response;
  const { status, statusText } = response;
  let source: Readable;
  if (response.headers.get("content-length") === null) {
    const reader = response.body.getReader();
    const start: Uint8Array[] = [];
    let size = 0;
    while (size < COMPRESS_FROM) {
      const chunk = await reader.read();
      if (chunk.done) {
        const whole = Buffer.concat(start, size);
        return new Response(new Uint8Array(whole.buffer, whole.byteOffset, whole.byteLength), {
          status,
          statusText,
          headers: response.headers,
        });
      }
      start.push(chunk.value);
      size += chunk.value.byteLength;
    }
    source = Readable.from(
      (async function* () {
        yield* start;
        for (;;) {
          const chunk = await reader.read();
          if (chunk.done) return;
          yield chunk.value;
        }
      })(),
      { objectMode: false },
    );
  } else {
    source = Readable.fromWeb(response.body as import("node:stream/web").ReadableStream);
  }
  const zip = compressor(encoding);
  source.on("error", (err) => zip.destroy(err));
  const headers = new Headers(response.headers);
  headers.delete("content-length");
  headers.set("content-encoding", encoding);
  headers.append("vary", "Accept-Encoding");
  return new Response(webStream(source.pipe(zip)), { status, statusText, headers });
}

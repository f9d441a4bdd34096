/**
 * When DB-Forge compresses an answer, and how: one policy for the worker (as sqld, whose every
 * route sits behind tower-http's compression) and the functions' Node host. No zlib here: core/
 * also runs on Workers runtimes, where the platform compresses at its edge.
 */

/** Answers smaller than this are sent as they are: compressing them costs more than it saves. */
export const COMPRESS_FROM = 2048;

/** Brotli quality for answers made on the fly: most of its gain at a fraction of 11's cost. */
export const BROTLI_QUALITY = 4;
export const GZIP_LEVEL = 5;

/** The encoding to use for `accept` (an Accept-Encoding header), if any: br, then gzip. */
export function negotiate(accept: string | null | undefined): "br" | "gzip" | undefined {
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

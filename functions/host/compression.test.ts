/** Negotiating and applying compression of large JSON answers in the Node host. */
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import { expect, test } from "vitest";
import { COMPRESS_FROM } from "../../core/compression";
import { compressed } from "./compression";

const json = (body: string, headers: Record<string, string> = {}) =>
  new Response(body, {
    headers: {
      "content-type": "application/json",
      "content-length": String(Buffer.byteLength(body)),
      ...headers,
    },
  });
const request = (accept?: string) =>
  new Request("http://h/", accept ? { headers: { "accept-encoding": accept } } : {});

test("large JSON is compressed as negotiated, and decompresses to the same document", async () => {
  const body = JSON.stringify({ rows: Array.from({ length: 500 }, (_, i) => ({ id: i, v: "x" })) });
  for (const [accept, decode] of [
    ["br", brotliDecompressSync],
    ["gzip", gunzipSync],
  ] as const) {
    const res = compressed(request(accept), json(body));
    expect(res.headers.get("content-encoding")).toBe(accept);
    expect(res.headers.get("content-length")).toBeNull();
    expect(res.headers.get("vary")).toMatch(/Accept-Encoding/);
    const bytes = Buffer.from(await res.arrayBuffer());
    expect(bytes.length).toBeLessThan(body.length / 4);
    expect(decode(bytes).toString()).toBe(body);
  }
});

test("small answers, other types, already encoded ones and clients without it go as they are", () => {
  const small = "x".repeat(COMPRESS_FROM - 3); // with its quotes, one byte short
  const big = "x".repeat(COMPRESS_FROM * 4);
  for (const [req, res] of [
    [request("br"), json(JSON.stringify(small))],
    [request("br"), new Response(big, { headers: { "content-type": "text/plain" } })],
    [request("br"), json(big, { "content-encoding": "identity" })],
    [request(), json(JSON.stringify(big))],
  ] as const) {
    expect(compressed(req, res)).toBe(res);
  }
});

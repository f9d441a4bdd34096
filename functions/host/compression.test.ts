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
/** JSON as a route makes it: no Content-Length, its body streamed in pieces. */
const unsized = (body: string, pieces = 3) => {
  const bytes = Buffer.from(body);
  const step = Math.ceil(bytes.length / pieces);
  return new Response(
    new ReadableStream<Uint8Array>({
      start(controller) {
        for (let at = 0; at < bytes.length; at += step)
          controller.enqueue(new Uint8Array(bytes.subarray(at, at + step)));
        controller.close();
      },
    }),
    { headers: { "content-type": "application/json" } },
  );
};
const large = JSON.stringify({ rows: Array.from({ length: 500 }, (_, i) => ({ id: i, v: "x" })) });

test("large JSON is compressed as negotiated, and decompresses to the same document", async () => {
  for (const [accept, decode] of [
    ["br", brotliDecompressSync],
    ["gzip", gunzipSync],
  ] as const) {
    for (const res of [
      await compressed(accept, json(large)),
      await compressed(accept, unsized(large, 40)),
    ]) {
      expect(res.headers.get("content-encoding")).toBe(accept);
      expect(res.headers.get("content-length")).toBeNull();
      expect(res.headers.get("vary")).toMatch(/Accept-Encoding/);
      const bytes = Buffer.from(await res.arrayBuffer());
      expect(bytes.length).toBeLessThan(large.length / 4);
      expect(decode(bytes).toString()).toBe(large);
    }
  }
});

test("small answers, other types, already encoded ones and clients without it go as they are", async () => {
  const small = "x".repeat(COMPRESS_FROM - 3); // with its quotes, one byte short
  const big = "x".repeat(COMPRESS_FROM * 4);
  for (const [accept, res] of [
    ["br", json(JSON.stringify(small))],
    ["br", new Response(big, { headers: { "content-type": "text/plain" } })],
    ["br", json(big, { "content-encoding": "identity" })],
    [null, json(JSON.stringify(big))],
  ] as const) {
    expect(await compressed(accept, res)).toBe(res);
  }
});

test("a small answer of unknown length is read to know its size, and goes uncompressed", async () => {
  const small = JSON.stringify("x".repeat(COMPRESS_FROM - 3));
  const res = await compressed("gzip, br", unsized(small));
  expect(res.headers.get("content-encoding")).toBeNull();
  expect(res.status).toBe(200);
  expect(await res.text()).toBe(small);
});

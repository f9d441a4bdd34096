/**
 * A light Request answers as a real one made of the same parts: what it holds itself (method,
 * URL, headers, the body read whole every way) and what it asks of a real one (the body
 * stream, the signal, clone, formData), and it is a Request to `instanceof`.
 */
import { describe, expect, test } from "vitest";
import { lightRequest } from "./light-request";

const lines = [
  "Host: example.test",
  "Content-Type: application/x-www-form-urlencoded",
  "X-Twice: a",
  "X-Twice: b",
];
const body = Buffer.from("a=1&b=%C3%A9");
const url = "http://example.test/api/x?y=1";

const pair = () => {
  const real = new Request(url, {
    method: "POST",
    headers: lines.map((l) => l.split(": ") as [string, string]),
    body,
  });
  return { light: lightRequest("POST", url, lines, body), real };
};

/** Node 20's Request has bytes(); the DOM types this project compiles against don't name it yet. */
type WithBytes = Request & { bytes(): Promise<Uint8Array> };
const readers = {
  text: (r: Request) => r.text(),
  json: (r: Request) => r.json(),
  arrayBuffer: (r: Request) => r.arrayBuffer(),
  bytes: (r: Request) => (r as WithBytes).bytes(),
  blob: (r: Request) => r.blob(),
  formData: (r: Request) => r.formData(),
};

describe("a light Request", () => {
  test("is a Request, with the same method, URL and headers", () => {
    const { light, real } = pair();
    expect(light).toBeInstanceOf(Request);
    expect(light.method).toBe(real.method);
    expect(light.url).toBe(real.url);
    expect([...light.headers]).toEqual([...real.headers]);
    expect(light.headers.get("x-twice")).toBe("a, b");
  });

  test.each(["text", "json", "arrayBuffer", "bytes", "blob", "formData"] as const)(
    "%s() gives what a real one gives",
    async (read) => {
      const { light, real } = pair();
      if (read === "json") {
        await expect(light.json()).rejects.toBeInstanceOf(SyntaxError);
        await expect(real.json()).rejects.toBeInstanceOf(SyntaxError);
        const ok = lightRequest("POST", url, lines, Buffer.from('{"a":[1,"é"]}'));
        expect(await ok.json()).toEqual({ a: [1, "é"] });
        return;
      }
      const normal = async (value: unknown): Promise<unknown> =>
        value instanceof Blob
          ? { type: value.type, text: await value.text() }
          : value instanceof ArrayBuffer
            ? [...new Uint8Array(value)]
            : value instanceof Uint8Array
              ? [...value]
              : value instanceof FormData
                ? [...value.entries()]
                : value;
      expect(await normal(await readers[read](light))).toEqual(
        await normal(await readers[read](real)),
      );
    },
  );

  test("its body stream, signal and clone are a real Request's", async () => {
    const { light } = pair();
    expect(light.signal).toBeInstanceOf(AbortSignal);
    const copy = light.clone();
    expect(await copy.text()).toBe(body.toString());
    expect(await new Response(light.body).text()).toBe(body.toString());
    // Read through the stream: the body is used, as on a real Request.
    expect(light.bodyUsed).toBe(true);
    await expect(light.text()).rejects.toThrow(TypeError);
  });

  test("a GET has no body", async () => {
    const light = lightRequest("GET", url, ["Host: example.test"], Buffer.alloc(0));
    expect(light.body).toBeNull();
    expect(light.method).toBe("GET");
  });
});

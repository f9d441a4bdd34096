import { describe, expect, test } from "vitest";
import { listenAddressSchema, listenUrl, parseListenAddress } from "./listen-address";

describe("parseListenAddress", () => {
  test.each([
    ["127.0.0.1:8787", "127.0.0.1", 8787],
    ["0.0.0.0:0", "0.0.0.0", 0],
    ["localhost:65535", "localhost", 65535],
    ["[::1]:8080", "::1", 8080],
    ["[::]:80", "::", 80],
    ["  10.0.0.1:9000  ", "10.0.0.1", 9000],
  ])("%j → %s port %i", (text, host, port) => {
    expect(parseListenAddress(text)).toEqual({ host, port });
  });

  test("an empty host is the default host", () => {
    expect(parseListenAddress(":8080")).toEqual({ host: "127.0.0.1", port: 8080 });
    expect(parseListenAddress(":8080", "0.0.0.0")).toEqual({ host: "0.0.0.0", port: 8080 });
    expect(parseListenAddress("[]:8080")).toEqual({ host: "127.0.0.1", port: 8080 });
  });

  test.each([
    "8080",
    "localhost",
    "localhost:",
    "localhost:65536",
    "localhost:123456",
    "localhost:-1",
    "localhost:80x",
    "[::1]",
    "",
  ])("%j is refused", (text) => {
    expect(() => parseListenAddress(text)).toThrow(`expected host:port, got "${text}"`);
  });
});

describe("listenAddressSchema", () => {
  test("parses like parseListenAddress, with its default host", () => {
    expect(listenAddressSchema("0.0.0.0").parse(" :9000 ")).toEqual({
      host: "0.0.0.0",
      port: 9000,
    });
    expect(listenAddressSchema().parse("[::1]:1")).toEqual({ host: "::1", port: 1 });
  });

  test("a bad address is a zod issue with the parser's message", () => {
    const result = listenAddressSchema().safeParse("nope");
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.message)).toEqual(['expected host:port, got "nope"']);
  });
});

describe("listenUrl", () => {
  test("IPv6 hosts in brackets, others as they are", () => {
    expect(listenUrl({ host: "127.0.0.1", port: 8787 })).toBe("http://127.0.0.1:8787");
    expect(listenUrl({ host: "::1", port: 80 })).toBe("http://[::1]:80");
    expect(listenUrl({ host: "db.localhost", port: 1 })).toBe("http://db.localhost:1");
  });

  test("round trip: the URL of a parsed address names the same host and port", () => {
    for (const text of ["[::1]:8080", "127.0.0.1:0", "example.com:443"]) {
      const url = new URL(listenUrl(parseListenAddress(text)));
      expect(`${url.hostname}:${url.port}`).toBe(text);
    }
  });
});

import { describe, expect, test } from "vitest";
import { parseEnv } from "./env";

describe("byte sizes (SQLD_MAX_RESPONSE_SIZE, DBFORGE_MEMORY_LIMIT, …)", () => {
  test.each([
    ["1048576", 1_048_576],
    ["10MB", 10_000_000],
    ["4 MiB", 4 * 1024 ** 2],
    ["1.5kb", 1500],
    ["2GiB", 2 * 1024 ** 3],
  ])("%j is %i bytes", (text, bytes) => {
    expect(parseEnv({ SQLD_MAX_RESPONSE_SIZE: text }).SQLD_MAX_RESPONSE_SIZE).toBe(bytes);
  });

  // Units are lowercased first, so "constructor" is the one Object.prototype name that could
  // match (`__proto__` fails the pattern).
  test.each(["10constructor", "10 Constructor", "10 parsecs", "MB"])(
    "%j is refused (units are looked up as own keys only)",
    (text) => {
      expect(() => parseEnv({ DBFORGE_MEMORY_LIMIT: text })).toThrow(
        `DBFORGE_MEMORY_LIMIT: invalid size "${text}"`,
      );
    },
  );
});

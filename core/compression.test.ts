/** Which encoding an Accept-Encoding header gets. */
import { describe, expect, test } from "vitest";
import { negotiate } from "./compression";

describe("negotiate", () => {
  test.each([
    ["gzip, deflate, br", "br"],
    ["gzip", "gzip"],
    ["br;q=0.5, gzip;q=0.8", "gzip"],
    ["br;q=0, gzip;q=0", undefined],
    ["*", "br"],
    ["identity", undefined],
    [null, undefined],
    ["deflate", undefined],
  ])("%s → %s", (accept, expected) => {
    expect(negotiate(accept)).toBe(expected);
  });
});

import { describe, expect, test } from "vitest";
import { ApiError } from "./errors";
import { databaseNameFromSegment, splitProxyPath, validateDatabaseName } from "./names";

function invalidName(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof ApiError && err.code === "INVALID_NAME") return err.message;
    throw err;
  }
  throw new Error("expected INVALID_NAME");
}

describe("validateDatabaseName: DNS labels", () => {
  test.each(["a", "0", "my-app", "a1-b2-c3", "x".repeat(63), "a--b", "123"])(
    "%j is valid",
    (name) => {
      expect(validateDatabaseName(name)).toBe(name);
    },
  );

  test.each([
    "",
    "-a",
    "a-",
    "-",
    "My-App",
    "a_b",
    "a.b",
    "a b",
    "x".repeat(64),
    "é",
    "a/b",
    "a\u0000",
    "%70eer",
  ])("%j is not", (name) => {
    expect(invalidName(() => validateDatabaseName(name))).toBe(
      `"${name}" is not a valid database name: use 1-63 lowercase letters, digits and hyphens, starting and ending with a letter or digit`,
    );
  });

  test("a long invalid name is cut in the message", () => {
    const name = "_".repeat(500);
    expect(invalidName(() => validateDatabaseName(name))).toContain(`"${"_".repeat(80)}" is not`);
  });

  test.each([
    "admin",
    "api",
    "db",
    "default",
    "docs",
    "health",
    "localhost",
    "openapi",
    "www",
    "traefik",
  ])("%j is reserved", (name) => {
    expect(invalidName(() => validateDatabaseName(name))).toBe(`"${name}" is a reserved name`);
  });

  test("names that merely contain a reserved word are fine", () => {
    expect(validateDatabaseName("admin2")).toBe("admin2");
    expect(validateDatabaseName("my-db")).toBe("my-db");
  });
});

describe("databaseNameFromSegment: a path segment, percent-decoded, then validated", () => {
  test("decodes before validating: %70eer is peer", () => {
    expect(databaseNameFromSegment("peer")).toBe("peer");
    expect(databaseNameFromSegment("%70eer")).toBe("peer");
    expect(databaseNameFromSegment("my%2Dapp")).toBe("my-app");
  });

  test("a decoded name must still be valid (no smuggled slashes, dots or reserved names)", () => {
    expect(invalidName(() => databaseNameFromSegment("a%2Fb"))).toMatch(
      /^"a\/b" is not a valid database name/,
    );
    expect(invalidName(() => databaseNameFromSegment("%2E%2E"))).toMatch(
      /^"\.\." is not a valid database name/,
    );
    expect(invalidName(() => databaseNameFromSegment("%61dmin"))).toBe(
      '"admin" is a reserved name',
    );
  });

  test("a segment that does not decode is INVALID_NAME, never a URIError", () => {
    for (const segment of ["%E0%A4%A", "%", "%zz", "%C3%28"]) {
      expect(invalidName(() => databaseNameFromSegment(segment))).toBe(
        `"${segment}" is not a valid database name: it is not valid percent-encoded UTF-8`,
      );
    }
  });
});

describe("splitProxyPath", () => {
  test.each([
    ["/db/peer", "peer", "/"],
    ["/db/peer/", "peer", "/"],
    ["/db/peer/v2/pipeline", "peer", "/v2/pipeline"],
    ["/db/%70eer/v3", "%70eer", "/v3"],
    ["/db//x", "", "/x"],
    ["/db/", "", "/"],
    ["/dbx/peer", "", "/"],
    ["/api/db/peer", "", "/"],
  ])("%j → segment %j, rest %j", (pathname, segment, rest) => {
    expect(splitProxyPath(pathname)).toEqual({ segment, rest });
  });

  test("the rest is cut at the raw segment, not at the decoded name", () => {
    // %70eer is 6 characters but decodes to 4: slicing by the name would cut "er/v2".
    const { segment, rest } = splitProxyPath("/db/%70eer/v2/pipeline");
    expect(databaseNameFromSegment(segment)).toBe("peer");
    expect(rest).toBe("/v2/pipeline");
  });
});

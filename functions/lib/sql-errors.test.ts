import { LibsqlError } from "@libsql/client/web";
import { describe, expect, test } from "vitest";
import { ApiError, type ErrorCode } from "../../core/errors";
import { connectionFailure, toApiSqlError } from "./sql-errors";

/** An error as @libsql/client throws it for a worker's answer: message "CODE: detail". */
const libsql = (code: string, detail = "it failed") => new LibsqlError(detail, code);

describe("toApiSqlError", () => {
  test.each<[string, ErrorCode, number]>([
    ["SQL_PARSE_ERROR", "SQL_SYNTAX_ERROR", 400],
    ["SQL_NO_STATEMENT", "BAD_REQUEST", 400],
    ["SQL_MANY_STATEMENTS", "BAD_REQUEST", 400],
    ["ARGS_INVALID", "BAD_REQUEST", 400],
    ["ARGS_BOTH_POSITIONAL_AND_NAMED", "BAD_REQUEST", 400],
    ["SQLITE_CONSTRAINT", "CONSTRAINT_VIOLATION", 409],
    ["SQLITE_READONLY", "READ_ONLY", 403],
    ["SQLITE_AUTH", "FORBIDDEN", 403],
    ["SQLITE_INTERRUPT", "QUERY_TIMEOUT", 504],
    ["SQLITE_BUSY", "TRANSACTION_CONFLICT", 409],
    ["TRANSACTION_TIMEOUT", "TRANSACTION_CONFLICT", 409],
    ["SQLITE_FULL", "DISK_FULL", 507],
    ["SQLITE_TOOBIG", "PAYLOAD_TOO_LARGE", 413],
    ["SQLITE_NOMEM", "MEMORY_LIMIT_EXCEEDED", 413],
    ["SQLITE_MISMATCH", "BAD_REQUEST", 400],
    ["SQLITE_RANGE", "BAD_REQUEST", 400],
    ["RESPONSE_TOO_LARGE", "RESPONSE_TOO_LARGE", 413],
    ["AUTH_JWT_INVALID", "UNAUTHORIZED", 401],
    ["AUTH_JWT_EXPIRED", "UNAUTHORIZED", 401],
    ["AUTH_HEADER_NOT_FOUND", "UNAUTHORIZED", 401],
    ["AUTH_FORBIDDEN", "FORBIDDEN", 403],
  ])("%s → %s (%i), detail without the code prefix", (sqlCode, code, status) => {
    const err = toApiSqlError(libsql(sqlCode, "what happened"));
    expect(err).toBeInstanceOf(ApiError);
    expect(err.code).toBe(code);
    expect(err.status).toBe(status);
    expect(err.message).toBe("what happened");
    expect(err.extra).toEqual({ sqlCode });
  });

  test('SQLITE_ERROR "no such table" is TABLE_NOT_FOUND with the table', () => {
    const err = toApiSqlError(libsql("SQLITE_ERROR", "no such table: users"));
    expect(err.code).toBe("TABLE_NOT_FOUND");
    expect(err.status).toBe(404);
    expect(err.message).toBe("no such table: users");
    expect(err.extra).toEqual({ sqlCode: "SQLITE_ERROR", table: "users" });
  });

  test("any other SQLITE_ERROR, and unlisted SQLITE_* codes, are SQL_ERROR", () => {
    const other = toApiSqlError(libsql("SQLITE_ERROR", "no such column: x"));
    expect([other.code, other.status, other.message]).toEqual([
      "SQL_ERROR",
      400,
      "no such column: x",
    ]);
    const unlisted = toApiSqlError(libsql("SQLITE_CORRUPT", "malformed"));
    expect([unlisted.code, unlisted.extra]).toEqual(["SQL_ERROR", { sqlCode: "SQLITE_CORRUPT" }]);
  });

  test("ApiErrors pass through unchanged", () => {
    const original = new ApiError("READ_ONLY", "nope");
    expect(toApiSqlError(original)).toBe(original);
  });

  test("errors without a code are WORKER_UNAVAILABLE, with their message", () => {
    const err = toApiSqlError(new TypeError("fetch failed"));
    expect(err.code).toBe("WORKER_UNAVAILABLE");
    expect(err.status).toBe(503);
    expect(err.message).toBe("The database worker could not be reached: fetch failed");
    expect(toApiSqlError("boom").message).toBe("The database worker could not be reached: boom");
    expect(toApiSqlError(null).code).toBe("WORKER_UNAVAILABLE");
  });

  test.each(["constructor", "toString", "__proto__", "hasOwnProperty"])(
    "a worker code named like a prototype member (%s) maps like any unknown code",
    (code) => {
      // Before: BY_CODE[code] found Object.prototype's member, and `new ApiError(fn)` failed.
      const err = toApiSqlError(libsql(code, "odd"));
      expect(err).toBeInstanceOf(ApiError);
      expect(err.code).toBe("WORKER_UNAVAILABLE");
      expect(err.message).toBe("The database worker could not be reached: odd");
    },
  );
});

describe("connectionFailure", () => {
  test("ECONNREFUSED (code or message, at any depth up to 5) is refused", () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), {
      code: "ECONNREFUSED",
    });
    expect(connectionFailure(refused)).toBe("refused");
    expect(connectionFailure(new TypeError("fetch failed", { cause: refused }))).toBe("refused");
    expect(connectionFailure(new Error("connect() failed"))).toBe("refused");
    expect(connectionFailure(new Error("Connection refused"))).toBe("refused");
    let deep: Error = refused;
    for (let i = 0; i < 4; i++) deep = new Error("wrapped", { cause: deep });
    expect(connectionFailure(deep)).toBe("refused");
    // Five wrappers put the cause out of reach.
    expect(connectionFailure(new Error("wrapped", { cause: deep }))).toBeUndefined();
  });

  test("workerd's 'Network connection lost.' is lost (refused or broken, it cannot tell)", () => {
    expect(connectionFailure(new Error("Network connection lost."))).toBe("lost");
    expect(
      connectionFailure(new Error("x", { cause: new Error("Network connection lost.") })),
    ).toBe("lost");
  });

  test("a connection broken after the request was sent (Node's and undici's codes) is broken", () => {
    for (const code of ["ECONNRESET", "EPIPE", "UND_ERR_SOCKET", "UND_ERR_CLOSED"]) {
      const broken = Object.assign(new Error("other side closed"), { code });
      expect(connectionFailure(broken)).toBe("broken");
      expect(connectionFailure(new TypeError("fetch failed", { cause: broken }))).toBe("broken");
    }
  });

  test("refused anywhere in the chain wins over lost", () => {
    const err = new Error("Network connection lost.", {
      cause: Object.assign(new Error("x"), { code: "ECONNREFUSED" }),
    });
    expect(connectionFailure(err)).toBe("refused");
  });

  test("anything else is not a connection failure", () => {
    expect(connectionFailure(libsql("SQLITE_ERROR"))).toBeUndefined();
    expect(connectionFailure(new Error("ECONNRESET"))).toBeUndefined();
    expect(connectionFailure(undefined)).toBeUndefined();
    expect(connectionFailure("ECONNREFUSED")).toBeUndefined();
  });
});

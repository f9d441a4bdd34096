import { generateKeyPairSync } from "node:crypto";
import { describe, expect, test } from "vitest";
import {
  AuthError,
  bearerToken,
  parsePublicKeys,
  signJwt,
  type TokenClaims,
  verifyJwt,
} from "./jwt";

const { publicKey, privateKey } = generateKeyPairSync("ed25519");
const keys = [publicKey];
const now = Date.UTC(2026, 0, 1);
const nowS = now / 1000;

const codeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    if (err instanceof AuthError) return err.code;
    throw err;
  }
  return "no error";
};

describe("verifyJwt", () => {
  test("claims map to access as sqld maps them", () => {
    const access = (claims: TokenClaims) =>
      verifyJwt(signJwt(privateKey, claims), keys, "default", now);
    expect(access({})).toBe("full-access");
    expect(access({ a: "rw" })).toBe("full-access");
    expect(access({ a: "ro" })).toBe("read-only");
    expect(access({ a: "roa" })).toBe("read-only");
    expect(access({ id: "default", a: "ro" })).toBe("read-only");
    expect(access({ p: { rw: { ns: ["default"] } } })).toBe("full-access");
    expect(access({ p: { ro: { ns: ["other", "default"] } }, a: "rw" })).toBe("read-only");
  });

  test("exp is enforced with a 60 s leeway", () => {
    const token = (exp: number) => signJwt(privateKey, { exp });
    expect(verifyJwt(token(nowS + 10), keys, "default", now)).toBe("full-access");
    expect(verifyJwt(token(nowS - 30), keys, "default", now)).toBe("full-access");
    expect(codeOf(() => verifyJwt(token(nowS - 61), keys, "default", now))).toBe(
      "AUTH_JWT_EXPIRED",
    );
  });

  test("forged, malformed, wrong-algorithm and foreign tokens are invalid", () => {
    const good = signJwt(privateKey, { a: "ro" });
    const [h, , s] = good.split(".");
    const forged = `${h}.${Buffer.from(JSON.stringify({ a: "rw" })).toString("base64url")}.${s}`;
    const hs256 = `${Buffer.from('{"alg":"HS256"}').toString("base64url")}.e30.${s}`;
    for (const token of [forged, hs256, "abc", "a.b.c", `${good}x`]) {
      expect(codeOf(() => verifyJwt(token, keys))).toBe("AUTH_JWT_INVALID");
    }
    expect(codeOf(() => verifyJwt(signJwt(privateKey, { a: "admin" as "rw" }), keys))).toBe(
      "AUTH_JWT_INVALID",
    );
    expect(codeOf(() => verifyJwt(signJwt(privateKey, { id: "other" }), keys))).toBe(
      "AUTH_FORBIDDEN",
    );
  });
});

test("keys parse from PEM (several) and raw base64url; private keys are refused", () => {
  const pem = publicKey.export({ type: "spki", format: "pem" }).toString();
  expect(parsePublicKeys(`${pem}\n${pem}`)).toHaveLength(2);
  const raw = publicKey.export({ format: "jwk" }).x as string;
  const [parsed] = parsePublicKeys(raw);
  expect(verifyJwt(signJwt(privateKey, {}), [parsed!])).toBe("full-access");
  expect(() =>
    parsePublicKeys(privateKey.export({ type: "pkcs8", format: "pem" }).toString()),
  ).toThrow(/private key/);
  expect(() => parsePublicKeys("dG9vIHNob3J0")).toThrow(/32 bytes/);
});

test("bearer header parsing", () => {
  expect(bearerToken("Bearer abc")).toBe("abc");
  expect(bearerToken("bearer abc")).toBe("abc");
  expect(codeOf(() => bearerToken(undefined))).toBe("AUTH_HEADER_NOT_FOUND");
  expect(codeOf(() => bearerToken("abc"))).toBe("AUTH_HEADER_MALFORMED");
  expect(codeOf(() => bearerToken("Basic abc"))).toBe("AUTH_HTTP_HEADER_UNSUPPORTED_SCHEME");
});

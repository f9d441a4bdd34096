/**
 * sqld-compatible JWT authentication: EdDSA (Ed25519) tokens, claims as sqld reads them.
 *
 * - `a`: "rw" (default) or "ro"/"roa" (read-only). `id`: restricts a token to one namespace.
 *   The claims' vocabulary ends here: everything else speaks core/access.ts.
 * - `p`: fine-grained `{ro|rw|roa|rwa: {ns: [names]}}`; when present it decides alone.
 * - `exp` (seconds) is optional and enforced with jsonwebtoken's 60 s leeway, like sqld.
 *
 * The worker serves a single namespace, "default", as sqld does without namespaces.
 */
import { createPublicKey, type KeyObject, sign, verify } from "node:crypto";
import type { Access } from "./access";

export type { Access } from "./access";

export const DEFAULT_NAMESPACE = "default";

const EXP_LEEWAY_S = 60;

export class AuthError extends Error {
  constructor(
    /** sqld's AuthError code, e.g. AUTH_JWT_EXPIRED. */
    readonly code: string,
    message: string,
    /** 401: no valid credentials; 403: valid, but not for this database. */
    readonly status: 401 | 403 = 401,
  ) {
    super(message);
    this.name = "AuthError";
  }
}

const invalid = () => new AuthError("AUTH_JWT_INVALID", "The JWT is invalid");

export interface TokenClaims {
  a?: "ro" | "rw" | "roa";
  id?: string;
  p?: Partial<Record<"ro" | "rw" | "roa" | "rwa", { ns?: string[] }>>;
  exp?: number;
  [claim: string]: unknown;
}

/**
 * Parses sqld's key formats: one or more PEM public keys, or the raw 32-byte key in URL-safe
 * base64. A private key is refused (it would mean the secret was deployed to the worker).
 */
export function parsePublicKeys(data: string): KeyObject[] {
  const text = data.trim();
  if (text.includes("PRIVATE KEY")) {
    throw new Error("Received a private key, but a public key is expected");
  }
  if (text.startsWith("-----BEGIN")) {
    const pems = text.match(/-----BEGIN PUBLIC KEY-----[\s\S]+?-----END PUBLIC KEY-----/g);
    if (!pems) throw new Error("Key is in unsupported PEM format");
    return pems.map((pem) => ed25519(createPublicKey(pem)));
  }
  const raw = Buffer.from(text, "base64url");
  if (raw.length !== 32) {
    throw new Error("Could not decode Ed25519 public key from base64: expected 32 bytes");
  }
  return [
    createPublicKey({
      key: { kty: "OKP", crv: "Ed25519", x: raw.toString("base64url") },
      format: "jwk",
    }),
  ];
}

function ed25519(key: KeyObject): KeyObject {
  if (key.asymmetricKeyType !== "ed25519")
    throw new Error("Only Ed25519 public keys are supported");
  return key;
}

/** Signs claims as an EdDSA JWT (used by the control plane to mint tokens, and by tests). */
export function signJwt(privateKey: KeyObject, claims: TokenClaims): string {
  const header = Buffer.from(JSON.stringify({ alg: "EdDSA", typ: "JWT" })).toString("base64url");
  const payload = Buffer.from(JSON.stringify(claims)).toString("base64url");
  const signature = sign(null, Buffer.from(`${header}.${payload}`), privateKey);
  return `${header}.${payload}.${signature.toString("base64url")}`;
}

/** The `a` claim of a token granting `access`. */
export const accessClaim = (access: Access): "ro" | "rw" => (access === "read-only" ? "ro" : "rw");

/** Verifies a token against any of `keys` and returns the access it grants to `namespace`. */
export function verifyJwt(
  token: string,
  keys: KeyObject[],
  namespace = DEFAULT_NAMESPACE,
  nowMs = Date.now(),
): Access {
  const parts = token.split(".");
  if (parts.length !== 3) throw invalid();
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  const header = decodeJson(headerPart);
  if (header.alg !== "EdDSA") throw invalid();
  const signed = Buffer.from(`${headerPart}.${payloadPart}`);
  const signature = Buffer.from(signaturePart, "base64url");
  if (!keys.some((key) => verify(null, signed, key, signature))) throw invalid();

  const claims = decodeJson(payloadPart) as TokenClaims;
  if (claims.exp !== undefined && typeof claims.exp !== "number") throw invalid();
  checkExpiry(claims.exp, nowMs);
  return accessFromClaims(claims, namespace);
}

function checkExpiry(exp: number | undefined, nowMs: number): void {
  if (exp !== undefined && nowMs / 1000 > exp + EXP_LEEWAY_S) {
    throw new AuthError("AUTH_JWT_EXPIRED", "The JWT has expired");
  }
}

/**
 * verifyJwt with a memory: a token verified once is not verified again (an Ed25519 check costs
 * more than a whole point select) but its expiry still is, every time. Only good tokens are
 * remembered, at most `maxEntries` (the oldest go first). The keys never change for the life of
 * a verifier: a new key (a revoke) means a new worker.
 */
export class TokenVerifier {
  private readonly verified = new Map<string, { access: Access; exp: number | undefined }>();

  constructor(
    private readonly keys: KeyObject[],
    private readonly maxEntries = 1024,
  ) {}

  verify(token: string, nowMs = Date.now()): Access {
    const hit = this.verified.get(token);
    if (hit) {
      checkExpiry(hit.exp, nowMs);
      return hit.access;
    }
    const access = verifyJwt(token, this.keys, DEFAULT_NAMESPACE, nowMs);
    if (this.verified.size >= this.maxEntries) {
      const oldest = this.verified.keys().next().value;
      if (oldest !== undefined) this.verified.delete(oldest);
    }
    this.verified.set(token, { access, exp: decodeClaims(token)?.exp });
    return access;
  }
}

function accessFromClaims(claims: TokenClaims, namespace: string): Access {
  const forbidden = () =>
    new AuthError(
      "AUTH_FORBIDDEN",
      `Authorization forbidden: the token does not grant access to namespace ${namespace}`,
      403,
    );
  if (claims.p !== undefined) {
    if (typeof claims.p !== "object" || claims.p === null) throw invalid();
    const has = (scope: "ro" | "rw" | "roa" | "rwa") => {
      const ns = claims.p?.[scope]?.ns;
      return Array.isArray(ns) && ns.includes(namespace);
    };
    if (has("rw") || has("rwa")) return "full-access";
    if (has("ro") || has("roa")) return "read-only";
    throw forbidden();
  }
  if (claims.id !== undefined && claims.id !== namespace) throw forbidden();
  switch (claims.a) {
    case undefined:
    case "rw":
      return "full-access";
    case "ro":
    case "roa":
      return "read-only";
    default:
      throw invalid();
  }
}

function decodeJson(part: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
    if (typeof value === "object" && value !== null && !Array.isArray(value)) {
      return value as Record<string, unknown>;
    }
  } catch {
    // fall through
  }
  throw invalid();
}

/**
 * The claims of a token without verifying it (to say *which* database a token that fails
 * verification was meant for); undefined if it is not a JWT.
 */
export function decodeClaims(token: string): TokenClaims | undefined {
  try {
    return decodeJson(token.split(".")[1] ?? "") as TokenClaims;
  } catch {
    return undefined;
  }
}

/** Extracts the token from `Authorization: Bearer <token>` (scheme case-insensitive). */
export function bearerToken(header: string | undefined): string {
  if (header === undefined) {
    throw new AuthError("AUTH_HEADER_NOT_FOUND", "Expected authorization header but none given");
  }
  const space = header.indexOf(" ");
  if (space < 0) {
    throw new AuthError(
      "AUTH_HEADER_MALFORMED",
      "Auth string does not conform to '<scheme> <token>' form",
    );
  }
  if (header.slice(0, space).toLowerCase() !== "bearer") {
    throw new AuthError(
      "AUTH_HTTP_HEADER_UNSUPPORTED_SCHEME",
      "The authentication scheme in the `Authorization` HTTP header is not supported",
    );
  }
  return header.slice(space + 1).trim();
}

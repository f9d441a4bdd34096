import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  hkdfSync,
  type KeyObject,
  randomBytes,
} from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import type { Access } from "../../core/access";
import { accessClaim, signJwt } from "../../core/jwt";
import { writeSecretFile } from "./secret-file";

/** Derived key pairs kept in memory (a few KB each). */
const MAX_CACHED_KEYS = 10_000;

/** DER prefix of a PKCS#8 Ed25519 private key; the 32-byte seed follows. */
const PKCS8_ED25519_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");

export interface SignedToken {
  token: string;
  /** Unix seconds, or null for a token that never expires. */
  expiresAt: number | null;
}

/** Which key of a database: its name and the salt of its current key generation. */
export interface DatabaseKeyId {
  name: string;
  /** Null: a database from before salts, keyed by its name alone. */
  salt: string | null;
}

/** A fresh key salt, for a new database or a revoke. */
export function newKeySalt(): string {
  return randomBytes(16).toString("base64url");
}

/**
 * The control plane's Ed25519 root key pair, and the per-database keys derived from it.
 *
 * Every worker is configured with the public key of *its own* database (HKDF of the root private
 * key, the database's random salt and its name), so a token minted for one database cannot open
 * another one, even when the worker is the official sqld image, which only checks signatures.
 * The salt is new for every database created and for every revoke, so a token outlives neither.
 */
export class KeyRing {
  private readonly seed: Buffer;
  private readonly cache = new Map<string, { privateKey: KeyObject; publicKey: KeyObject }>();

  private constructor(rootPrivateKey: KeyObject) {
    const der = rootPrivateKey.export({ format: "der", type: "pkcs8" });
    this.seed = der.subarray(PKCS8_ED25519_PREFIX.length);
  }

  /** Loads the root key from `path`, generating it (mode 0600) on first start. */
  static load(path: string): KeyRing {
    if (!existsSync(path)) {
      const { privateKey } = generateKeyPairSync("ed25519");
      writeSecretFile(path, privateKey.export({ format: "pem", type: "pkcs8" }).toString());
    }
    const key = createPrivateKey(readFileSync(path, "utf8"));
    if (key.asymmetricKeyType !== "ed25519")
      throw new Error(`${path} is not an Ed25519 private key`);
    return new KeyRing(key);
  }

  private keysFor(database: DatabaseKeyId): { privateKey: KeyObject; publicKey: KeyObject } {
    const cacheKey = `${database.name}\u0000${database.salt ?? ""}`;
    let keys = this.cache.get(cacheKey);
    if (!keys) {
      const salt = database.salt === null ? "dbforge" : `dbforge:${database.salt}`;
      const seed = Buffer.from(
        hkdfSync("sha256", this.seed, salt, `database:${database.name}`, 32),
      );
      const privateKey = createPrivateKey({
        key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]),
        format: "der",
        type: "pkcs8",
      });
      keys = { privateKey, publicKey: createPublicKey(privateKey) };
      if (this.cache.size >= MAX_CACHED_KEYS) this.cache.clear();
      this.cache.set(cacheKey, keys);
    }
    return keys;
  }

  /** The database's public key as sqld's SQLD_AUTH_JWT_KEY expects it (raw, URL-safe base64). */
  publicKeyFor(database: DatabaseKeyId): string {
    return this.keysFor(database).publicKey.export({ format: "jwk" }).x as string;
  }

  publicKeyObjectFor(database: DatabaseKeyId): KeyObject {
    return this.keysFor(database).publicKey;
  }

  /**
   * A token for one database. `sub` names the database (sqld ignores it; DB-Forge uses it to
   * tell a token for another database from a forged one).
   */
  mint(
    database: DatabaseKeyId,
    access: Access,
    expiresInSeconds: number | null,
    now = Date.now(),
  ): SignedToken {
    const iat = Math.floor(now / 1000);
    const expiresAt = expiresInSeconds === null ? null : iat + expiresInSeconds;
    const token = signJwt(this.keysFor(database).privateKey, {
      a: accessClaim(access),
      sub: database.name,
      iat,
      ...(expiresAt === null ? {} : { exp: expiresAt }),
    });
    return { token, expiresAt };
  }
}

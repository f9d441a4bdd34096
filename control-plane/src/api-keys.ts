import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { ApiKey } from "../../core/control-plane-api";
import { DomainError } from "../../core/errors";
import type { Role, Scope } from "../../core/permissions";
import type { Registry, RegistryRow } from "./registry";

export const API_KEYS_SCHEMA = `
CREATE TABLE IF NOT EXISTS api_keys (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  role TEXT NOT NULL,
  scope TEXT NOT NULL,
  secret_hash TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  created_by TEXT NOT NULL,
  revoked_at INTEGER
) STRICT`;

export interface ApiKeyRecord {
  id: string;
  name: string;
  role: Role;
  scope: Scope;
  createdAt: number;
  createdBy: string;
  revokedAt: number | null;
}

/** What a key is: `dbfk_<id>_<secret>`; the id is public (audit, revoke), the secret is not. */
const KEY_PATTERN = /^dbfk_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$/;

export const isApiKeyToken = (token: string): boolean => token.startsWith("dbfk_");

/** Keys answered from memory; the registry is read once per key (revokes update both). */
const MAX_CACHED = 10_000;

/**
 * API keys, stored in the registry by their SHA-256 (a key is 256 random bits: a slow hash
 * would add nothing but latency to every request). The key itself is shown once, at creation.
 */
export class ApiKeys {
  private readonly cache = new Map<string, { record: ApiKeyRecord; hash: Buffer } | null>();

  constructor(private readonly registry: Registry) {}

  create(fields: { name: string; role: Role; scope: Scope; createdBy: string }): {
    key: string;
    record: ApiKeyRecord;
  } {
    const id = randomBytes(8).toString("hex").slice(0, 12);
    const secret = randomBytes(32).toString("base64url");
    const record: ApiKeyRecord = { id, ...fields, createdAt: Date.now(), revokedAt: null };
    this.registry.write(
      "INSERT INTO api_keys (id, name, role, scope, secret_hash, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?)",
      [
        id,
        fields.name,
        fields.role,
        JSON.stringify(fields.scope),
        sha256(secret).toString("hex"),
        record.createdAt,
        fields.createdBy,
      ],
    );
    this.cache.delete(id);
    return { key: `dbfk_${id}_${secret}`, record };
  }

  list(): ApiKeyRecord[] {
    return this.registry
      .rows("SELECT * FROM api_keys ORDER BY created_at, id")
      .map((row) => toRecord(row));
  }

  get(id: string): ApiKeyRecord | undefined {
    const row = this.registry.rows("SELECT * FROM api_keys WHERE id = ?", [id])[0];
    return row && toRecord(row);
  }

  /** Revokes a key at once (every later request with it is UNAUTHORIZED); NOT_FOUND if unknown. */
  revoke(id: string): ApiKeyRecord {
    const record = this.get(id);
    if (!record) throw new DomainError("NOT_FOUND", `No API key with id "${id}"`);
    if (record.revokedAt === null) {
      this.registry.write("UPDATE api_keys SET revoked_at = ? WHERE id = ?", [Date.now(), id]);
    }
    this.cache.delete(id);
    return this.get(id) as ApiKeyRecord;
  }

  /** The live key `token` is, or UNAUTHORIZED (malformed, unknown, wrong secret, revoked). */
  verify(token: string): ApiKeyRecord {
    const match = KEY_PATTERN.exec(token);
    if (!match) throw new DomainError("UNAUTHORIZED", "The API key is malformed");
    const [, id = "", secret = ""] = match;
    const entry = this.lookup(id);
    // Compared even for an unknown id, so that timing does not tell which ids exist.
    const expected = entry?.hash ?? UNKNOWN_HASH;
    const matches = timingSafeEqual(sha256(secret), expected);
    if (!entry || !matches) throw new DomainError("UNAUTHORIZED", "The API key is not valid");
    if (entry.record.revokedAt !== null)
      throw new DomainError("UNAUTHORIZED", "The API key has been revoked");
    return entry.record;
  }

  private lookup(id: string): { record: ApiKeyRecord; hash: Buffer } | null {
    const cached = this.cache.get(id);
    if (cached !== undefined) return cached;
    const row = this.registry.rows("SELECT * FROM api_keys WHERE id = ?", [id])[0];
    const entry = row
      ? { record: toRecord(row), hash: Buffer.from(String(row.secret_hash), "hex") }
      : null;
    if (this.cache.size >= MAX_CACHED) this.cache.clear();
    this.cache.set(id, entry);
    return entry;
  }
}

const UNKNOWN_HASH = sha256(randomBytes(32).toString("base64url"));

function sha256(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}

function toRecord(row: RegistryRow): ApiKeyRecord {
  return {
    id: String(row.id),
    name: String(row.name),
    role: String(row.role) as Role,
    scope: JSON.parse(String(row.scope)) as Scope,
    createdAt: Number(row.created_at),
    createdBy: String(row.created_by),
    revokedAt: row.revoked_at === null ? null : Number(row.revoked_at),
  };
}

/** A key as the API shows it (never its secret). */
export function publicKey(record: ApiKeyRecord): ApiKey {
  return {
    id: record.id,
    name: record.name,
    role: record.role,
    databases: record.scope,
    createdAt: new Date(record.createdAt).toISOString(),
    createdBy: record.createdBy,
    revokedAt: record.revokedAt === null ? null : new Date(record.revokedAt).toISOString(),
  };
}

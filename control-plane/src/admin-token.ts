import { randomBytes, timingSafeEqual } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { writeSecretFile } from "./secret-file";

/** The configured admin token, or the one saved at `path` (generated, mode 0600, on first start). */
export function loadAdminToken(
  configured: string | undefined,
  path: string,
): { token: string; source: string } {
  if (configured) return { token: configured, source: "DBFORGE_ADMIN_TOKEN" };
  if (!existsSync(path))
    writeSecretFile(path, `dbf_admin_${randomBytes(32).toString("base64url")}\n`);
  return { token: readFileSync(path, "utf8").trim(), source: path };
}

/** Constant-time comparison, so the token cannot be guessed byte by byte from timings. */
export function isAdminToken(candidate: string, adminToken: string): boolean {
  const a = Buffer.from(candidate);
  const b = Buffer.from(adminToken);
  return a.length === b.length && timingSafeEqual(a, b);
}

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, expect, test } from "vitest";
import { makeTempDir, removeDir } from "../../testkit/temp";
import { API_KEYS_SCHEMA, ApiKeys } from "./api-keys";
import { AUDIT_SCHEMA, AuditLog } from "./audit-log";
import { Registry } from "./registry";

let opened: Registry | undefined;
const dirs: string[] = [];
afterEach(() => {
  try {
    opened?.close();
  } catch {
    // closed by the test
  }
});
afterAll(() => {
  for (const dir of dirs.splice(0)) removeDir(dir);
});

function open(path = join(tempDir(), "registry.db")): {
  registry: Registry;
  path: string;
} {
  opened = new Registry(path, [API_KEYS_SCHEMA, AUDIT_SCHEMA]);
  return { registry: opened, path };
}

/** A directory for one registry, removed after the file's tests (each holds a 1 MiB reserve). */
function tempDir(): string {
  const dir = makeTempDir("audit");
  dirs.push(dir);
  return dir;
}

test("the audit log is append-only: the registry refuses UPDATE and DELETE of entries", () => {
  const { registry } = open();
  const log = new AuditLog(registry);
  log.record({
    actor: "admin",
    action: "database.create",
    database: "a",
    client: "127.0.0.1",
    outcome: "ok",
    detail: null,
  });
  expect(() => registry.write("UPDATE audit_log SET outcome = 'forged'")).toThrow(/append-only/);
  expect(() => registry.write("DELETE FROM audit_log")).toThrow(/append-only/);
  expect(log.query({ limit: 10 }).entries.map((e) => e.outcome)).toEqual(["ok"]);
});

test("API keys are stored hashed: the registry file never holds a key's secret", () => {
  const { registry, path } = open();
  const keys = new ApiKeys(registry);
  const { key, record } = keys.create({
    name: "ci",
    role: "developer",
    scope: ["app-*"],
    createdBy: "admin",
  });
  registry.close();
  const secret = key.split("_").slice(2).join("_");
  const files = [path, `${path}-wal`].map((p) => {
    try {
      return readFileSync(p).toString("latin1");
    } catch {
      return "";
    }
  });
  expect(files.join("")).not.toContain(secret);
  const again = new ApiKeys(open(path).registry);
  expect(again.verify(key)).toMatchObject({ id: record.id, role: "developer", scope: ["app-*"] });
  expect(() => again.verify(`${key.slice(0, -1)}${key.endsWith("A") ? "B" : "A"}`)).toThrow(
    /not valid/,
  );
  again.revoke(record.id);
  expect(() => again.verify(key)).toThrow(/revoked/);
});

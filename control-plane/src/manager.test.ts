/**
 * The DatabaseManager's lifecycle rules against an in-memory WorkerDriver, with the real
 * Registry (a temporary file) and the real KeyRing: no processes, no containers, no network.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { DomainError } from "../../core/errors";
import { parsePublicKeys, verifyJwt } from "../../core/jwt";
import type { StartedWorker, WorkerDriver, WorkerSpec, WorkerStatus } from "./drivers/types";
import { KeyRing } from "./keys";
import { DatabaseManager, type ManagerOptions } from "./manager";
import { Registry } from "./registry";
import type { WorkerLiveness } from "./worker-liveness";

interface FakeWorker {
  id: string;
  url: string;
  spec: WorkerSpec;
  state: "running" | "exited";
  idle: boolean;
  /** At the end of its idle timeout: told it is in use, it is already stopping, and exits. */
  stopping?: boolean;
  /** Running, but answers no probe (a hung process). */
  hung?: boolean;
}

/**
 * Workers as map entries. `calls` records every lifecycle call in order; `beforeStart` lets a
 * test hold or fail a start.
 */
class FakeDriver implements WorkerDriver {
  readonly kind = "process" as const;
  readonly calls: string[] = [];
  /** Driver status reads and HTTP probes, per database. */
  readonly reads = { status: 0, probes: 0, keepAwakes: 0 };
  readonly workers = new Map<string, FakeWorker>();
  beforeStart: (spec: WorkerSpec) => Promise<void> = async () => {};
  /** Runs on every worker started, before the start returns. */
  afterStart: (worker: FakeWorker) => void = () => {};
  private readonly exitListeners: Array<(name: string) => void> = [];
  private started = 0;

  async check(): Promise<void> {}

  async start(spec: WorkerSpec): Promise<StartedWorker> {
    this.calls.push(`start ${spec.name}`);
    await this.beforeStart(spec);
    this.started++;
    const worker: FakeWorker = {
      id: `worker-${this.started}`,
      url: `http://fake-${spec.name}:${this.started}`,
      spec,
      state: "running",
      idle: false,
    };
    this.workers.set(spec.name, worker);
    this.afterStart(worker);
    return { id: worker.id, url: worker.url };
  }

  async status(name: string): Promise<WorkerStatus> {
    this.reads.status++;
    const worker = this.workers.get(name);
    if (!worker) return { state: "missing" };
    if (worker.state === "running") return { state: "running", id: worker.id, url: worker.url };
    return { state: "exited", idle: worker.idle, detail: worker.idle ? "idle" : "crashed" };
  }

  async stop(name: string): Promise<void> {
    this.calls.push(`stop ${name}`);
    const worker = this.workers.get(name);
    if (worker) Object.assign(worker, { state: "exited", idle: true });
  }

  async remove(name: string): Promise<void> {
    this.calls.push(`remove ${name}`);
    this.workers.delete(name);
  }

  async list(): Promise<string[]> {
    return [...this.workers.keys()];
  }

  onExit(listener: (name: string) => void): void {
    this.exitListeners.push(listener);
  }

  /** The worker exits on its own (idle: after its idle timeout; else a crash). */
  exit(name: string, idle: boolean): void {
    const worker = this.workers.get(name);
    if (!worker) throw new Error(`no worker for ${name}`);
    Object.assign(worker, { state: "exited", idle });
    for (const listener of this.exitListeners) listener(name);
  }

  /** The manager's questions to running workers, answered from the map: no network. */
  readonly liveness: WorkerLiveness = {
    isHealthy: async (url) => {
      this.reads.probes++;
      const worker = this.byUrl(url);
      return worker?.state === "running" && !worker.hung;
    },
    keepAwake: async (url) => {
      this.reads.keepAwakes++;
      const worker = this.byUrl(url);
      if (worker?.state !== "running") return "stopping";
      if (!worker.stopping) return "serving";
      setTimeout(() => Object.assign(worker, { state: "exited", idle: true }), 30);
      return "stopping";
    },
  };

  private byUrl(url: string): FakeWorker | undefined {
    return [...this.workers.values()].find((w) => w.url === url);
  }

  worker(name: string): FakeWorker {
    const worker = this.workers.get(name);
    if (!worker) throw new Error(`no worker for ${name}`);
    return worker;
  }
}

function deferred(): { promise: Promise<void>; resolve(): void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** Lets the manager's queued operations and callbacks run. */
const settle = async (times = 5) => {
  for (let i = 0; i < times; i++) await new Promise((r) => setTimeout(r, 0));
};

/** The error `promise` rejects with, as {code, message}. */
async function failure(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof DomainError) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error("expected a DomainError");
}

function thrown(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (err) {
    if (err instanceof DomainError) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error("expected a DomainError");
}

let dir: string;
let dataRoot: string;
let registry: Registry;
let keys: KeyRing;
let driver: FakeDriver;
let manager: DatabaseManager;

/** As control-plane/src/service.ts builds them, with a health interval no test waits for. */
const OPTIONS = (over: Partial<ManagerOptions> = {}): ManagerOptions => ({
  dataRoot,
  idleTimeoutS: 900,
  healthIntervalMs: 3_600_000,
  resolveTokenTtlS: 900,
  workerEnv: { DBFORGE_QUERY_TIMEOUT_MS: "5000" },
  defaultMemoryMb: 512,
  defaultQuotaBytes: 1024 ** 3,
  liveness: driver.liveness,
  ...over,
});

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "dbforge-manager-"));
  dataRoot = join(dir, "data");
  registry = new Registry(join(dataRoot, ".control-plane", "registry.db"));
  keys = KeyRing.load(join(dataRoot, ".control-plane", "root-ed25519.pem"));
  driver = new FakeDriver();
  manager = new DatabaseManager(registry, driver, keys, OPTIONS());
});

afterEach(async () => {
  await manager.shutdown(false);
  registry.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The access a token grants on the database's current worker (as the worker checks it). */
const workerAccess = (name: string, token: string) =>
  verifyJwt(token, parsePublicKeys(driver.worker(name).spec.jwtPublicKey));

describe("create", () => {
  test("registers the database, makes its directory and starts its worker", async () => {
    const info = await manager.create("shop", { memoryMb: 256 });
    expect(info).toMatchObject({
      name: "shop",
      status: "running",
      url: "http://fake-shop:1",
      workerId: "worker-1",
      restarts: 0,
      lastError: null,
      memoryMb: 256,
      sizeBytes: 0,
    });
    expect(driver.calls).toEqual(["start shop"]);
    expect(driver.worker("shop").spec).toEqual({
      name: "shop",
      dataDir: join(dataRoot, "shop"),
      jwtPublicKey: keys.publicKeyFor({ name: "shop", salt: registry.get("shop")?.keySalt ?? "" }),
      uid: null,
      memoryMb: 256,
      idleShutdownS: 900,
      quotaBytes: 1024 ** 3,
      env: { DBFORGE_QUERY_TIMEOUT_MS: "5000" },
    });
    expect(existsSync(join(dataRoot, "shop"))).toBe(true);
    expect(registry.get("shop")?.status).toBe("running");
    expect(manager.list().map((d) => d.name)).toEqual(["shop"]);
    expect(manager.get("shop").memoryMb).toBe(256);
  });

  test("without memoryMb the default applies", async () => {
    expect((await manager.create("plain")).memoryMb).toBe(512);
    expect(driver.worker("plain").spec.memoryMb).toBe(512);
  });

  test("an existing name is DATABASE_EXISTS, and the existing database is untouched", async () => {
    await manager.create("taken");
    const salt = registry.get("taken")?.keySalt;
    expect(await failure(manager.create("taken"))).toEqual({
      code: "DATABASE_EXISTS",
      message: 'A database named "taken" already exists',
    });
    expect(driver.calls).toEqual(["start taken"]);
    expect(registry.get("taken")?.keySalt).toBe(salt);
    expect(existsSync(join(dataRoot, "taken"))).toBe(true);
  });

  test("an invalid or reserved name is INVALID_NAME before anything happens", async () => {
    expect((await failure(manager.create("Bad_Name"))).code).toBe("INVALID_NAME");
    expect((await failure(manager.create("admin"))).code).toBe("INVALID_NAME");
    expect(driver.calls).toEqual([]);
    expect(registry.list()).toEqual([]);
  });

  test("a failing driver.start leaves nothing behind", async () => {
    driver.beforeStart = async () => {
      throw new DomainError("WORKER_START_FAILED", "the worker exited at once");
    };
    expect(await failure(manager.create("broken"))).toEqual({
      code: "WORKER_START_FAILED",
      message: "the worker exited at once",
    });
    expect(registry.get("broken")).toBeUndefined();
    expect(existsSync(join(dataRoot, "broken"))).toBe(false);
    // A worker that may have been half-started is removed too.
    expect(driver.calls).toEqual(["start broken", "remove broken"]);
    // The name is free again.
    driver.beforeStart = async () => {};
    expect((await manager.create("broken")).status).toBe("running");
  });

  test("no space left while starting is DISK_FULL", async () => {
    driver.beforeStart = async () => {
      throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
    };
    expect((await failure(manager.create("full"))).code).toBe("DISK_FULL");
    expect(registry.get("full")).toBeUndefined();
  });
});

describe("delete", () => {
  test("removes the worker, the directory and the registry row", async () => {
    await manager.create("gone");
    await manager.delete("gone");
    expect(driver.calls).toEqual(["start gone", "remove gone"]);
    expect(registry.get("gone")).toBeUndefined();
    expect(existsSync(join(dataRoot, "gone"))).toBe(false);
    expect(manager.list()).toEqual([]);
    expect(thrown(() => manager.get("gone"))).toEqual({
      code: "DATABASE_NOT_FOUND",
      message: 'No database named "gone"',
    });
  });

  test("a missing database is DATABASE_NOT_FOUND", async () => {
    expect((await failure(manager.delete("never"))).code).toBe("DATABASE_NOT_FOUND");
    expect(driver.calls).toEqual([]);
  });
});

describe("resolve", () => {
  test("returns the worker's URL and a short-lived token of the requested access", async () => {
    await manager.create("data");
    const before = Math.floor(Date.now() / 1000);
    const ro = await manager.resolve("data", "read-only");
    expect(ro.url).toBe("http://fake-data:1");
    expect(ro.access).toBe("read-only");
    expect(workerAccess("data", ro.token)).toBe("read-only");
    expect(ro.expiresAt).toBeGreaterThanOrEqual(before + 900);
    expect(ro.expiresAt).toBeLessThanOrEqual(before + 901);
    // Half the idle timeout (900 s): how long the address is worth keeping.
    expect(ro.awakeForMs).toBe(450_000);
    const rw = await manager.resolve("data", "full-access");
    expect(workerAccess("data", rw.token)).toBe("full-access");
    // The worker was running: nothing was started again.
    expect(driver.calls).toEqual(["start data"]);
  });

  test("never outlives the caller's own token (notAfter)", async () => {
    await manager.create("short");
    const now = Date.now() / 1000;
    const resolved = await manager.resolve("short", "full-access", now + 60);
    expect(resolved.expiresAt).toBeGreaterThanOrEqual(Math.floor(now) + 59);
    expect(resolved.expiresAt).toBeLessThanOrEqual(Math.floor(now) + 61);
  });

  test("starts a database stopped when idle (a wake-up, not a restart)", async () => {
    await manager.create("sleepy");
    driver.exit("sleepy", true);
    await settle();
    expect(registry.get("sleepy")?.status).toBe("stopped");
    expect(manager.get("sleepy")).toMatchObject({ status: "stopped", url: null, workerId: null });

    const resolved = await manager.resolve("sleepy", "read-only");
    expect(driver.calls).toEqual(["start sleepy", "start sleepy"]);
    expect(resolved.url).toBe("http://fake-sleepy:2");
    expect(workerAccess("sleepy", resolved.token)).toBe("read-only");
    expect(manager.get("sleepy")).toMatchObject({
      status: "running",
      restarts: 0,
      lastError: null,
    });
  });

  test("a worker caught stopping itself (the end of its idle timeout) is waited for and started again", async () => {
    await manager.create("dozing");
    driver.worker("dozing").stopping = true;
    const resolved = await manager.resolve("dozing", "read-only");
    // Not the address of the worker that was going away: the one started after it had gone.
    expect(resolved.url).toBe("http://fake-dozing:2");
    expect(driver.calls).toEqual(["start dozing", "start dozing"]);
    expect(manager.get("dozing")).toMatchObject({ status: "running", restarts: 0 });
    // A worker that stays is handed out as it is.
    expect((await manager.resolve("dozing", "read-only")).url).toBe("http://fake-dozing:2");
    expect(driver.calls).toHaveLength(2);
  });

  describe("a wake slower than half the idle timeout (a loaded host, a timeout of seconds)", () => {
    /** A stopped database whose starts take 600 ms, against an idle timeout of 1 s. */
    const slowWakes = async (name: string) => {
      await manager.shutdown(false);
      manager = new DatabaseManager(registry, driver, keys, OPTIONS({ idleTimeoutS: 1 }));
      await manager.create(name);
      driver.exit(name, true);
      await settle();
      expect(manager.get(name).status).toBe("stopped");
      driver.beforeStart = () => new Promise((r) => setTimeout(r, 600));
    };

    test("asks the new worker to stay, and starts again one already stopping", async () => {
      await slowWakes("slow");
      let starts = 0;
      // The first worker of the wake is already at the end of its idle timeout when started.
      driver.afterStart = (worker) => {
        if (++starts === 1) worker.stopping = true;
      };
      const resolved = await manager.resolve("slow", "read-only");
      expect(driver.calls).toEqual(["start slow", "start slow", "start slow"]);
      expect(resolved.url).toBe("http://fake-slow:3");
      expect(driver.reads.keepAwakes).toBe(2);
    });

    test("gives up with WORKER_UNAVAILABLE after three starts that each stop first", async () => {
      await slowWakes("hopeless");
      driver.afterStart = (worker) => {
        worker.stopping = true;
      };
      expect(await failure(manager.resolve("hopeless", "read-only"))).toMatchObject({
        code: "WORKER_UNAVAILABLE",
        message: expect.stringContaining("stopped for idleness before it could be handed out"),
      });
      expect(driver.calls.filter((c) => c === "start hopeless")).toHaveLength(4);
    });

    test("a fast wake asks nothing more", async () => {
      await slowWakes("quick");
      driver.beforeStart = async () => {};
      const resolved = await manager.resolve("quick", "read-only");
      expect(resolved.url).toBe("http://fake-quick:2");
      expect(driver.reads.keepAwakes).toBe(0);
    });
  });

  test("a crashed worker is restarted and counted as a restart", async () => {
    await manager.create("crashy");
    driver.exit("crashy", false);
    await settle();
    expect(driver.calls).toEqual(["start crashy", "start crashy"]);
    expect(manager.get("crashy")).toMatchObject({
      status: "running",
      restarts: 1,
      lastError: "crashed",
      url: "http://fake-crashy:2",
    });
  });

  test("a missing database is DATABASE_NOT_FOUND", async () => {
    expect((await failure(manager.resolve("nobody", "read-only"))).code).toBe("DATABASE_NOT_FOUND");
  });
});

describe("tokens", () => {
  test("revokeTokens changes the key: old tokens stop working, new ones work", async () => {
    await manager.create("vault");
    const old = manager.mintToken("vault", "full-access", 3600).token;
    expect(manager.authenticateDatabaseToken("vault", old).access).toBe("full-access");
    const oldKey = driver.worker("vault").spec.jwtPublicKey;

    await manager.revokeTokens("vault");
    expect(thrown(() => manager.authenticateDatabaseToken("vault", old))).toEqual({
      code: "UNAUTHORIZED",
      message: 'The token is not valid for database "vault"',
    });
    const fresh = manager.mintToken("vault", "read-only", null);
    expect(fresh.expiresAt).toBeNull();
    expect(manager.authenticateDatabaseToken("vault", fresh.token)).toEqual({
      access: "read-only",
    });

    // The running worker was restarted with the new key, which refuses the old token.
    expect(driver.calls).toEqual(["start vault", "start vault"]);
    expect(driver.worker("vault").spec.jwtPublicKey).not.toBe(oldKey);
    expect(() => workerAccess("vault", old)).toThrow("The JWT is invalid");
    expect(workerAccess("vault", fresh.token)).toBe("read-only");
  });

  test("revoking a stopped database changes the key without starting it", async () => {
    await manager.create("idle");
    driver.exit("idle", true);
    await settle();
    const old = manager.mintToken("idle", "full-access", 60).token;
    await manager.revokeTokens("idle");
    expect(driver.calls).toEqual(["start idle"]);
    expect(thrown(() => manager.authenticateDatabaseToken("idle", old)).code).toBe("UNAUTHORIZED");
  });

  test("revoking one database's tokens leaves another's working", async () => {
    await manager.create("one");
    await manager.create("two");
    const two = manager.mintToken("two", "full-access", 60).token;
    await manager.revokeTokens("one");
    expect(manager.authenticateDatabaseToken("two", two).access).toBe("full-access");
  });

  test("a missing database gives the same error as a wrong token", async () => {
    // A well-formed token naming the database, signed with some other root key.
    const other = KeyRing.load(join(dir, "other-root.pem"));
    const wrong = other.mint({ name: "target", salt: "x" }, "full-access", 60).token;

    const missing = thrown(() => manager.authenticateDatabaseToken("target", wrong));
    await manager.create("target");
    const existing = thrown(() => manager.authenticateDatabaseToken("target", wrong));
    expect(missing).toEqual(existing);
    expect(existing).toEqual({
      code: "UNAUTHORIZED",
      message: 'The token is not valid for database "target"',
    });

    // So does a genuine token of a database that was deleted and re-created.
    const stale = manager.mintToken("target", "full-access", 60).token;
    await manager.delete("target");
    const deleted = thrown(() => manager.authenticateDatabaseToken("target", stale));
    await manager.create("target");
    expect(thrown(() => manager.authenticateDatabaseToken("target", stale))).toEqual(deleted);
    expect(deleted).toEqual(existing);
  });

  test("a genuine token of another database is FORBIDDEN, whether the name exists or not", async () => {
    await manager.create("mine");
    const token = manager.mintToken("mine", "full-access", 60).token;
    const absent = thrown(() => manager.authenticateDatabaseToken("yours", token));
    expect(absent).toEqual({
      code: "FORBIDDEN",
      message: 'This token is for database "mine", not "yours"',
    });
    await manager.create("yours");
    expect(thrown(() => manager.authenticateDatabaseToken("yours", token))).toEqual(absent);
  });

  test("expired tokens and non-JWTs are UNAUTHORIZED", async () => {
    await manager.create("clock");
    const expired = keys.mint(
      { name: "clock", salt: registry.get("clock")?.keySalt ?? null },
      "full-access",
      10,
      Date.now() - 3_600_000,
    ).token;
    expect(thrown(() => manager.authenticateDatabaseToken("clock", expired))).toEqual({
      code: "UNAUTHORIZED",
      message: "The token has expired",
    });
    expect(thrown(() => manager.authenticateDatabaseToken("clock", "not-a-jwt"))).toEqual({
      code: "UNAUTHORIZED",
      message: "The token is not a valid JWT",
    });
  });

  test("a token minted with an expiry carries it", async () => {
    await manager.create("exp");
    const minted = manager.mintToken("exp", "read-only", 120);
    expect(manager.authenticateDatabaseToken("exp", minted.token)).toEqual({
      access: "read-only",
      exp: minted.expiresAt,
    });
  });
});

describe("serialization of operations on one name", () => {
  test("create and delete racing: delete waits for the create, then removes it", async () => {
    const gate = deferred();
    driver.beforeStart = () => gate.promise;
    const order: string[] = [];
    const created = manager.create("race").then(() => order.push("created"));
    const deleted = manager.delete("race").then(() => order.push("deleted"));
    await settle();
    // The create is holding the name, its worker still starting; the delete has not begun.
    expect(driver.calls).toEqual(["start race"]);
    expect(registry.get("race")?.status).toBe("creating");
    gate.resolve();
    await Promise.all([created, deleted]);
    expect(order).toEqual(["created", "deleted"]);
    expect(driver.calls).toEqual(["start race", "remove race"]);
    expect(registry.get("race")).toBeUndefined();
    expect(existsSync(join(dataRoot, "race"))).toBe(false);
  });

  test("two creates of one name: one wins, the other is DATABASE_EXISTS", async () => {
    const gate = deferred();
    driver.beforeStart = () => gate.promise;
    const results = Promise.allSettled([manager.create("twin"), manager.create("twin")]);
    await settle();
    gate.resolve();
    const [first, second] = await results;
    expect(first?.status).toBe("fulfilled");
    expect(second?.status).toBe("rejected");
    expect(((second as PromiseRejectedResult).reason as DomainError).code).toBe("DATABASE_EXISTS");
    expect(driver.calls).toEqual(["start twin"]);
  });

  test("a resolve queued behind a delete finds no database", async () => {
    await manager.create("brief");
    const gate = deferred();
    driver.remove = async (name) => {
      driver.calls.push(`remove ${name}`);
      await gate.promise;
      driver.workers.delete(name);
    };
    const deleted = manager.delete("brief");
    const resolved = failure(manager.resolve("brief", "read-only"));
    await settle();
    gate.resolve();
    await deleted;
    expect((await resolved).code).toBe("DATABASE_NOT_FOUND");
    expect(driver.calls).toEqual(["start brief", "remove brief"]);
  });

  test("operations on different names do not wait for each other", async () => {
    const gate = deferred();
    driver.beforeStart = (spec) => (spec.name === "slow" ? gate.promise : Promise.resolve());
    const slow = manager.create("slow");
    expect((await manager.create("fast")).status).toBe("running");
    gate.resolve();
    expect((await slow).status).toBe("running");
  });
});

describe("start and shutdown", () => {
  test("start reaps orphans and adopts running workers", async () => {
    await manager.create("kept");
    await driver.start({ ...driver.worker("kept").spec, name: "orphan" });
    driver.calls.length = 0;
    await manager.start();
    await manager.recovered;
    expect(driver.calls).toEqual(["remove orphan"]);
    expect(manager.get("kept").status).toBe("running");
  });

  test("after shutdown nothing starts a worker: no health restart, no wake-up, no create", async () => {
    await manager.shutdown(false);
    manager = new DatabaseManager(registry, driver, keys, OPTIONS({ healthIntervalMs: 10 }));
    await manager.start();
    await manager.recovered;
    await manager.create("watched");

    // Before shutdown the health loop does restart a crashed worker...
    driver.workers.get("watched")!.state = "exited";
    await new Promise((r) => setTimeout(r, 60));
    expect(driver.calls).toEqual(["start watched", "start watched"]);

    await manager.shutdown(false);
    // ...after it, neither the loop, nor an exit event, nor a resolve or create does.
    driver.exit("watched", false);
    await new Promise((r) => setTimeout(r, 60));
    // Not even attempted: a refused restart would have recorded "shutting down" as lastError.
    expect(registry.get("watched")?.lastError).toBe("crashed");
    expect((await failure(manager.resolve("watched", "read-only"))).code).toBe(
      "WORKER_UNAVAILABLE",
    );
    expect((await failure(manager.create("late"))).code).toBe("WORKER_UNAVAILABLE");
    expect(driver.calls.filter((c) => c.startsWith("start"))).toEqual([
      "start watched",
      "start watched",
    ]);
    expect(registry.get("late")).toBeUndefined();
  });

  test("shutdown(true) stops every running worker", async () => {
    await manager.create("a");
    await manager.create("b");
    await manager.shutdown(true);
    expect(driver.calls.filter((c) => c.startsWith("stop")).sort()).toEqual(["stop a", "stop b"]);
  });
});

describe("health", () => {
  const healthManager = async () => {
    await manager.shutdown(false);
    manager = new DatabaseManager(
      registry,
      driver,
      keys,
      OPTIONS({ healthIntervalMs: 10, healthProbeIntervalMs: 200 }),
    );
    await manager.start();
    await manager.recovered;
  };

  test("every round reads the driver; a worker is probed only once a probe interval", async () => {
    await healthManager();
    await manager.create("watched");
    driver.reads.status = 0;
    driver.reads.probes = 0;
    await new Promise((r) => setTimeout(r, 700));
    // ~70 rounds in 700 ms (fewer on a loaded machine), 3 probes at most: the start counts as
    // a sign of serving, then one at ~200, ~400 and ~600 ms.
    expect(driver.reads.status).toBeGreaterThan(20);
    expect(driver.reads.probes).toBeGreaterThanOrEqual(1);
    expect(driver.reads.probes).toBeLessThanOrEqual(3);
    expect(driver.calls).toEqual(["start watched"]);
  });

  test("a driver that lists its running workers in one call is not asked each one's status every round", async () => {
    let lists = 0;
    Object.assign(driver, {
      running: async () => {
        lists++;
        return new Set(
          [...driver.workers].filter(([, w]) => w.state === "running").map(([name]) => name),
        );
      },
    });
    await healthManager();
    await manager.create("listed");
    driver.reads.status = 0;
    driver.reads.probes = 0;
    await new Promise((r) => setTimeout(r, 700));
    // ~70 rounds, a list each; a status read only with each probe (3 at most).
    expect(lists).toBeGreaterThan(20);
    expect(driver.reads.probes).toBeLessThanOrEqual(3);
    expect(driver.reads.status).toBeLessThanOrEqual(driver.reads.probes);
    // A worker the list does not show running is asked, and restarted.
    driver.workers.get("listed")!.state = "exited";
    await new Promise((r) => setTimeout(r, 100));
    expect(driver.calls).toEqual(["start listed", "start listed"]);
  });

  test("a worker that stops answering probes is probed every round and restarted after three", async () => {
    await healthManager();
    await manager.create("watched");
    driver.worker("watched").hung = true;
    const hungAt = Date.now();
    driver.reads.probes = 0;
    while (driver.calls.length < 2 && Date.now() - hungAt < 5000)
      await new Promise((r) => setTimeout(r, 5));
    expect(driver.calls).toEqual(["start watched", "start watched"]);
    // The first failure comes at most one probe interval (and a round) after the hang; the
    // two more come on the next rounds, not a probe interval apart each.
    expect(Date.now() - hungAt).toBeLessThan(200 + 400);
    expect(driver.reads.probes).toBe(3);
    expect(registry.get("watched")).toMatchObject({ restarts: 1, lastError: "unhealthy" });
  });
});

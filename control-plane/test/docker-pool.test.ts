/**
 * The Docker driver's pool of pre-started containers (DBFORGE_DOCKER_POOL) on the real engine:
 * creates and wakes take a running container, which then serves exactly its one database as
 * that database's uid with no capabilities, from the database's own directory; unclaimed
 * containers never outlive their control plane for long, whatever the way it ends; and under
 * parallel creates, wakes and deletes no database ever has two containers. Asserted on `docker
 * ps`, /proc and the files, not only on answers.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { createClient } from "@libsql/client";
import { afterAll, beforeAll, expect, test } from "vitest";
import {
  type ControlPlaneProcess,
  startControlPlaneProcess,
} from "../../testkit/control-plane-process";
import { buildImage } from "../../testkit/image";
import { instanceOf } from "../../testkit/processes";
import { removeDir } from "../../testkit/temp";
import { eventually } from "../../testkit/wait";

const IMAGE = "dbforge-worker:test";
const POOL = 2;
const ENV = {
  DBFORGE_DRIVER: "docker",
  DBFORGE_WORKER_IMAGE: IMAGE,
  DBFORGE_DOCKER_POOL: String(POOL),
  DBFORGE_DOCKER_POOL_LEASE_S: "4",
  DBFORGE_IDLE_TIMEOUT_S: "2",
};

const dirs: string[] = [];
beforeAll(() => {
  buildImage(IMAGE);
});
afterAll(() => {
  for (const dir of dirs) {
    for (const c of containers(dir)) execFileSync("docker", ["rm", "-f", c.id]);
    removeDir(dir);
  }
});

interface Container {
  id: string;
  name: string;
  running: boolean;
}

/** Every container of the control plane of `dataDir`, pooled or not, running or not. */
function containers(dataDir: string): Container[] {
  const out = execFileSync(
    "docker",
    [
      "ps",
      "-a",
      "--no-trunc",
      "--filter",
      `label=dev.dbforge.instance=${instanceOf(dataDir)}`,
      "--format",
      "{{.ID}} {{.Names}} {{.State}}",
    ],
    { encoding: "utf8" },
  ).trim();
  return out
    ? out.split("\n").map((line) => {
        const [id = "", name = "", state = ""] = line.split(" ");
        return { id, name, running: state === "running" };
      })
    : [];
}

const pooled = (dataDir: string) =>
  containers(dataDir).filter((c) => c.name.includes("_pool-") && c.running);

/** Containers named for `name` (one at most, ever). */
const containersOf = (dataDir: string, name: string) =>
  containers(dataDir).filter((c) => c.name === `dbforge-${instanceOf(dataDir)}-${name}`);

async function start(dataDir?: string, env?: Record<string, string>): Promise<ControlPlaneProcess> {
  const cp = await startControlPlaneProcess({
    ...(dataDir ? { dataDir } : {}),
    env: { ...ENV, ...env },
  });
  if (!dirs.includes(cp.dataDir)) dirs.push(cp.dataDir);
  return cp;
}

/** Asks a container's published port, never waiting long (an unready one may not answer). */
async function ask(id: string, path: string): Promise<number | undefined> {
  let port: { HostIp: string; HostPort: string };
  try {
    port = inspect(id).NetworkSettings.Ports["8080/tcp"][0];
  } catch {
    return undefined; // gone (taken, removed) meanwhile
  }
  const res = await fetch(`http://${port.HostIp}:${port.HostPort}${path}`, {
    signal: AbortSignal.timeout(1000),
  }).catch(() => undefined);
  return res?.status;
}

/** POOL containers waiting, each loaded (its pool route answers: 401 without the secret). */
const full = (cp: ControlPlaneProcess) =>
  eventually(
    async () => {
      const waiting = pooled(cp.dataDir);
      if (waiting.length !== POOL) return undefined;
      for (const c of waiting) if ((await ask(c.id, "/dbforge/v1/pool")) !== 401) return undefined;
      return true;
    },
    60_000,
    "a full pool",
  );

async function query(cp: ControlPlaneProcess, name: string, sql: string) {
  const res = await cp.api("POST", `/v1/databases/${name}/resolve`);
  expect(res.status, await res.clone().text()).toBe(200);
  const { url, token } = (await res.json()) as { url: string; token: string };
  const db = createClient({ url, authToken: token });
  try {
    return await db.execute(sql);
  } finally {
    db.close();
  }
}

function inspect(id: string) {
  return JSON.parse(
    execFileSync("docker", ["inspect", id], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    }),
  )[0];
}

test("a create takes a pooled container, which serves that database as its own uid, without capabilities", async () => {
  const cp = await start();
  await full(cp);
  const before = new Set(pooled(cp.dataDir).map((c) => c.id));
  // An unclaimed container serves nothing, not even health, on its loopback port.
  const [waiting = ""] = before;
  expect(inspect(waiting).NetworkSettings.Ports["8080/tcp"][0].HostIp).toBe("127.0.0.1");
  expect(await ask(waiting, "/health")).toBe(404);
  expect(await ask(waiting, "/v2/pipeline")).toBe(404);

  expect((await cp.api("POST", "/v1/databases", { name: "shop" })).status).toBe(201);
  const [worker] = containersOf(cp.dataDir, "shop");
  expect(before.has(worker?.id ?? "")).toBe(true);
  await query(cp, "shop", "CREATE TABLE orders (id INTEGER PRIMARY KEY, item TEXT)");
  await query(cp, "shop", "INSERT INTO orders (item) VALUES ('tea')");

  // The same limits as any worker; the process inside runs as the database's uid.
  const info = inspect(worker?.id ?? "");
  expect(info.HostConfig.ReadonlyRootfs).toBe(true);
  expect(info.HostConfig.CapDrop).toEqual(["ALL"]);
  expect(info.HostConfig.SecurityOpt).toEqual(["no-new-privileges"]);
  expect(info.HostConfig.Memory).toBe(512 * 1024 * 1024);
  const dbDir = join(cp.dataDir, "shop");
  const uid = statSync(dbDir).uid;
  expect(uid).toBeGreaterThan(0);
  expect(statSync(dbDir).mode & 0o777).toBe(0o700);
  const status = readFileSync(`/proc/${info.State.Pid}/status`, "utf8");
  expect(/^Uid:\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)/m.exec(status)?.slice(1)).toEqual(
    Array(4).fill(String(uid)),
  );
  expect(/^CapEff:\s+(\w+)/m.exec(status)?.[1]).toBe("0000000000000000");
  expect(/^CapPrm:\s+(\w+)/m.exec(status)?.[1]).toBe("0000000000000000");
  // Claimed: its pool routes are gone (the secret opens nothing any more).
  expect(await ask(worker?.id ?? "", "/dbforge/v1/pool")).toBe(404);
  // The database's files are in the database's own directory (the container's mount).
  expect(statSync(join(dbDir, "iku.db/dbs/default/data")).uid).toBe(uid);
  expect(readdirSync(join(cp.dataDir, ".pool")).length).toBeLessThanOrEqual(POOL);
  // The pool fills up again; listed databases are only the real ones.
  await full(cp);
  const listed = (await (await cp.api("GET", "/v1/databases")).json()) as {
    databases: { name: string }[];
  };
  expect(listed.databases.map((d) => d.name)).toEqual(["shop"]);

  // Idle stop, then a wake takes another pooled container: same data, one container.
  await eventually(
    async () => {
      const db = (await (await cp.api("GET", "/v1/databases/shop")).json()) as { status: string };
      return db.status === "stopped" ? true : undefined;
    },
    30_000,
    "the idle stop",
  );
  const waitingNow = new Set(pooled(cp.dataDir).map((c) => c.id));
  expect((await query(cp, "shop", "SELECT item FROM orders")).rows[0]?.item).toBe("tea");
  const woken = containersOf(cp.dataDir, "shop");
  expect(woken).toHaveLength(1);
  expect(waitingNow.has(woken[0]?.id ?? "")).toBe(true);
  expect(statSync(dbDir).uid).toBe(uid);

  // A clean stop removes the waiting containers (the database's own stays, as without a pool).
  expect(await cp.stop()).toBe(0);
  expect(containers(cp.dataDir).filter((c) => c.name.includes("_pool-"))).toEqual([]);
  expect(containersOf(cp.dataDir, "shop")).toHaveLength(1);
}, 180_000);

test("kill -9 of the control plane: unclaimed containers go (lease, then the next start); claimed ones are adopted", async () => {
  // Workers stay up meanwhile: it is the pool's containers that must go.
  const awake = { DBFORGE_IDLE_TIMEOUT_S: "600" };
  let cp = await start(undefined, awake);
  await full(cp);
  expect((await cp.api("POST", "/v1/databases", { name: "survivor" })).status).toBe(201);
  await query(cp, "survivor", "CREATE TABLE t (x)");
  const [claimed] = containersOf(cp.dataDir, "survivor");
  await full(cp);
  await cp.kill();
  // Nobody renews their leases: they stop by themselves.
  await eventually(
    async () => (pooled(cp.dataDir).length === 0 ? true : undefined),
    20_000,
    "unclaimed containers to exit",
  );
  expect(containersOf(cp.dataDir, "survivor")[0]).toMatchObject({ id: claimed?.id, running: true });
  cp = await start(cp.dataDir, awake);
  // The exited ones are removed, the claimed one adopted.
  await eventually(
    async () =>
      containers(cp.dataDir).filter((c) => c.name.includes("_pool-") && !c.running).length === 0
        ? true
        : undefined,
    20_000,
    "stale pooled containers to be removed",
  );
  const info = (await (await cp.api("GET", "/v1/databases/survivor")).json()) as {
    workerId: string;
  };
  expect(info.workerId).toBe(claimed?.id);
  await query(cp, "survivor", "INSERT INTO t VALUES (1)");
  expect((await cp.api("DELETE", "/v1/databases/survivor")).status).toBe(204);
  expect(containersOf(cp.dataDir, "survivor")).toEqual([]);
  expect(existsSync(join(cp.dataDir, "survivor"))).toBe(false);
  await full(cp);
  expect(await cp.stop()).toBe(0);
  expect(containers(cp.dataDir)).toEqual([]);
  expect(readdirSync(join(cp.dataDir, ".pool"))).toEqual([]);
}, 180_000);

test("rounds of parallel creates, wakes and deletes: one container per database, every database its own files", async () => {
  const cp = await start();
  const deadline = Date.now() + 60_000;
  const names = ["a1", "a2", "a3", "a4"];
  for (let round = 0; round < 5 && Date.now() < deadline; round++) {
    await full(cp);
    const created = await Promise.all(
      names.map((name) => cp.api("POST", "/v1/databases", { name })),
    );
    expect(created.map((r) => r.status)).toEqual(names.map(() => 201));
    await Promise.all(
      names.map((name) => query(cp, name, `CREATE TABLE owner AS SELECT '${name}' AS name`)),
    );
    // Idle stops, then all woken at once.
    await eventually(
      async () => {
        const list = (await (await cp.api("GET", "/v1/databases")).json()) as {
          databases: { status: string }[];
        };
        return list.databases.every((d) => d.status === "stopped") ? true : undefined;
      },
      30_000,
      "the idle stops",
    );
    const rows = await Promise.all(names.map((name) => query(cp, name, "SELECT name FROM owner")));
    expect(rows.map((r) => r.rows[0]?.name)).toEqual(names);
    for (const name of names) {
      expect(
        containersOf(cp.dataDir, name).filter((c) => c.running),
        name,
      ).toHaveLength(1);
    }
    const deleted = await Promise.all(
      names.map((name) => cp.api("DELETE", `/v1/databases/${name}`)),
    );
    expect(deleted.map((r) => r.status)).toEqual(names.map(() => 204));
    for (const name of names) {
      expect(containersOf(cp.dataDir, name), name).toEqual([]);
      expect(existsSync(join(cp.dataDir, name)), name).toBe(false);
    }
    // No slot is left beyond the pool's own.
    expect(readdirSync(join(cp.dataDir, ".pool")).length).toBeLessThanOrEqual(POOL);
  }
  expect(await cp.stop()).toBe(0);
  expect(containers(cp.dataDir)).toEqual([]);
}, 180_000);

test("kill -9 of the control plane at random points of parallel claims: every database serves its own files from one container", async () => {
  let cp = await start();
  const deadline = Date.now() + 90_000;
  for (let round = 0; round < 6 && Date.now() < deadline; round++) {
    await full(cp);
    const names = [`k${round}a`, `k${round}b`, `k${round}c`];
    const creates = names.map((name) =>
      cp.api("POST", "/v1/databases", { name }).catch(() => undefined),
    );
    await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 250)));
    await cp.kill();
    await Promise.all(creates);
    cp = await start(cp.dataDir);
    // Creates cut short are undone by the recovery: wait for it.
    await eventually(
      async () => {
        const health = (await (await cp.api("GET", "/health")).json()) as { recovering: boolean };
        return health.recovering ? undefined : true;
      },
      30_000,
      "the recovery",
    );
    const listed = (await (await cp.api("GET", "/v1/databases")).json()) as {
      databases: { name: string }[];
    };
    for (const { name } of listed.databases) {
      await query(cp, name, `CREATE TABLE IF NOT EXISTS owner AS SELECT '${name}' AS name`);
      expect((await query(cp, name, "SELECT name FROM owner")).rows[0]?.name).toBe(name);
      expect(
        containersOf(cp.dataDir, name).filter((c) => c.running),
        name,
      ).toHaveLength(1);
      expect(existsSync(join(cp.dataDir, name, "iku.db/dbs/default/data")), name).toBe(true);
    }
    // Handovers cut short were finished: the slots left are the new pool's own.
    for (const entry of readdirSync(join(cp.dataDir, ".pool")))
      expect(entry, `round ${round}`).not.toMatch(/handover/);
  }
  await full(cp);
  // Whatever the earlier control planes left unclaimed is gone: only this one's pool is left.
  await eventually(
    async () =>
      containers(cp.dataDir).filter((c) => c.name.includes("_pool-")).length === POOL
        ? true
        : undefined,
    20_000,
    "only the pool's own containers",
  );
  expect(await cp.stop()).toBe(0);
  expect(containers(cp.dataDir).filter((c) => c.name.includes("_pool-"))).toEqual([]);
}, 240_000);

test("an image whose worker takes no claim (the official sqld image, say) gets no pool", async () => {
  const unclaimable = "dbforge-worker:no-claim";
  execFileSync("docker", ["build", "-q", "-t", unclaimable, "-"], {
    input: `FROM ${IMAGE}\nLABEL dev.dbforge.claim=""\n`,
    env: { ...process.env, DOCKER_BUILDKIT: "0" },
    stdio: ["pipe", "ignore", "inherit"],
  });
  const cp = await start(undefined, { DBFORGE_WORKER_IMAGE: unclaimable });
  expect((await cp.api("POST", "/v1/databases", { name: "plain" })).status).toBe(201);
  await new Promise((r) => setTimeout(r, 3000));
  expect(containers(cp.dataDir).filter((c) => c.name.includes("_pool-"))).toEqual([]);
  // A container of its own, labelled with its database as without a pool.
  const [own] = containersOf(cp.dataDir, "plain");
  expect(inspect(own?.id ?? "").Config.Labels["dev.dbforge.database"]).toBe("plain");
  expect(await cp.stop()).toBe(0);
  execFileSync("docker", ["rmi", "-f", unclaimable], { stdio: "ignore" });
}, 60_000);

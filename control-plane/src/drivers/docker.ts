import { createHash } from "node:crypto";
import { join } from "node:path";
import { Readable, Writable } from "node:stream";
import type Dockerode from "dockerode";
import { DomainError } from "../../../core/errors";
import { secureDataDir } from "./data-dir";
import { DockerLauncher, type PooledContainer } from "./docker-pool";
import { fitsPool, Pool } from "./pool";
import { handOver, recoverSlots, SLOTS_DIR } from "./slot-dir";
import { traefikLabels } from "./traefik-labels";
import {
  LABEL_PREFIX,
  LABELS,
  memoryEnv,
  SQLD_DB_DIR,
  type StartedWorker,
  type WorkerDriver,
  type WorkerSpec,
  type WorkerStatus,
  waitForHealth,
} from "./types";

export interface DockerDriverOptions {
  docker: Dockerode;
  image: string;
  instanceId: string;
  /** db-data as this process sees it. */
  dataRoot: string;
  /** db-data as the Docker host sees it (differs when the control plane runs in a container). */
  hostDataRoot?: string;
  /** Attach workers to this network (reached as http://<container>:8080) instead of publishing a port. */
  network?: string;
  cpus: number;
  /**
   * Who workers run as when a database has no uid of its own (DB-Forge not running as root):
   * the control plane's own user, so database files stay its own. Never root inside.
   */
  user?: { uid: number; gid: number };
  /** Label workers for Traefik: each database also answers on <name>.<traefikDomain>. */
  traefikDomain?: string;
  startTimeoutMs?: number;
  /**
   * Pre-started containers kept ready (./docker-pool.ts), for databases with this memory cap and
   * worker environment; none when unset, with a network or Traefik labels (a container's labels
   * and network name are fixed at its creation), or with an image that cannot be claimed.
   */
  pool?: { size: number; memoryMb: number; env: Record<string, string>; leaseMs: number };
}

const WORKER_PORT = "8080/tcp";
/** Inspections of a running container without its published port before it counts as exited. */
const EXITING_CHECKS = 20;

/** The hash of what a container was made from (see start). */
const CONFIG_LABEL = `${LABEL_PREFIX}.config`;

/** Processes (and threads) a worker may run: node and sqld need a few dozen. */
const PIDS_LIMIT = 128;

/** uid and gid for containers that would otherwise run as root: "nobody". */
const NOBODY = { uid: 65534, gid: 65534 };

/** Pooled containers: labelled with their slot, named with a `_` no database name has. */
const POOL_LABEL = `${LABEL_PREFIX}.pool`;
const POOL_INFIX = "_pool-";

/** The image label that says its worker takes an HTTP claim (workers-image/Dockerfile). */
const CLAIMABLE_LABEL = `${LABEL_PREFIX}.claim`;

/** What the container of one worker is made of; a pooled one differs only in these. */
interface ContainerShape {
  name: string;
  env: Record<string, string>;
  labels: Record<string, string>;
  user: { uid: number; gid: number };
  /** Host directory mounted as /var/lib/sqld. */
  hostDir: string;
  memoryMb: number;
  capAdd?: string[];
}

/**
 * Workers as Docker containers, one per database, through dockerode. Every container carries
 * the dev.dbforge.* labels (managed, instance, database) so this control plane can find, adopt
 * and reap exactly its own containers on a shared engine.
 */
export class DockerDriver implements WorkerDriver {
  readonly kind = "docker";

  private readonly pool: Pool<PooledContainer> | undefined;
  private readonly launcher: DockerLauncher | undefined;
  /** Set once the image is known to take claims: until then, and otherwise, no pool is used. */
  private poolInUse = false;
  private closed = false;

  constructor(private readonly options: DockerDriverOptions) {
    // Before any start: a claim a crash cut short is finished, every other slot goes.
    recoverSlots(options.dataRoot);
    const pool = options.pool;
    const poolable = pool && pool.size > 0 && !options.network && !options.traefikDomain;
    if (!poolable) {
      this.reapPool().catch(() => {});
      return;
    }
    this.launcher = new DockerLauncher({
      docker: options.docker,
      dataRoot: options.dataRoot,
      configOf: (slot, secret) => this.pooledConfig(pool, slot, secret),
      urlOf: (container) => this.urlOf(container),
      readyTimeoutMs: options.startTimeoutMs ?? 15_000,
      leaseMs: pool.leaseMs,
    });
    this.pool = new Pool(pool.size, this.launcher, (err) =>
      console.error(JSON.stringify({ msg: "docker pool: start failed", error: err.message })),
    );
    this.fillPool().catch((err: Error) =>
      console.error(JSON.stringify({ msg: "docker pool: not started", error: err.message })),
    );
  }

  /** Removes what an earlier control plane left unclaimed, then starts the pool. */
  private async fillPool(): Promise<void> {
    await this.reapPool();
    const image = await this.options.docker.getImage(this.options.image).inspect();
    // The official sqld image (or an older one of ours) takes no claim: no pool then (it would
    // start sqld without a key on an empty slot).
    if (image.Config?.Labels?.[CLAIMABLE_LABEL] !== "http" || this.closed) return;
    this.poolInUse = true;
    this.pool?.refill();
  }

  /** Removes pooled containers an earlier control plane of these files left unclaimed. */
  private async reapPool(): Promise<void> {
    for (const stale of await this.containers({ pooled: true })) {
      if (stale.Names.some((n) => n.includes(POOL_INFIX)))
        await this.options.docker
          .getContainer(stale.Id)
          .remove({ force: true })
          .catch(() => {});
    }
  }

  /** Removes the containers waiting in the pool (claimed ones are stop()'s business). */
  async close(): Promise<void> {
    this.closed = true;
    this.pool?.close();
    await this.launcher?.settled();
  }

  async check(): Promise<void> {
    try {
      await this.options.docker.ping();
    } catch (err) {
      throw dockerUnavailable(err);
    }
    try {
      await this.options.docker.getImage(this.options.image).inspect();
    } catch (err) {
      if (statusOf(err) === 404) {
        throw new DomainError(
          "WORKER_IMAGE_MISSING",
          `The worker image ${this.options.image} is not on the Docker engine; build it with \`npm run image\``,
        );
      }
      throw dockerUnavailable(err);
    }
  }

  onExit(): void {
    // Exits are noticed by the manager's health loop (docker events would need a stream).
  }

  async start(spec: WorkerSpec): Promise<StartedWorker> {
    await this.check();
    const user = this.userOf(spec);
    const pooled = this.poolFits(spec) ? this.pool?.take() : undefined;
    if (pooled) {
      try {
        return await this.claim(spec, user, pooled);
      } catch (err) {
        // A pooled container that died meanwhile: a container of its own, as without a pool.
        console.error(JSON.stringify({ msg: "docker pool: claim failed", error: messageOf(err) }));
      }
    }
    const dataDir = join(this.options.dataRoot, spec.name);
    this.secure(dataDir, user);
    const config = this.containerConfig({
      name: this.containerName(spec.name),
      env: {
        SQLD_HTTP_LISTEN_ADDR: "0.0.0.0:8080",
        ...this.databaseEnv(spec),
        ...memoryEnv(spec.memoryMb),
        ...spec.env,
      },
      labels: {
        [LABELS.database]: spec.name,
        ...(this.options.traefikDomain
          ? traefikLabels(spec.name, this.options.traefikDomain, this.options.network)
          : {}),
      },
      user,
      hostDir: join(this.options.hostDataRoot ?? this.options.dataRoot, spec.name),
      memoryMb: spec.memoryMb,
    });
    // What the container was made from: the same again (an idle stop) starts the stopped
    // container, far quicker than a new one; anything else (a new key after a revoke, another
    // image or cap) makes a new container.
    const fingerprint = createHash("sha256").update(JSON.stringify(config)).digest("hex");
    (config.Labels as Record<string, string>)[CONFIG_LABEL] = fingerprint;
    let container = await this.reusable(spec.name, fingerprint);
    if (!container) {
      await this.remove(spec.name);
      try {
        container = await this.options.docker.createContainer(config);
      } catch (err) {
        if (statusOf(err) === 404) {
          throw new DomainError(
            "WORKER_IMAGE_MISSING",
            `The worker image ${this.options.image} is not on the Docker engine`,
          );
        }
        throw dockerUnavailable(err);
      }
    }
    try {
      await container.start();
    } catch (err) {
      await container.remove({ force: true }).catch(() => {});
      const message = messageOf(err);
      if (/port is already allocated|address already in use|no available port/i.test(message)) {
        throw new DomainError(
          "PORT_EXHAUSTED",
          `Docker could not publish a port for the worker: ${message}`,
        );
      }
      throw new DomainError(
        "WORKER_START_FAILED",
        `The worker container failed to start: ${message}`,
      );
    }
    const url = await this.urlOf(container);
    const healthy = await waitForHealth(url, this.options.startTimeoutMs ?? 15_000, () => false);
    if (!healthy) {
      const logs = await this.logsOf(container);
      await container.remove({ force: true }).catch(() => {});
      throw new DomainError(
        "WORKER_START_FAILED",
        `The worker container did not become healthy:\n${logs}`,
      );
    }
    return { id: container.id, url };
  }

  /** The database's own uid as root; else the control plane's user, never root. */
  private userOf(spec: WorkerSpec): { uid: number; gid: number } {
    return spec.uid === null ? this.fallbackUser() : { uid: spec.uid, gid: spec.uid };
  }

  /** Who workers run as without a uid of their own. */
  private fallbackUser(): { uid: number; gid: number } {
    return this.options.user?.uid === 0 ? NOBODY : (this.options.user ?? NOBODY);
  }

  private secure(dataDir: string, user: { uid: number; gid: number }): void {
    try {
      secureDataDir(dataDir, user.uid === process.getuid?.() ? null : user);
    } catch (err) {
      throw new DomainError(
        "WORKER_START_FAILED",
        `Could not prepare the database's directory: ${(err as Error).message}`,
      );
    }
  }

  /** What tells a worker which database it serves (in its container's env, or its claim). */
  private databaseEnv(spec: WorkerSpec): Record<string, string> {
    return {
      SQLD_DB_PATH: SQLD_DB_DIR,
      SQLD_AUTH_JWT_KEY: spec.jwtPublicKey,
      SQLD_IDLE_SHUTDOWN_TIMEOUT_S: String(spec.idleShutdownS),
      DBFORGE_MAX_DB_BYTES: String(spec.quotaBytes),
    };
  }

  private containerConfig(shape: ContainerShape): Dockerode.ContainerCreateOptions {
    const { network } = this.options;
    const memoryBytes = shape.memoryMb * 1024 * 1024;
    return {
      name: shape.name,
      Image: this.options.image,
      Env: Object.entries(shape.env).map(([k, v]) => `${k}=${v}`),
      Labels: {
        [LABELS.managed]: "true",
        [LABELS.instance]: this.options.instanceId,
        ...shape.labels,
      },
      ExposedPorts: { [WORKER_PORT]: {} },
      User: `${shape.user.uid}:${shape.user.gid}`,
      HostConfig: {
        // Only the database's own directory; the rest of the file system is read-only.
        Binds: [`${shape.hostDir}:/var/lib/sqld`],
        ReadonlyRootfs: true,
        Tmpfs: { "/tmp": "rw,noexec,nosuid,nodev,size=64m" },
        CapDrop: ["ALL"],
        ...(shape.capAdd ? { CapAdd: shape.capAdd } : {}),
        SecurityOpt: ["no-new-privileges"],
        PidsLimit: PIDS_LIMIT,
        Memory: memoryBytes,
        // No swap beyond the cap.
        MemorySwap: memoryBytes,
        NanoCpus: Math.round(this.options.cpus * 1e9),
        // The control plane restarts crashed workers itself (and must not fight idle stops).
        RestartPolicy: { Name: "no" },
        ...(network
          ? { NetworkMode: network }
          : { PortBindings: { [WORKER_PORT]: [{ HostIp: "127.0.0.1", HostPort: "0" }] } }),
      },
    };
  }

  /**
   * A pooled container: the pool's memory cap and environment, its slot mounted. Where
   * databases have their own uids (the control plane runs as root) it starts as root with only
   * CAP_SETUID and CAP_SETGID, which it gives up for good when claimed, before it opens the
   * database (the worker's privileges.ts); until then it serves nothing but its claim.
   */
  private pooledConfig(
    pool: NonNullable<DockerDriverOptions["pool"]>,
    slot: string,
    secret: string,
  ): Dockerode.ContainerCreateOptions {
    const perDatabaseUids = this.options.user?.uid === 0;
    return this.containerConfig({
      name: `dbforge-${this.options.instanceId}${POOL_INFIX}${slot}`,
      env: {
        SQLD_HTTP_LISTEN_ADDR: "0.0.0.0:8080",
        DBFORGE_POOL_SLOT: slot,
        DBFORGE_POOL_SECRET: secret,
        DBFORGE_POOL_LEASE_MS: String(pool.leaseMs),
        ...memoryEnv(pool.memoryMb),
        ...pool.env,
      },
      labels: { [POOL_LABEL]: slot, [CONFIG_LABEL]: "pooled" },
      user: perDatabaseUids ? { uid: 0, gid: 0 } : this.fallbackUser(),
      hostDir: join(this.options.hostDataRoot ?? this.options.dataRoot, SLOTS_DIR, slot),
      memoryMb: pool.memoryMb,
      ...(perDatabaseUids ? { capAdd: ["SETUID", "SETGID"] } : {}),
    });
  }

  /** Whether a pooled container can serve `spec`: the pool's cap, environment and user. */
  private poolFits(spec: WorkerSpec): boolean {
    const pool = this.options.pool;
    if (!this.poolInUse || !pool || !fitsPool(pool, spec)) return false;
    // Without root, pooled containers run as the control plane's user: so must the database.
    return this.options.user?.uid === 0 || spec.uid === null;
  }

  /**
   * Gives a pooled container its database: the database's earlier container goes, the slot
   * becomes the database's directory (./slot-dir.ts), the claim sends the database's
   * environment (answered once the worker listens as the database's user), and the container
   * takes the database's name, so that status, stop and remove find it as any other.
   */
  private async claim(
    spec: WorkerSpec,
    user: { uid: number; gid: number },
    pooled: PooledContainer,
  ): Promise<StartedWorker> {
    const fail = async (message: string): Promise<never> => {
      await pooled.container.remove({ force: true }).catch(() => {});
      throw new DomainError("WORKER_START_FAILED", message);
    };
    try {
      await this.remove(spec.name);
      handOver(this.options.dataRoot, pooled.slot, spec.name);
      this.secure(join(this.options.dataRoot, spec.name), user);
    } catch (err) {
      return fail(`Could not hand the pooled container over: ${messageOf(err)}`);
    }
    const env = {
      ...this.databaseEnv(spec),
      ...(this.options.user?.uid === 0
        ? { DBFORGE_WORKER_UID: String(user.uid), DBFORGE_WORKER_GID: String(user.gid) }
        : {}),
    };
    try {
      await this.launcher?.claim(pooled, env, this.options.startTimeoutMs ?? 15_000);
    } catch (err) {
      const logs = await this.logsOf(pooled.container);
      return fail(`The pooled worker did not take its claim: ${messageOf(err)}\n${logs}`);
    }
    // Named after its database only once it serves it: a control plane that dies in between
    // leaves a pooled name, which the next one removes (the database starts again).
    try {
      await pooled.container.rename({ name: this.containerName(spec.name) });
    } catch (err) {
      return fail(`The pooled container could not take the database's name: ${messageOf(err)}`);
    }
    return { id: pooled.id, url: pooled.url };
  }

  /** The database's gracefully stopped container, if it was made from `fingerprint`. */
  private async reusable(
    name: string,
    fingerprint: string,
  ): Promise<Dockerode.Container | undefined> {
    const container = this.container(name);
    try {
      const info = await container.inspect();
      // Only one that stopped gracefully (an idle stop, a control plane's stop): a crashed or
      // killed one is replaced by a new container.
      const stopped = !info.State.Running && info.State.ExitCode === 0;
      if (!stopped || info.Config.Labels?.[CONFIG_LABEL] !== fingerprint) return undefined;
      return this.options.docker.getContainer(info.Id);
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw dockerUnavailable(err);
    }
  }

  async status(name: string): Promise<WorkerStatus> {
    let info: Dockerode.ContainerInspectInfo;
    for (let attempt = 1; ; attempt++) {
      try {
        info = await this.container(name).inspect();
      } catch (err) {
        if (statusOf(err) === 404) return { state: "missing" };
        throw dockerUnavailable(err);
      }
      if (!info.State.Running) break;
      const url = this.urlFrom(info);
      if (url) {
        return {
          state: "running",
          id: info.Id,
          url,
          ...(info.State.Paused ? { suspended: true } : {}),
        };
      }
      // Running without its published port: a container on its way out (Docker releases the
      // port before it reports the exit). Asked again shortly, it has exited.
      if (attempt >= EXITING_CHECKS) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const logs = await this.logsOf(this.container(name));
    return {
      state: "exited",
      // A worker exits 0 only when it stops gracefully: idle shutdown (ours or sqld's, whose logs
      // differ) or a stop by the control plane itself. A crash or OOM kill never exits 0.
      idle: info.State.ExitCode === 0,
      detail: `exit code ${info.State.ExitCode}${info.State.OOMKilled ? " (out of memory)" : ""}\n${logs}`,
    };
  }

  async stop(name: string): Promise<void> {
    try {
      await this.container(name).stop({ t: 15 });
    } catch (err) {
      const status = statusOf(err);
      if (status !== 304 && status !== 404) throw dockerUnavailable(err);
    }
  }

  async remove(name: string): Promise<void> {
    try {
      await this.container(name).remove({ force: true });
    } catch (err) {
      if (statusOf(err) !== 404) throw dockerUnavailable(err);
    }
  }

  async list(): Promise<string[]> {
    return this.databasesOf(await this.containers({ pooled: false }));
  }

  async running(): Promise<Set<string>> {
    const containers = await this.containers({ pooled: false });
    // "running" only: a paused container's state is "paused".
    return new Set(this.databasesOf(containers.filter((c) => c.State === "running")));
  }

  /** The databases `containers` serve. */
  private databasesOf(containers: Dockerode.ContainerInfo[]): string[] {
    const prefix = `/${this.containerName("")}`;
    return containers
      .map((c) => {
        // A claimed pooled container carries no database label: its name says which.
        const named = c.Names.find((n) => n.startsWith(prefix))?.slice(prefix.length);
        return c.Labels[LABELS.database] ?? (c.Labels[POOL_LABEL] ? named : undefined);
      })
      .filter((n): n is string => Boolean(n));
  }

  /** This control plane's containers: all, or only the pooled ones (claimed or not). */
  private async containers({ pooled }: { pooled: boolean }): Promise<Dockerode.ContainerInfo[]> {
    const label = [`${LABELS.instance}=${this.options.instanceId}`];
    if (pooled) label.push(POOL_LABEL);
    try {
      const all = await this.options.docker.listContainers({ all: true, filters: { label } });
      return pooled ? all : all.filter((c) => !c.Names.some((n) => n.includes(POOL_INFIX)));
    } catch (err) {
      throw dockerUnavailable(err);
    }
  }

  containerName(name: string): string {
    return `dbforge-${this.options.instanceId}-${name}`;
  }

  private container(name: string): Dockerode.Container {
    return this.options.docker.getContainer(this.containerName(name));
  }

  private async urlOf(container: Dockerode.Container): Promise<string> {
    const url = this.urlFrom(await container.inspect());
    if (!url)
      throw new DomainError("WORKER_START_FAILED", "The worker container has no published port");
    return url;
  }

  /** Where the container's worker is reached: by name on the network, else its loopback port. */
  private urlFrom(info: Dockerode.ContainerInspectInfo): string | undefined {
    if (this.options.network) return `http://${info.Name.replace(/^\//, "")}:8080`;
    const binding = info.NetworkSettings.Ports?.[WORKER_PORT]?.find(
      (b) => b.HostIp === "127.0.0.1",
    );
    return binding ? `http://127.0.0.1:${binding.HostPort}` : undefined;
  }

  private async logsOf(container: Dockerode.Container): Promise<string> {
    try {
      const buffer = (await container.logs({
        stdout: true,
        stderr: true,
        tail: 30,
      })) as unknown as Buffer;
      // Without a TTY the logs come multiplexed (stdout and stderr frames): dockerode splits them.
      let text = "";
      const collect = new Writable({
        write(chunk: Buffer, _encoding, done) {
          text += chunk.toString("utf8");
          done();
        },
      });
      const source = Readable.from([buffer]);
      const ended = new Promise((done) => source.once("end", done));
      this.options.docker.modem.demuxStream(source, collect, collect);
      await ended;
      return text.trim();
    } catch {
      return "";
    }
  }
}

function statusOf(err: unknown): number | undefined {
  return (err as { statusCode?: number } | null)?.statusCode;
}

function messageOf(err: unknown): string {
  const json = (err as { json?: { message?: string } } | null)?.json;
  return json?.message ?? (err as Error)?.message ?? String(err);
}

function dockerUnavailable(err: unknown): DomainError {
  if (err instanceof DomainError) return err;
  return new DomainError(
    "DOCKER_UNAVAILABLE",
    `The Docker engine is not reachable: ${messageOf(err)}`,
  );
}

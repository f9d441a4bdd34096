import { createHash } from "node:crypto";
import { join } from "node:path";
import { Readable, Writable } from "node:stream";
import type Dockerode from "dockerode";
import { DomainError } from "../../../core/errors";
import { secureDataDir } from "./data-dir";
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
}

const WORKER_PORT = "8080/tcp";

/** The hash of what a container was made from (see start). */
const CONFIG_LABEL = `${LABEL_PREFIX}.config`;

/** Processes (and threads) a worker may run: node and sqld need a few dozen. */
const PIDS_LIMIT = 128;

/** uid and gid for containers that would otherwise run as root: "nobody". */
const NOBODY = { uid: 65534, gid: 65534 };

/**
 * Workers as Docker containers, one per database, through dockerode. Every container carries
 * the dev.dbforge.* labels (managed, instance, database) so this control plane can find, adopt
 * and reap exactly its own containers on a shared engine.
 */
export class DockerDriver implements WorkerDriver {
  readonly kind = "docker";

  constructor(private readonly options: DockerDriverOptions) {}

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
    const { docker, network } = this.options;
    const hostDir = join(this.options.hostDataRoot ?? this.options.dataRoot, spec.name);
    // The database's own uid as root; else the control plane's user, never root.
    const fallback = this.options.user?.uid === 0 ? NOBODY : (this.options.user ?? NOBODY);
    const user = spec.uid === null ? fallback : { uid: spec.uid, gid: spec.uid };
    try {
      secureDataDir(
        join(this.options.dataRoot, spec.name),
        user.uid === process.getuid?.() ? null : user,
      );
    } catch (err) {
      throw new DomainError(
        "WORKER_START_FAILED",
        `Could not prepare the database's directory: ${(err as Error).message}`,
      );
    }
    const memoryBytes = spec.memoryMb * 1024 * 1024;
    const env = {
      SQLD_HTTP_LISTEN_ADDR: "0.0.0.0:8080",
      SQLD_DB_PATH: SQLD_DB_DIR,
      SQLD_AUTH_JWT_KEY: spec.jwtPublicKey,
      SQLD_IDLE_SHUTDOWN_TIMEOUT_S: String(spec.idleShutdownS),
      DBFORGE_MAX_DB_BYTES: String(spec.quotaBytes),
      ...memoryEnv(spec.memoryMb),
      ...spec.env,
    };
    const config: Dockerode.ContainerCreateOptions = {
      name: this.containerName(spec.name),
      Image: this.options.image,
      Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
      Labels: {
        [LABELS.managed]: "true",
        [LABELS.instance]: this.options.instanceId,
        [LABELS.database]: spec.name,
        ...(this.options.traefikDomain
          ? traefikLabels(spec.name, this.options.traefikDomain, network)
          : {}),
      },
      ExposedPorts: { [WORKER_PORT]: {} },
      User: `${user.uid}:${user.gid}`,
      HostConfig: {
        // Only the database's own directory; the rest of the file system is read-only.
        Binds: [`${hostDir}:/var/lib/sqld`],
        ReadonlyRootfs: true,
        Tmpfs: { "/tmp": "rw,noexec,nosuid,nodev,size=64m" },
        CapDrop: ["ALL"],
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
    // What the container was made from: the same again (an idle stop) starts the stopped
    // container, far quicker than a new one; anything else (a new key after a revoke, another
    // image or cap) makes a new container.
    const fingerprint = createHash("sha256").update(JSON.stringify(config)).digest("hex");
    (config.Labels as Record<string, string>)[CONFIG_LABEL] = fingerprint;
    let container = await this.reusable(spec.name, fingerprint);
    if (!container) {
      await this.remove(spec.name);
      try {
        container = await docker.createContainer(config);
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
    try {
      info = await this.container(name).inspect();
    } catch (err) {
      if (statusOf(err) === 404) return { state: "missing" };
      throw dockerUnavailable(err);
    }
    if (info.State.Running)
      return { state: "running", id: info.Id, url: await this.urlOf(this.container(name)) };
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
    try {
      const containers = await this.options.docker.listContainers({
        all: true,
        filters: { label: [`${LABELS.instance}=${this.options.instanceId}`] },
      });
      return containers
        .map((c) => c.Labels[LABELS.database])
        .filter((n): n is string => Boolean(n));
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
    if (this.options.network)
      return `http://${(await container.inspect()).Name.replace(/^\//, "")}:8080`;
    const info = await container.inspect();
    const binding = info.NetworkSettings.Ports[WORKER_PORT]?.find((b) => b.HostIp === "127.0.0.1");
    if (!binding)
      throw new DomainError("WORKER_START_FAILED", "The worker container has no published port");
    return `http://127.0.0.1:${binding.HostPort}`;
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

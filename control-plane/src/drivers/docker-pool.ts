/**
 * Pre-started containers for the Docker driver (DBFORGE_DOCKER_POOL, see ./pool.ts): `docker
 * start` alone takes 200–400 ms here before node even loads, so a cold start can only be quick
 * with a container that already runs. A pooled container runs our worker image, loaded and
 * waiting with no database (see the worker's pool-channel.ts), its port published on loopback
 * and an empty slot directory mounted (./slot-dir.ts). A claim (DockerDriver.claim) hands the
 * slot to the database, renames the container after it and sends the database's environment;
 * the worker then switches to the database's uid and serves it like any other.
 *
 * Unclaimed containers are never left behind for long: the pool renews each one's lease while
 * it keeps it (a container whose control plane is gone exits when its lease runs out), the
 * pool removes them when it closes, and a new control plane removes any it finds.
 */
import { randomBytes } from "node:crypto";
import type Dockerode from "dockerode";
import { POOL_CLAIM_PATH, POOL_PATH } from "../../../core/worker-pool";
import type { PoolLauncher } from "./pool";
import { createSlot, removeSlot } from "./slot-dir";

export interface PooledContainer {
  container: Dockerode.Container;
  id: string;
  slot: string;
  /** The published port, http://127.0.0.1:<port>. */
  url: string;
  /** The bearer token of the claim and the lease (DBFORGE_POOL_SECRET). */
  secret: string;
}

export interface DockerPoolOptions {
  docker: Dockerode;
  dataRoot: string;
  /** The container to create for a slot (./docker.ts: the same limits as any worker's). */
  configOf(slot: string, secret: string): Dockerode.ContainerCreateOptions;
  /** Resolves the container's published URL. */
  urlOf(container: Dockerode.Container): Promise<string>;
  readyTimeoutMs: number;
  /** An unclaimed worker exits this long after its lease was last renewed (4 renewals a lease). */
  leaseMs: number;
}

export class DockerLauncher implements PoolLauncher<PooledContainer> {
  private aborted = false;
  private readonly pending = new Set<Promise<unknown>>();
  private readonly renewals = new Map<PooledContainer, NodeJS.Timeout>();

  constructor(private readonly options: DockerPoolOptions) {}

  async launch(): Promise<PooledContainer> {
    const slot = randomBytes(8).toString("hex");
    const secret = randomBytes(32).toString("base64url");
    return this.track(this.create(slot, secret));
  }

  private async create(slot: string, secret: string): Promise<PooledContainer> {
    const { docker, dataRoot } = this.options;
    createSlot(dataRoot, slot);
    let container: Dockerode.Container | undefined;
    try {
      container = await docker.createContainer(this.options.configOf(slot, secret));
      await container.start();
      const url = await this.options.urlOf(container);
      await this.waitReady(url, secret);
      if (this.aborted) throw new Error("the pool closed");
      return { container, id: container.id, slot, url, secret };
    } catch (err) {
      await container?.remove({ force: true }).catch(() => {});
      removeSlot(dataRoot, slot);
      throw err;
    }
  }

  discard(member: PooledContainer): void {
    this.release(member);
    this.track(
      member.container
        .remove({ force: true })
        .catch(() => {})
        .then(() => removeSlot(this.options.dataRoot, member.slot)),
    );
  }

  watch(member: PooledContainer, gone: () => void): void {
    const timer = setInterval(() => {
      this.lease(member.url, member.secret).catch(() => {
        // It ended (or cannot be reached): another takes its place.
        gone();
        this.discard(member);
      });
    }, this.options.leaseMs / 4);
    timer.unref();
    this.renewals.set(member, timer);
  }

  /**
   * Sends a taken container its database's environment; resolves once its worker listens as
   * that database's user (the claim is answered only then).
   */
  async claim(
    member: PooledContainer,
    env: Record<string, string>,
    timeoutMs: number,
  ): Promise<void> {
    const { request } = await undici();
    const res = await request(`${member.url}${POOL_CLAIM_PATH}`, {
      method: "POST",
      headers: { authorization: `Bearer ${member.secret}`, "content-type": "application/json" },
      body: JSON.stringify({ env }),
      headersTimeout: timeoutMs,
    });
    const answer = await res.body.text();
    if (res.statusCode !== 200) throw new Error(`refused (${res.statusCode}): ${answer}`);
  }

  /** A taken container is the database's: its lease is no longer renewed. */
  taken(member: PooledContainer): void {
    this.release(member);
  }

  private release(member: PooledContainer): void {
    clearInterval(this.renewals.get(member));
    this.renewals.delete(member);
  }

  abortLaunch(): void {
    this.aborted = true;
  }

  /** Resolves once every launch and removal under way has ended (the pool is closing). */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  private track<T>(work: Promise<T>): Promise<T> {
    this.pending.add(work);
    const done = () => this.pending.delete(work);
    work.then(done, done);
    return work;
  }

  private async lease(url: string, secret: string): Promise<void> {
    const { request } = await undici();
    const res = await request(`${url}${POOL_PATH}`, {
      headers: { authorization: `Bearer ${secret}` },
      // A container still starting may take a connection and answer nothing.
      signal: AbortSignal.timeout(2000),
    });
    await res.body.dump();
    if (res.statusCode !== 200) throw new Error(`lease answered ${res.statusCode}`);
  }

  private async waitReady(url: string, secret: string): Promise<void> {
    const deadline = Date.now() + this.options.readyTimeoutMs;
    for (;;) {
      try {
        return await this.lease(url, secret);
      } catch (err) {
        if (Date.now() > deadline || this.aborted)
          throw new Error(`the pooled container did not get ready: ${(err as Error).message}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** Loaded on first use: ~150 ms of a control plane's start that runs no pool would be lost. */
const undici = () => import("undici");

/**
 * The Node host's way to its workers: undici's pooled `request`, keep-alive connections per
 * worker, instead of Node's WHATWG fetch (about 390 µs of CPU per request against 90 µs here,
 * bench/functions-throughput). Handed to every entry as the WORKER_TRANSPORT binding.
 */
import { Pool } from "undici";
import {
  PASSED_ON_HEADERS,
  type WorkerRequest,
  type WorkerTransport,
} from "../lib/hrana/transport";
import { webStream } from "./web-stream";
import type { WorkerAnswer } from "./worker-connections";

/** Connections kept per worker, and workers kept pooled (a restarted worker has a new port). */
const CONNECTIONS_PER_WORKER = 32;
const MAX_POOLS = 1000;
/** Answers up to this size (by Content-Length) are read whole before they are passed on. */
const BUFFER_UP_TO = 64 * 1024;

export interface UndiciTransport extends WorkerTransport {
  /** The answer without web Response or Headers around it (the host's fast lane writes it). */
  relay(url: string, request: WorkerRequest): Promise<WorkerAnswer>;
  close(): Promise<void>;
}

export function undiciTransport(): UndiciTransport {
  /** By origin, least recently used first. */
  const pools = new Map<string, Pool>();
  const poolFor = (origin: string): Pool => {
    let pool = pools.get(origin);
    if (pool) pools.delete(origin);
    else pool = new Pool(origin, { connections: CONNECTIONS_PER_WORKER, pipelining: 1 });
    pools.set(origin, pool);
    if (pools.size > MAX_POOLS) {
      const [oldest, stale] = pools.entries().next().value as [string, Pool];
      pools.delete(oldest);
      void stale.close();
    }
    return pool;
  };
  const send = (url: string, request: WorkerRequest) => {
    const target = new URL(url);
    return poolFor(target.origin).request({
      path: `${target.pathname}${target.search}`,
      method: request.method as "POST",
      headers: request.headers,
      body:
        request.body === undefined || typeof request.body === "string"
          ? request.body
          : request.body instanceof Uint8Array
            ? request.body
            : Buffer.from(request.body),
    });
  };
  return {
    async text(url, request) {
      const res = await send(url, request);
      return { status: res.statusCode, text: await res.body.text() };
    },
    async response(url, request) {
      const res = await send(url, request);
      const headers = new Headers();
      for (const name of PASSED_ON_HEADERS) {
        const value = res.headers[name];
        if (typeof value === "string") headers.set(name, value);
      }
      if ([204, 304].includes(res.statusCode))
        return new Response(null, { status: res.statusCode, headers });
      // A small answer (the usual Hrana result) is read whole: handing it on as one buffer is
      // cheaper, and sooner, than as a stream; a large one streams.
      const length = Number(res.headers["content-length"] ?? Number.NaN);
      // A Uint8Array, not an ArrayBuffer: @hono/node-server's Response keeps status, headers and
      // body of those (and strings, streams) as they are, but makes a full web Response of any
      // other body as soon as its status is read.
      const body =
        length <= BUFFER_UP_TO ? new Uint8Array(await res.body.arrayBuffer()) : webStream(res.body);
      return new Response(body, { status: res.statusCode, headers });
    },
    async relay(url, request) {
      const res = await send(url, request);
      const headers: Record<string, string> = {};
      for (const name of PASSED_ON_HEADERS) {
        const value = res.headers[name];
        if (typeof value === "string") headers[name] = value;
      }
      return { status: res.statusCode, headers, body: res.body };
    },
    async close() {
      await Promise.all([...pools.values()].map((pool) => pool.close()));
      pools.clear();
    },
  };
}

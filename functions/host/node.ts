import { createServer, type IncomingMessage } from "node:http";
import { type AddressInfo, createServer as createNetServer, type Socket } from "node:net";
import type { Duplex } from "node:stream";
import { getRequestListener } from "@hono/node-server";
import { type DestinationStream, destination, pino } from "pino";
import { toApiError } from "../../core/app";
import { ERROR_CODE_HEADER } from "../../core/errors";
import { HotPath } from "../../core/hot-path";
import { type HttpTimeouts, httpServerOptions, refuseTunnels } from "../../core/http-server";
import { dispatch, problem, routeOf } from "../dispatch";
import { ENTRIES } from "../entries";
import { functionsConfig } from "../lib/env";
import { openNote } from "../lib/request-log";
import { compressed } from "./compression";
import { METRICS_PATH, metricsEndpoint } from "./metrics-endpoint";
import { HostObservability } from "./observability";
import { proxyLane } from "./proxy-lane";
import { directoryAssets } from "./static-assets";
import { undiciTransport } from "./undici-transport";
import { HranaWebSocketRelays } from "./websocket-relay";
import { WorkerConnections } from "./worker-connections";

/**
 * Every function entry behind one Node HTTP server: the local stand-in for Traefik. Requests
 * are dispatched by the shared route table to the entries' own fetch handlers, unchanged, in
 * this process (no app of its own in front: dispatch answers every request itself).
 */
export function hostFetch(
  env: Record<string, unknown>,
  observability: HostObservability,
): (
  request: Request,
  bindings: { incoming: { socket: { remoteAddress?: string } } },
) => Promise<Response> {
  const config = functionsConfig(env); // fail at start-up, not on the first request
  const entry = (name: string) => {
    const module = ENTRIES[name];
    return module && ((req: Request) => module.fetch(req, env));
  };
  const metrics = metricsEndpoint(observability, config.CONTROL_PLANE_URL);
  return async (request, bindings) => {
    const startedAt = performance.now();
    const routed = routeOf(request);
    const { pathname, match } = routed;
    if (pathname === METRICS_PATH) return metrics(request);
    const note = openNote(request);
    let response: Response;
    try {
      // The socket's peer: this host is the edge (behind Traefik, the proxy's address).
      response = await compressed(
        request.headers.get("accept-encoding"),
        await dispatch(request, entry, bindings.incoming.socket.remoteAddress, true, routed),
      );
    } catch (err) {
      // dispatch answers every request itself; anything escaping it is still a problem document.
      response = problem(toApiError(err), pathname);
    }
    observability.observe({
      method: request.method,
      path: pathname,
      authorization: request.headers.get("authorization"),
      spec: match && "spec" in match ? match.spec : undefined,
      status: response.status,
      code: response.headers.get(ERROR_CODE_HEADER),
      startedAt,
      note,
      requestId: response.headers.get("x-request-id") ?? crypto.randomUUID(),
    });
    return response;
  };
}

/** How long close() lets requests in flight finish before it drops their connections. */
const SHUTDOWN_GRACE_MS = 5_000;

export interface FunctionsHost {
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startFunctionsHost(options: {
  env: Record<string, unknown>;
  /** Where the request log goes (default: standard output, buffered). */
  logDestination?: DestinationStream;
  hostname: string;
  port: number;
  /** The built console (dist/console), served through the ASSETS binding. */
  consoleDir?: string;
  /** How long a client may take to send a request (default: DEFAULT_HTTP_TIMEOUTS). */
  timeouts?: Partial<HttpTimeouts>;
}): Promise<FunctionsHost> {
  const transport = undiciTransport();
  const env = {
    ...options.env,
    WORKER_TRANSPORT: transport,
    ...(options.consoleDir ? { ASSETS: directoryAssets(options.consoleDir) } : {}),
  };
  const config = functionsConfig(env);
  const logger = pino(
    { level: config.LOG_LEVEL, base: { service: "functions" } },
    options.logDestination ??
      // One write per 4 KiB of lines (about a dozen requests), and at least once a second: a
      // write per line cost the host ~40 µs of CPU per request (bench/README.md).
      destination({ dest: 1, sync: false, minLength: 4096, periodicFlush: 1000 }),
  );
  const observability = new HostObservability(logger);
  const fetch = hostFetch(env, observability);
  const connections = new WorkerConnections();
  // node:http with @hono/node-server's listener: every request the hot path does not take.
  const server = createServer(httpServerOptions(options.timeouts), getRequestListener(fetch));
  refuseTunnels(server);
  const relays = new HranaWebSocketRelays(options.env);
  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) =>
    relays.handleUpgrade(req, socket, head),
  );
  // The proxy's pipelines take the hot path (./proxy-lane.ts); FAST_LANE=off sends every
  // connection to node:http as it arrives.
  const hotPath =
    config.FAST_LANE === "on"
      ? new HotPath({
          ...proxyLane({
            config,
            connections,
            transport,
            observability,
            fullPath: (request, socket) => fetch(request, { incoming: { socket } }),
          }),
          fallback: server,
          maxBodyBytes: config.MAX_BODY_BYTES,
          headersTimeoutMs: server.headersTimeout,
          requestTimeoutMs: server.requestTimeout,
          keepAliveTimeoutMs: server.keepAliveTimeout,
        })
      : undefined;
  if (!hotPath) server.emit("listening"); // node:http's connection checks start on it
  // allowHalfOpen: a client that ends its side after a request still gets the answer, as from
  // node:http; noDelay as node:http sets it.
  const listener = createNetServer({ allowHalfOpen: true, noDelay: true }, (socket: Socket) =>
    hotPath ? hotPath.accept(socket) : server.emit("connection", socket),
  );
  await new Promise<void>((resolve, reject) => {
    listener.once("error", reject);
    listener.listen(options.port, options.hostname, () => {
      listener.off("error", reject);
      resolve();
    });
  });
  const port = (listener.address() as AddressInfo).port;
  return {
    url: `http://${options.hostname}:${port}`,
    port,
    close: async () => {
      relays.closeAll();
      const closed = new Promise<void>((done) => listener.close(() => done()));
      hotPath?.close();
      // Closes node:http's idle connections and stops its timeout checks; it never listened,
      // so its callback only reports that.
      server.close(() => {});
      // Requests in flight get a grace period; a client still sending (or never finishing) its
      // request would otherwise hold the shutdown for as long as the request timeout allows.
      const cutoff = setTimeout(() => {
        hotPath?.closeAll();
        server.closeAllConnections();
        relays.terminateAll();
      }, SHUTDOWN_GRACE_MS);
      await closed;
      clearTimeout(cutoff);
      logger.flush();
      connections.close();
      await transport.close();
    },
  };
}

/**
 * The relay of one accepted WebSocket, whatever the runtime: the runtime's adapter (Node `ws` in
 * functions/host/websocket-relay.ts, Workers' WebSocketPair in ./workers.ts) supplies the two
 * sockets; the resolve policy and every error are the same.
 */
import { sharedThrottle } from "../../../core/throttle-middleware";
import type { ControlPlaneClient } from "../control-plane-client";
import { resolveHello } from "../database";
import type { FunctionsConfig } from "../env";
import { admit } from "../rate-limit";
import { HranaRelay, type RelayOptions, type RelaySocket } from "./relay";

export interface RelaySetup {
  /** The client's side. */
  client: RelaySocket;
  /** The subprotocol agreed with the client (see acceptHandshake); null means hrana1. */
  protocol: string | null;
  name: string;
  /** The client's address, for the failed-auth throttle. */
  clientAddress: string;
  controlPlane: ControlPlaneClient;
  config: FunctionsConfig;
  /** Opens the worker's side (runtime specific). */
  connect: RelayOptions["connect"];
}

export function openRelay(setup: RelaySetup): HranaRelay {
  const { config } = setup;
  const throttle = sharedThrottle({
    burst: config.AUTH_FAILURE_BURST,
    perMinute: config.AUTH_FAILURES_PER_MINUTE,
  });
  return new HranaRelay({
    client: setup.client,
    protocol: setup.protocol ?? "hrana1",
    // The hello's credentials, not the upgrade request's.
    resolve: (jwt) =>
      resolveHello({
        controlPlane: setup.controlPlane.forClient(setup.clientAddress),
        cacheMs: config.RESOLVE_CACHE_MS,
        name: setup.name,
        jwt,
        throttle,
        client: setup.clientAddress,
      }),
    admit: (jwt) => {
      const { refused } = admit(config, jwt ?? undefined, setup.name);
      return refused
        ? {
            code: "RATE_LIMITED",
            message: `Too many requests for this ${refused.policy}; try again in ${refused.wait} s`,
          }
        : undefined;
    },
    connect: setup.connect,
  });
}

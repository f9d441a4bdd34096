/**
 * Whether a request is a WebSocket handshake the /db/{name}/ relay accepts, and with which
 * Hrana subprotocol: the same checks and the same errors on every runtime (the Node host's
 * upgrade listener and the Workers' route). RFC 6455 4.2.1, plus the subprotocols we relay.
 */
import { ApiError } from "../../../core/errors";
import { chooseSubprotocol } from "./relay";

export interface HandshakeRequest {
  method: string;
  /** The path below /db/{name}; WebSockets are served on "/" only. */
  rest: string;
  header(name: string): string | undefined | null;
}

/**
 * The subprotocol to answer with (null: the client offered none, hrana1 without a header), or
 * an ApiError: 404 off /db/{name}/, 400 for a handshake that is not one (workerd fails the
 * request when a worker accepts such a handshake; ws refuses it too).
 */
export function acceptHandshake(req: HandshakeRequest): string | null {
  if (req.rest !== "/")
    throw new ApiError("NOT_FOUND", "WebSockets are served on /db/{name}/ only");
  if (req.method !== "GET") throw new ApiError("BAD_REQUEST", "A WebSocket handshake is a GET");
  const key = req.header("sec-websocket-key") ?? "";
  if (req.header("sec-websocket-version") !== "13" || !/^[A-Za-z0-9+/]{22}==$/.test(key)) {
    throw new ApiError("BAD_REQUEST", "Not a valid WebSocket handshake");
  }
  const protocol = chooseSubprotocol(req.header("sec-websocket-protocol"));
  if (protocol === undefined) {
    throw new ApiError(
      "BAD_REQUEST",
      "Only the hrana3, hrana2 and hrana1 subprotocols are supported",
    );
  }
  return protocol;
}

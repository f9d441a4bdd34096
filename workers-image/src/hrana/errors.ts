import type { Version } from "./proto";

/**
 * The client broke the protocol. Over HTTP: 400 text/plain and the stream is closed. Over a
 * WebSocket: the connection is closed with `closeCode` (1007 for undecodable messages, 1008 for
 * everything else), as sqld does. Messages are sqld's.
 */
export class ProtocolError extends Error {
  constructor(
    message: string,
    readonly closeCode: 1003 | 1007 | 1008 = 1008,
  ) {
    super(message);
    this.name = "ProtocolError";
  }

  static json(detail: string): ProtocolError {
    return new ProtocolError(`Cannot deserialize client message from JSON: ${detail}`, 1007);
  }

  static notSupported(what: string, minVersion: Version): ProtocolError {
    return new ProtocolError(
      `${what} is only supported in protocol version hrana${minVersion} and higher`,
    );
  }
}

/** A request-level error reported in the response, not fatal to the stream or connection. */
export class ResponseError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "ResponseError";
  }
}

/** An HTTP baton whose stream expired after inactivity (its transaction was rolled back). */
export class StreamExpiredError extends Error {
  readonly code = "STREAM_EXPIRED";
  constructor() {
    super("The stream has expired due to inactivity");
    this.name = "StreamExpiredError";
  }
}

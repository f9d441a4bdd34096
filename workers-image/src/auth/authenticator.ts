import type { KeyObject } from "node:crypto";
import { type Access, AuthError, bearerToken, verifyJwt } from "../../../core/jwt";

/**
 * Turns credentials into access. Without keys, authentication is off and everyone has full
 * access (sqld's behaviour); the control plane always configures a key.
 */
export class Authenticator {
  constructor(private readonly keys: KeyObject[] | undefined) {}

  /** From an HTTP `Authorization` header. */
  fromHeader(header: string | undefined): Access {
    if (!this.keys) return "full-access";
    return verifyJwt(bearerToken(header), this.keys);
  }

  /** From the `jwt` of a WebSocket hello message. */
  fromJwt(jwt: string | null): Access {
    if (!this.keys) return "full-access";
    if (jwt === null || jwt === "") {
      throw new AuthError("AUTH_HEADER_NOT_FOUND", "Expected authorization header but none given");
    }
    return verifyJwt(jwt, this.keys);
  }
}

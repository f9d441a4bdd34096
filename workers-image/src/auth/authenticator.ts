import type { KeyObject } from "node:crypto";
import { type Access, AuthError, bearerToken, TokenVerifier } from "../../../core/jwt";

/**
 * Turns credentials into access. Without keys, authentication is off and everyone has full
 * access (sqld's behaviour); the control plane always configures a key.
 */
export class Authenticator {
  private readonly verifier: TokenVerifier | undefined;

  constructor(keys: KeyObject[] | undefined) {
    this.verifier = keys && new TokenVerifier(keys);
  }

  /** From an HTTP `Authorization` header. */
  fromHeader(header: string | undefined): Access {
    if (!this.verifier) return "full-access";
    return this.verifier.verify(bearerToken(header));
  }

  /** From the `jwt` of a WebSocket hello message. */
  fromJwt(jwt: string | null): Access {
    if (!this.verifier) return "full-access";
    if (jwt === null || jwt === "") {
      throw new AuthError("AUTH_HEADER_NOT_FOUND", "Expected authorization header but none given");
    }
    return this.verifier.verify(jwt);
  }
}

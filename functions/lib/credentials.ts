import { ApiError } from "../../core/errors";

/**
 * The longest credential worth checking. Every token DB-Forge mints is far shorter (admin
 * tokens ~60 characters, database JWTs ~250); a longer one cannot be valid, and passing it on
 * would only make the control plane's HTTP parser refuse the call (431) instead of the token.
 */
export const MAX_CREDENTIAL_LENGTH = 4096;

/** Refuses an Authorization header or hello token that cannot be a credential. */
export function checkCredentialSize(value: string | null | undefined): void {
  if (value && value.length > MAX_CREDENTIAL_LENGTH)
    throw new ApiError(
      "UNAUTHORIZED",
      `The credentials are longer than ${MAX_CREDENTIAL_LENGTH} characters: not a DB-Forge token`,
    );
}

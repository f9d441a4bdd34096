import {
  DbForgeApiError as ApiFailure,
  createDbForgeClient,
  type DbForgeClient,
} from "../../client";

export { unwrap } from "../../client";

const TOKEN_KEY = "dbforge.adminToken";

export function storedToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY) ?? localStorage.getItem(TOKEN_KEY);
}

export function storeToken(token: string, remember: boolean): void {
  sessionStorage.setItem(TOKEN_KEY, token);
  if (remember) localStorage.setItem(TOKEN_KEY, token);
}

export function forgetToken(): void {
  sessionStorage.removeItem(TOKEN_KEY);
  localStorage.removeItem(TOKEN_KEY);
}

export function client(token = storedToken() ?? ""): DbForgeClient {
  return createDbForgeClient({ baseUrl: location.origin, token });
}

export const failureOf = (err: unknown): { code?: string; message: string } =>
  err instanceof ApiFailure
    ? { ...(err.code ? { code: err.code } : {}), message: err.message }
    : { message: err instanceof Error ? err.message : String(err) };

import type { Permission } from "../../../core/permissions";
import { createDbForgeClient, DbForgeApiError, type DbForgeClient, unwrap } from "../../client";

export { unwrap };

const TOKEN_KEY = "dbforge.token";

/** Who is signed in: the key (or admin token) and what the control plane says it may do. */
export interface Session {
  token: string;
  actor: string;
  name: string;
  role: string;
  databases: "*" | string[];
  permissions: Permission[];
}

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

/** Asks the API who `token` is; throws the API's error (UNAUTHORIZED) for a bad one. */
export async function signIn(token: string): Promise<Session> {
  const who = await unwrap(client(token).GET("/admin/whoami"));
  return { token, ...who } as Session;
}

export const can = (session: Session, permission: Permission): boolean =>
  session.permissions.includes(permission);

export const failureOf = (err: unknown): { code?: string; message: string } =>
  err instanceof DbForgeApiError
    ? { ...(err.code ? { code: err.code } : {}), message: err.message }
    : { message: err instanceof Error ? err.message : String(err) };

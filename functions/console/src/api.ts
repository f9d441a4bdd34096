import { createDbForgeClient, type DbForgeClient } from "../../client";

const TOKEN_KEY = "dbforge.adminToken";

/** A failed API call: the problem document's code and detail. */
export class ApiFailure extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
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

/** The data of a call, or an ApiFailure with the problem's code. */
export async function unwrap<T>(
  call: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  const { data, error, response } = await call;
  if (error !== undefined) {
    const problem = error as { code?: string; detail?: string };
    throw new ApiFailure(problem.detail ?? `HTTP ${response.status}`, problem.code);
  }
  return data as T;
}

export const failureOf = (err: unknown): { code?: string; message: string } =>
  err instanceof ApiFailure
    ? { ...(err.code ? { code: err.code } : {}), message: err.message }
    : { message: err instanceof Error ? err.message : String(err) };

import { ApiError, type ErrorCode, isErrorCode } from "./errors";

/** The control plane API as the functions see it (see control-plane/src/routes). */
export interface DatabaseInfo {
  name: string;
  status: "creating" | "running" | "stopped" | "deleting";
  createdAt: string;
  lastActiveAt: string;
  sizeBytes: number;
  url: string | null;
  workerId: string | null;
  restarts: number;
  lastError: string | null;
}

export interface Resolved {
  url: string;
  token: string;
  access: "read" | "write";
  expiresAt: number | null;
}

export interface MintedToken {
  token: string;
  access: "read-only" | "full-access";
  expiresAt: number | null;
}

/**
 * Calls the control plane with the caller's own credentials (the functions hold none): the
 * control plane decides, and its problem documents are passed on with their codes.
 */
export class ControlPlaneClient {
  constructor(private readonly baseUrl: string) {}

  createDatabase(bearer: string | undefined, name: string): Promise<DatabaseInfo> {
    return this.call("POST", "/v1/databases", bearer, { name });
  }

  listDatabases(bearer: string | undefined): Promise<{ databases: DatabaseInfo[] }> {
    return this.call("GET", "/v1/databases", bearer);
  }

  getDatabase(bearer: string | undefined, name: string): Promise<DatabaseInfo> {
    return this.call("GET", `/v1/databases/${encodeURIComponent(name)}`, bearer);
  }

  async deleteDatabase(bearer: string | undefined, name: string): Promise<void> {
    await this.call("DELETE", `/v1/databases/${encodeURIComponent(name)}`, bearer);
  }

  mintToken(
    bearer: string | undefined,
    name: string,
    body: { access: "read-only" | "full-access"; expiresIn: number | null },
  ): Promise<MintedToken> {
    return this.call("POST", `/v1/databases/${encodeURIComponent(name)}/tokens`, bearer, body);
  }

  resolve(bearer: string | undefined, name: string): Promise<Resolved> {
    return this.call("POST", `/v1/databases/${encodeURIComponent(name)}/resolve`, bearer);
  }

  private async call<T>(
    method: string,
    path: string,
    bearer: string | undefined,
    body?: unknown,
  ): Promise<T> {
    const headers: Record<string, string> = {};
    if (bearer) headers.Authorization = `Bearer ${bearer}`;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (err) {
      throw new ApiError(
        "WORKER_UNAVAILABLE",
        `The control plane is not reachable: ${(err as Error).message}`,
      );
    }
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (res.ok) return json as T;
    const problem = (json ?? {}) as { code?: unknown; detail?: unknown };
    const code: ErrorCode = isErrorCode(problem.code) ? problem.code : "INTERNAL_ERROR";
    throw new ApiError(
      code,
      typeof problem.detail === "string" ? problem.detail : `Control plane answered ${res.status}`,
    );
  }
}

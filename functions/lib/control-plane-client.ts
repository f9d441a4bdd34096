import { CLIENT_ADDRESS_HEADER } from "../../core/auth-throttle";
import {
  type ApiKey,
  type AuditPage,
  type BackupInfo,
  type BackupList,
  CONTROL_PLANE_API,
  type ControlPlaneRoute,
  type CreateDatabaseRequest,
  type CreatedKey,
  type CreateKeyRequest,
  controlPlanePath,
  type DatabaseInfo,
  type DatabaseUsage,
  type ForkRequest,
  type MintedToken,
  type MintTokenRequest,
  type NewDatabaseQuery,
  type Resolved,
  type RestoreRequest,
  SQLITE_MEDIA_TYPE,
  type UpdateDatabaseRequest,
  type UsageSummary,
  type WhoAmI,
} from "../../core/control-plane-api";
import { ApiError, type ErrorCode, isErrorCode } from "../../core/errors";

export type { DatabaseInfo, MintedToken, Resolved } from "../../core/control-plane-api";

/**
 * Calls the control plane with the caller's own credentials (the functions hold none): the
 * control plane decides, and its problem documents are passed on with their codes.
 */
export class ControlPlaneClient {
  /**
   * `clientAddress`: the address of the client the functions act for, so the control plane
   * throttles failed authentication per client rather than per functions host.
   */
  constructor(
    private readonly baseUrl: string,
    private readonly clientAddress?: string,
  ) {}

  /** The same control plane, on behalf of another client. */
  forClient(clientAddress: string | undefined): ControlPlaneClient {
    return new ControlPlaneClient(this.baseUrl, clientAddress);
  }

  createDatabase(bearer: string | undefined, body: CreateDatabaseRequest): Promise<DatabaseInfo> {
    return this.call("createDatabase", bearer, undefined, body);
  }

  listDatabases(bearer: string | undefined): Promise<{ databases: DatabaseInfo[] }> {
    return this.call("listDatabases", bearer);
  }

  getDatabase(bearer: string | undefined, name: string): Promise<DatabaseInfo> {
    return this.call("getDatabase", bearer, name);
  }

  async deleteDatabase(bearer: string | undefined, name: string): Promise<void> {
    await this.call("deleteDatabase", bearer, name);
  }

  /** Streams a SQLite file to the control plane, which checks it and creates the database. */
  importDatabaseFile(
    bearer: string | undefined,
    name: string,
    file: ReadableStream<Uint8Array>,
    query: NewDatabaseQuery,
  ): Promise<DatabaseInfo> {
    return this.call(
      "importDatabaseFile",
      bearer,
      name,
      new StreamedBody(file, SQLITE_MEDIA_TYPE),
      {
        memoryMb: query.memoryMb?.toString(),
        quotaBytes: query.quotaBytes?.toString(),
      },
    );
  }

  createBackup(bearer: string | undefined, name: string): Promise<BackupInfo> {
    return this.call("createBackup", bearer, name);
  }

  listBackups(bearer: string | undefined, name: string): Promise<BackupList> {
    return this.call("listBackups", bearer, name);
  }

  async deleteBackup(bearer: string | undefined, name: string, id: string): Promise<void> {
    await this.call("deleteBackup", bearer, name, undefined, undefined, id);
  }

  /** A backup as a SQLite file: the control plane's response, its body unread. */
  downloadBackup(bearer: string | undefined, name: string, id: string): Promise<Response> {
    return this.send("downloadBackup", bearer, name, undefined, undefined, id, true);
  }

  restoreDatabase(
    bearer: string | undefined,
    name: string,
    body: RestoreRequest,
  ): Promise<{ database: DatabaseInfo; restoredTo: string; backupId: string }> {
    return this.call("restoreDatabase", bearer, name, body);
  }

  forkDatabase(bearer: string | undefined, name: string, body: ForkRequest): Promise<DatabaseInfo> {
    return this.call("forkDatabase", bearer, name, body);
  }

  mintToken(
    bearer: string | undefined,
    name: string,
    body: MintTokenRequest,
  ): Promise<MintedToken> {
    return this.call("mintToken", bearer, name, body);
  }

  async revokeTokens(bearer: string | undefined, name: string): Promise<void> {
    await this.call("revokeTokens", bearer, name);
  }

  resolve(bearer: string | undefined, name: string): Promise<Resolved> {
    return this.call("resolve", bearer, name);
  }

  updateDatabase(
    bearer: string | undefined,
    name: string,
    body: UpdateDatabaseRequest,
  ): Promise<DatabaseInfo> {
    return this.call("updateDatabase", bearer, name, body);
  }

  databaseUsage(
    bearer: string | undefined,
    name: string,
    query: Record<string, string | undefined>,
  ): Promise<DatabaseUsage> {
    return this.call("databaseUsage", bearer, name, undefined, query);
  }

  usage(
    bearer: string | undefined,
    query: Record<string, string | undefined>,
  ): Promise<UsageSummary> {
    return this.call("usage", bearer, undefined, undefined, query);
  }

  createKey(bearer: string | undefined, body: CreateKeyRequest): Promise<CreatedKey> {
    return this.call("createKey", bearer, undefined, body);
  }

  listKeys(bearer: string | undefined): Promise<{ keys: ApiKey[] }> {
    return this.call("listKeys", bearer);
  }

  revokeKey(bearer: string | undefined, id: string): Promise<ApiKey> {
    return this.call("revokeKey", bearer, id);
  }

  audit(bearer: string | undefined, query: Record<string, string | undefined>): Promise<AuditPage> {
    return this.call("audit", bearer, undefined, undefined, query);
  }

  whoami(bearer: string | undefined): Promise<WhoAmI> {
    return this.call("whoami", bearer);
  }

  private async call<T>(
    route: ControlPlaneRoute,
    bearer: string | undefined,
    param?: string,
    body?: unknown,
    query?: Record<string, string | undefined>,
    id?: string,
  ): Promise<T> {
    const res = await this.send(route, bearer, param, body, query, id, false);
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    try {
      return JSON.parse(text) as T;
    } catch {
      return undefined as T;
    }
  }

  /**
   * Sends a request; answers that are not 2xx become the control plane's problem as an
   * ApiError. `raw`: the response is handed back unread (a streamed file).
   */
  private async send(
    route: ControlPlaneRoute,
    bearer: string | undefined,
    param: string | undefined,
    body: unknown,
    query: Record<string, string | undefined> | undefined,
    id: string | undefined,
    raw: boolean,
  ): Promise<Response> {
    const method = CONTROL_PLANE_API[route].method.toUpperCase();
    const search = new URLSearchParams(
      Object.entries(query ?? {}).filter((e): e is [string, string] => e[1] !== undefined),
    ).toString();
    const path = `${controlPlanePath(route, param, id)}${search ? `?${search}` : ""}`;
    const headers: Record<string, string> = {};
    if (bearer) headers.Authorization = `Bearer ${bearer}`;
    if (this.clientAddress) headers[CLIENT_ADDRESS_HEADER] = this.clientAddress;
    if (body !== undefined)
      headers["Content-Type"] = body instanceof StreamedBody ? body.type : "application/json";
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers,
        ...(body === undefined
          ? {}
          : body instanceof StreamedBody
            ? { body: body.stream, duplex: "half" }
            : { body: JSON.stringify(body) }),
      } as RequestInit);
    } catch (err) {
      throw new ApiError(
        "WORKER_UNAVAILABLE",
        `The control plane is not reachable: ${(err as Error).message}`,
      );
    }
    if (res.ok && (raw || res.status === 204)) return res;
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (res.ok) return new Response(text, { status: res.status, headers: res.headers });
    const problem = (typeof json === "object" && json !== null ? json : {}) as Record<
      string,
      unknown
    >;
    const code: ErrorCode = isErrorCode(problem.code) ? problem.code : unstructured(res.status);
    const retryAfter = res.headers.get("retry-after");
    // Extension members (the missing `permission`, validation `issues`) are passed on as they
    // are; the standard ones are the functions' own to set.
    const { type, title, status, detail, code: _, instance, requestId, ...extensions } = problem;
    throw new ApiError(
      code,
      typeof detail === "string" ? detail : `Control plane answered ${res.status}`,
      extensions,
      retryAfter ? { "Retry-After": retryAfter } : {},
    );
  }
}

/** A request body passed through as it arrives, instead of JSON. */
class StreamedBody {
  constructor(
    readonly stream: ReadableStream<Uint8Array>,
    readonly type: string,
  ) {}
}

/**
 * A code for an answer without a problem document (Node's own 400, 408 or 431 before any route
 * ran, a proxy's 502): what it means for the caller, never INTERNAL_ERROR.
 */
function unstructured(status: number): ErrorCode {
  if (status === 401) return "UNAUTHORIZED";
  if (status === 429) return "RATE_LIMITED";
  if (status >= 400 && status < 500) return "BAD_REQUEST";
  return "WORKER_UNAVAILABLE";
}

import type { Access } from "../../core/access";
import { DomainError } from "../../core/errors";
import {
  allows,
  type Permission,
  permissionsOf,
  type Role,
  type Scope,
} from "../../core/permissions";
import { isAdminToken } from "./admin-token";
import { type ApiKeys, isApiKeyToken } from "./api-keys";

/** Who a request acts as: an API key, or the bootstrap admin token (an owner key). */
export interface Principal {
  /** The key's id; "admin" for the admin token. Audit entries name this. */
  actor: string;
  name: string;
  role: Role;
  scope: Scope;
  /** Narrower than the role: only these (the metrics token). */
  only?: readonly Permission[];
}

export const ADMIN_PRINCIPAL: Principal = {
  actor: "admin",
  name: "admin token",
  role: "owner",
  scope: "*",
};

/** DBFORGE_METRICS_TOKEN: for a Prometheus scraper, which needs nothing else. */
const METRICS_PRINCIPAL: Principal = {
  actor: "metrics",
  name: "metrics token",
  role: "viewer",
  scope: "*",
  only: ["metrics:read"],
};

/** Authentication (who) and authorization (may they), for every route of the control plane. */
export class AccessControl {
  constructor(
    private readonly adminToken: string,
    private readonly keys: ApiKeys,
    private readonly metricsToken?: string,
  ) {}

  /** Whether `token` is meant as an admin credential (not a database token). */
  isAdminCredential(token: string): boolean {
    return (
      isApiKeyToken(token) ||
      isAdminToken(token, this.adminToken) ||
      (this.metricsToken !== undefined && isAdminToken(token, this.metricsToken))
    );
  }

  permissionsOf(principal: Principal): readonly Permission[] {
    return principal.only ?? permissionsOf(principal.role);
  }

  /** The principal of an admin credential, or UNAUTHORIZED. */
  authenticate(token: string | undefined): Principal {
    if (!token) {
      throw new DomainError(
        "UNAUTHORIZED",
        "Send the admin token or an API key as `Authorization: Bearer <token>`",
      );
    }
    if (isApiKeyToken(token)) {
      const key = this.keys.verify(token);
      return { actor: key.id, name: key.name, role: key.role, scope: key.scope };
    }
    if (isAdminToken(token, this.adminToken)) return ADMIN_PRINCIPAL;
    if (this.metricsToken !== undefined && isAdminToken(token, this.metricsToken))
      return METRICS_PRINCIPAL;
    throw new DomainError("UNAUTHORIZED", "The admin token or API key is not valid");
  }

  may(principal: Principal, permission: Permission, database?: string): boolean {
    if (principal.only) return principal.only.includes(permission);
    return allows(principal, permission, database);
  }

  /** FORBIDDEN, naming the permission, unless `principal` may do `permission` (on `database`). */
  authorize(principal: Principal, permission: Permission, database?: string): void {
    if (this.may(principal, permission, database)) return;
    const where = database === undefined ? "" : ` on database "${database}"`;
    throw new DomainError(
      "FORBIDDEN",
      `The ${principal.role} key "${principal.name}" lacks the permission ${permission}${where}`,
      { permission, role: principal.role },
    );
  }

  /** The data access a principal has to `database`: full, read-only, or FORBIDDEN. */
  dataAccess(principal: Principal, database: string): Access {
    if (this.may(principal, "data:write", database)) return "full-access";
    this.authorize(principal, "data:read", database);
    return "read-only";
  }
}

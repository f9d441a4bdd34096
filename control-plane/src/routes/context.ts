import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { ApiError } from "../../../functions/lib/errors";
import { isAdminToken } from "../admin-token";
import type { DatabaseManager } from "../manager";

/** What every control plane route can use (set by the app, see ../app.ts). */
export interface ControlPlaneEnv {
  Variables: {
    manager: DatabaseManager;
    adminToken: string;
    driver: string;
  };
}

export type ControlPlaneApp = OpenAPIHono<ControlPlaneEnv>;
export type ControlPlaneContext = Context<ControlPlaneEnv>;

export function bearer(c: Context): string | undefined {
  const header = c.req.header("authorization");
  const match = header ? /^Bearer\s+(.+)$/i.exec(header) : null;
  return match?.[1]?.trim();
}

/** Admin routes: the admin token, nothing else. */
export function requireAdmin(c: ControlPlaneContext): void {
  const token = bearer(c);
  if (!token)
    throw new ApiError("UNAUTHORIZED", "Send the admin token as `Authorization: Bearer <token>`");
  if (!isAdminToken(token, c.get("adminToken")))
    throw new ApiError("UNAUTHORIZED", "The admin token is not valid");
}

export const bearerSecurity = [{ bearerAuth: [] }];

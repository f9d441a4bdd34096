import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { bearerOf } from "../../../core/bearer";
import { ApiError } from "../../../core/errors";
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

/** The request's bearer token (the same parsing as the functions'). */
export const bearer = bearerOf;

/** Admin routes: the admin token, nothing else. */
export function requireAdmin(c: ControlPlaneContext): void {
  const token = bearerOf(c);
  if (!token)
    throw new ApiError("UNAUTHORIZED", "Send the admin token as `Authorization: Bearer <token>`");
  if (!isAdminToken(token, c.get("adminToken")))
    throw new ApiError("UNAUTHORIZED", "The admin token is not valid");
}

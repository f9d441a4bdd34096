import type { Context } from "hono";
import { ApiError } from "./errors";

/** The bearer token of a request, if any. */
export function bearerOf(c: Context): string | undefined {
  return bearerFromHeader(c.req.header("authorization"));
}

export function bearerFromHeader(header: string | undefined | null): string | undefined {
  const match = header ? /^Bearer\s+(.+)$/i.exec(header) : null;
  return match?.[1]?.trim();
}

export function requireBearer(c: Context): string {
  const token = bearerOf(c);
  if (!token) throw new ApiError("UNAUTHORIZED", "Send a token as `Authorization: Bearer <token>`");
  return token;
}

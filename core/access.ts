import { z } from "zod";

/**
 * The one vocabulary for what a credential may do, end to end: the public API, the control
 * plane, the functions and the worker. JWTs spell it sqld's way (`a: "ro" | "rw"`); core/jwt.ts
 * maps between the two, and only there.
 */
export const ACCESS_LEVELS = ["read-only", "full-access"] as const;

export type Access = (typeof ACCESS_LEVELS)[number];

export const AccessSchema = z.enum(ACCESS_LEVELS);

export const isReadOnly = (access: Access): boolean => access === "read-only";

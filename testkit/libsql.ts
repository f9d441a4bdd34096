/** Assertions on what @libsql/client rejects with. */
import { LibsqlError } from "@libsql/client";
import { expect } from "vitest";

/** The LibsqlError `promise` rejects with, after checking it rejects with one. */
export async function libsqlErrorOf(
  promise: Promise<unknown>,
  message?: string,
): Promise<LibsqlError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, message).toBeInstanceOf(LibsqlError);
  return err as LibsqlError;
}

/** The code of the LibsqlError `promise` rejects with (e.g. "SQLITE_AUTH"). */
export async function codeOf(promise: Promise<unknown>): Promise<string> {
  return (await libsqlErrorOf(promise)).code;
}

/**
 * Last-resort error handling for DB-Forge's long-running processes (functions host, control
 * plane, worker, `dbforge start`). Shared code lives in core/ so no service imports another's
 * files for it.
 *
 * Invariant: an exception escaping one request (a throwing event handler, a forgotten
 * promise) must never end the process, which would take every other client and, for the
 * control plane, the workers' supervision with it. Routes still handle their own errors; these
 * handlers only log what slipped through, as one JSON line on stderr, and keep serving.
 */

let installed = false;

/** A log-friendly description of anything thrown. */
function describe(err: unknown): { error: string; stack?: string } {
  if (err instanceof Error) {
    return { error: `${err.name}: ${err.message}`, ...(err.stack ? { stack: err.stack } : {}) };
  }
  try {
    return { error: String(err) };
  } catch {
    return { error: "unprintable value" };
  }
}

/**
 * Installs process-wide `uncaughtException` and `unhandledRejection` handlers for `service`
 * (its name in the log line). Idempotent: `dbforge start` hosts two services in one process.
 */
export function installLastResortHandlers(
  service: string,
  log: (line: string) => void = (line) => console.error(line),
): void {
  if (installed) return;
  installed = true;
  const report = (kind: "uncaughtException" | "unhandledRejection") => (err: unknown) => {
    try {
      log(
        JSON.stringify({ msg: "uncaught error, still serving", service, kind, ...describe(err) }),
      );
    } catch {
      // Logging must not throw from here: that would end the process after all.
    }
  };
  process.on("uncaughtException", report("uncaughtException"));
  process.on("unhandledRejection", report("unhandledRejection"));
}

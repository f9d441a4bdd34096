/**
 * The one `main` of every DB-Forge process (worker, control plane, functions host, `dbforge
 * start`): last-resort error handlers, a clear message and exit status 1 when start-up fails,
 * and a graceful stop on SIGINT or SIGTERM (a second signal exits at once, status 1).
 */
import { installLastResortHandlers } from "./process";

export interface Stoppable {
  /** Graceful stop: resolves when everything the process started has ended. */
  stop(): Promise<void>;
}

export interface MainOptions {
  /** The line logged when stopping (default: `{"msg":"<service> shutting down","reason":…}`). */
  stopMessage?: (reason: string) => string;
}

/**
 * Runs `start`, which gets a `stop(reason)` it may call itself (e.g. an idle worker), and exits
 * 0 once a stop finishes, 1 if it fails.
 */
export function runMain(
  service: string,
  start: (stop: (reason: string) => void) => Promise<Stoppable>,
  options: MainOptions = {},
): void {
  installLastResortHandlers(service);
  let stopping = false;
  // A signal during start-up stops what started once it has (never half of it).
  let started: Promise<Stoppable> | undefined;
  const stop = (reason: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    console.log(
      options.stopMessage?.(reason) ?? JSON.stringify({ msg: `${service} shutting down`, reason }),
    );
    (started ?? Promise.reject(new Error("not started")))
      .then((running) => running.stop())
      .then(
        () => process.exit(0),
        (err) => {
          console.error(`${service}: stop failed:`, err);
          process.exit(1);
        },
      );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
  started = start(stop);
  started.catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}

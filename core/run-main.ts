/**
 * The one `main` of every DB-Forge process (worker, control plane, functions host, `dbforge
 * start`): last-resort error handlers, a clear message and exit status 1 when start-up fails,
 * and a graceful stop on SIGINT or SIGTERM (a second signal exits at once, status 1, unless
 * it comes within a second of the first: the same Ctrl-C delivered twice).
 */
import { installLastResortHandlers } from "./process";

/** How soon after the first a signal is taken for the same one delivered twice. */
const REPEATED_SIGNAL_MS = 1000;

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
  let stoppingSince: number | undefined;
  // A signal during start-up stops what started once it has (never half of it).
  let started: Promise<Stoppable> | undefined;
  const stop = (reason: string) => {
    if (stoppingSince !== undefined) {
      // One Ctrl-C often arrives twice: the terminal signals the whole process group, and
      // `npm start` forwards what it got to its child. Only a later one is a second request.
      if (Date.now() - stoppingSince < REPEATED_SIGNAL_MS) return;
      process.exit(1);
    }
    stoppingSince = Date.now();
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

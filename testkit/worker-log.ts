/**
 * A worker's output as it is written, for tests that act at a moment the worker announces:
 * `tail -F` of the process driver's log file, `docker logs -f` of the container.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";

export interface WorkerLog {
  /** Resolves on the first line from now on matching `pattern`. */
  line(pattern: RegExp, timeoutMs: number): Promise<string>;
  stop(): void;
}

export function followLog(
  driver: "process" | "docker",
  dataDir: string,
  name: string,
  workerId: string,
): WorkerLog {
  const child =
    driver === "docker"
      ? spawn("docker", ["logs", "-f", "--since", "0s", workerId], {
          stdio: ["ignore", "pipe", "pipe"],
        })
      : spawn("tail", ["-F", "-n", "0", join(dataDir, ".control-plane", "logs", `${name}.log`)], {
          stdio: ["ignore", "pipe", "ignore"],
        });
  const lines = [child.stdout, ...(child.stderr ? [child.stderr] : [])].map((input) =>
    createInterface({ input }),
  );
  return {
    line: (pattern, timeoutMs) =>
      new Promise((found, fail) => {
        const timer = setTimeout(() => fail(new Error(`no line matching ${pattern}`)), timeoutMs);
        for (const input of lines)
          input.on("line", (line) => {
            if (!pattern.test(line)) return;
            clearTimeout(timer);
            found(line);
          });
      }),
    stop: () => child.kill(),
  };
}

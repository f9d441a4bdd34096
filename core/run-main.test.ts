/**
 * runMain's signals, in a real child process: one Ctrl-C delivered twice at once (the terminal
 * signals the process group, and `npm start` forwards what it got) lets the graceful stop
 * finish; a signal that comes later ends the process at once.
 */
import { spawn } from "node:child_process";
import { resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { expect, test } from "vitest";

/** A process whose stop takes 1.5 s, then prints "stopped". */
function slowToStop() {
  const script = `
    const { runMain } = await import(${JSON.stringify(resolve(import.meta.dirname, "run-main.ts"))});
    runMain("test", async () => {
      const alive = setInterval(() => {}, 1000);
      console.log("started");
      return {
        stop: async () => {
          await new Promise((r) => setTimeout(r, 1500));
          clearInterval(alive);
          console.log("stopped");
        },
      };
    }, { stopMessage: () => "stopping" });
  `;
  const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<number | null>((done) => child.once("exit", (code) => done(code)));
  return {
    child,
    exited,
    output: () => output,
    started: async () => {
      while (!output.includes("started")) await sleep(20);
    },
  };
}

test("the same Ctrl-C delivered twice at once: the stop finishes", async () => {
  const p = slowToStop();
  await p.started();
  p.child.kill("SIGINT");
  await sleep(5);
  p.child.kill("SIGINT");
  expect(await p.exited).toBe(0);
  expect(p.output()).toContain("stopped");
}, 30_000);

test("a second signal a while after the first exits at once, with status 1", async () => {
  const p = slowToStop();
  await p.started();
  p.child.kill("SIGTERM");
  await sleep(1200);
  p.child.kill("SIGTERM");
  expect(await p.exited).toBe(1);
  expect(p.output()).toContain("stopping");
  expect(p.output()).not.toContain("stopped");
}, 30_000);

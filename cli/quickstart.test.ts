/**
 * The README quickstart, exactly, on a clean checkout: `npm install && npm start`, then the
 * tour's first block of commands (create, query, delete), then Ctrl-C; nothing may be left
 * running. The commands are read from README.md, so the README cannot drift from what works.
 */
import { execFileSync, spawn } from "node:child_process";
import { chmodSync, cpSync, mkdirSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { dirname, join } from "node:path";
import { afterAll, expect, test } from "vitest";
import { ROOT } from "../testkit/paths";
import { freePort } from "../testkit/ports";
import { isLive } from "../testkit/processes";
import { makeTempDir, removeDir } from "../testkit/temp";
import { sleep } from "../testkit/wait";

/** The commands of the README: its setup line and the tour's first shell block. */
function readmeCommands(): { setup: string[]; tour: string } {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const setupBlock = /## Set-up[\s\S]*?```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? "";
  const setup =
    setupBlock
      .split("\n")[0]
      ?.replace(/#.*/, "")
      .split("&&")
      .map((c) => c.trim()) ?? [];
  const tour = /## A five-minute tour[\s\S]*?```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? "";
  return { setup, tour };
}

/** Processes whose command line, working directory or environment mentions `dir`. */
function processesUsing(dir: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
      if (!isLive(pid)) continue;
      const cwd = readlinkSync(`/proc/${pid}/cwd`);
      const environ = readFileSync(`/proc/${pid}/environ`, "utf8");
      if (cmdline.includes(dir) || cwd.startsWith(dir) || environ.includes(dir))
        found.push(`${pid}: ${cmdline.replaceAll("\0", " ")}`);
    } catch {
      // gone, or not ours to read
    }
  }
  return found;
}

const checkout = makeTempDir("checkout");
// Like a `git clone` (0755), not mkdtemp's 0700: as root, DB-Forge runs every database's worker
// as its own user, which must be able to pass through to db-data.
chmodSync(checkout, 0o755);
afterAll(() => removeDir(checkout));

test("npm install && npm start, create/query/delete as in the README, Ctrl-C leaves nothing running", async () => {
  const { setup, tour } = readmeCommands();
  expect(setup).toEqual(["npm install", "npm start"]);
  expect(tour).toContain("curl -X POST http://127.0.0.1:8787/admin/databases");

  // A clean checkout: the files git tracks (or would), nothing built, nothing installed.
  const files = execFileSync(
    "git",
    ["ls-files", "--cached", "--others", "--exclude-standard", "-z"],
    { cwd: ROOT, encoding: "utf8" },
  )
    .split("\0")
    .filter(Boolean);
  for (const file of files) {
    mkdirSync(join(checkout, dirname(file)), { recursive: true });
    try {
      cpSync(join(ROOT, file), join(checkout, file));
    } catch {
      // deleted in the working tree
    }
  }
  execFileSync("sh", ["-c", setup[0] ?? ""], {
    cwd: checkout,
    stdio: "ignore",
    env: { ...process.env, npm_config_audit: "false", npm_config_fund: "false" },
  });

  const apiPort = await freePort();
  const controlPort = await freePort();
  const started = spawn("sh", ["-c", setup[1] ?? ""], {
    cwd: checkout,
    detached: true,
    env: {
      ...process.env,
      DBFORGE_LISTEN_ADDR: `127.0.0.1:${apiPort}`,
      DBFORGE_CONTROL_PLANE_ADDR: `127.0.0.1:${controlPort}`,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const exited = new Promise<number | null>((done) => started.once("exit", (code) => done(code)));
  await new Promise<void>((ready, fail) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes("Press Ctrl-C to stop.")) ready();
    };
    started.stdout?.on("data", onData);
    started.stderr?.on("data", onData);
    exited.then((code) => fail(new Error(`npm start exited with ${code}:\n${output}`)));
  });
  expect(output).toContain(`API          http://127.0.0.1:${apiPort}`);
  expect(output).toContain(join(checkout, "db-data/.control-plane/admin-token"));

  // The tour's commands, as written, against the port this run uses.
  const script = `set -e\n${tour.replaceAll("127.0.0.1:8787", `127.0.0.1:${apiPort}`).replaceAll(" \\\n", " ")}`;
  const lines = script.split("\n").filter((l) => l.startsWith("curl"));
  expect(lines).toHaveLength(3);
  const results = execFileSync(
    "bash",
    ["-c", script.replaceAll(/^curl /gm, "curl -sS -w '\\n%{http_code}\\n' ")],
    { cwd: checkout, encoding: "utf8" },
  );
  const statuses = results
    .trim()
    .split("\n")
    .filter((l) => /^\d{3}$/.test(l));
  expect(statuses).toEqual(["201", "200", "204"]);
  expect(results).toContain('"rows":[{"two":2}]');

  // Ctrl-C: everything stops.
  process.kill(-(started.pid ?? 0), "SIGINT");
  await exited;
  expect(output).toContain("stopped");
  const deadline = Date.now() + 10_000;
  while (processesUsing(checkout).length > 0 && Date.now() < deadline) await sleep(100);
  expect(processesUsing(checkout)).toEqual([]);
  await expect(fetch(`http://127.0.0.1:${apiPort}/health`)).rejects.toThrow();
}, 300_000);

/**
 * The Node functions host: every route on one port (DBFORGE_LISTEN_ADDR, default
 * 127.0.0.1:8787), configured like the Workers (CONTROL_PLANE_URL, ...) from the environment.
 */
import { resolve } from "node:path";
import { z } from "zod";
import { installLastResortHandlers } from "../../core/process";
import { startFunctionsHost } from "./node";

const HostEnv = z.object({
  DBFORGE_LISTEN_ADDR: z
    .string()
    .regex(/^.*:\d{1,5}$/, "expected host:port")
    .default("127.0.0.1:8787"),
});

async function main(): Promise<void> {
  installLastResortHandlers("functions");
  const { DBFORGE_LISTEN_ADDR } = HostEnv.parse(process.env);
  const [, hostname = "127.0.0.1", port = "8787"] = /^(.*):(\d+)$/.exec(DBFORGE_LISTEN_ADDR) ?? [];
  const host = await startFunctionsHost({
    env: { ...process.env },
    hostname,
    port: Number(port),
    // This file is bundled to dist/functions/host.mjs; the console is built to dist/console.
    consoleDir: resolve(import.meta.dirname, "../console"),
  });
  console.log(JSON.stringify({ msg: "functions listening", url: host.url }));
  const stop = () => {
    host.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});

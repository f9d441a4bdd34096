/**
 * The Node functions host: every route on one port (DBFORGE_LISTEN_ADDR, default
 * 127.0.0.1:8787), configured like the Workers (CONTROL_PLANE_URL, ...) from the environment.
 */
import { resolve } from "node:path";
import { z } from "zod";
import { listenAddressSchema } from "../../core/listen-address";
import { runMain } from "../../core/run-main";
import { startFunctionsHost } from "./node";

const HostEnv = z.object({
  DBFORGE_LISTEN_ADDR: z.prefault(listenAddressSchema(), "127.0.0.1:8787"),
});

runMain("functions", async () => {
  const { DBFORGE_LISTEN_ADDR: listen } = HostEnv.parse(process.env);
  const host = await startFunctionsHost({
    env: { ...process.env },
    hostname: listen.host,
    port: listen.port,
    // This file is bundled to dist/functions/host.mjs; the console is built to dist/console.
    consoleDir: resolve(import.meta.dirname, "../console"),
  });
  console.log(JSON.stringify({ msg: "functions listening", url: host.url }));
  return { stop: () => host.close() };
});

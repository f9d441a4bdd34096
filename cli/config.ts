/**
 * The CLI's configuration: flags first, then the environment (parsed here, once).
 * With no token given and a local URL, the admin token of the local installation is used.
 */
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { z } from "zod";

const EnvSchema = z.object({
  DBFORGE_URL: z.url().default("http://127.0.0.1:8787"),
  DBFORGE_TOKEN: z.string().min(1).optional(),
  DBFORGE_DATA_DIR: z.string().min(1).default("db-data"),
});

export interface CliConfig {
  url: string;
  token: string | undefined;
}

export function resolveConfig(
  flags: { url?: string; token?: string },
  env: NodeJS.ProcessEnv,
): CliConfig {
  const parsed = EnvSchema.parse(env);
  const url = (flags.url ?? parsed.DBFORGE_URL).replace(/\/$/, "");
  let token = flags.token ?? parsed.DBFORGE_TOKEN;
  if (!token && /^https?:\/\/(127\.0\.0\.1|localhost)(:\d+)?$/.test(url)) {
    const local = join(resolve(parsed.DBFORGE_DATA_DIR), ".control-plane", "admin-token");
    if (existsSync(local)) token = readFileSync(local, "utf8").trim();
  }
  return { url, token };
}

import { apiClient, unwrap } from "../api";
import type { CliConfig } from "../config";

export async function tokensCommand(
  config: CliConfig,
  args: string[],
  flags: { readOnly: boolean; expires?: string; json: boolean },
): Promise<void> {
  const [action, name] = args;
  if (action === "revoke" && name) {
    await unwrap(
      apiClient(config).POST("/admin/databases/{name}/tokens/revoke", {
        params: { path: { name } },
      }),
    );
    if (flags.json) return console.log(JSON.stringify({ revoked: name }));
    console.error(`every token of ${name} minted so far is now invalid`);
    return;
  }
  if (action !== "create" || !name)
    throw new Error(
      "usage: dbforge tokens create <db> [--read-only] [--expires 1h|never] | dbforge tokens revoke <db>",
    );
  const expiresIn = flags.expires === "never" ? null : (flags.expires ?? "1d");
  const minted = await unwrap(
    apiClient(config).POST("/admin/databases/{name}/tokens", {
      params: { path: { name } },
      body: {
        access: flags.readOnly ? "read-only" : "full-access",
        expiresIn: /^\d+$/.test(expiresIn ?? "") ? Number(expiresIn) : expiresIn,
      },
    }),
  );
  if (flags.json) return console.log(JSON.stringify(minted, null, 2));
  console.log(minted.token);
  console.error(
    `${minted.access} token for ${name}, ${minted.expiresAt ? `expires ${new Date(minted.expiresAt * 1000).toISOString()}` : "never expires"}\nuse it with @libsql/client: createClient({ url: "${minted.url}", authToken })`,
  );
}

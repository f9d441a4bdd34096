import { apiClient, unwrap } from "../api";
import type { CliConfig } from "../config";
import { renderTable } from "../format";

const USAGE =
  "usage: dbforge keys create <name> --role owner|admin|developer|viewer [--databases 'app-*,shop'] | dbforge keys list | dbforge keys revoke <id>";

const ROLES = ["owner", "admin", "developer", "viewer"] as const;

export async function keysCommand(
  config: CliConfig,
  args: string[],
  flags: { role?: string; databases?: string; json: boolean },
): Promise<void> {
  const [action, arg] = args;
  const api = apiClient(config);
  if (action === "list") {
    const { keys } = await unwrap(api.GET("/admin/keys"));
    if (flags.json) return console.log(JSON.stringify(keys, null, 2));
    console.log(
      renderTable(
        ["id", "name", "role", "databases", "created", "revoked"],
        keys.map((k) => [
          k.id,
          k.name,
          k.role,
          k.databases === "*" ? "*" : k.databases.join(","),
          k.createdAt,
          k.revokedAt ?? "",
        ]),
      ),
    );
    return;
  }
  if (action === "revoke" && arg) {
    const revoked = await unwrap(api.DELETE("/admin/keys/{id}", { params: { path: { id: arg } } }));
    if (flags.json) return console.log(JSON.stringify(revoked, null, 2));
    console.error(`key ${revoked.id} (${revoked.name}) is revoked`);
    return;
  }
  if (action !== "create" || !arg) throw new Error(USAGE);
  const role = ROLES.find((r) => r === flags.role);
  if (!role) throw new Error(`--role must be one of ${ROLES.join(", ")}\n${USAGE}`);
  const databases =
    flags.databases === undefined || flags.databases.trim() === "*"
      ? ("*" as const)
      : flags.databases
          .split(",")
          .map((s) => s.trim())
          .filter(Boolean);
  const created = await unwrap(api.POST("/admin/keys", { body: { name: arg, role, databases } }));
  if (flags.json) return console.log(JSON.stringify(created, null, 2));
  console.log(created.key);
  console.error(
    `${created.role} key ${created.id} for ${created.databases === "*" ? "every database" : created.databases.join(", ")}: shown this once, keep it safe`,
  );
}

import { apiClient, unwrap } from "../api";
import type { CliConfig } from "../config";
import { renderTable } from "../format";

const humanSize = (bytes: number) =>
  bytes < 1024
    ? `${bytes} B`
    : bytes < 1024 ** 2
      ? `${(bytes / 1024).toFixed(1)} KiB`
      : `${(bytes / 1024 ** 2).toFixed(1)} MiB`;

export async function dbCommand(config: CliConfig, args: string[], json: boolean): Promise<void> {
  const api = apiClient(config);
  const [action, name] = args;
  const path = { params: { path: { name: name ?? "" } } };
  switch (action) {
    case "create": {
      const db = await unwrap(api.POST("/admin/databases", { body: { name: name ?? "" } }));
      console.log(
        json
          ? JSON.stringify(db, null, 2)
          : `created ${db.name} (${db.status})\nlibSQL URL: ${db.url}`,
      );
      return;
    }
    case "list": {
      const { databases } = await unwrap(api.GET("/admin/databases"));
      if (json) return console.log(JSON.stringify(databases, null, 2));
      if (databases.length === 0) return console.log("no databases yet: dbforge db create <name>");
      console.log(
        renderTable(
          ["name", "status", "size", "created", "last active"],
          databases.map((d) => [
            d.name,
            d.status,
            humanSize(d.sizeBytes),
            d.createdAt,
            d.lastActiveAt,
          ]),
        ),
      );
      return;
    }
    case "show": {
      const db = await unwrap(api.GET("/admin/databases/{name}", path));
      if (json) return console.log(JSON.stringify(db, null, 2));
      console.log(
        renderTable(
          ["field", "value"],
          Object.entries(db).map(([k, v]) => [k, k === "sizeBytes" ? humanSize(Number(v)) : v]),
        ),
      );
      return;
    }
    case "delete":
      await unwrap(api.DELETE("/admin/databases/{name}", path));
      console.log(`deleted ${name}`);
      return;
    default:
      throw new Error("usage: dbforge db create|list|show|delete [name]");
  }
}

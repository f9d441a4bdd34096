/**
 * What Node itself reaches for the worker's benchmark request: node:http, the body parsed as
 * JSON, the point select run on the same libSQL binding the worker uses, and the same Hrana
 * answer (the worker's bytes but for the baton and query_duration_ms) written with JSON.stringify.
 * Nothing else: no authentication, no streams, no limits, no sandbox. A baseline of
 * bench/worker-throughput.ts: what the worker spends beyond it is its own code, not Node's.
 *
 * Usage: node --import tsx bench/bare-select-server.ts FILE (prints its port).
 */
import { createServer } from "node:http";
import { openNative } from "../core/sqlite/index";

const file = process.argv[2];
if (!file) throw new Error("usage: bare-select-server.ts FILE");
const db = openNative(file, 0);
const select = db.prepare("SELECT id, name, value FROM items WHERE id = ?");
select.raw(true);
const cols = [
  { name: "id", decltype: "INTEGER" },
  { name: "name", decltype: "TEXT" },
  { name: "value", decltype: "REAL" },
];

interface Request {
  type: string;
  stmt?: { args?: Array<{ value: string }> };
}

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (chunk: Buffer) => chunks.push(chunk));
  req.on("end", () => {
    const { requests } = JSON.parse(Buffer.concat(chunks).toString()) as { requests: Request[] };
    const results = requests.map((request) => {
      if (request.type !== "execute") return { type: "ok", response: { type: "close" } };
      const started = performance.now();
      const row = select.get([BigInt(request.stmt?.args?.[0]?.value ?? 0)]);
      const rows = row
        ? [
            [
              { type: "integer", value: String(row[0]) },
              { type: "text", value: row[1] },
              { type: "float", value: row[2] },
            ],
          ]
        : [];
      return {
        type: "ok",
        response: {
          type: "execute",
          result: {
            cols,
            rows,
            affected_row_count: 0,
            last_insert_rowid: "0",
            rows_read: rows.length,
            rows_written: 0,
            query_duration_ms: performance.now() - started,
          },
        },
      };
    });
    const body = JSON.stringify({ baton: null, base_url: null, results });
    res.writeHead(200, [
      "Access-Control-Allow-Origin",
      "*",
      "Content-Length",
      String(Buffer.byteLength(body)),
      "Content-Type",
      "application/json",
    ]);
    res.end(body);
  });
});
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  console.log(typeof address === "object" && address ? address.port : 0);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));

import { type NativeDatabase, type NativeValue, openNative } from "../../../core/sqlite/index";

/**
 * A SQL dump of the database, as sqld's GET /dump gives one (and `sqlite3 .dump` the shape
 * of): schema, data, then indexes, triggers and views, in one transaction. What is different
 * from `.dump`: virtual tables (FTS3/4/5, R-tree) are written as their CREATE VIRTUAL TABLE and
 * an INSERT of their rows through the table itself, never as rows of their shadow tables
 * (which would need `PRAGMA writable_schema` to load, and tie the dump to one engine's
 * storage); 64-bit integers, reals and blobs come out exact.
 *
 * The dump reads one snapshot (a read transaction on a connection of its own): writers go on,
 * only checkpoints wait for it. It yields chunks of about `chunkBytes`, so the caller can send
 * them as they come and stop when the client goes away.
 */
export function* dumpSql(path: string, chunkBytes = 64 * 1024): Generator<string> {
  // No statement deadline: a table's rows are read by one statement for as long as the client
  // takes to receive them, and the engine's deadline counts wall-clock time, paused or not (a
  // deadline of 60 s cut every dump of more than ~3 GB, or to a slow client). The sender
  // bounds the time without progress instead (DUMP_STALL_MS in ../transport/http.ts).
  const db = openNative(path, 0);
  db.defaultSafeIntegers(true);
  let buffer = "";
  function* flush(force = false): Generator<string> {
    if (buffer.length >= chunkBytes || (force && buffer)) {
      yield buffer;
      buffer = "";
    }
  }
  try {
    db.exec("BEGIN");
    buffer += "PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\n";
    const objects = rows(
      db,
      "SELECT type, name, tbl_name, sql FROM sqlite_schema WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' ORDER BY rowid",
    );
    const shadow = new Set(
      rows(db, "SELECT name FROM pragma_table_list WHERE schema = 'main' AND type = 'shadow'").map(
        (r) => String(r[0]),
      ),
    );
    // Tables by name, not by when they were made: the dump is canonical, the same for a
    // database and for its copy (VACUUM INTO, a backup), whose schema may be in another order.
    // Tables do not depend on each other to be created; indexes, triggers and views follow in
    // their own order, which respects what they refer to.
    const tables = objects
      .filter(([type, name]) => type === "table" && !shadow.has(String(name)))
      .sort(([, a], [, b]) => (String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0));
    // External-content FTS indexes are rebuilt once every table has its rows.
    const rebuilds: string[] = [];
    for (const [, name, , sql] of tables) {
      const table = String(name);
      buffer += `${String(sql)};\n`;
      const virtual = /^\s*CREATE\s+VIRTUAL\s+TABLE/i.test(String(sql));
      // Ordinary columns only: generated ones (hidden 2, 3) are computed, and a virtual table's
      // hidden columns (1) are not its data.
      const inserted = rows(
        db,
        `SELECT name FROM pragma_table_xinfo(${literal(table)}) WHERE hidden = 0 ORDER BY cid`,
      ).map((r) => String(r[0]));
      const module = /\bUSING\s+(\w+)/i.exec(String(sql))?.[1]?.toLowerCase() ?? "";
      if (virtual && externalContent(String(sql))) {
        // The rows live in the content table (dumped as a table); the index is rebuilt from it.
        rebuilds.push(`INSERT INTO ${quote(table)}(${quote(table)}) VALUES('rebuild');\n`);
        continue;
      }
      // An R-tree's first column is its rowid; other virtual tables (FTS) keep theirs.
      const rowid = virtual ? !module.startsWith("rtree") : hasRowid(db, table);
      const select = `SELECT ${rowid ? "rowid, " : ""}${inserted.map(quote).join(", ") || "*"} FROM ${quote(table)}${rowid ? " ORDER BY rowid" : ""}`;
      const target = `${quote(table)}(${rowid ? "rowid, " : ""}${inserted.map(quote).join(", ")})`;
      const statement = db.prepare(select).raw(true);
      for (const row of statement.iterate()) {
        buffer += `INSERT INTO ${target} VALUES(${row.map(literal).join(",")});\n`;
        yield* flush();
      }
    }
    buffer += rebuilds.join("");
    if (rows(db, "SELECT 1 FROM sqlite_schema WHERE name = 'sqlite_sequence'").length > 0) {
      buffer += "DELETE FROM sqlite_sequence;\n";
      for (const row of rows(db, "SELECT name, seq FROM sqlite_sequence ORDER BY name")) {
        buffer += `INSERT INTO sqlite_sequence VALUES(${row.map(literal).join(",")});\n`;
      }
    }
    for (const [type, name, tbl, sql] of objects) {
      if (type === "table" || shadow.has(String(tbl)) || shadow.has(String(name))) continue;
      buffer += `${String(sql)};\n`;
      yield* flush();
    }
    buffer += "COMMIT;\n";
    yield* flush(true);
  } finally {
    try {
      db.exec("COMMIT");
    } catch {
      // nothing open
    }
    db.close();
  }
}

/** An FTS table whose text lives in another table (`content=t`, not contentless `content=''`). */
function externalContent(sql: string): boolean {
  const option = /\bcontent\s*=\s*('(?:[^']|'')*'|"[^"]*"|[\w]+)/i.exec(sql)?.[1];
  return option !== undefined && option !== "''" && option !== '""';
}

function rows(db: NativeDatabase, sql: string): NativeValue[][] {
  return [...db.prepare(sql).raw(true).iterate()];
}

function hasRowid(db: NativeDatabase, table: string): boolean {
  try {
    db.prepare(`SELECT rowid FROM ${quote(table)} LIMIT 0`);
    return true;
  } catch {
    return false; // WITHOUT ROWID
  }
}

export function quote(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** A SQL literal that reads back as exactly `value` (type included). */
export function literal(value: NativeValue): string {
  if (value === null || value === undefined) return "NULL";
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "number") {
    if (Number.isNaN(value)) return "NULL";
    if (!Number.isFinite(value)) return value > 0 ? "9e999" : "-9e999";
    // The shortest text that reads back as the same double, always with a point or exponent
    // so that it stays a REAL.
    const text = String(value);
    return /[.eE]/.test(text) ? text : `${text}.0`;
  }
  if (typeof value === "string") {
    // NUL cannot appear in a SQL string literal: such text goes as its UTF-8 bytes.
    if (value.includes("\u0000"))
      return `CAST(X'${Buffer.from(value, "utf8").toString("hex")}' AS TEXT)`;
    return `'${value.replaceAll("'", "''")}'`;
  }
  return `X'${Buffer.from(value).toString("hex")}'`;
}

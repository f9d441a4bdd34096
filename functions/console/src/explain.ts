/**
 * EXPLAIN QUERY PLAN as a tree, and index suggestions: a full scan of a table filtered on
 * columns that no index starts with suggests an index on them. Pure functions of the plan rows,
 * the SQL and the tables' columns and indexes.
 */
export interface PlanNode {
  id: number;
  detail: string;
  children: PlanNode[];
}

/** Plan rows are [id, parent, notused, detail]; parent 0 is the root. */
export function planTree(rows: unknown[][]): PlanNode[] {
  const nodes = new Map<number, PlanNode>();
  const roots: PlanNode[] = [];
  for (const row of rows) {
    const node: PlanNode = { id: Number(row[0]), detail: String(row[3]), children: [] };
    nodes.set(node.id, node);
    const parent = nodes.get(Number(row[1]));
    if (parent) parent.children.push(node);
    else roots.push(node);
  }
  return roots;
}

export interface TableInfo {
  columns: string[];
  /** Each index's columns, in order. */
  indexes: string[][];
}

export interface IndexSuggestion {
  table: string;
  columns: string[];
  sql: string;
}

const FULL_SCAN = /^SCAN (?:TABLE )?("?)([^"\s]+)\1(?: AS (\S+))?$/;
const COMPARED =
  /(?:("?)(\w+)\1\.)?("?)(\w+)\3\s*(?:=|==|<>|!=|<=|>=|<|>|\bIN\b|\bLIKE\b|\bGLOB\b|\bBETWEEN\b|\bIS\b)/gi;

/** The columns compared in the WHERE clauses of `sql` (lower-cased names). */
export function filteredColumns(sql: string): string[] {
  const found: string[] = [];
  const upper = sql.toUpperCase();
  for (let at = upper.indexOf("WHERE"); at >= 0; at = upper.indexOf("WHERE", at + 5)) {
    const end = upper.slice(at + 5).search(/\b(GROUP|ORDER|LIMIT|UNION|HAVING|WINDOW)\b|\)|$/);
    const clause = sql.slice(at + 5, end < 0 ? undefined : at + 5 + end);
    for (const match of clause.matchAll(COMPARED)) {
      const column = (match[4] ?? "").toLowerCase();
      if (column && !found.includes(column)) found.push(column);
    }
  }
  return found;
}

function quote(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** CREATE INDEX suggestions for the full scans of `plan`. */
export function suggestIndexes(
  plan: PlanNode[],
  sql: string,
  tables: Record<string, TableInfo>,
): IndexSuggestion[] {
  const filtered = filteredColumns(sql);
  const suggestions: IndexSuggestion[] = [];
  const visit = (node: PlanNode) => {
    const scan = FULL_SCAN.exec(node.detail);
    const table = scan?.[2];
    const info = table ? tables[table] : undefined;
    if (table && info) {
      const columns = info.columns.filter(
        (c) =>
          filtered.includes(c.toLowerCase()) &&
          !info.indexes.some((index) => index[0]?.toLowerCase() === c.toLowerCase()),
      );
      if (columns.length > 0 && !suggestions.some((s) => s.table === table)) {
        const name = `idx_${table}_${columns.join("_")}`.replace(/\W/g, "_");
        suggestions.push({
          table,
          columns,
          sql: `CREATE INDEX ${quote(name)} ON ${quote(table)} (${columns.map(quote).join(", ")});`,
        });
      }
    }
    node.children.forEach(visit);
  };
  plan.forEach(visit);
  return suggestions;
}

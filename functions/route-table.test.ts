/**
 * The route manifest is the one place a route is written: the entry modules, the OpenAPI
 * document, the hosts' dispatch and the Miniflare deployment must all agree with it.
 */
import { expect, test } from "vitest";
import { ENTRIES, ENTRY_MODULES, ENTRY_ROUTES } from "./entries";
import { bindingOf, manifestPath, matchRoute, ROUTE_TABLE } from "./route-table";
import { HOST_ROUTES } from "./system/metrics-route";
import { buildDocument } from "./system/openapi";
import { ENTRY_IDS } from "./workers-build";

const manifestIds = [...new Set(ROUTE_TABLE.map((r) => r.entry))].sort();

/** `/api/db/{name}/tables/{table}` → `/api/db/some-db/tables/t` */
const concrete = (path: string) =>
  path.replaceAll("{name}", "some-db").replaceAll("{table}", "t").replace(/\/\*$/, "/x");

test("every manifest entry has exactly one entry module, and nothing else does", () => {
  expect(Object.keys(ENTRY_MODULES).sort()).toEqual(manifestIds);
  expect(Object.keys(ENTRIES).sort()).toEqual(manifestIds);
  // Miniflare deploys one worker per manifest entry, reached through its binding.
  expect([...ENTRY_IDS].sort()).toEqual(manifestIds);
  expect(new Set(ENTRY_IDS.map(bindingOf)).size).toBe(ENTRY_IDS.length);
});

test("each entry module's route is its manifest row (method and path)", () => {
  for (const [id, module] of Object.entries(ENTRY_MODULES)) {
    const rows = ROUTE_TABLE.filter((r) => r.entry === id);
    const { method, path } = module.route;
    const row = rows.find((r) => r.path === path);
    if (row) {
      expect(row.method.toLowerCase(), id).toBe(method);
    } else {
      // A catch-all entry documents one concrete request under its path (the libSQL proxy).
      const [catchAll] = rows;
      expect(catchAll?.method, id).toBe("ALL");
      expect(path.startsWith(manifestPath(id).replace(/\*$/, "")), id).toBe(true);
    }
  }
});

test("/openapi.json documents exactly the entry modules' routes", () => {
  const doc = buildDocument("http://example.test", ENTRY_ROUTES) as unknown as {
    paths: Record<string, Record<string, unknown>>;
  };
  const documented = Object.entries(doc.paths)
    .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`))
    .sort();
  const defined = [...ENTRY_ROUTES, ...HOST_ROUTES]
    .map((r) => `${r.method.toUpperCase()} ${r.path}`)
    .sort();
  expect(documented).toEqual(defined);
});

test("the hosts dispatch every manifest row to its entry", () => {
  for (const row of ROUTE_TABLE) {
    const method = row.method === "ALL" ? "POST" : row.method;
    const match = matchRoute(method, concrete(row.path));
    expect(match && "spec" in match ? match.spec.entry : match, `${method} ${row.path}`).toBe(
      row.entry,
    );
  }
});

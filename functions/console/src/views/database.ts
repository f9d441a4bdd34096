import { h, render } from "../dom";
import { connectView } from "./connect";
import { sqlEditor } from "./sql-editor";
import { tablesView } from "./tables";

const TABS = [
  ["sql", "SQL"],
  ["tables", "Tables"],
  ["connect", "Connect"],
] as const;

/** One database: SQL editor, schema and data browser, connection snippet. */
export function databaseView(
  main: HTMLElement,
  db: string,
  tab: string,
  table: string | undefined,
): void {
  const current = TABS.some(([id]) => id === tab) ? tab : "sql";
  const tablist = h(
    "nav",
    { class: "tabs", "aria-label": "Database sections" },
    ...TABS.map(([id, label]) =>
      h(
        "a",
        { href: `#/db/${db}/${id}`, "aria-current": id === current ? "page" : undefined },
        label,
      ),
    ),
  );
  const panel = h("section", {
    class: "panel",
    "aria-label": TABS.find(([id]) => id === current)?.[1] ?? "",
  });
  render(
    main,
    h("p", { class: "crumbs" }, h("a", { href: "#/" }, "Databases"), " / ", h("strong", {}, db)),
    h("h1", {}, db),
    tablist,
    panel,
  );
  if (current === "sql") render(panel, sqlEditor(db));
  else if (current === "connect") render(panel, connectView(db));
  else void tablesView(panel, db, table);
}

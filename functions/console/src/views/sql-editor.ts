import { analyzeSql } from "../../../../core/sql/analyze";
import { client, failureOf, unwrap } from "../api";
import { errorBox, h, render } from "../dom";
import { grid } from "./grid";

/** A SQL editor: run with the button or Ctrl-Enter; parameters as JSON; results, timing, errors. */
export function sqlEditor(db: string): HTMLElement {
  const api = client();
  const sql = h("textarea", {
    id: "sql",
    rows: 8,
    spellcheck: "false",
    placeholder: "SELECT * FROM sqlite_schema;",
  });
  const params = h("input", {
    id: "params",
    placeholder: '[1, "two"] or {"id": 1}',
    autocomplete: "off",
  });
  const output = h("section", {
    "aria-live": "polite",
    "aria-label": "Query results",
    id: "results",
  });
  const run = async () => {
    let parsed: unknown;
    if (params.value.trim()) {
      try {
        parsed = JSON.parse(params.value);
      } catch {
        render(
          output,
          errorBox({
            code: "BAD_PARAMETERS",
            message: "Parameters must be JSON: an array or an object",
          }),
        );
        return;
      }
    }
    const statements = analyzeSql(sql.value).map((s) => s.sql);
    if (statements.length === 0) {
      render(output, errorBox({ message: "Nothing to run" }));
      return;
    }
    render(output, "Running…");
    const started = performance.now();
    try {
      let last: Awaited<ReturnType<typeof runOne>> | undefined;
      for (const [i, statement] of statements.entries()) {
        // Parameters belong to the last statement (the one usually being worked on).
        last = await runOne(statement, i === statements.length - 1 ? parsed : undefined);
      }
      const ms = (performance.now() - started).toFixed(1);
      if (!last) return;
      const summary =
        last.columns.length > 0
          ? `${last.rows.length} row${last.rows.length === 1 ? "" : "s"}`
          : `${last.rowsAffected} row${last.rowsAffected === 1 ? "" : "s"} affected`;
      const ran = statements.length > 1 ? `${statements.length} statements · ` : "";
      render(
        output,
        h("p", { class: "status", id: "result-status" }, `${ran}${summary} · ${ms} ms`),
        last.columns.length > 0
          ? grid(last.columns, last.rows as unknown[][], { caption: "Result" })
          : null,
      );
    } catch (err) {
      render(output, errorBox(failureOf(err)));
    }
  };
  const runOne = (statement: string, args: unknown) =>
    unwrap(
      api.POST("/api/db/{name}/query", {
        params: { path: { name: db } },
        body: {
          sql: statement,
          rowMode: "array",
          ...(args === undefined ? {} : { params: args as never }),
        },
      }),
    );
  sql.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      void run();
    }
  });
  return h(
    "div",
    { class: "stack" },
    h("label", { for: "sql" }, "SQL (Ctrl-Enter to run)"),
    sql,
    h("label", { for: "params" }, "Parameters (JSON array or object, optional)"),
    params,
    h("div", { class: "row" }, h("button", { type: "button", onclick: () => void run() }, "Run")),
    output,
  );
}

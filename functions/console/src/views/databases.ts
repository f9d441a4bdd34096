import { client, failureOf, unwrap } from "../api";
import { errorBox, h, render } from "../dom";
import { humanSize, when } from "../format";

/** The list of databases: create, open, delete. */
export async function databasesView(main: HTMLElement): Promise<void> {
  const api = client();
  const name = h("input", {
    id: "new-db",
    required: true,
    pattern: "[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?",
    placeholder: "my-app",
    autocomplete: "off",
  });
  const status = h("div", { "aria-live": "polite" });
  const list = h("div", {}, "Loading…");
  const form = h(
    "form",
    { class: "row" },
    h("label", { for: "new-db" }, "New database"),
    name,
    h("button", { type: "submit" }, "Create"),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    render(status, "Creating…");
    try {
      const db = await unwrap(api.POST("/admin/databases", { body: { name: name.value.trim() } }));
      render(status, `Created ${db.name}.`);
      name.value = "";
      await refresh();
    } catch (err) {
      render(status, errorBox(failureOf(err)));
    }
  });

  async function refresh(): Promise<void> {
    try {
      const { databases } = await unwrap(api.GET("/admin/databases"));
      if (databases.length === 0) {
        render(list, h("p", { class: "muted" }, "No databases yet."));
        return;
      }
      render(
        list,
        h(
          "div",
          { class: "grid-wrap" },
          h(
            "table",
            { class: "grid", "aria-label": "Databases" },
            h(
              "thead",
              {},
              h(
                "tr",
                {},
                ...["Name", "Status", "Size", "Created", "Last active", ""].map((c) =>
                  h("th", { scope: "col" }, c),
                ),
              ),
            ),
            h(
              "tbody",
              {},
              ...databases.map((db) =>
                h(
                  "tr",
                  {},
                  h("td", {}, h("a", { href: `#/db/${db.name}` }, db.name)),
                  h("td", {}, h("span", { class: `badge ${db.status}` }, db.status)),
                  h("td", { class: "num" }, humanSize(db.sizeBytes)),
                  h("td", {}, when(db.createdAt)),
                  h("td", {}, when(db.lastActiveAt)),
                  h(
                    "td",
                    {},
                    h(
                      "button",
                      {
                        type: "button",
                        class: "danger",
                        "aria-label": `Delete ${db.name}`,
                        onclick: async () => {
                          if (!confirm(`Delete the database "${db.name}" and all its data?`))
                            return;
                          try {
                            await unwrap(
                              api.DELETE("/admin/databases/{name}", {
                                params: { path: { name: db.name } },
                              }),
                            );
                            render(status, `Deleted ${db.name}.`);
                            await refresh();
                          } catch (err) {
                            render(status, errorBox(failureOf(err)));
                          }
                        },
                      },
                      "Delete",
                    ),
                  ),
                ),
              ),
            ),
          ),
        ),
      );
    } catch (err) {
      render(list, errorBox(failureOf(err)));
    }
  }

  render(main, h("h1", {}, "Databases"), form, status, list);
  await refresh();
}

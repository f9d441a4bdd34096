import { client, failureOf, unwrap } from "../api";
import { errorBox, h, render } from "../dom";

/** A copy-ready @libsql/client snippet with a freshly minted token. */
export function connectView(db: string): HTMLElement {
  const access = h(
    "select",
    { id: "token-access" },
    h("option", { value: "full-access" }, "Full access"),
    h("option", { value: "read-only" }, "Read-only"),
  );
  const expiry = h(
    "select",
    { id: "token-expiry" },
    ...[
      ["1h", "1 hour"],
      ["1d", "1 day"],
      ["7d", "7 days"],
      ["30d", "30 days"],
      ["never", "Never"],
    ].map(([v, label]) => h("option", { value: v, selected: v === "1d" }, label)),
  );
  const output = h("div", { "aria-live": "polite" });
  const create = async () => {
    render(output, "Minting…");
    try {
      const minted = await unwrap(
        client().POST("/admin/databases/{name}/tokens", {
          params: { path: { name: db } },
          body: {
            access: access.value as "full-access" | "read-only",
            expiresIn: expiry.value === "never" ? null : expiry.value,
          },
        }),
      );
      const snippet = `import { createClient } from "@libsql/client";\n\nconst db = createClient({\n  url: "${minted.url}",\n  authToken: "${minted.token}",\n});\n\nconst rs = await db.execute("SELECT 1");`;
      const code = h("pre", { id: "snippet", tabindex: "0" }, h("code", {}, snippet));
      const copied = h("span", { role: "status", class: "muted" });
      render(
        output,
        h(
          "p",
          {},
          `${minted.access} token, ${minted.expiresAt ? `expires ${new Date(minted.expiresAt * 1000).toLocaleString()}` : "never expires"}.`,
        ),
        code,
        h(
          "button",
          {
            type: "button",
            onclick: async () => {
              try {
                await navigator.clipboard.writeText(snippet);
                render(copied, " Copied.");
              } catch {
                getSelection()?.selectAllChildren(code);
                render(copied, " Selected: press Ctrl-C to copy.");
              }
            },
          },
          "Copy snippet",
        ),
        copied,
      );
    } catch (err) {
      render(output, errorBox(failureOf(err)));
    }
  };
  const revoked = h("div", { "aria-live": "polite" });
  const revoke = async () => {
    if (!confirm(`Invalidate every token of ${db}? Clients using them stop working.`)) return;
    render(revoked, "Revoking…");
    try {
      await unwrap(
        client().POST("/admin/databases/{name}/tokens/revoke", { params: { path: { name: db } } }),
      );
      render(output);
      render(
        revoked,
        h("p", { role: "status" }, "Every earlier token of this database is invalid."),
      );
    } catch (err) {
      render(revoked, errorBox(failureOf(err)));
    }
  };
  return h(
    "div",
    { class: "stack" },
    h("p", {}, "Connect with @libsql/client (also Drizzle, Kysely, Prisma's libSQL adapter):"),
    h(
      "div",
      { class: "row" },
      h("label", { for: "token-access" }, "Access"),
      access,
      h("label", { for: "token-expiry" }, "Expires"),
      expiry,
      h("button", { type: "button", onclick: () => void create() }, "Create token"),
    ),
    output,
    h(
      "div",
      { class: "row" },
      h(
        "button",
        { type: "button", id: "revoke-tokens", class: "danger", onclick: () => void revoke() },
        "Revoke all tokens",
      ),
      h("span", { class: "muted" }, "Invalidates every token of this database at once."),
    ),
    revoked,
  );
}

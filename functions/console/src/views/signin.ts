import { client, failureOf, storeToken, unwrap } from "../api";
import { errorBox, h, render } from "../dom";

/** Sign in with the admin token; it is checked against the API before it is kept. */
export function signInView(main: HTMLElement, done: () => void): void {
  const token = h("input", {
    id: "token",
    type: "password",
    autocomplete: "current-password",
    required: true,
  });
  const remember = h("input", { id: "remember", type: "checkbox" });
  const status = h("div", { "aria-live": "polite" });
  const form = h(
    "form",
    { class: "card narrow" },
    h("h1", {}, "Sign in"),
    h("p", { class: "muted" }, "Use the admin token (db-data/.control-plane/admin-token)."),
    h("label", { for: "token" }, "Admin token"),
    token,
    h("label", { class: "inline" }, remember, " Remember on this device"),
    h("button", { type: "submit" }, "Sign in"),
    status,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    render(status, "Checking…");
    try {
      await unwrap(client(token.value.trim()).GET("/admin/databases"));
      storeToken(token.value.trim(), remember.checked);
      done();
    } catch (err) {
      render(status, errorBox(failureOf(err)));
    }
  });
  render(main, form);
  token.focus();
}

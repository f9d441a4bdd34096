import "./style.css";
import { forgetToken, storedToken } from "./api";
import { h, render } from "./dom";
import { databaseView } from "./views/database";
import { databasesView } from "./views/databases";
import { signInView } from "./views/signin";

const main = document.getElementById("main") as HTMLElement;
const account = document.getElementById("account") as HTMLElement;

/** Hash routes: #/ databases, #/db/<name>[/sql|tables|connect][/<table>]. */
function route(): void {
  if (!storedToken()) {
    render(account);
    signInView(main, () => {
      location.hash = "#/";
      route();
    });
    return;
  }
  render(
    account,
    h(
      "button",
      {
        type: "button",
        class: "link",
        onclick: () => {
          forgetToken();
          route();
        },
      },
      "Sign out",
    ),
  );
  const [, section, name, tab, table] = location.hash.replace(/^#/, "").split("/");
  if (section === "db" && name)
    databaseView(
      main,
      decodeURIComponent(name),
      tab ?? "sql",
      table ? decodeURIComponent(table) : undefined,
    );
  else void databasesView(main);
  main.focus({ preventScroll: true });
}

window.addEventListener("hashchange", route);
route();

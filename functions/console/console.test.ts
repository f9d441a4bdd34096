/**
 * The web console in a real browser (Debian's Chromium through playwright-core) against a real
 * running stack. Screenshots go to test-artifacts/console/.
 */
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, expect, test } from "vitest";
import { ARTIFACTS_DIR } from "../../testkit/paths";
import { type Stack, startStack } from "../../testkit/stack";

const ARTIFACTS = join(ARTIFACTS_DIR, "console");
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

let stack: Stack;
let browser: Browser;
let page: Page;
let shot = 0;
const screenshot = (name: string) =>
  page.screenshot({
    path: `${ARTIFACTS}/${String(++shot).padStart(2, "0")}-${name}.png`,
    fullPage: true,
  });

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  stack = await startStack();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--no-first-run",
    ],
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on("dialog", (dialog) => void dialog.accept());
});
afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

/** Nothing scrolls sideways: the page is no wider than the viewport. */
async function expectNoHorizontalOverflow(where: string): Promise<void> {
  const overflow = await page.evaluate(
    () => document.documentElement.scrollWidth - window.innerWidth,
  );
  expect(overflow, `${where} overflows by ${overflow}px`).toBeLessThanOrEqual(0);
}

/** Each page at desktop and phone width: a screenshot of both, no sideways scroll at 390 px. */
async function atBothWidths(name: string, check?: () => Promise<void>): Promise<void> {
  await screenshot(`${name}-1280`);
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForTimeout(150);
  await expectNoHorizontalOverflow(name);
  await check?.();
  await screenshot(`${name}-390`);
  await page.setViewportSize({ width: 1280, height: 900 });
}

/** The element is inside the viewport horizontally (reachable without scrolling sideways). */
async function expectWithinViewport(locator: ReturnType<Page["locator"]>): Promise<void> {
  const box = await locator.boundingBox();
  const width = page.viewportSize()?.width ?? 0;
  expect(box, "element is rendered").not.toBeNull();
  expect((box?.x ?? 0) + (box?.width ?? 0)).toBeLessThanOrEqual(width);
  expect(box?.x ?? -1).toBeGreaterThanOrEqual(0);
}

const sqlEditor = () => page.getByLabel("SQL (Ctrl-Enter to run)");

test("sign in, create a database, run SQL, explain it, browse the table, see errors, delete it", async () => {
  const url = stack.runtimes.node.url;
  await page.goto(`${url}/`);

  // Sign in with the keyboard only.
  await expect.poll(() => page.getByLabel("API key or admin token").isVisible()).toBe(true);
  await page.getByLabel("API key or admin token").focus();
  await page.keyboard.type("wrong-token");
  await page.keyboard.press("Enter");
  await expect.poll(() => page.getByRole("alert").textContent()).toContain("UNAUTHORIZED");
  await screenshot("sign-in-refused");
  await page.getByLabel("API key or admin token").fill(stack.adminToken);
  // A route change while the user types (the hashchange of a sign-out can come late) leaves
  // the focus in the form: Enter still signs in.
  await page.evaluate(() => {
    location.hash = "#/usage";
  });
  // Time for the hashchange, the render and its effects to have run (they would move focus).
  await page.waitForTimeout(500);
  expect(await page.evaluate(() => document.activeElement?.id)).toBe("token");
  await page.keyboard.press("Enter");
  await expect.poll(() => page.locator("#usage-totals").isVisible()).toBe(true);
  expect(await page.getByRole("navigation", { name: "Sections" }).textContent()).toContain("owner");
  await page
    .getByRole("navigation", { name: "Sections" })
    .getByRole("link", { name: "Databases" })
    .click();
  await expect.poll(() => page.getByRole("heading", { name: "Databases" }).isVisible()).toBe(true);

  // The name field validates in the browser: its pattern compiles under the v flag.
  const mismatch = await page.evaluate(() => {
    const input = document.getElementById("new-db") as HTMLInputElement;
    input.value = "Bad Name";
    const bad = input.validity.patternMismatch;
    input.value = "good-name-1";
    const good = input.validity.patternMismatch;
    input.value = "";
    return { bad, good };
  });
  expect(mismatch).toEqual({ bad: true, good: false });

  // Create a database; the live list shows it.
  await page.getByLabel("New database").fill("console-demo");
  await page.getByRole("button", { name: "Create" }).click();
  await expect.poll(() => page.getByRole("link", { name: "console-demo" }).isVisible()).toBe(true);
  expect(await page.getByRole("row", { name: /console-demo/ }).textContent()).toContain("running");
  await expect.poll(() => page.getByText("Live", { exact: true }).isVisible()).toBe(true);
  await atBothWidths("databases", async () => {
    await expectWithinViewport(page.getByRole("button", { name: "Delete console-demo" }));
  });

  // SQL editor (CodeMirror): create a table and insert rows (Ctrl-Enter runs).
  await page.getByRole("link", { name: "console-demo" }).click();
  await expect.poll(() => sqlEditor().isVisible()).toBe(true);
  await sqlEditor().fill(
    "CREATE TABLE fruits (id INTEGER PRIMARY KEY, name TEXT NOT NULL, price REAL);\nINSERT INTO fruits (name, price) VALUES ('apple', 1.5), ('banana', 0.25), ('cherry', 4);",
  );
  await sqlEditor().press("Control+Enter");
  await expect
    .poll(() => page.locator("#result-status").textContent())
    .toMatch(/2 statements · 3 rows affected · [\d.]+ ms/);

  // Completion knows the new table.
  await sqlEditor().fill("");
  await sqlEditor().pressSequentially("SELECT * FROM fru");
  await expect
    .poll(() => page.locator(".cm-tooltip-autocomplete").textContent())
    .toContain("fruits");
  await page.keyboard.press("Escape");

  // …and see the rows in the results grid, with a parameter.
  await sqlEditor().fill("SELECT name, price FROM fruits WHERE price < ? ORDER BY id");
  await page.getByLabel("Parameters (JSON array or object, optional)").fill("[10]");
  await page.getByRole("button", { name: "Run" }).click();
  await expect
    .poll(() => page.locator("#result-status").textContent())
    .toMatch(/^3 rows · [\d.]+ ms$/);
  const cells = await page.locator("#results table td").allTextContents();
  expect(cells).toEqual(["apple", "1.5", "banana", "0.25", "cherry", "4"]);
  await atBothWidths("sql-results");

  // Explain: the plan as a tree, and an index for the full scan filtered on name.
  await page.getByLabel("Parameters (JSON array or object, optional)").fill("");
  await sqlEditor().fill("SELECT * FROM fruits WHERE name = 'apple'");
  await page.getByRole("button", { name: "Explain" }).click();
  await expect.poll(() => page.locator("#plan").textContent()).toContain("SCAN fruits");
  expect(await page.locator("#plan pre").textContent()).toBe(
    'CREATE INDEX "idx_fruits_name" ON "fruits" ("name");',
  );
  await atBothWidths("explain");
  await sqlEditor().fill('CREATE INDEX "idx_fruits_name" ON "fruits" ("name")');
  await page.getByRole("button", { name: "Run" }).click();
  await expect.poll(() => page.locator("#result-status").textContent()).toMatch(/0 rows affected/);
  await sqlEditor().fill("SELECT * FROM fruits WHERE name = 'apple'");
  await page.getByRole("button", { name: "Explain" }).click();
  await expect
    .poll(() => page.locator("#plan").textContent())
    .toContain("USING INDEX idx_fruits_name");
  expect(await page.locator("#plan").textContent()).toContain("No index suggestions");

  // A SQL error is shown with its code.
  await sqlEditor().fill("SELEC * FROM fruits");
  await page.getByRole("button", { name: "Run" }).click();
  await expect.poll(() => page.getByRole("alert").textContent()).toContain("SQL_SYNTAX_ERROR");
  expect(await page.getByRole("alert").textContent()).toContain('near "SELEC": syntax error');
  await screenshot("sql-error");

  // Table browser: schema, rows, sorting, filters.
  await page.getByRole("link", { name: "Tables" }).click();
  await page.getByRole("link", { name: "fruits" }).click();
  await expect.poll(() => page.getByRole("table", { name: "Columns" }).isVisible()).toBe(true);
  expect(
    await page
      .getByRole("table", { name: "Columns" })
      .locator("tbody td:first-child")
      .allTextContents(),
  ).toEqual(["id", "name", "price"]);
  await expect.poll(() => page.locator("#rows-status").textContent()).toBe("Rows 1–3 of 3");
  const rowsGrid = page.getByRole("table", { name: "Rows of fruits" });
  expect(await rowsGrid.locator("tbody tr td:nth-child(2)").allTextContents()).toEqual([
    "apple",
    "banana",
    "cherry",
  ]);
  await rowsGrid.getByRole("button", { name: "price" }).click();
  await expect
    .poll(() => rowsGrid.locator("tbody tr td:nth-child(2)").allTextContents())
    .toEqual(["banana", "apple", "cherry"]);
  await rowsGrid.getByRole("button", { name: /price/ }).click();
  await expect
    .poll(() => rowsGrid.locator("tbody tr td:nth-child(2)").allTextContents())
    .toEqual(["cherry", "apple", "banana"]);
  expect(await rowsGrid.locator("th[aria-sort=descending]").textContent()).toContain("price");
  await page.getByLabel("Filter column").selectOption("price");
  await page.getByLabel("Filter operator").selectOption("gt");
  await page.getByLabel("Filter value").fill("1");
  await page.getByRole("button", { name: "Add filter" }).click();
  await expect.poll(() => page.locator("#rows-status").textContent()).toBe("Rows 1–2 of 2");
  await atBothWidths("table-browser");
  await page.getByRole("button", { name: "Remove filter price gt 1" }).click();
  await expect.poll(() => page.locator("#rows-status").textContent()).toBe("Rows 1–3 of 3");

  // Connection snippet with a fresh token, which wraps instead of overflowing.
  await page.getByRole("link", { name: "Connect" }).click();
  await page.getByLabel("Access").selectOption("read-only");
  await page.getByRole("button", { name: "Create token" }).click();
  await expect
    .poll(() => page.locator("#snippet").textContent())
    .toContain(`url: "${url}/db/console-demo/"`);
  expect(await page.locator("#snippet").textContent()).toMatch(
    /authToken: "ey[\w-]+\.[\w-]+\.[\w-]+"/,
  );
  await atBothWidths("connect", async () => {
    const snippet = await page
      .locator("#snippet")
      .evaluate((el) => el.scrollWidth - el.clientWidth);
    expect(snippet).toBeLessThanOrEqual(0);
  });

  // Usage of the database: the statements just run.
  await page
    .getByRole("navigation", { name: "Database sections" })
    .getByRole("link", { name: "Usage" })
    .click();
  await expect
    .poll(
      async () => {
        await page.reload();
        return Number(
          /(\d+) statements/.exec(
            (await page.locator("#usage-summary").textContent()) ?? "",
          )?.[1] ?? 0,
        );
      },
      { timeout: 15_000 },
    )
    .toBeGreaterThan(5);
  await atBothWidths("database-usage");

  // Delete the database (the confirmation dialog is accepted).
  await page
    .getByRole("navigation", { name: "Sections" })
    .getByRole("link", { name: "Databases" })
    .click();
  await page.getByRole("button", { name: "Delete console-demo" }).click();
  await expect.poll(() => page.getByText("Deleted console-demo.").isVisible()).toBe(true);
  await expect
    .poll(() => page.getByRole("link", { name: "console-demo" }).count(), { timeout: 10_000 })
    .toBe(0);
  await screenshot("deleted");
  expect((await stack.runtimes.node.call("GET", "/admin/databases/console-demo")).status).toBe(404);
}, 180_000);

test("keys, a scoped sign-in that sees only what it may do, usage and audit pages", async () => {
  const url = stack.runtimes.node.url;
  for (const name of ["team-a", "other-b"])
    expect(
      (await stack.runtimes.node.call("POST", "/admin/databases", { body: { name } })).status,
    ).toBe(201);
  await page.goto(`${url}/#/keys`);
  await expect.poll(() => page.getByRole("heading", { name: "API keys" }).isVisible()).toBe(true);
  await page.getByLabel("Name", { exact: true }).fill("team developer");
  await page.getByLabel("Role").selectOption("developer");
  await page.getByLabel("Databases (* or names and prefixes, comma separated)").fill("team-*");
  await page.getByRole("button", { name: "Create key" }).click();
  await expect.poll(() => page.locator("#new-key pre").textContent()).toMatch(/^dbfk_/);
  const key = ((await page.locator("#new-key pre").textContent()) ?? "").trim();
  await atBothWidths("keys", async () => {
    const overflow = await page
      .locator("#new-key pre")
      .evaluate((el) => el.scrollWidth - el.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await expectWithinViewport(page.getByRole("button", { name: "Revoke team developer" }));
  });

  // The audit log shows the key's creation by the admin token.
  await page
    .getByRole("navigation", { name: "Sections" })
    .getByRole("link", { name: "Audit" })
    .click();
  await expect.poll(() => page.locator("#audit tbody").textContent()).toContain("key.create");
  await atBothWidths("audit");

  // Usage of everything.
  await page
    .getByRole("navigation", { name: "Sections" })
    .getByRole("link", { name: "Usage" })
    .click();
  await expect.poll(() => page.locator("#usage-totals").isVisible()).toBe(true);
  await atBothWidths("usage");

  // Signed in with the developer key: its databases only, no admin pages or actions.
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByLabel("API key or admin token").fill(key);
  await page.keyboard.press("Enter");
  await expect
    .poll(() => page.getByRole("link", { name: "team-a" }).isVisible(), { timeout: 5000 })
    .toBe(true)
    .catch(async (err) => {
      // Seen failing once in a while under load: say what the page showed instead.
      console.error(
        "signed in as the developer, the page shows:",
        page.url(),
        await page.locator("body").textContent(),
      );
      throw err;
    });
  expect(await page.getByRole("link", { name: "other-b" }).count()).toBe(0);
  const nav = (await page.getByRole("navigation", { name: "Sections" }).textContent()) ?? "";
  expect(nav).toContain("developer");
  expect(nav).not.toContain("Keys");
  expect(nav).not.toContain("Audit");
  expect(await page.getByLabel("New database").count()).toBe(0);
  expect(await page.getByRole("button", { name: /^Delete/ }).count()).toBe(0);
  await page.getByRole("link", { name: "team-a" }).click();
  expect(await page.getByRole("link", { name: "Connect" }).count()).toBe(0);
  await sqlEditor().fill("SELECT 40 + 2 AS answer");
  await sqlEditor().press("Control+Enter");
  await expect.poll(() => page.locator("#results td").textContent()).toBe("42");
  await atBothWidths("developer-sql");
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByLabel("API key or admin token").fill(stack.adminToken);
  await page.keyboard.press("Enter");
  await expect.poll(() => page.getByRole("heading", { name: "Databases" }).isVisible()).toBe(true);
}, 120_000);

test("backups tab: back up now, download, restore to an instant as a new database, fork", async () => {
  const url = stack.runtimes.node.url;
  const name = "console-bk";
  const call = (path: string, body: unknown) => stack.runtimes.node.call("POST", path, { body });
  expect((await call("/admin/databases", { name })).status).toBe(201);
  await call(`/api/db/${name}/query`, { sql: "CREATE TABLE t (v)" });
  await call(`/api/db/${name}/query`, { sql: "INSERT INTO t VALUES ('kept')" });
  await page.goto(`${url}/#/db/${name}/backups`);
  const signIn = page.getByLabel("API key or admin token");
  if (await signIn.isVisible()) {
    await signIn.fill(stack.adminToken);
    await page.keyboard.press("Enter");
    await page.goto(`${url}/#/db/${name}/backups`);
  }
  await page.getByRole("button", { name: "Back up now" }).click();
  await expect.poll(() => page.getByRole("status").textContent()).toContain("taken");
  await expect
    .poll(() => page.getByRole("list", { name: "Backups" }).textContent())
    .toContain("current");
  // Download the newest backup: a SQLite file.
  const downloading = page.waitForEvent("download");
  await page
    .getByRole("button", { name: /^Download the backup of/ })
    .first()
    .click();
  const file = await (await downloading).path();
  expect(readFileSync(file).subarray(0, 16).toString("latin1")).toBe("SQLite format 3\u0000");

  // Restore to a moment after the insert into a new database; a later insert is not in it.
  await new Promise((r) => setTimeout(r, 1100));
  const moment = new Date();
  await new Promise((r) => setTimeout(r, 1100));
  await call(`/api/db/${name}/query`, { sql: "INSERT INTO t VALUES ('later')" });
  const local = new Date(moment.getTime() - moment.getTimezoneOffset() * 60_000)
    .toISOString()
    .slice(0, 19);
  await page.getByLabel("Moment (your local time)").fill(local);
  await page
    .getByLabel(`Into a new database (empty: restore ${name} in place)`)
    .fill("console-bk-then");
  await page.getByRole("button", { name: "Restore", exact: true }).last().click();
  await expect
    .poll(() => page.getByRole("status").textContent())
    .toContain("console-bk-then restored");
  const then = await call("/api/db/console-bk-then/query", { sql: "SELECT v FROM t" });
  expect(((await then.json()) as { rows: unknown[] }).rows).toEqual([{ v: "kept" }]);

  await page.getByLabel("Name of the fork").fill("console-bk-fork");
  await page.getByRole("button", { name: "Fork" }).click();
  await expect.poll(() => page.getByRole("status").textContent()).toContain("console-bk-fork");
  const fork = await call("/api/db/console-bk-fork/query", { sql: "SELECT count(*) AS n FROM t" });
  expect(((await fork.json()) as { rows: Array<{ n: number }> }).rows[0]?.n).toBe(2);
  // Export the database now, as SQL.
  const exporting = page.waitForEvent("download");
  await page.getByRole("button", { name: "Export SQL", exact: true }).click();
  const dump = readFileSync(await (await exporting).path(), "utf8");
  expect(dump).toContain("'later');");
  await atBothWidths("backups", async () => {
    await expectWithinViewport(page.getByRole("button", { name: "Back up now" }));
  });
}, 120_000);

test("the console is served by the functions on both runtimes", async () => {
  for (const runtime of Object.values(stack.runtimes)) {
    const res = await fetch(`${runtime.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/text\/html/);
    const html = await res.text();
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    const js = await fetch(`${runtime.url}${script}`);
    expect(js.headers.get("content-type")).toMatch(/javascript/);
    expect((await fetch(`${runtime.url}/assets/../../package.json`)).status).toBe(404);
  }
});

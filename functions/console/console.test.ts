/**
 * The web console in a real browser (Debian's Chromium through playwright-core) against a real
 * running stack. Screenshots go to test-artifacts/console/.
 */
import { mkdirSync } from "node:fs";
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

test("sign in, create a database, run SQL, browse the table, see errors, delete the database", async () => {
  const url = stack.runtimes.node.url;
  await page.goto(`${url}/`);

  // Sign in with the keyboard only.
  await expect.poll(() => page.getByLabel("Admin token").isVisible()).toBe(true);
  await page.keyboard.type("wrong-token");
  await page.keyboard.press("Enter");
  await expect.poll(() => page.getByRole("alert").textContent()).toContain("UNAUTHORIZED");
  await screenshot("sign-in-refused");
  await page.getByLabel("Admin token").fill(stack.adminToken);
  await page.keyboard.press("Enter");
  await expect.poll(() => page.getByRole("heading", { name: "Databases" }).isVisible()).toBe(true);

  // Create a database.
  await page.getByLabel("New database").fill("console-demo");
  await page.getByRole("button", { name: "Create" }).click();
  await expect.poll(() => page.getByRole("link", { name: "console-demo" }).isVisible()).toBe(true);
  expect(await page.getByRole("row", { name: /console-demo/ }).textContent()).toContain("running");
  await screenshot("database-created");

  // SQL editor: create a table and insert rows (Ctrl-Enter runs).
  await page.getByRole("link", { name: "console-demo" }).click();
  await expect.poll(() => page.getByLabel("SQL (Ctrl-Enter to run)").isVisible()).toBe(true);
  await page
    .getByLabel("SQL (Ctrl-Enter to run)")
    .fill(
      "CREATE TABLE fruits (id INTEGER PRIMARY KEY, name TEXT NOT NULL, price REAL);\nINSERT INTO fruits (name, price) VALUES ('apple', 1.5), ('banana', 0.25), ('cherry', 4);",
    );
  await page.getByLabel("SQL (Ctrl-Enter to run)").press("Control+Enter");
  await expect
    .poll(() => page.locator("#result-status").textContent())
    .toMatch(/2 statements · 3 rows affected · [\d.]+ ms/);

  // …and see them in the results grid, with a parameter.
  await page
    .getByLabel("SQL (Ctrl-Enter to run)")
    .fill("SELECT name, price FROM fruits WHERE price < ? ORDER BY id");
  await page.getByLabel("Parameters (JSON array or object, optional)").fill("[10]");
  await page.getByRole("button", { name: "Run" }).click();
  await expect
    .poll(() => page.locator("#result-status").textContent())
    .toMatch(/^3 rows · [\d.]+ ms$/);
  const cells = await page.locator("#results table td").allTextContents();
  expect(cells).toEqual(["apple", "1.5", "banana", "0.25", "cherry", "4"]);
  await screenshot("sql-results");

  // A SQL error is shown with its code.
  await page.getByLabel("Parameters (JSON array or object, optional)").fill("");
  await page.getByLabel("SQL (Ctrl-Enter to run)").fill("SELEC * FROM fruits");
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
  await screenshot("table-browser");
  await page.getByRole("button", { name: "Remove filter price gt 1" }).click();
  await expect.poll(() => page.locator("#rows-status").textContent()).toBe("Rows 1–3 of 3");

  // Connection snippet with a fresh token.
  await page.getByRole("link", { name: "Connect" }).click();
  await page.getByLabel("Access").selectOption("read-only");
  await page.getByRole("button", { name: "Create token" }).click();
  await expect
    .poll(() => page.locator("#snippet").textContent())
    .toContain(`url: "${url}/db/console-demo/"`);
  expect(await page.locator("#snippet").textContent()).toMatch(
    /authToken: "ey[\w-]+\.[\w-]+\.[\w-]+"/,
  );
  await screenshot("connect");

  // Phone width: nothing overflows the viewport.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.getByRole("link", { name: "SQL" }).click();
  const overflow = await page.evaluate(
    () => document.documentElement.scrollWidth - window.innerWidth,
  );
  expect(overflow).toBeLessThanOrEqual(0);
  await screenshot("phone");
  await page.setViewportSize({ width: 1280, height: 900 });

  // Delete the database (the confirmation dialog is accepted).
  await page.getByRole("link", { name: "Databases" }).click();
  await page.getByRole("button", { name: "Delete console-demo" }).click();
  await expect.poll(() => page.getByText("Deleted console-demo.").isVisible()).toBe(true);
  // The message comes first, the refreshed list right after it.
  await expect.poll(() => page.getByRole("link", { name: "console-demo" }).count()).toBe(0);
  await screenshot("deleted");
  expect((await stack.runtimes.node.call("GET", "/admin/databases/console-demo")).status).toBe(404);
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

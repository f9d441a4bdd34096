/**
 * A self-contained interactive API reference (no CDN: DB-Forge is self-hosted and may run
 * offline). It reads /openapi.json and renders every operation with a "try it" form.
 */
import { manifestPath } from "../route-table";

const OPENAPI = manifestPath("system/openapi");

export const DOCS_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>DB-Forge API reference</title>
<style>
  :root { color-scheme: light dark; --accent: #2563eb; --muted: #6b7280; --border: #d1d5db; }
  body { font: 15px/1.5 system-ui, sans-serif; margin: 0; }
  header { padding: 1rem 1.5rem; border-bottom: 1px solid var(--border); display: flex; gap: 1rem; flex-wrap: wrap; align-items: center; }
  header h1 { font-size: 1.2rem; margin: 0; flex: 1; }
  main { max-width: 60rem; margin: 0 auto; padding: 1rem 1.5rem 4rem; }
  h2 { margin-top: 2rem; border-bottom: 1px solid var(--border); }
  details { border: 1px solid var(--border); border-radius: 6px; margin: .5rem 0; }
  summary { padding: .5rem .75rem; cursor: pointer; display: flex; gap: .75rem; align-items: baseline; }
  .method { font: bold 12px monospace; padding: 2px 6px; border-radius: 4px; color: white; min-width: 3.5rem; text-align: center; }
  .GET { background: #059669 } .POST { background: #2563eb } .PATCH { background: #d97706 } .DELETE { background: #dc2626 }
  code, textarea, input, pre { font-family: ui-monospace, monospace; font-size: 13px; }
  .op { padding: 0 .75rem .75rem; }
  label { display: block; margin: .4rem 0 .1rem; color: var(--muted); }
  input, textarea { width: 100%; box-sizing: border-box; padding: .35rem; border: 1px solid var(--border); border-radius: 4px; background: transparent; color: inherit; }
  textarea { min-height: 6rem; }
  button { margin-top: .5rem; padding: .4rem 1rem; background: var(--accent); color: white; border: 0; border-radius: 4px; cursor: pointer; }
  pre { background: rgba(127,127,127,.12); padding: .6rem; border-radius: 4px; overflow: auto; max-height: 24rem; }
  .muted { color: var(--muted); }
</style>
</head>
<body>
<header>
  <h1>DB-Forge API reference</h1>
  <label for="token" style="margin:0">Bearer token</label>
  <input id="token" type="password" placeholder="admin or database token" style="max-width:22rem">
  <a href="${OPENAPI}">openapi.json</a>
</header>
<main id="main"><p class="muted">Loading ${OPENAPI}…</p></main>
<script>
const tokenInput = document.getElementById("token");
tokenInput.value = localStorage.getItem("dbforge-token") || "";
tokenInput.addEventListener("change", () => localStorage.setItem("dbforge-token", tokenInput.value));
const el = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) k === "class" ? (node.className = v) : node.setAttribute(k, v);
  for (const child of children) node.append(child);
  return node;
};
function skeleton(schema, doc, depth = 0) {
  if (!schema || depth > 4) return null;
  if (schema.$ref) return skeleton(doc.components.schemas[schema.$ref.split("/").pop()], doc, depth + 1);
  if (schema.example !== undefined) return schema.example;
  if (schema.default !== undefined) return schema.default;
  if (schema.anyOf || schema.oneOf) return skeleton((schema.anyOf || schema.oneOf)[0], doc, depth + 1);
  if (schema.enum) return schema.enum[0];
  switch (Array.isArray(schema.type) ? schema.type[0] : schema.type) {
    case "object": return Object.fromEntries(Object.entries(schema.properties || {}).filter(([k]) => (schema.required || []).includes(k)).map(([k, v]) => [k, skeleton(v, doc, depth + 1)]));
    case "array": return [];
    case "integer": case "number": return 0;
    case "boolean": return false;
    case "string": return "";
    default: return null;
  }
}
function operation(doc, path, method, op) {
  const params = (op.parameters || []).filter((p) => p.in === "path" || p.in === "query");
  const body = op.requestBody && op.requestBody.content["application/json"];
  const inputs = params.map((p) => [p, el("input", { "aria-label": p.name, placeholder: p.in === "path" ? "required" : "optional" })]);
  const bodyInput = body ? el("textarea", { "aria-label": "request body" }) : null;
  if (bodyInput) bodyInput.value = JSON.stringify(skeleton(body.schema, doc), null, 2);
  const output = el("pre", { "aria-live": "polite" });
  const send = el("button", { type: "button" }, "Send request");
  send.addEventListener("click", async () => {
    let url = path;
    const query = new URLSearchParams();
    for (const [p, input] of inputs) {
      if (p.in === "path") url = url.replace("{" + p.name + "}", encodeURIComponent(input.value));
      else if (input.value) query.set(p.name, input.value);
    }
    const headers = {};
    if (tokenInput.value) headers.Authorization = "Bearer " + tokenInput.value;
    if (bodyInput) headers["Content-Type"] = "application/json";
    output.textContent = "…";
    try {
      const res = await fetch(url + (query.size ? "?" + query : ""), { method: method.toUpperCase(), headers, body: bodyInput ? bodyInput.value : undefined });
      const text = await res.text();
      let pretty = text;
      try { pretty = JSON.stringify(JSON.parse(text), null, 2); } catch {}
      output.textContent = res.status + " " + res.statusText + "\\n\\n" + pretty;
    } catch (err) { output.textContent = String(err); }
  });
  return el("details", {},
    el("summary", {}, el("span", { class: "method " + method.toUpperCase() }, method.toUpperCase()), el("code", {}, path), el("span", { class: "muted" }, op.summary || "")),
    el("div", { class: "op" },
      op.description ? el("p", {}, op.description) : "",
      ...inputs.flatMap(([p, input]) => [el("label", {}, p.name + " (" + p.in + ")" + (p.description ? " — " + p.description : "")), input]),
      ...(bodyInput ? [el("label", {}, "JSON body"), bodyInput] : []),
      send, output));
}
fetch("${OPENAPI}").then((r) => r.json()).then((doc) => {
  const main = document.getElementById("main");
  main.replaceChildren(el("p", {}, doc.info.description || ""));
  const byTag = new Map();
  for (const [path, methods] of Object.entries(doc.paths)) for (const [method, op] of Object.entries(methods)) {
    const tag = (op.tags || ["Other"])[0];
    if (!byTag.has(tag)) byTag.set(tag, []);
    byTag.get(tag).push(operation(doc, path, method, op));
  }
  for (const [tag, ops] of byTag) main.append(el("h2", {}, tag), ...ops);
}).catch((err) => { document.getElementById("main").textContent = "Could not load ${OPENAPI}: " + err; });
</script>
</body>
</html>`;

/**
 * Sends a FuzzRequest (fetch or raw socket) and judges the answer: any 5xx is a failure except
 * the documented 503/504/507, and those only with a JSON body carrying a `code`.
 */

import { type RawTarget, sendRaw, targetOf } from "./raw-http";
import type { FuzzRequest } from "./requests";

export interface Outcome {
  /** The method as it went on the wire (fetch upper-cases the standard ones). */
  method: string;
  status?: number;
  contentType: string;
  /** Only read for 5xx answers. */
  body: string;
  timedOut: boolean;
  /** The connection ended without an answer (reset, closed). */
  error?: string;
}

/** Headers fetch would refuse or own; requests with them go on a raw socket. */
const FETCH_OWNED = new Set([
  "host",
  "content-length",
  "transfer-encoding",
  "connection",
  "upgrade",
  "expect",
]);

export async function send(base: string, req: FuzzRequest, timeoutMs: number): Promise<Outcome> {
  if (req.via === "fetch" && !req.trailing && req.framing === "length") {
    const request = fetchRequest(base, req);
    if (request) return { ...(await viaFetch(request, timeoutMs)), method: request.method };
  }
  return { ...(await viaRaw(targetOf(base), req, timeoutMs)), method: req.method };
}

function fetchRequest(base: string, req: FuzzRequest): Request | undefined {
  if (req.headers.some(([name]) => FETCH_OWNED.has(name.toLowerCase()))) return undefined;
  try {
    const headers = new Headers();
    for (const [name, value] of req.headers) headers.append(name, value);
    // Concatenated, not resolved: a target like "//x" is a path here, not another host.
    return new Request(`${base}${req.target}`, {
      method: req.method,
      headers,
      ...(req.body ? { body: req.body } : {}),
      redirect: "manual",
    });
  } catch {
    return undefined; // an invalid method, header or URL: send it raw
  }
}

async function viaFetch(request: Request, timeoutMs: number): Promise<Omit<Outcome, "method">> {
  try {
    const res = await fetch(request, { signal: AbortSignal.timeout(timeoutMs) });
    const contentType = res.headers.get("content-type") ?? "";
    const body = res.status >= 500 ? await res.text() : "";
    if (res.status < 500) await res.body?.cancel();
    return { status: res.status, contentType, body, timedOut: false };
  } catch (err) {
    const e = err as Error & { cause?: Error };
    if (e.name === "TimeoutError") return { contentType: "", body: "", timedOut: true };
    return { contentType: "", body: "", timedOut: false, error: e.cause?.message ?? e.message };
  }
}

/** The bytes of `req` on the wire. */
export function wireBytes(target: RawTarget, req: FuzzRequest): Buffer[] {
  const lines = [`${req.method} ${req.target} HTTP/1.1`];
  if (!req.headers.some(([name]) => name.toLowerCase() === "host"))
    lines.push(`Host: ${target.host}:${target.port}`);
  for (const [name, value] of req.headers) lines.push(`${name}: ${value}`);
  const body = req.body ?? Buffer.alloc(0);
  let payload: Buffer = body;
  switch (req.framing) {
    case "length":
      if (req.body) lines.push(`Content-Length: ${body.length}`);
      break;
    case "short":
      lines.push(`Content-Length: ${body.length + 100}`);
      break;
    case "long":
      lines.push(`Content-Length: ${Math.max(0, body.length - 3)}`);
      break;
    case "chunked":
      lines.push("Transfer-Encoding: chunked");
      payload = Buffer.concat([
        Buffer.from(`${body.length.toString(16)}\r\n`),
        body,
        Buffer.from("\r\n0\r\n\r\n"),
      ]);
      break;
    case "bad-chunked":
      lines.push("Transfer-Encoding: chunked");
      payload = Buffer.concat([Buffer.from("zz\r\n"), body]);
      break;
    case "both":
      lines.push(`Content-Length: ${body.length}`, "Transfer-Encoding: chunked");
      break;
    case "none":
      break;
  }
  // The server closes after answering, so the answer's end is the connection's.
  if (!req.trailing) lines.push("Connection: close");
  const head = Buffer.from(`${lines.join("\r\n")}\r\n\r\n`, "latin1");
  return [Buffer.concat([head, payload, req.trailing ?? Buffer.alloc(0)])];
}

async function viaRaw(
  target: RawTarget,
  req: FuzzRequest,
  timeoutMs: number,
): Promise<Omit<Outcome, "method">> {
  // A lying Content-Length makes the server wait for bytes that never come: that is correct,
  // so such requests get a short deadline and no answer is no failure.
  // Both Content-Length and chunked: workerd waits for chunks that never come (Node refuses).
  const mayHang = req.framing === "short" || req.framing === "both";
  const deadline = mayHang ? Math.min(timeoutMs, 1500) : timeoutMs;
  const res = await sendRaw(target, wireBytes(target, req), { timeoutMs: deadline });
  const contentType = /\r\ncontent-type:\s*([^\r\n]*)/.exec(res.head)?.[1] ?? "";
  return {
    ...(res.status !== undefined ? { status: res.status } : {}),
    contentType,
    body: res.body.toString("utf8"),
    timedOut: res.timedOut,
    ...(res.error ? { error: res.error } : {}),
  };
}

/** Methods workerd hands to a worker; it answers any other itself. */
const STANDARD_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

/**
 * Why the answer is a failure, or undefined when it is acceptable. `workerd`: the runtime is
 * workerd (Miniflare), which answers a method it does not know (BREW, lowercase `get`) with
 * 501, and CONNECT with a plain-text 500, itself, before any of our code runs. (The Node
 * host's parser answers those with 400; on Cloudflare the edge answers them.)
 */
export function judge(req: FuzzRequest, outcome: Outcome, workerd = false): string | undefined {
  const { status } = outcome;
  if (status === undefined || status < 500) return undefined;
  const runtimeOwn =
    !STANDARD_METHODS.includes(outcome.method) && !/json/.test(outcome.contentType);
  if (workerd && (status === 500 || status === 501) && runtimeOwn) return undefined;
  if ([503, 504, 507].includes(status)) {
    const hrana = new URL(req.target, "http://host").pathname.startsWith("/db/");
    const json =
      outcome.contentType.startsWith("application/problem+json") ||
      (hrana && outcome.contentType.startsWith("application/json"));
    // A HEAD answer has the headers of the GET one, and no body to check.
    if (json && outcome.method === "HEAD") return undefined;
    try {
      const code = (JSON.parse(outcome.body) as { code?: unknown }).code;
      if (json && typeof code === "string") return undefined;
    } catch {
      // not JSON: a failure
    }
  }
  return `HTTP ${status} (${outcome.contentType}): ${outcome.body.slice(0, 300)}`;
}

/** A printable, bounded description of a request, for failure reports. */
export function describeRequest(req: FuzzRequest): string {
  const clip = (s: string, n: number) =>
    JSON.stringify(s.length > n ? `${s.slice(0, n)}…(${s.length})` : s);
  const headers = req.headers.map(([n, v]) => `${n}: ${clip(v, 80)}`).slice(0, 8);
  if (req.headers.length > 8) headers.push(`…${req.headers.length - 8} more`);
  const body = req.body ? clip(req.body.toString("latin1"), 200) : "none";
  return `${req.via} ${clip(req.method, 20)} ${clip(req.target, 200)} framing=${req.framing} headers=[${headers.join("; ")}] body=${body}`;
}

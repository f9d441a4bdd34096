import { readFile } from "node:fs/promises";
import { extname, join, normalize, resolve } from "node:path";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json",
  ".map": "application/json",
};

/**
 * A Workers-style ASSETS binding over a directory, for hosts that are not Cloudflare (the Node
 * host, Miniflare in tests): `fetch(request)` answers with the file at the request's path,
 * index.html for the root. Paths cannot leave the directory.
 */
export function directoryAssets(directory: string): { fetch(request: Request): Promise<Response> } {
  const root = resolve(directory);
  return {
    async fetch(request: Request): Promise<Response> {
      const pathname = decodePath(new URL(request.url).pathname);
      // No file has a name that does not decode, or a NUL byte in it.
      if (pathname === undefined || pathname.includes("\0"))
        return new Response("Not found", { status: 404 });
      const relative =
        pathname === "/" ? "index.html" : normalize(pathname).replace(/^([/\\])+/, "");
      const file = join(root, relative);
      if (!file.startsWith(`${root}/`)) return new Response("Not found", { status: 404 });
      try {
        const body = await readFile(file);
        const immutable = relative.startsWith("assets/");
        return new Response(body, {
          headers: {
            "Content-Type": TYPES[extname(file)] ?? "application/octet-stream",
            "Cache-Control": immutable ? "public, max-age=31536000, immutable" : "no-cache",
          },
        });
      } catch {
        return new Response("Not found", { status: 404 });
      }
    },
  };
}

/** The percent-decoded path, or undefined when it is not valid percent-encoded UTF-8. */
function decodePath(pathname: string): string | undefined {
  try {
    return decodeURIComponent(pathname);
  } catch {
    return undefined;
  }
}

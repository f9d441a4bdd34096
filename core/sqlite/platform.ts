import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

export const requireHere = createRequire(import.meta.url);

/** Linux with musl libc (Alpine) rather than glibc. */
export function isMusl(): boolean {
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } };
  return !report?.header?.glibcVersionRuntime;
}

/** The version in a package's package.json, found next to its entry point (not every package exports it). */
export function packageVersion(name: string): string {
  let dir = dirname(requireHere.resolve(name));
  for (let i = 0; i < 4; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as {
        name?: string;
        version?: string;
      };
      if (pkg.version) return pkg.version;
    } catch {
      // not here
    }
    dir = dirname(dir);
  }
  return "unknown";
}

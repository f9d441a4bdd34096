// Builds the worker image from local files, for the host's architecture: the host's node binary
// and the libraries `ldd` lists for it and for the libsql addons, the bundled worker and the
// libsql packages. No base image is pulled (FROM scratch), so this works without any registry.
//
//   node workers-image/build-image.mjs [tag]     (default tag: dbforge-worker:latest)
//   node workers-image/build-image.mjs --packages-into DIR
//                                                (only copy the engines' packages into DIR, a
//                                                node_modules; Dockerfile.node uses it)
import { execFileSync } from "node:child_process";
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

export const DEFAULT_TAG = "dbforge-worker:latest";

const root = join(import.meta.dirname, "..");

/** Absolute paths of the shared libraries `binary` loads, the dynamic loader included. */
function sharedLibraries(binary) {
  const out = execFileSync("ldd", [binary], { encoding: "utf8" });
  return [...out.matchAll(/(\/\S+\.so[^\s]*)/g)].map((m) => m[1]);
}

/** The installed directory of a package (undefined when it is not installed, e.g. another platform's). */
function packageDir(name) {
  const dir = join(root, "node_modules", name);
  try {
    readdirSync(dir);
    return dir;
  } catch {
    return undefined;
  }
}

/**
 * The packages the worker bundle loads at run time (core/sqlite), as installed on this machine:
 * the pre-release's native build where it is published for this architecture, and the stable
 * binding with its loader and its native build. Names relative to node_modules.
 */
export function enginePackages() {
  // The native builds for this machine's cpu and C library (the image reuses the host's node).
  const glibc = Boolean(process.report.getReport().header.glibcVersionRuntime);
  const abi = `${glibc ? "gnu" : "musl"}${process.arch === "arm" ? "eabihf" : ""}`;
  return [
    `libsql-linux-${process.arch}-${abi}`,
    "libsql-stable",
    "@neon-rs/load",
    "detect-libc",
    `@libsql/linux-${process.arch}-${abi}`,
  ].filter(packageDir);
}

/** Copies the engines' packages (files, not symlinks) into the node_modules directory `into`. */
export function copyEnginePackages(into) {
  for (const name of enginePackages()) {
    mkdirSync(dirname(join(into, name)), { recursive: true });
    cpSync(packageDir(name), join(into, name), { dereference: true, recursive: true });
  }
}

export function buildImage(tag = DEFAULT_TAG) {
  execFileSync(process.execPath, [join(root, "build.mjs"), "worker"], {
    cwd: root,
    stdio: "inherit",
  });
  const context = mkdtempSync(join(tmpdir(), "dbforge-image-"));
  try {
    const rootfs = join(context, "rootfs");
    const copy = (from, to = from) => {
      mkdirSync(dirname(join(rootfs, to)), { recursive: true });
      // dereference: the image gets the library files themselves, not host symlinks.
      cpSync(from, join(rootfs, to), { dereference: true, recursive: true });
    };
    const packages = enginePackages().map(packageDir);
    const addons = packages.flatMap((dir) =>
      readdirSync(dir)
        .filter((f) => f.endsWith(".node"))
        .map((f) => join(dir, f)),
    );
    copy(process.execPath, "/usr/local/bin/node");
    const libraries = [process.execPath, ...addons].flatMap(sharedLibraries);
    for (const lib of new Set(libraries)) copy(lib);
    copy(join(root, "dist/worker/worker.cjs"), "/app/worker.cjs");
    copyEnginePackages(join(rootfs, "app/node_modules"));
    mkdirSync(join(rootfs, "tmp"), { recursive: true });
    chmodSync(join(rootfs, "tmp"), 0o1777); // SQLite may put temporary files there
    mkdirSync(join(context, "data"));
    cpSync(join(import.meta.dirname, "Dockerfile"), join(context, "Dockerfile"));
    // The classic builder: BuildKit may be missing, and FROM scratch needs nothing it adds.
    execFileSync("docker", ["build", "--quiet", "-t", tag, context], {
      stdio: ["ignore", "ignore", "inherit"],
      env: { ...process.env, DOCKER_BUILDKIT: "0" },
    });
    return tag;
  } finally {
    rmSync(context, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  if (process.argv[2] === "--packages-into") {
    copyEnginePackages(process.argv[3]);
  } else {
    const tag = buildImage(process.argv[2]);
    console.log(`built ${tag}`);
  }
}

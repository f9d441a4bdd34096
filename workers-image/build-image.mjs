// Builds the worker image from local files: the host's node binary and the libraries `ldd`
// lists for it and for the libsql addon, the bundled worker and the libsql package. No base
// image is pulled (FROM scratch), so this works without any registry.
//
//   node workers-image/build-image.mjs [tag]     (default tag: dbforge-worker:latest)
import { execFileSync } from "node:child_process";
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

export const DEFAULT_TAG = "dbforge-worker:latest";

const root = join(import.meta.dirname, "..");
const require = createRequire(join(root, "package.json"));

/** Absolute paths of the shared libraries `binary` loads, the dynamic loader included. */
function sharedLibraries(binary) {
  const out = execFileSync("ldd", [binary], { encoding: "utf8" });
  return [...out.matchAll(/(\/\S+\.so[^\s]*)/g)].map((m) => m[1]);
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
    const libsqlDir = dirname(require.resolve("libsql"));
    const nativeDir = dirname(require.resolve(`libsql-linux-${process.arch}-gnu/package.json`));
    const addon = join(
      nativeDir,
      readdirSync(nativeDir).find((f) => f.endsWith(".node")),
    );
    copy(process.execPath, "/usr/local/bin/node");
    for (const lib of new Set([...sharedLibraries(process.execPath), ...sharedLibraries(addon)]))
      copy(lib);
    copy(join(root, "dist/worker/worker.mjs"), "/app/worker.mjs");
    copy(libsqlDir, "/app/node_modules/libsql");
    copy(nativeDir, `/app/node_modules/${nativeDir.split("/").at(-1)}`);
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
  const tag = buildImage(process.argv[2]);
  console.log(`built ${tag}`);
}

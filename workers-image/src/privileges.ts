/**
 * Started as root by a control plane that isolates databases by uid, the worker gives up root
 * before it opens the database or accepts a connection: from then on it runs as its
 * database's own unprivileged user, which can read nothing but that database's directory. Its
 * code and the engine are already loaded, so the service's files need not be readable by it.
 */
export function dropPrivileges(target: { uid: number; gid: number } | undefined): void {
  // Files the engine creates (WAL, shared memory, temporary files) are private either way.
  process.umask(0o077);
  if (!target) return;
  const current = process.getuid?.();
  if (current === target.uid) return;
  if (current !== 0 || !process.setuid || !process.setgid || !process.setgroups) {
    throw new Error(
      `cannot run as uid ${target.uid}: the worker was not started as root (uid ${current})`,
    );
  }
  process.setgroups([target.gid]);
  process.setgid(target.gid);
  process.setuid(target.uid);
  // setuid from root to a non-root uid drops every privilege for good: prove it.
  let regained = false;
  try {
    process.setuid(0);
    regained = true;
  } catch {
    // expected
  }
  if (regained) throw new Error("the worker could switch back to root after dropping it");
}

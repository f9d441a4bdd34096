/**
 * The SQL surface a tenant may use (./sql-surface.json), as lookups. Deny by default: a name
 * that is not allowed here is refused, whether the data file denies it by name or has never
 * heard of it.
 */
import surface from "./sql-surface.json" with { type: "json" };

export type PragmaClass = "info" | "setting" | "persistent" | "action" | "managed" | "internal";

const PRAGMA_CLASSES: ReadonlyArray<Exclude<PragmaClass, "internal">> = [
  "info",
  "setting",
  "persistent",
  "action",
  "managed",
];

/** Functions a tenant may call, by category (for documentation and the classification test). */
export const ALLOWED_FUNCTIONS: ReadonlySet<string> = new Set(
  Object.values(surface.functions.allow).flat(),
);

/** Functions refused on purpose, with the reason shown in the error. */
export const DENIED_FUNCTIONS: ReadonlyMap<string, string> = new Map(
  Object.entries(surface.functions.deny),
);

/** Modules `CREATE VIRTUAL TABLE … USING` may name. */
export const CREATABLE_MODULES: ReadonlySet<string> = new Set(surface.modules.create);

/** Modules a query may read (table-valued functions and eponymous tables), besides creatable ones. */
export const READABLE_MODULES: ReadonlySet<string> = new Set([
  ...surface.modules.create,
  ...surface.modules.read,
]);

export const DENIED_MODULES: ReadonlyMap<string, string> = new Map(
  Object.entries(surface.modules.deny),
);

const pragmaClasses = new Map<string, PragmaClass>();
for (const cls of PRAGMA_CLASSES) {
  for (const name of surface.pragmas[cls]) pragmaClasses.set(name, cls);
}
for (const name of Object.keys(surface.pragmas.internal)) pragmaClasses.set(name, "internal");

/** The class of a pragma (any case), or undefined for one that is not classified (refused). */
export function pragmaClass(name: string): PragmaClass | undefined {
  return pragmaClasses.get(name.toLowerCase());
}

/** Pragmas only the server may use, not even to read them. */
export const INTERNAL_PRAGMAS: ReadonlySet<string> = new Set(Object.keys(surface.pragmas.internal));

/** Every classified pragma, for the classification test. */
export const CLASSIFIED_PRAGMAS: ReadonlySet<string> = new Set(pragmaClasses.keys());

/** Pragmas a client may name at all (reading or, depending on the class, setting). */
export const USABLE_PRAGMAS: ReadonlySet<string> = new Set(
  [...pragmaClasses].filter(([, cls]) => cls !== "internal").map(([name]) => name),
);

/** Why a function, module or pragma is refused, for the error message. */
export function refusalReason(kind: "function" | "module" | "pragma", name: string): string {
  const key = name.toLowerCase();
  const reason =
    kind === "function"
      ? DENIED_FUNCTIONS.get(key)
      : kind === "module"
        ? DENIED_MODULES.get(key)
        : (surface.pragmas.internal as Record<string, string>)[key];
  return reason ?? "it is not on DB-Forge's list of allowed SQL features";
}

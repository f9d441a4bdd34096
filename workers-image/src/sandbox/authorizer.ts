/**
 * The worker's SQLite authorizer, built from the SQL surface (./surface.ts). SQLite asks it at
 * prepare time about every function call, pragma, virtual table, ATTACH and table read, also
 * for the statements views and triggers expand to. Deny by default: functions, pragmas and
 * `CREATE VIRTUAL TABLE` modules must be on the allow-lists; every module the engine has that is
 * not readable is refused by name in reads and writes (a table-valued function such as
 * `fsdir('/')` is a read of the eponymous table `fsdir`).
 */
import {
  Action,
  Authorization,
  type AuthorizerConfig,
  type AuthorizerRule,
} from "../../../core/sqlite";
import type { ScreenLists } from "./screen";
import {
  ALLOWED_FUNCTIONS,
  CREATABLE_MODULES,
  DENIED_MODULES,
  INTERNAL_PRAGMAS,
  READABLE_MODULES,
  USABLE_PRAGMAS,
} from "./surface";

/**
 * What the engine itself reports (pragma_module_list, pragma_function_list), so a module or
 * function an engine upgrade adds is refused until it is classified.
 */
export interface EngineSurface {
  modules: string[];
  functions: string[];
  /** Whether the engine applies the authorizer; where it does not, the screen is the SQL layer. */
  authorizes: boolean;
}

export interface Sandbox extends ScreenLists {
  authorizer: AuthorizerConfig;
  /** Screen statements before SQLite prepares them (./screen.ts): engines without an authorizer. */
  screens: boolean;
}

export function buildSandbox(engine: EngineSurface): Sandbox {
  const unreadable = new Set([...DENIED_MODULES.keys()]);
  for (const name of engine.modules) if (!READABLE_MODULES.has(name)) unreadable.add(name);
  // Pragmas also exist as eponymous tables (pragma_table_info); the ones a client may not use
  // must not be reachable that way either.
  const hiddenPragmaTables = [...INTERNAL_PRAGMAS].map((name) => `pragma_${name}`);
  const rules: AuthorizerRule[] = [
    // Plain VACUUM attaches a temporary database named ""; VACUUM INTO and ATTACH are refused.
    { action: Action.ATTACH, entity: "", policy: Authorization.ALLOW },
    { action: Action.ATTACH, policy: Authorization.DENY },
    { action: Action.FUNCTION, entity: anyOf(ALLOWED_FUNCTIONS), policy: Authorization.ALLOW },
    { action: Action.FUNCTION, policy: Authorization.DENY },
    { action: Action.PRAGMA, entity: anyOf(USABLE_PRAGMAS), policy: Authorization.ALLOW },
    { action: Action.PRAGMA, policy: Authorization.DENY },
    { action: Action.CREATE_VTABLE, entity: anyOf(CREATABLE_MODULES), policy: Authorization.ALLOW },
    { action: Action.CREATE_VTABLE, policy: Authorization.DENY },
    {
      action: [Action.READ, Action.INSERT, Action.UPDATE, Action.DELETE],
      table: anyOf([...unreadable, ...hiddenPragmaTables]),
      policy: Authorization.DENY,
    },
  ];
  return {
    authorizer: { rules, defaultPolicy: Authorization.ALLOW },
    screens: !engine.authorizes,
    unreadableModules: new Set([...unreadable, ...hiddenPragmaTables]),
    refusedFunctions: new Set(
      engine.functions.map((f) => f.toLowerCase()).filter((f) => !ALLOWED_FUNCTIONS.has(f)),
    ),
  };
}

/**
 * A glob matching any of `names` in any letter case. SQLite hands the authorizer pragma and
 * module names as the client wrote them (`PRAGMA FOREIGN_KEYS`), and the binding matches
 * case-sensitively.
 */
export function anyOf(names: Iterable<string>): { glob: string } {
  const alternatives = [...names].map((name) =>
    [...name]
      .map((c) => (/[a-z]/i.test(c) ? `[${c.toLowerCase()}${c.toUpperCase()}]` : c))
      .join(""),
  );
  return { glob: `{${alternatives.join(",")}}` };
}

/**
 * The libSQL engine the suites run on. CI runs the worker suites twice: on the automatic choice
 * and with `DBFORGE_ENGINE=stable` (vitest.config.ts, project "stable-engine"). Every process a
 * test starts inherits the choice; in-process tests select it the same way.
 */
import { type Engine, type EngineChoice, selectEngine } from "../core/sqlite/index";

export const TEST_ENGINE = (process.env.DBFORGE_ENGINE ?? "auto") as EngineChoice;

/** The environment that hands the engine choice to a started worker or control plane. */
export const engineEnv: Record<string, string> = { DBFORGE_ENGINE: TEST_ENGINE };

/** Selects the suite's engine in this process (for tests that open the engine directly). */
export function testEngine(): Engine {
  return selectEngine(TEST_ENGINE);
}

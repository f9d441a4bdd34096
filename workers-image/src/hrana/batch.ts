import type { BatchCond } from "./proto";

/**
 * Evaluates a batch step condition. `succeeded[i]` is true when step i ran without error; like
 * sqld, a skipped step counts as not succeeded, so `error` is true for it too. Step references
 * were checked against the step index when the batch was decoded.
 */
export function evalCond(cond: BatchCond, succeeded: boolean[], isAutocommit: boolean): boolean {
  switch (cond.type) {
    case "ok":
      return succeeded[cond.step] === true;
    case "error":
      return succeeded[cond.step] !== true;
    case "not":
      return !evalCond(cond.cond, succeeded, isAutocommit);
    case "and":
      return cond.conds.every((c) => evalCond(c, succeeded, isAutocommit));
    case "or":
      return cond.conds.some((c) => evalCond(c, succeeded, isAutocommit));
    case "is_autocommit":
      return isAutocommit;
  }
}

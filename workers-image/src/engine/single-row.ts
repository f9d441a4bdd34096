/**
 * Whether a query returns at most one row, read from its bytecode (`EXPLAIN`): such a query is
 * run with the binding's one-row call (`get`), which costs a fraction of a row iterator (a
 * point select by primary key spends more time creating the iterator than in SQLite).
 *
 * Deny by default, because a wrong "yes" would drop rows: the program must consist only of the
 * opcodes below, hold exactly one ResultRow, and never jump backwards, except for the
 * trampoline every program has (Init jumps to the transaction set-up at the end, whose Goto
 * returns to address 1, once; the body never jumps into that block). Without a backward jump
 * nothing runs twice, so ResultRow runs at most once. Anything else (loops, coroutines, subroutines, sorters, an opcode a future SQLite
 * adds) is "maybe more", and the query is iterated as before.
 */

/** Opcodes that never jump. */
const STRAIGHT = new Set([
  "Halt",
  "Transaction",
  "TableLock",
  "OpenRead",
  "Variable",
  "Integer",
  "Int64",
  "Real",
  "String8",
  "Null",
  "Rowid",
  "Column",
  "RealAffinity",
  "Affinity",
  "Copy",
  "SCopy",
  "ResultRow",
]);

/** Opcodes whose only jump is to P2 (0: no jump). */
const JUMP_TO_P2 = new Set([
  "Init",
  "Goto",
  "SeekRowid",
  "NotExists",
  "MustBeInt",
  "IsNull",
  "NotNull",
  "Once",
]);

export interface Instruction {
  addr: number;
  opcode: string;
  p2: number;
}

export function atMostOneRow(program: Instruction[]): boolean {
  const init = program[0];
  if (init?.opcode !== "Init") return false;
  let resultRows = 0;
  for (const { addr, opcode, p2 } of program) {
    if (opcode === "ResultRow") {
      // Once, and in the body, not in the set-up block Init jumps to.
      if (++resultRows > 1 || addr >= init.p2) return false;
    }
    if (STRAIGHT.has(opcode)) continue;
    if (!JUMP_TO_P2.has(opcode)) return false;
    if (p2 === 0 || addr === 0) continue;
    // The trampoline back to the body, from the set-up block; nothing else jumps back, and
    // the body never jumps into the set-up block (that would run the trampoline again).
    const trampoline = opcode === "Goto" && p2 === 1 && addr >= init.p2;
    if (!trampoline && (p2 <= addr || (addr < init.p2 && p2 >= init.p2))) return false;
  }
  return resultRows === 1;
}

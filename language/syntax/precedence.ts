// Operator binding strength (LANGUAGE §4), loosest first: if/then/else (0), `or`, `and`, prefix `not`,
// comparison, `with`, `??`, `+ -`, `* / %`. One table for the parser, the printer and the formatter.
import type { BinaryOp } from './ast.js';

export const BINARY_PRECEDENCE: Readonly<Record<BinaryOp, number>> = {
  or: 1,
  and: 2,
  '==': 4,
  '!=': 4,
  '<': 4,
  '<=': 4,
  '>': 4,
  '>=': 4,
  in: 4,
  'not in': 4,
  matches: 4,
  with: 5,
  '??': 6,
  '+': 7,
  '-': 7,
  '*': 8,
  '/': 8,
  '%': 8,
};

/** The prefix `not` binds looser than comparison and tighter than `and`: its operand is parsed at this level. */
export const NOT_PRECEDENCE = 4;

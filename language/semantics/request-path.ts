// Request paths written in a policy (`redact messages[-1].text`): what the checker accepts and what
// lowering turns into the runtime's path (language/runtime/transforms.ts reads a negative index from
// the end of the list).

import type * as A from '../syntax/ast.js';

/** A constant list index of a request path: a number, or a negative one (`messages[-1]` counts from
 *  the end). Undefined for anything else. */
export function constIndex(e: A.Expr): number | undefined {
  if (e.kind === 'Number') return e.value;
  if (e.kind === 'Unary' && e.op === '-' && e.operand?.kind === 'Number') return -e.operand.value;
  return undefined;
}

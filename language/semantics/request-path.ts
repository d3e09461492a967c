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

/** Whether `e` is a path into the request: an input field or `input`, then `.field`s and constant
 *  `[index]`es (what `redact` can address in the request it rewrites). */
export function requestPath(e: A.Expr, kindOf: (name: string) => string | undefined): boolean {
  switch (e.kind) {
    case 'NameRef': {
      const k = kindOf(e.name.text);
      return k === 'input-field' || k === 'input';
    }
    case 'Member':
      return e.property !== undefined && requestPath(e.object, kindOf);
    case 'Index':
      return e.index !== undefined && (constIndex(e.index) !== undefined || (e.index.kind === 'String' && e.index.parts.every((p) => p.kind === 'Text'))) && requestPath(e.object, kindOf);
    default:
      return false;
  }
}

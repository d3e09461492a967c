// Constant folding for lint rules: the value of an expression when it does not depend on the
// request (literals, operators over literals, and `let`s whose values fold). Undefined = unknown.

import type * as A from '../syntax/ast.js';
import type { CheckedProgram } from '../semantics/program.js';

export type Const = boolean | number | string | null;

export function fold(e: A.Expr | undefined, program: CheckedProgram, seen: Set<A.Decl> = new Set()): Const | undefined {
  if (!e) return undefined;
  switch (e.kind) {
    case 'Bool':
      return e.value;
    case 'Number':
    case 'Percent':
      return e.value;
    case 'Money':
      return e.micros;
    case 'Duration':
      return e.ms;
    case 'Null':
      return null;
    case 'String':
      return e.parts.every((p) => p.kind === 'Text') ? e.parts.map((p) => (p.kind === 'Text' ? p.value : '')).join('') : undefined;
    case 'Paren':
      return fold(e.expr, program, seen);
    case 'NameRef': {
      const sym = program.refs.get(e.name);
      if (!sym || sym.kind !== 'let' || seen.has(sym.decl)) return undefined;
      seen.add(sym.decl);
      const v = fold(sym.decl.value, program, seen);
      seen.delete(sym.decl);
      return v;
    }
    case 'Unary': {
      const v = fold(e.operand, program, seen);
      if (e.op === 'not') return typeof v === 'boolean' ? !v : undefined;
      return typeof v === 'number' ? -v : undefined;
    }
    case 'If': {
      const c = fold(e.cond, program, seen);
      if (typeof c !== 'boolean') return undefined;
      return fold(c ? e.then : e.else, program, seen);
    }
    case 'Binary':
      return binary(e, program, seen);
    default:
      return undefined;
  }
}

function binary(e: A.BinaryExpr, program: CheckedProgram, seen: Set<A.Decl>): Const | undefined {
  const l = fold(e.left, program, seen);
  if (e.op === 'and') {
    if (l === false) return false;
    const r = fold(e.right, program, seen);
    if (r === false) return false;
    return l === true && r === true ? true : undefined;
  }
  if (e.op === 'or') {
    if (l === true) return true;
    const r = fold(e.right, program, seen);
    if (r === true) return true;
    return l === false && r === false ? false : undefined;
  }
  if (l === undefined) return undefined;
  if (e.op === '??') return l !== null ? l : fold(e.right, program, seen);
  const r = fold(e.right, program, seen);
  if (r === undefined) return undefined;
  switch (e.op) {
    case '==':
      return l === r;
    case '!=':
      return l !== r;
    case '<':
    case '<=':
    case '>':
    case '>=': {
      if (l === null || r === null) return false; // comparisons with null are false
      if (typeof l !== typeof r || typeof l === 'boolean') return undefined;
      return e.op === '<' ? l < r : e.op === '<=' ? l <= r : e.op === '>' ? l > r : l >= r;
    }
    case '+':
    case '-':
    case '*':
    case '/':
    case '%': {
      if (typeof l !== 'number' || typeof r !== 'number') return undefined;
      if ((e.op === '/' || e.op === '%') && r === 0) return undefined;
      const v = e.op === '+' ? l + r : e.op === '-' ? l - r : e.op === '*' ? l * r : e.op === '/' ? l / r : l % r;
      return Number.isFinite(v) ? v : undefined;
    }
    default:
      return undefined;
  }
}

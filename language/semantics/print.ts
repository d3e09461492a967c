// A canonical one-line rendering of expressions: used in diagnostic messages and to compare
// conditions (REIN303). Parentheses are re-derived from precedence, so `(a) and b` and
// `a and b` print the same.

import type * as A from '../syntax/ast.js';
import { BINARY_PRECEDENCE } from '../syntax/precedence.js';

const PREC = BINARY_PRECEDENCE;

function prec(e: A.Expr): number {
  switch (e.kind) {
    case 'If':
    case 'Lambda':
      return 0;
    case 'Binary':
      return PREC[e.op];
    case 'Unary':
      return e.op === 'not' ? 3 : 9;
    case 'Paren':
      return e.expr ? prec(e.expr) : 11;
    default:
      return 11;
  }
}

function wrap(e: A.Expr | undefined, min: number): string {
  if (!e) return '…';
  const s = printExpr(e);
  return prec(e) < min ? `(${s})` : s;
}

export function printString(s: A.StringLit): string {
  let out = '"';
  for (const p of s.parts) {
    if (p.kind === 'Text') out += JSON.stringify(p.value).slice(1, -1).replace(/\$\{/g, '\\${');
    else out += '${' + (p.expr ? printExpr(p.expr) : '') + '}';
  }
  return out + '"';
}

export function printExpr(e: A.Expr): string {
  switch (e.kind) {
    case 'Number':
    case 'Money':
    case 'Duration':
    case 'Percent':
      return e.raw;
    case 'String':
      return printString(e);
    case 'Bool':
      return String(e.value);
    case 'Null':
      return 'null';
    case 'List':
      return `[${e.items.map(printExpr).join(', ')}]`;
    case 'Object':
      if (e.entries.length === 0) return '{}';
      return `{ ${e.entries
        .map((en) => `${en.key.kind === 'Name' ? en.key.text : printString(en.key)}: ${en.value ? printExpr(en.value) : '…'}`)
        .join(', ')} }`;
    case 'NameRef':
      return e.name.text;
    case 'Member':
      return `${wrap(e.object, 10)}.${e.property?.text ?? ''}`;
    case 'Index':
      return `${wrap(e.object, 10)}[${e.index ? printExpr(e.index) : ''}]`;
    case 'Call':
      return `${wrap(e.callee, 10)}(${e.args.map(printExpr).join(', ')})`;
    case 'Lambda':
      return `${e.params.length === 1 ? e.params[0].text : `(${e.params.map((p) => p.text).join(', ')})`} => ${e.body ? printExpr(e.body) : '…'}`;
    case 'Unary':
      return e.op === 'not' ? `not ${wrap(e.operand, 3)}` : `-${wrap(e.operand, 9)}`;
    case 'Binary': {
      const p = PREC[e.op];
      // comparisons do not chain; left-associative operators keep a same-precedence left operand bare
      const leftMin = p === 4 ? 5 : p;
      return `${wrap(e.left, leftMin)} ${e.op} ${wrap(e.right, p + 1)}`;
    }
    case 'If':
      return `if ${e.cond ? printExpr(e.cond) : '…'} then ${e.then ? printExpr(e.then) : '…'} else ${e.else ? printExpr(e.else) : '…'}`;
    case 'Paren':
      return e.expr ? printExpr(e.expr) : '()';
    case 'Error':
      return '…';
  }
}

/** Shorten long renderings for messages. */
export function brief(e: A.Expr, max = 40): string {
  const s = printExpr(e);
  return s.length > max ? s.slice(0, max - 1) + '…' : s;
}

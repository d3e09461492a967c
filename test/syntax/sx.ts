// A compact S-expression rendering of AST nodes, so tests can state the interesting shape in one
// line: `(and (== (. action kind) "tool_call") (in (. action tool) blocked))`. `_` is a missing node.

import type { Diagnostic } from '../../language/diagnostics.js';
import type { ParseResult } from '../../language/syntax/ast.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function sx(n: any): string {
  if (n === undefined) return '_';
  if (Array.isArray(n)) return '[' + n.map(sx).join(' ') + ']';
  switch (n.kind) {
    case 'Name': return n.text;
    case 'NameRef': return n.name.text;
    case 'Number': case 'Money': case 'Duration': case 'Percent': return n.raw;
    case 'String': return JSON.stringify(n.parts.map((p: { kind: string; value?: string; expr?: unknown }) => p.kind === 'Text' ? p.value : '${' + sx(p.expr) + '}').join(''));
    case 'Bool': return String(n.value);
    case 'Null': return 'null';
    case 'Binary': return `(${n.op} ${sx(n.left)} ${sx(n.right)})`;
    case 'Unary': return `(${n.op} ${sx(n.operand)})`;
    case 'Member': return `(. ${sx(n.object)} ${sx(n.property)})`;
    case 'Index': return `([] ${sx(n.object)} ${sx(n.index)})`;
    case 'Call': return `(call ${sx(n.callee)} ${n.args.map(sx).join(' ')})`;
    case 'Lambda': return `(=> ${sx(n.params)} ${sx(n.body)})`;
    case 'If': return `(if ${sx(n.cond)} ${sx(n.then)} ${sx(n.else)})`;
    case 'Paren': return `(paren ${sx(n.expr)})`;
    case 'List': return `(list ${n.items.map(sx).join(' ')})`;
    case 'Object': return `{${n.entries.map((e: { key: unknown; value: unknown }) => sx(e.key) + ':' + sx(e.value)).join(' ')}}`;
    default: {
      const parts = Object.entries(n).filter(([k, v]) => k !== 'kind' && k !== 'range' && k !== 'opRange' && k !== 'effectRange' && v !== undefined && !(Array.isArray(v) && v.length === 0)).map(([k, v]) => k + '=' + (typeof v === 'object' ? sx(v) : String(v)));
      return `(${n.kind ?? ''} ${parts.join(' ')})`;
    }
  }
}

/** `CODE line:col-line:col message` for each diagnostic (0-based positions). */
export function diags(r: ParseResult | Diagnostic[]): string[] {
  const list = Array.isArray(r) ? r : r.diagnostics;
  return list.map((d) => `${d.code} ${d.range.start.line}:${d.range.start.character}-${d.range.end.line}:${d.range.end.character} ${d.message}`);
}

/** The source text a diagnostic covers. */
export function covered(src: string, d: Diagnostic): string {
  return src.slice(d.range.start.offset, d.range.end.offset);
}

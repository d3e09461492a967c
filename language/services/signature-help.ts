// Signature help for defs, globals, list/string methods and detectors.

import type * as A from '../syntax/ast.js';
import { stripNull, typeToString } from '../semantics/types.js';
import type { Analysis } from './policy-set.js';
import type { SignatureHelp } from './types.js';
import { exprsEndingAt, type AnyNode } from './locate.js';
import { typeOfExpr } from './expr-types.js';
import { findGlobal, findDetector, LIST_METHODS, MAP_METHODS, STRING_METHODS, type BuiltinDoc } from './builtin-docs.js';

/** The unmatched `(` before the offset on the way back, and the number of top-level commas after it. */
function openCall(text: string, offset: number): { paren: number; commas: number } | undefined {
  let depth = 0;
  let commas = 0;
  for (let i = offset - 1; i >= 0; i--) {
    const c = text[i];
    if (c === '"') {
      // Skip back over a string literal.
      let j = i - 1;
      while (j >= 0 && !(text[j] === '"' && text[j - 1] !== '\\')) j--;
      i = j;
      continue;
    }
    if (c === ')' || c === ']' || c === '}') depth++;
    else if (c === '(' || c === '[' || c === '{') {
      if (depth === 0) return c === '(' ? { paren: i, commas } : undefined;
      depth--;
    } else if (c === ',' && depth === 0) commas++;
    else if (c === '\n' && depth === 0 && /^\s*(when|unless|deny|warn|allow|require|limit|charge|by|given|expect|rule|budget|test|let|def)\b/.test(text.slice(i + 1))) return undefined;
  }
  return undefined;
}

function fromBuiltin(b: BuiltinDoc, active: number, label = b.signature): SignatureHelp {
  return { label, doc: b.doc, params: b.params.map((p) => ({ label: p.name, doc: p.doc })), activeParameter: Math.min(active, Math.max(0, b.params.length - 1)) };
}

export function signatureHelp(analysis: Analysis, file: string, offset: number): SignatureHelp | undefined {
  const src = analysis.sources.get(file);
  if (!src) return undefined;
  const call = openCall(src.text, offset);
  if (!call) return undefined;
  const program = analysis.result.program;
  const callees = exprsEndingAt(src.parsed.ast as unknown as AnyNode, call.paren);
  for (const n of callees) {
    const e = n as unknown as A.Expr;
    if (e.kind === 'NameRef') {
      const s = program.symbols.get(e.name.text);
      if (s?.kind === 'def' || s?.kind === 'extern') {
        const d = s.decl;
        const params = d.params.map((p) => {
          const t = s.type.kind === 'function' ? s.type.params[d.params.indexOf(p)] : undefined;
          return { label: `${p.name.text}: ${t ? typeToString(t) : p.type ? src.text.slice(p.type.range.start.offset, p.type.range.end.offset) : 'any'}` };
        });
        const result = s.type.kind === 'function' ? typeToString(s.type.result) : '?';
        return { label: `${s.kind === 'extern' ? 'extern ' : ''}${s.name}(${params.map((p) => p.label).join(', ')}): ${result}`, doc: d.doc, params, activeParameter: Math.min(call.commas, Math.max(0, params.length - 1)) };
      }
      const g = findGlobal(e.name.text);
      if (g) return fromBuiltin(g, call.commas);
      continue;
    }
    if (e.kind === 'Member' && e.property) {
      if (e.object.kind === 'NameRef' && (e.object.name.text === 'pii' || e.object.name.text === 'secrets')) {
        const d = findDetector(e.object.name.text, e.property.text);
        if (d) return fromBuiltin(d, call.commas);
      }
      const t = typeOfExpr(program, e.object);
      const b = t && stripNull(t);
      const table =
        b?.kind === 'list' ? LIST_METHODS : b?.kind === 'string' || b?.kind === 'enum' ? STRING_METHODS : b?.kind === 'map' || b?.kind === 'object' ? MAP_METHODS : undefined;
      const m = table?.find((x) => x.name === e.property!.text);
      if (m) return fromBuiltin(m, call.commas);
    }
  }
  return undefined;
}

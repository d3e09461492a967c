// `rein eval --explain` in text form (stderr): for each rule, matched or not, and each clause's value
// with the input values it read.

import type { RuleExplanation } from '../../language/runtime/compiled.js';
import type { Colors } from './color.js';

function show(v: unknown): string {
  if (v === undefined) return 'absent';
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 120 ? s.slice(0, 117) + '...' : s;
}

export function renderExplanationText(rules: (RuleExplanation & { error?: string })[], c: Colors): string {
  const out: string[] = [];
  for (const r of rules) {
    const status = r.error ? c.red(`error: ${r.error}`) : r.matched ? c.bold(`matched → ${r.effect}`) : c.dim('not matched');
    out.push(`rule ${c.bold(r.name)}: ${status}`);
    for (const cl of r.clauses) {
      const value = cl.value === null ? c.dim('not evaluated') : String(cl.value);
      out.push(`  ${cl.kind} ${cl.source}  = ${value}  ${c.dim(`(${cl.location.file}:${cl.location.line}:${cl.location.column})`)}`);
      for (const rd of cl.reads) out.push(`      ${rd.path} = ${show(rd.value)}`);
    }
  }
  return out.join('\n') + (out.length ? '\n' : '');
}

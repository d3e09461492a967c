// A declaration's annotations as the runtime reports them (`@monitor` → `{ monitor: true }`,
// `@priority("10")` → `{ priority: "10" }`). Read by the lowering (runtime/lower.ts) and by lint rules
// that must see a rule as the runtime will (REIN340), so it lives below both.

import type * as A from '../syntax/ast.js';

export function annotationsOf(decl: A.RuleDecl | A.BudgetDecl): Record<string, string | true> {
  const out: Record<string, string | true> = {};
  for (const a of decl.annotations) {
    const name = a.name.text;
    if (name === '__proto__' || name === 'constructor' || name === 'prototype') continue;
    out[name] = a.value ? a.value.parts.map((p) => (p.kind === 'Text' ? p.value : '')).join('') : true;
  }
  return out;
}

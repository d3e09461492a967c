// Code lens data: **Run test** on each `test`, **Evaluate** on each rule. The server turns these
// into LSP code lenses with commands; running them goes through language/services/run.ts.

import type { Analysis } from './policy-set.js';
import type { CodeLensData } from './types.js';

export function testName(lit: { parts: { kind: string; value?: string }[] } | undefined): string | undefined {
  if (!lit) return undefined;
  return lit.parts.map((p) => (p.kind === 'Text' ? (p.value ?? '') : '')).join('');
}

export function codeLenses(analysis: Analysis, file: string): CodeLensData[] {
  const src = analysis.sources.get(file);
  if (!src) return [];
  const out: CodeLensData[] = [];
  for (const d of src.parsed.ast.decls) {
    if (d.kind === 'TestDecl') {
      const name = testName(d.name);
      if (name !== undefined) out.push({ kind: 'test', name, file, range: d.range });
    } else if (d.kind === 'RuleDecl' && d.name) {
      out.push({ kind: 'rule', name: d.name.text, file, range: d.range });
    }
  }
  return out;
}

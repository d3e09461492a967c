// The docs/rules pages show real behaviour: every `rein` block under "Avoid" triggers the page's
// rule and every block under "Prefer" does not, and neither has an error (the examples are valid
// Rein against a small schema).

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { check } from '../../language/check.js';
import { LINT_RULES } from '../../language/lint/index.js';

const PRELUDE = `
input {
  action: { kind: string, tool?: string, model?: string, args?: map<any> }
  data: { classification: "public" | "internal" | "confidential" }
  session: { id: string, maintenance: bool }
}
let blocked_tools = ["db.drop"]
`;

function blocks(page: string, section: string): string[] {
  const start = page.indexOf(`## ${section}\n`);
  assert.ok(start >= 0, `no "${section}" section`);
  const end = page.indexOf('\n## ', start + 1);
  const body = page.slice(start, end < 0 ? undefined : end);
  return [...body.matchAll(/```rein\n([\s\S]*?)```/g)].map((m) => m[1]);
}

describe('docs/rules pages: Avoid triggers the rule, Prefer does not', () => {
  for (const rule of LINT_RULES) {
    it(`${rule.code} (${rule.name})`, () => {
      const page = readFileSync(new URL(`../../docs/rules/${rule.code}.md`, import.meta.url), 'utf8');
      const run = (src: string) => {
        // a block with its own `policy` header replaces the prelude's
        const header = /^\s*policy\b/m.test(src) ? '' : 'policy doc { default deny }\n';
        return check({ 'prelude.rein': header + PRELUDE, 'doc.rein': src }).diagnostics.filter((d) => d.file === 'doc.rein');
      };
      const avoid = blocks(page, 'Avoid');
      const prefer = blocks(page, 'Prefer');
      assert.ok(avoid.length > 0 && prefer.length > 0);
      for (const src of avoid) {
        const ds = run(src);
        assert.deepEqual(ds.filter((d) => d.severity === 'error').map((d) => d.message), [], src);
        assert.ok(ds.some((d) => d.code === rule.code), `Avoid does not trigger ${rule.code}:\n${src}`);
      }
      for (const src of prefer) {
        const ds = run(src);
        assert.deepEqual(ds.filter((d) => d.severity === 'error').map((d) => d.message), [], src);
        assert.deepEqual(ds.filter((d) => d.code === rule.code).map((d) => d.message), [], `Prefer triggers ${rule.code}:\n${src}`);
      }
    });
  }
});

describe('docs/rules pages exist for the SARIF links', () => {
  it('every lint code linked from SARIF has its page', async () => {
    const { helpUri } = await import('../../cli/output/sarif.js');
    const { existsSync } = await import('node:fs');
    for (const code of ['REIN300', 'REIN301', 'REIN302', 'REIN303', 'REIN304']) {
      const uri = helpUri('docs/', code);
      assert.ok(uri.startsWith('docs/rules/') && existsSync(uri), `${code} → ${uri}`);
    }
  });
});

describe('diagnosticDocUrl (SARIF helpUri and LSP codeDescription)', () => {
  it('links lint codes to their rule page and other codes into diagnostics.md', async () => {
    const { diagnosticDocUrl } = await import('../../language/lint/index.js');
    assert.equal(diagnosticDocUrl('file:///x/docs/diagnostics.md', 'REIN303'), 'file:///x/docs/rules/REIN303.md');
    assert.equal(diagnosticDocUrl('file:///x/docs/diagnostics.md', 'REIN200'), 'file:///x/docs/diagnostics.md#rein200');
  });
});

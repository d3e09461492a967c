import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { CODES } from '../../language/diagnostic-codes.js';
import { LINT_RULES } from '../../language/lint/index.js';

const docs = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'docs');

describe('diagnostics documentation', () => {
  const text = readFileSync(join(docs, 'diagnostics.md'), 'utf8');

  it('documents every code with its severity and a section', () => {
    for (const [code, info] of Object.entries(CODES)) {
      assert.ok(text.includes(`| ${code} | ${info.severity} |`), `${code} missing from the table (or wrong severity)`);
      assert.ok(text.includes(`### ${code} — `), `${code} has no section`);
    }
  });

  it('has a page per lint rule with Avoid / Prefer / Rationale and the rule name', () => {
    for (const r of LINT_RULES) {
      const p = join(docs, 'rules', `${r.code}.md`);
      assert.ok(existsSync(p), `missing ${p}`);
      const page = readFileSync(p, 'utf8');
      for (const h of ['## Avoid', '## Prefer', '## Rationale', '## Configure or suppress']) assert.ok(page.includes(h), `${r.code}: ${h}`);
      assert.ok(page.includes(`\`${r.name}\``), `${r.code}: name`);
    }
  });
});

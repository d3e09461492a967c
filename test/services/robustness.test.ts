// Every service on broken text, at many offsets: results, never exceptions, and ranges inside the document.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PolicySet } from '../../language/services/policy-set.js';
import { complete } from '../../language/services/completion.js';
import { hover } from '../../language/services/hover.js';
import { definition, references, prepareRename } from '../../language/services/navigation.js';
import { signatureHelp } from '../../language/services/signature-help.js';
import { semanticTokens } from '../../language/services/semantic-tokens.js';
import { foldingRanges, documentSymbols } from '../../language/services/outline.js';
import { codeActions } from '../../language/services/code-actions.js';
import { codeLenses } from '../../language/services/code-lenses.js';

const DIR = path.resolve('test/fixtures/server/set');
const files = Object.fromEntries(fs.readdirSync(DIR).filter((f) => f.endsWith('.rein')).map((f) => [f, fs.readFileSync(path.join(DIR, f), 'utf8')]));

/** Deterministic mutations: truncations, deleted spans, duplicated spans, stray characters. */
function mutations(text: string, seed: number): string[] {
  let x = seed;
  const rnd = (n: number) => ((x = (x * 1103515245 + 12345) & 0x7fffffff), x % Math.max(1, n));
  const out: string[] = [];
  for (let k = 0; k < 6; k++) {
    const a = rnd(text.length);
    const b = Math.min(text.length, a + 1 + rnd(30));
    out.push(text.slice(0, a));
    out.push(text.slice(0, a) + text.slice(b));
    out.push(text.slice(0, b) + text.slice(a));
    out.push(text.slice(0, a) + ['"', '${', '(', '{', '.', '@', '/*', '`'][k] + text.slice(a));
  }
  return out;
}

function inside(text: string, r: { start: { offset: number }; end: { offset: number } }, what: string): void {
  assert.ok(r.start.offset >= 0 && r.end.offset <= text.length && r.start.offset <= r.end.offset, `${what}: range ${r.start.offset}-${r.end.offset} outside 0-${text.length}`);
}

describe('services on broken text', function () {
  this.timeout(120000);
  for (const [name, original] of Object.entries(files)) {
    it(`never throw on mutations of ${name}`, () => {
      let runs = 0;
      for (const [i, text] of mutations(original, name.length * 7919).entries()) {
        const set = new PolicySet();
        for (const [f, t] of Object.entries(files)) set.set(f, f === name ? text : t);
        const a = set.analysis();
        const ctx = `${name} mutation ${i}`;
        for (const t of semanticTokens(a, name)) assert.ok(t.length > 0, ctx);
        foldingRanges(a, name);
        for (const s of documentSymbols(a, name)) inside(text, s.range, ctx);
        codeLenses(a, name);
        const whole = a.sources.get(name)!.lines.range(0, text.length);
        codeActions(a, name, whole);
        for (let o = 0; o <= text.length; o += 7) {
          for (const c of complete(a, name, o)) if (c.replace) inside(text, c.replace, `${ctx} completion at ${o}`);
          const h = hover(a, name, o);
          if (h) inside(text, h.range, `${ctx} hover at ${o}`);
          definition(a, name, o);
          references(a, name, o);
          prepareRename(a, name, o);
          signatureHelp(a, name, o);
          runs++;
        }
      }
      assert.ok(runs > 100);
    });
  }
});

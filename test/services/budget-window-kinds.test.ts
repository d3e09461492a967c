// Editor support for rolling windows, token buckets and anchored periods: completion, hover docs,
// semantic tokens, and the TextMate grammar's patterns.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { complete } from '../../language/services/completion.js';
import { hover } from '../../language/services/hover.js';
import { semanticTokens } from '../../language/services/semantic-tokens.js';
import { fixture, CURSOR } from './helper.js';

const labels = (src: string) => {
  const fx = fixture(src);
  return complete(fx.analysis, fx.file, fx.offset).map((i) => i.label);
};

const BUDGETS = `budget hourly {
  limit 10 per rolling 1h
  charge 1
}
budget calls {
  burst 3 refill 1 per 1s
  charge 1
}
budget monthly {
  limit $30 per 30d anchored
  charge cost.estimate ?? $0
}
`;

describe('services: rolling windows, token buckets, anchored periods', () => {
  it('completion: `rolling` after `per`, calendar lengths after `rolling`, `anchored` after a length, `refill` after a burst, `burst` as a clause', () => {
    assert.ok(labels(`budget b {\n  limit 5 per ${CURSOR}\n}`).includes('rolling'));
    assert.deepEqual(labels(`budget b {\n  limit 5 per rolling ${CURSOR}\n}`), ['minute', 'hour', 'day', 'week']);
    assert.deepEqual(labels(`budget b {\n  limit 5 per 30d ${CURSOR}\n}`), ['anchored']);
    assert.deepEqual(labels(`budget b {\n  burst 3 ${CURSOR}\n}`), ['refill']);
    assert.deepEqual(labels(`budget b {\n  burst 3 refill 1 ${CURSOR}\n}`), ['per']);
    assert.ok(labels(`budget b {\n  ${CURSOR}\n}`).includes('burst'));
  });

  it('hover: the keywords have docs, and a budget names its window kind', () => {
    const fx = fixture(BUDGETS);
    const src = fx.text('main.rein');
    const at = (needle: string) => hover(fx.analysis, 'main.rein', src.indexOf(needle) + 1)?.contents ?? '';
    assert.match(at('rolling'), /\*\*rolling\*\* — `per rolling DURATION`: a sliding window/);
    assert.match(at('anchored'), /\*\*anchored\*\* — .*first charge/);
    assert.match(at('burst'), /\*\*burst\*\* — .*token bucket/);
    assert.match(at('refill'), /\*\*refill\*\* — /);
    assert.match(at('hourly'), /Window: a rolling 1h: every interval of 1h admits at most the limit/);
    assert.match(at('calls'), /Window: a token bucket: holds at most the burst, and gets the refill back every 1s/);
    assert.match(at('monthly'), /Window: periods of 30d from each key's first charge/);
  });

  it('semantic tokens: the new words are keywords', () => {
    const fx = fixture(BUDGETS);
    const src = fx.text('main.rein');
    const toks = semanticTokens(fx.analysis, 'main.rein');
    for (const w of ['rolling', 'anchored', 'burst', 'refill']) {
      const t = toks.find((x) => x.offset === src.indexOf(w));
      assert.equal(t?.type, 'keyword', w);
    }
  });

  it('the TextMate grammar colours them', () => {
    const g = JSON.parse(readFileSync(new URL('../../extension/syntaxes/rein.tmLanguage.json', import.meta.url), 'utf8')) as unknown;
    const patterns: { match?: string; name?: string; captures?: Record<string, { name: string }> }[] = [];
    const walk = (v: unknown) => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === 'object') {
        const o = v as { match?: string };
        if (typeof o.match === 'string') patterns.push(o as never);
        Object.values(v).forEach(walk);
      }
    };
    walk(g);
    const scopes = (line: string, word: string): string[] => {
      const out: string[] = [];
      for (const p of patterns) {
        let re: RegExp;
        try {
          re = new RegExp(p.match!, 'g');
        } catch {
          continue;
        }
        for (const m of line.matchAll(re)) {
          if (p.name && m[0].includes(word)) out.push(p.name);
          for (const [i, c] of Object.entries(p.captures ?? {})) if (m[Number(i)] === word) out.push(c.name);
        }
      }
      return out;
    };
    assert.ok(scopes('  limit 10 per rolling 1h', 'rolling').includes('constant.language.window.rein'));
    assert.ok(scopes('  limit 10 per rolling hour', 'hour').includes('constant.language.window.rein'));
    assert.ok(scopes('  limit $30 per 30d anchored', 'anchored').includes('constant.language.window.rein'));
    assert.ok(scopes('  burst 3 refill 1 per 1s', 'burst').includes('keyword.other.clause.rein'));
    assert.ok(scopes('  burst 3 refill 1 per 1s', 'refill').includes('keyword.other.clause.rein'));
  });
});

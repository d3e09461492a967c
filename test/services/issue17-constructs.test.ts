// #17 items 1–6 in the editor, one construct after another: completion offers it where it fits, hover
// explains it, semantic tokens classify it (the TextMate side: extension/test/grammar/issue17.test.rein).
// The window kinds (rolling, bucket, anchored) and quorum/expires have their own files
// (budget-window-kinds.test.ts, completion.test.ts); map methods, `like` and `string()` as tokens are in
// editor-features.test.ts.
import { strict as assert } from 'node:assert';
import { complete } from '../../language/services/completion.js';
import { hover } from '../../language/services/hover.js';
import { semanticTokens } from '../../language/services/semantic-tokens.js';
import { fixture, CURSOR } from './helper.js';

const SRC = `policy p {
  default allow
  combine first_match
}
input {
  agent: { team: string }
  args: map<any>
  tool: string
  cost: money
  command: string
  warn_pct?: number
}
let caps: map<money> = { support: $5 }
let blocked = ["(?i)^rm\\\\s"]
budget team_monthly {
  limit caps[agent.team] ?? $50 per 30d anchored
  charge cost
  warn at warn_pct ?? 80%
}
@priority("100")
rule scan {
  when args.values().any(v => string(v) == "x") or args.keys().len() > 3 or tool.like("list_*") or command matches blocked
  deny "x"
}
`;

describe('services: #17 constructs (data-driven limits, map iteration, string(), patterns, combine/@priority)', () => {
  const fx = fixture({ 'main.rein': SRC });
  const hoverAt = (needle: string, d = 1) => hover(fx.analysis, 'main.rein', SRC.indexOf(needle) + d)?.contents ?? '';
  const labels = (src: string) => {
    const f = fixture({ 'main.rein': src });
    return complete(f.analysis, f.file, f.offset).map((i) => i.label);
  };

  it('the set is clean (the constructs check)', () => {
    assert.deepEqual(fx.analysis.result.diagnostics.filter((d) => d.severity === 'error'), []);
  });

  it('limits from data: completion offers the request and `let` data after `limit`; hover on `limit` and `warn` says they may read them', () => {
    const l = labels(SRC.replace('limit caps[agent.team] ?? $50 per 30d anchored', `limit ${CURSOR}`));
    for (const w of ['caps', 'agent', 'cost']) assert.ok(l.includes(w), w);
    assert.match(hoverAt('limit caps'), /\*\*limit\*\* — .*may read the request and `let` data \(`limit caps\[agent\.team\] \?\? \$50 per 30d`\), evaluated per request/);
    assert.match(hoverAt('warn at'), /`warn at PCT` \(PCT may read the request/);
    assert.match(hoverAt('caps['), /let caps: map<money>/);
  });

  it('map iteration and string(): completion after a map and among globals; hover docs', () => {
    assert.deepEqual(labels(SRC.replace('args.keys()', `args.${CURSOR}keys()`)), ['keys', 'values', 'entries']);
    assert.ok(labels(SRC.replace('string(v) ==', `${CURSOR}string(v) ==`)).includes('string'));
    assert.match(hoverAt('values'), /m\.values\(\): list<V>/);
    assert.match(hoverAt('keys'), /sorted/);
    assert.match(hoverAt('string('), /string\(x: any\): string/);
  });

  it('patterns: `like` completes on a string and hovers with its glob rules; `matches` hovers with RE2, (?i) and lists', () => {
    assert.ok(labels(SRC.replace('tool.like', `tool.${CURSOR}like`)).includes('like'));
    assert.match(hoverAt('like'), /s\.like\(glob: string\): bool/);
    assert.match(hoverAt('matches'), /\*\*matches\*\* — .*RE2.*`\(\?i\)`.*list of patterns/);
  });

  it('combine and @priority: `@` completes `priority`; hover explains it; the algorithm is a semantic token', () => {
    const at = labels(SRC.replace('@priority("100")', `@${CURSOR}`));
    assert.deepEqual(at.sort(), ['monitor', 'owner', 'priority', 'severity']);
    assert.match(hoverAt('priority'), /\*\*@priority\*\* — `@priority\("N"\)` on a rule: under `combine first_match`/);
    assert.match(hoverAt('@priority', 0), /\*\*@priority\*\*/);
    const toks = semanticTokens(fx.analysis, 'main.rein');
    const tok = (needle: string) => toks.find((t) => t.offset === SRC.indexOf(needle));
    assert.equal(tok('combine')?.type, 'keyword');
    assert.deepEqual([tok('first_match')?.type, tok('first_match')?.modifiers], ['enumMember', ['defaultLibrary']]);
    assert.equal(tok('@priority')?.type, 'decorator');
    assert.equal(tok('anchored')?.type, 'keyword');
    assert.equal(tok('matches')?.type, 'keyword');
  });
});

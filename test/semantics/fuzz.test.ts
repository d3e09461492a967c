// Robustness of the whole front end: thousands of seeded random and mutated policy sets go through
// `check()` (parse, names, types, lint, config). It never throws, every diagnostic names one of the
// set's files and its range lies inside that file, and each check takes under a second.
// Mutations work on tokens of the real example sets, so most inputs parse and reach the checker
// with a plausible but wrong program (a name swapped, an operator changed, a clause dropped…).

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { check } from '../../language/check.js';
import { LineIndex, type Range } from '../../language/diagnostics.js';
import { tokenize } from '../../language/syntax/parser.js';
import { exampleSetNames } from '../helpers/examples.js';
import { rng } from '../helpers/prng.js';


const examples = new URL('../../examples/', import.meta.url);
const sets: Record<string, string>[] = exampleSetNames().map((name) => {
    const dir = new URL(`${name}/`, examples);
    const files: Record<string, string> = {};
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.rein')).sort()) files[f] = readFileSync(new URL(f, dir), 'utf8');
    return files;
  });

/** Token texts of a source, with their offsets (comments dropped: they are trivia here). */
function pieces(src: string): { start: number; end: number; text: string }[] {
  return tokenize(src).tokens.map((t) => ({ start: t.range.start.offset, end: t.range.end.offset, text: t.text }));
}

const EXTRA = [
  'null', 'true', '0', '-1', '1e309', '$0', '$-1', '0%', '0ms', '""', '"${x}"', '[]', '{}', 'any', 'list<int>', 'map<money>',
  'x => x', '(a, b) => a', 'input', 'now', 'len', 'pii', 'pii.email', 'secrets.any', '.used', '.spent', '??', 'with',
  'matches "(a+)+"', 'matches "["', 'not', 'if', 'then', 'else', 'in', 'and', 'or', '==', '+', '*', '/', '%',
  'deny', 'allow', 'warn', 'require approval', 'when', 'unless', 'limit', 'charge', 'by', 'per day', 'on exceed',
  'given', 'spent', 'approved', 'expect', 'expect warnings none', 'at "2026-01-01T00:00:00Z"', 'at "x"', '@monitor',
  'def', 'let', 'type', 'rule', 'budget', 'test', 'extern def', 'set', 'redact', '(', ')', '{', '}', '[', ']', ',', '\n',
];

/** One mutation of `src`: replace, delete, duplicate or move a token, or splice in a token. */
function mutate(src: string, vocab: string[], r: () => number): string {
  const toks = pieces(src);
  if (toks.length === 0) return vocab[Math.floor(r() * vocab.length)];
  const t = toks[Math.floor(r() * toks.length)];
  const pick = (): string => vocab[Math.floor(r() * vocab.length)];
  const op = r();
  if (op < 0.4) return src.slice(0, t.start) + pick() + src.slice(t.end);
  if (op < 0.6) return src.slice(0, t.start) + src.slice(t.end);
  if (op < 0.75) return src.slice(0, t.end) + ' ' + t.text + src.slice(t.end);
  if (op < 0.9) return src.slice(0, t.start) + pick() + ' ' + src.slice(t.start);
  const u = toks[Math.floor(r() * toks.length)];
  const [a, b] = t.start < u.start ? [t, u] : [u, t];
  if (a === b || a.end > b.start) return src;
  return src.slice(0, a.start) + b.text + src.slice(a.end, b.start) + a.text + src.slice(b.end);
}

function checkRange(li: LineIndex, len: number, r: Range, what: string): void {
  assert.ok(r.start.offset >= 0 && r.end.offset <= len && r.start.offset <= r.end.offset, `${what}: bad offsets ${r.start.offset}..${r.end.offset} (len ${len})`);
  assert.deepEqual(li.position(r.start.offset), r.start, `${what}: start position disagrees with its offset`);
  assert.deepEqual(li.position(r.end.offset), r.end, `${what}: end position disagrees with its offset`);
}

/** Checks one set and asserts the invariants; returns the number of error diagnostics. */
function checkSet(files: Record<string, string>, config: unknown, label: string): number {
  const docs: Record<string, string> = { ...files };
  // an object config has no text: its diagnostics point at the start of `rein.json`
  if (config !== undefined) docs['rein.json'] = '';
  const t0 = performance.now();
  let result;
  try {
    result = check(files, config === undefined ? {} : { config });
  } catch (e) {
    assert.fail(`check threw (${label}): ${(e as Error).stack}\n${JSON.stringify(files)}`);
  }
  const ms = performance.now() - t0;
  assert.ok(ms < 1000, `check took ${ms.toFixed(0)} ms (${label})`);
  assert.ok(Array.isArray(result.diagnostics));
  for (const d of result.diagnostics) {
    const text = docs[d.file];
    assert.ok(text !== undefined, `diagnostic ${d.code} names an unknown file \`${d.file}\` (${label})`);
    checkRange(new LineIndex(text), text.length, d.range, `${d.code} ${d.message} (${label})`);
    assert.match(d.code, /^REIN[1-4]\d\d$/);
    assert.doesNotMatch(d.message, /internal error/, `${d.message} (${label})\n${JSON.stringify(files)}`);
    assert.ok(d.message.length > 0 && d.message[0] === d.message[0].toLowerCase(), `message style: ${d.message}`);
    for (const rel of d.related ?? []) {
      const rt = docs[rel.file];
      assert.ok(rt !== undefined, `related info names an unknown file \`${rel.file}\` (${label})`);
      checkRange(new LineIndex(rt), rt.length, rel.range, `related of ${d.code} (${label})`);
    }
  }
  return result.diagnostics.filter((d) => d.severity === 'error').length;
}

describe('check() fuzz', function () {
  this.timeout(300_000);

  it('the example sets are clean (the mutations start from valid programs)', () => {
    assert.ok(sets.length >= 3);
    for (const s of sets) assert.equal(checkSet(s, undefined, 'example'), 0);
  });

  it('mutated example sets (1 to 4 token mutations): never throws, ranges inside their files, each under a second', () => {
    let n = 0;
    let withErrors = 0;
    for (const [k, set] of sets.entries()) {
      const names = Object.keys(set);
      const vocab = [...new Set([...Object.values(set).flatMap((s) => pieces(s).map((p) => p.text)), ...EXTRA])];
      const r = rng(1000 + k);
      for (let i = 0; i < 700; i++) {
        const files = { ...set };
        const m = 1 + Math.floor(r() * 4);
        for (let j = 0; j < m; j++) {
          const f = names[Math.floor(r() * names.length)];
          files[f] = mutate(files[f], vocab, r);
        }
        if (checkSet(files, undefined, `set ${k} mutation ${i}`) > 0) withErrors++;
        n++;
      }
    }
    assert.ok(n >= 2000);
    // the mutations must mostly produce broken programs, or this test checks little
    assert.ok(withErrors > n / 2, `${withErrors} of ${n} mutated sets had errors`);
  });

  it('random token soups over one and several files, with random `rein.json`: never throws', () => {
    const vocab = [...new Set([...sets.flatMap((s) => Object.values(s).flatMap((src) => pieces(src).map((p) => p.text))), ...EXTRA])];
    const configs: unknown[] = [
      undefined, {}, { lint: { REIN300: 'error', 'never-matches': 'off' } }, { lint: { REIN9: 'x' } }, [], { lint: 1 }, 3, 'x',
      { include: [1], exclude: 'x', lint: { REIN304: 'hint' }, $schema: 3 },
    ];
    const r = rng(7);
    for (let i = 0; i < 600; i++) {
      const files: Record<string, string> = {};
      const count = 1 + Math.floor(r() * 3);
      for (let f = 0; f < count; f++) {
        const len = Math.floor(r() * 80);
        const parts: string[] = [];
        for (let j = 0; j < len; j++) parts.push(vocab[Math.floor(r() * vocab.length)]);
        files[`f${f}.rein`] = parts.join(r() < 0.5 ? ' ' : '\n');
      }
      checkSet(files, configs[Math.floor(r() * configs.length)], `soup ${i}`);
    }
  });
});

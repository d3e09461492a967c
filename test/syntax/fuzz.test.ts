// Robustness: the parser never throws, never hangs, and every range it returns lies inside the
// text, is well-formed, agrees with its line/character, and nests inside its parent's range.
// Inputs are seeded pseudo-random (reproducible): token soups and mutations of valid sources.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse, tokenize } from '../../language/syntax/parser.js';
import { walk, type AnyNode } from '../../language/syntax/visit.js';
import { LineIndex, type Range } from '../../language/diagnostics.js';
import { rng } from '../helpers/prng.js';


const VOCAB = [
  'policy', 'input', 'type', 'let', 'def', 'extern', 'rule', 'budget', 'test', 'when', 'unless', 'deny', 'require',
  'approval', 'from', 'warn', 'allow', 'set', 'redact', 'using', 'limit', 'per', 'charge', 'by', 'at', 'on', 'exceed',
  'error', 'default', 'version', 'currency', 'given', 'spent', 'approved', 'expect', 'warnings', 'none', 'day',
  'request', 'require_approval', 'and', 'or', 'not', 'in', 'matches', 'with', 'if', 'then', 'else', 'true', 'false',
  'null', 'x', 'action', 'tool', '_a1', '1', '1_000', '0.5', '$0.50', '$1', '80%', '5m', '500ms', '1e3', '"s"',
  '"a ${x} b"', '"${ {a: "}"}.a }"', '"unterminated', '==', '!=', '<', '<=', '>', '>=', '+', '-', '*', '/', '%', '??',
  '=>', '.', ',', ':', '(', ')', '[', ']', '{', '}', '|', '?', '=', '@', '@monitor', '@sev("x")', '//c\n', '/* b */',
  '/// d\n', '/*', '\n', '\n', ' ', '#', '\\', "'", '`', 'é', '\t',
];

const seeds = [
  readFileSync(new URL('../fixtures/syntax/language-schema.rein', import.meta.url), 'utf8'),
  readFileSync(new URL('../fixtures/syntax/language-rules.rein', import.meta.url), 'utf8'),
];

function checkRange(li: LineIndex, len: number, r: Range, what: string): void {
  assert.ok(r.start.offset >= 0 && r.end.offset <= len && r.start.offset <= r.end.offset, `${what}: bad offsets ${r.start.offset}..${r.end.offset} (len ${len})`);
  assert.deepEqual(li.position(r.start.offset), r.start, `${what}: start position disagrees with its offset`);
  assert.deepEqual(li.position(r.end.offset), r.end, `${what}: end position disagrees with its offset`);
}

function check(src: string): void {
  const t0 = performance.now();
  let result;
  try {
    result = parse(src);
  } catch (e) {
    assert.fail(`parse threw on ${JSON.stringify(src)}: ${(e as Error).stack}`);
  }
  const ms = performance.now() - t0;
  assert.ok(ms < 1000, `parse took ${ms.toFixed(0)} ms on ${JSON.stringify(src)}`);
  const li = new LineIndex(src);
  const ctx = JSON.stringify(src);
  for (const d of result.diagnostics) {
    checkRange(li, src.length, d.range, `diagnostic ${d.code} ${d.message} in ${ctx}`);
    assert.doesNotMatch(d.message, /internal parser error|Expecting|token of type|-->/, `${d.message} in ${ctx}`);
  }
  for (const c of result.ast.comments) checkRange(li, src.length, c.range, `comment in ${ctx}`);
  walk(result.ast, (n: AnyNode, parent: AnyNode | undefined) => {
    checkRange(li, src.length, n.range, `${n.kind} in ${ctx}`);
    if (parent) {
      assert.ok(
        parent.range.start.offset <= n.range.start.offset && n.range.end.offset <= parent.range.end.offset,
        `${n.kind} ${n.range.start.offset}..${n.range.end.offset} not inside ${parent.kind} ${parent.range.start.offset}..${parent.range.end.offset} in ${ctx}`,
      );
    }
  });
  const toks = tokenize(src).tokens;
  let prevEnd = 0;
  for (const t of toks) {
    checkRange(li, src.length, t.range, `token in ${ctx}`);
    assert.ok(t.range.start.offset >= prevEnd, `overlapping tokens in ${ctx}`);
    prevEnd = t.range.end.offset;
  }
}

describe('parser fuzz', function () {
  this.timeout(300_000);

  it('random token soups: never throws, ranges valid', () => {
    const r = rng(20240601);
    for (let i = 0; i < 2000; i++) {
      const n = 1 + Math.floor(r() * 40);
      let s = '';
      for (let k = 0; k < n; k++) s += VOCAB[Math.floor(r() * VOCAB.length)] + (r() < 0.7 ? ' ' : '');
      check(s);
    }
  });

  it('mutated valid sources (delete / insert / duplicate characters): never throws, ranges valid', () => {
    const r = rng(7);
    const chars = '{}()[]"$.,:=<>!?@/*%+-_ \n\tawz019';
    for (let i = 0; i < 1200; i++) {
      let s = seeds[i % seeds.length];
      const edits = 1 + Math.floor(r() * 6);
      for (let e = 0; e < edits; e++) {
        const at = Math.floor(r() * (s.length + 1));
        const op = r();
        if (op < 0.4) s = s.slice(0, at) + s.slice(at + 1 + Math.floor(r() * 8));
        else if (op < 0.75) s = s.slice(0, at) + chars[Math.floor(r() * chars.length)] + s.slice(at);
        else {
          const len = Math.floor(r() * 30);
          s = s.slice(0, at) + s.slice(at, at + len) + s.slice(at);
        }
      }
      check(s);
    }
  });

  it('every prefix of a valid source (what an editor sees while typing)', () => {
    const src = seeds[1];
    for (let i = 0; i <= src.length; i += 3) check(src.slice(0, i));
  });

  it('pathological nesting is an error, not a crash', () => {
    for (const s of ['let x = ' + '('.repeat(5000), 'let x = ' + '['.repeat(3000) + ']'.repeat(3000), 'let x = ' + '-'.repeat(5000) + '1', 'let x = ' + 'not '.repeat(3000) + 'a', 'let x = "' + '${"'.repeat(500)]) {
      check(s);
      const r = parse(s);
      assert.ok(r.diagnostics.length > 0, 'deep nesting must be reported');
    }
    const deep = parse('let x = ' + '('.repeat(300) + '1' + ')'.repeat(300));
    assert.match(deep.diagnostics[0].message, /nested too deeply/);
    const fine = parse('let x = ' + '('.repeat(50) + '1' + ')'.repeat(50));
    assert.deepEqual(fine.diagnostics, []);
  });
});

// Issue 11 "nothing slips through": a seeded fuzz test (a few seconds, in `npm test`).
// 1. Random and mutated policies — token mutations of the examples plus long chains (operators,
//    members, method calls, nested `${…}`, nested patterns) — go through parse, check and format:
//    nothing throws (format may refuse a file with syntax errors with its documented error), no
//    diagnostic is an internal error, nothing hangs.
// 2. Random hostile values — non-plain objects, sparse lists, out-of-range numbers and durations,
//    detector-adversarial strings, deep nesting, throwing getters, Proxies, BigInt, symbols — go to
//    both backends (generated code and closures) of every example set: no throw, no hang, and the
//    same decision from both.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { check, compile, format, parse, type Policy } from '../../language/index.js';
import { tokenize } from '../../language/syntax/parser.js';
import { rng, type Rng } from '../helpers/prng.js';
import { exampleSetNames } from '../helpers/examples.js';

const examples = new URL('../../examples/', import.meta.url);
const dirs = exampleSetNames();
const sets = dirs.map((name) => {
  const dir = new URL(`${name}/`, examples);
  const files: Record<string, string> = {};
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.rein')).sort()) files[f] = readFileSync(new URL(f, dir), 'utf8');
  // The set's data documents (`data … from "x.json"`), as a browser host passes them: `compile(files, { data })`.
  const data: Record<string, string> = {};
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.json') && n !== 'input.json' && n !== 'rein.json').sort()) data[f] = readFileSync(new URL(f, dir), 'utf8');
  const requests: unknown[] = [];
  try {
    const rd = new URL('requests/', dir);
    for (const f of readdirSync(rd).filter((n) => n.endsWith('.json')).sort()) requests.push(JSON.parse(readFileSync(new URL(f, rd), 'utf8')));
  } catch {
    // no requests folder
  }
  return { name, files, data, requests };
});

const pick = <T>(r: Rng, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];

// ---------------------------------------------------------------- policies

const CHAINS: ((n: number) => string)[] = [
  (n) => `x${' + x'.repeat(n)}`,
  (n) => `x${' and x'.repeat(n)}`,
  (n) => `x${'.b'.repeat(n)}`,
  (n) => `x${'.lower()'.repeat(n)}`,
  (n) => `x${'["k"]'.repeat(n)}`,
  (n) => `${'"${'.repeat(n)}x${'}"'.repeat(n)}`,
  (n) => `${'('.repeat(n)}x${')'.repeat(n)}`,
  (n) => `${'not '.repeat(n)}x`,
  (n) => `x matches "${'('.repeat(n)}a${')'.repeat(n)}"`,
  (n) => `x matches "${'(a+)+'.repeat(Math.min(n, 50))}$"`,
];

function mutatePolicy(src: string, r: Rng, vocab: string[]): string {
  const toks = tokenize(src).tokens;
  if (toks.length === 0) return src;
  const t = pick(r, toks);
  const [a, b] = [t.range.start.offset, t.range.end.offset];
  const op = r();
  if (op < 0.3) return src.slice(0, a) + pick(r, vocab) + src.slice(b);
  if (op < 0.45) return src.slice(0, a) + src.slice(b);
  if (op < 0.6) return src.slice(0, b) + ' ' + pick(r, vocab) + src.slice(b);
  // A long chain where a token was: a real expression position in most cases.
  const n = pick(r, [10, 200, 700, 2000]);
  return src.slice(0, a) + pick(r, CHAINS)(n) + src.slice(b);
}

function frontEnd(files: Record<string, string>, label: string): void {
  let result;
  try {
    result = check(files);
  } catch (e) {
    assert.fail(`check threw (${label}): ${(e as Error).stack}`);
  }
  for (const d of result.diagnostics) assert.doesNotMatch(d.message, /internal error|Maximum call stack/, `${label}: ${d.message}`);
  for (const [f, text] of Object.entries(files)) {
    const p = parse(text, f);
    // "internal parser error" is the parser catching itself; a user token named `internal` is not.
    for (const d of p.diagnostics) assert.doesNotMatch(d.message, /internal (parser )?error|Maximum call stack/, `${label}: ${d.message}`);
    try {
      const out = format(text);
      // Formatting is idempotent wherever it succeeds.
      assert.equal(format(out), out, `${label}: format is not idempotent on ${f}`);
    } catch (e) {
      assert.ok(!(e instanceof RangeError) && /syntax error/.test((e as Error).message), `${label}: format threw ${(e as Error).stack}`);
    }
  }
}

describe('fuzz: hostile policies and hostile values (seeded)', function () {
  this.timeout(120_000);

  it('parse, check and format never throw on random, mutated and long-chain policies', () => {
    const r = rng(11_011);
    let n = 0;
    for (const { files } of sets) {
      const names = Object.keys(files);
      const vocab = [...new Set(Object.values(files).flatMap((s) => tokenize(s).tokens.map((t) => t.text)))];
      for (let i = 0; i < 15; i++) {
        const mutated = { ...files };
        const f = pick(r, names);
        for (let m = 1 + Math.floor(r() * 3); m > 0; m--) mutated[f] = mutatePolicy(mutated[f], r, vocab);
        frontEnd(mutated, `mutation ${n++}`);
      }
    }
    // Long chains in an otherwise valid policy, every shape at sizes around and far past the limit.
    const head = 'policy p { default allow }\ninput { x: any }\n';
    for (const chain of CHAINS)
      for (const size of [499, 501, 3_000]) frontEnd({ 'p.rein': `${head}rule r { when ${chain(size)} == 1 deny "x" }\n` }, `chain ${size}`);
  });

  // ---------------------------------------------------------------- values

  const hostile = new WeakSet<object>();
  const hostileLeaf = (r: Rng): unknown => {
    const v = hostileValue(r);
    if ((typeof v === 'object' && v !== null) || typeof v === 'function') hostile.add(v);
    return v;
  };
  const hostileValue = (r: Rng): unknown => {
    const n = 20_000 + Math.floor(r() * 20_000);
    const k = Math.floor(r() * 26);
    switch (k) {
      case 0: return new Map([['k', 'v']]);
      case 1: return new Set([1]);
      case 2: return new URLSearchParams('a=1');
      case 3: return new Error('e');
      case 4: return new Uint8Array(3);
      case 5: return [1, , 3]; // eslint-disable-line no-sparse-arrays
      case 6: return 8.64e15 + 1;
      case 7: return 1e300;
      case 8: return -0;
      case 9: return NaN;
      case 10: return Infinity;
      case 11: return '@' + '.'.repeat(n) + 'a';
      case 12: return '1 '.repeat(n / 2);
      case 13: return 'a@b.'.repeat(n / 4);
      case 14: return 'AKIA' + 'A'.repeat(n);
      case 15: return new Date(NaN);
      case 16: return new Date(0);
      case 17: return { get boom(): never { throw new Error('getter'); } };
      case 18: return new Proxy({}, { ownKeys: () => { throw new Error('proxy'); } });
      case 19: return BigInt(1);
      case 20: return Symbol('s');
      case 21: { let d: unknown = 1; for (let i = 0; i < 5_000; i++) d = [d]; return d; }
      case 22: return Object.assign(Object.create(null) as object, { __proto__: 'x', constructor: 1 });
      case 23: return '200000000000000000d';
      case 24: return 'bob@evil.com, carol@example.com';
      default: return () => 1;
    }
  };

  /** `req` with 1–3 values (at random paths of its JSON tree) replaced by hostile ones. */
  const mutateRequest = (req: unknown, r: Rng): unknown => {
    const clone = JSON.parse(JSON.stringify(req)) as Record<string, unknown>;
    for (let m = 1 + Math.floor(r() * 3); m > 0; m--) {
      let obj: Record<string, unknown> = clone;
      for (let depth = 0; depth < 4; depth++) {
        const keys = Object.keys(obj);
        if (keys.length === 0) break;
        const k = pick(r, keys);
        const v = obj[k];
        // Descend only into the JSON objects of the clone, never into a hostile value placed earlier.
        if (typeof v === 'object' && v !== null && !hostile.has(v) && !Array.isArray(v) && r() < 0.6) obj = v as Record<string, unknown>;
        else {
          obj[k] = hostileLeaf(r);
          break;
        }
      }
    }
    return clone;
  };

  const NOW = Date.UTC(2026, 0, 5, 10);
  const decide = (p: Policy, req: unknown, label: string): unknown => {
    const t = performance.now();
    let d;
    try {
      d = p.evaluate(req, { now: NOW });
    } catch (e) {
      assert.fail(`evaluate threw (${label}): ${(e as Error).stack}`);
    }
    const ms = performance.now() - t;
    // A hang guard, not a performance claim (a hang is seconds to hours).
    assert.ok(ms < 3_000, `${label}: evaluate took ${ms.toFixed(0)} ms`);
    return JSON.parse(JSON.stringify(d));
  };

  it('both backends give the same decision on hostile requests, never throwing or hanging', () => {
    const r = rng(11_012);
    let n = 0;
    let invalid = 0;
    for (const { name, files, data, requests } of sets) {
      if (requests.length === 0) continue;
      const gen = compile(files, { codegen: true, data });
      const clo = compile(files, { codegen: false, data });
      for (let i = 0; i < 120; i++) {
        const req = mutateRequest(pick(r, requests), r);
        const label = `${name} request ${i}`;
        const a = decide(gen, req, `${label} (codegen)`) as { request_hash: string | null };
        const b = decide(clo, req, `${label} (closures)`);
        assert.deepEqual(a, b, label);
        if (a.request_hash === null) invalid++;
        n++;
      }
    }
    assert.ok(n >= 240, `${n} requests`);
    // Most hostile values must be rejected, or this test exercises little.
    assert.ok(invalid > n / 3, `${invalid} of ${n} invalid`);
  });
});

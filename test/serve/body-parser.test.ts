// rein serve parses a plain JSON body with JSON.parse alone (app.ts `plainJson`), every other body
// with fastify's JSON parser (secure-json-parse: `__proto__` and `constructor` keys refused, a
// byte-order mark dropped). plainJson must take only bodies that parser returns unchanged, and give
// the same value for them.
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { NOT_PLAIN, plainJson } from '../../language/node/serve/app.js';
import { rng, type Rng } from '../helpers/prng.js';

const fastifyParser = Fastify().getDefaultJsonParser('error', 'error') as unknown as (req: unknown, body: string, done: (e: Error | null, v?: unknown) => void) => void;

/** What fastify's parser makes of `text`: its value, or that it refused it. */
function viaFastify(text: string): { ok: true; value: unknown } | { ok: false } {
  let out: { ok: true; value: unknown } | { ok: false } = { ok: false };
  fastifyParser(null, text, (e, v) => (out = e ? { ok: false } : { ok: true, value: v }));
  return out;
}

const KEYS = ['input', 'a', 'agent', '__proto__', 'constructor', 'prototype', '_proto_', 'construct', 'é', '', 'x y'];
const STRS = ['model_call', '0.002', '__proto__', 'constructor', 'a"b', 'back\\slash', 'é😀', '\u2028', ''];

function value(r: Rng, depth: number): string {
  const k = Math.floor(r() * (depth > 3 ? 5 : 7));
  switch (k) {
    case 0:
      return String(Math.floor(r() * 1000) / 8);
    case 1:
      return JSON.stringify(STRS[Math.floor(r() * STRS.length)]);
    case 2:
      return r() < 0.5 ? 'true' : 'null';
    case 3:
    case 4:
      return '"plain"';
    case 5: {
      const n = Math.floor(r() * 4);
      return '[' + Array.from({ length: n }, () => value(r, depth + 1)).join(',') + ']';
    }
    default: {
      const n = Math.floor(r() * 4);
      const ws = r() < 0.2 ? ' \n\t' : '';
      return '{' + Array.from({ length: n }, () => JSON.stringify(KEYS[Math.floor(r() * KEYS.length)]) + ws + ':' + value(r, depth + 1)).join(',') + '}';
    }
  }
}

/** Escaped spellings of the two words (a key `"\u005f_proto__"` is `__proto__`), a BOM, broken text. */
function mangle(r: Rng, text: string): string {
  const k = Math.floor(r() * 8);
  if (k === 0) return text.replace(/__proto__/, '\\u005f_proto__');
  if (k === 1) return text.replace(/constructor/, 'constru\\u0063tor');
  if (k === 2) return text.replace(/__proto__/, '\\u005F\\u005Fproto__');
  if (k === 3) return '\ufeff' + text;
  if (k === 4) return text.slice(0, Math.floor(r() * text.length));
  return text;
}

describe('rein serve: plain JSON bodies without secure-json-parse (plainJson)', () => {
  it('takes only bodies fastify\'s parser returns unchanged, with the same value', () => {
    const r = rng(20261207);
    const seen = { plain: 0, refused: 0, viaParser: 0 };
    for (let i = 0; i < 20_000; i++) {
      const text = mangle(r, '{"input":' + value(r, 0) + '}');
      const want = viaFastify(text);
      const got = plainJson(text);
      if (got === NOT_PLAIN) {
        seen[want.ok ? 'viaParser' : 'refused']++;
        continue;
      }
      seen.plain++;
      assert.ok(want.ok, `taken, but fastify's parser refuses it: ${text}`);
      assert.deepEqual(got, want.value, text);
    }
    for (const [k, v] of Object.entries(seen)) assert.ok(v >= 1000, `${k}: ${v}`);
  });

  it('leaves escaped __proto__ and constructor keys, a BOM, and broken JSON to the parser', () => {
    for (const text of [
      '{"input":{"\\u005f_proto__":{"x":1}}}',
      '{"input":{"\\u005F\\u005Fproto\\u005f\\u005f":1}}',
      '{"input":{"\\u0063onstructor":{"prototype":{"x":1}}}}',
      '{"input":{"__proto__":{"x":1}}}',
      '{"input":{"constructor":{"prototype":1}}}',
      '\ufeff{"input":{}}',
      '{"input":',
      '',
    ]) {
      assert.equal(plainJson(text), NOT_PLAIN, text);
    }
    assert.deepEqual(plainJson('{"input":{"agent":{"id":"a1"},"cost":{"estimate":"0.002"}}}'), { input: { agent: { id: 'a1' }, cost: { estimate: '0.002' } } });
  });
});

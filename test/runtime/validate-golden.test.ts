// Request validation, golden: the results (accepted value, or every error with its kind, path,
// expected type and message) of both validator backends on 300 seeded requests (valid ones and
// mutations, validate-requests.ts) and on hand-written bad requests, against the file
// test/fixtures/runtime/validate/results.json recorded before validation became one description
// (validate-ir.ts). `UPDATE_GOLDEN=1` rewrites the file: review the diff by eye.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { compileValidator } from '../../language/runtime/validate.js';
import { rng } from '../helpers/prng.js';
import { input, mutate, valid } from './validate-requests.js';

const FILE = 'test/fixtures/runtime/validate/results.json';

/** Hand-written requests: one problem of each message kind, at several depths. */
const written: Record<string, unknown> = {
  'not an object': 'x',
  'missing everything': {},
  'null where required': { s: null, i: null, n: null, m: null, e: null, nn: null, o: null },
  'wrong scalars': { s: 1, i: 1.5, n: 'x', b: 'yes', m: -1, d: 'soon', t: '2026-13-01T00:00:00Z', e: 'zz', big: 3, z: 0, nn: 'x', o: { x: 1, y: null } },
  'money forms': { s: '', i: 0, n: 0, m: '1.0000001', e: 'a', nn: null, o: { x: '', y: { k: {} } } },
  'duration out of range': { s: '', i: 0, n: 0, m: 0, d: 1e300, e: 'a', nn: null, o: { x: '', y: null } },
  'time as a number': { s: '', i: 0, n: 0, m: 0, t: 5, e: 'a', nn: null, o: { x: '', y: null } },
  'long string in an enum': { s: '', i: 0, n: 0, m: 0, e: 'x'.repeat(60), nn: null, o: { x: '', y: null } },
  'holes and nested lists': { s: '', i: 0, n: 0, m: 0, e: 'a', nn: null, o: { x: '', y: null, tags: [1, , 'ok'] }, grid: [[1], ['x'], 3], items: [{ cost: 1 }] },
  'maps': { s: '', i: 0, n: 0, m: 0, e: 'a', nn: null, o: { x: '', y: null }, prices: { a: 'x', 'b c': -2 }, deep: { k: [{ q: 'z' }], j: 1 } },
  'any and extras': { s: '', i: 0, n: 0, m: 0, e: 'a', nn: null, o: { x: '', y: null, extra: [1, { n: NaN }] }, a: { f: () => 1 }, more: Infinity },
  'many errors (capped)': { s: '', i: 0, n: 0, m: 0, e: 'a', nn: null, o: { x: '', y: null, tags: Array.from({ length: 150 }, (_v, i) => i) } },
};

function results(validate: ReturnType<typeof compileValidator>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const r = rng(7);
  for (let n = 0; n < 150; n++) {
    const base = valid(input, r);
    out[`valid #${n}`] = validate(base);
    out[`mutation #${n}`] = validate(mutate(mutate(base, r), r));
  }
  for (const [name, req] of Object.entries(written)) out[name] = validate(req);
  // JSON of the results (records have no prototype: deepStrictEqual would see that).
  return JSON.parse(JSON.stringify(out)) as Record<string, unknown>;
}

describe('request validation: golden results', () => {
  const gen = compileValidator(input, { codegen: true });
  const clo = compileValidator(input, { codegen: false });

  it('both backends give the recorded results (values, error paths and messages)', () => {
    const actual = results(gen);
    if (process.env.UPDATE_GOLDEN === '1') writeFileSync(FILE, `{\n${Object.entries(actual).map(([k, v]) => `${JSON.stringify(k)}: ${JSON.stringify(v)}`).join(',\n')}\n}\n`);
    assert.ok(existsSync(FILE), `missing ${FILE} (run with UPDATE_GOLDEN=1 and review it)`);
    const expected = JSON.parse(readFileSync(FILE, 'utf8')) as Record<string, unknown>;
    const invalid = Object.values(expected).filter((v) => (v as { ok: boolean }).ok === false).length;
    assert.ok(Object.keys(expected).length === 300 + Object.keys(written).length && invalid > 120, `too few cases in ${FILE}`);
    assert.deepStrictEqual(actual, expected);
    assert.deepStrictEqual(results(clo), expected);
  });
});

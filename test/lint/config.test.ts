import assert from 'node:assert/strict';
import { parseConfig } from '../../language/config.js';

describe('rein.json: parseConfig', () => {
  it('reads lint levels by code and by name', () => {
    const r = parseConfig('{ "include": ["p/*.rein"], "lint": { "REIN301": "error", "unused-declaration": "off" } }');
    assert.deepEqual(r.diagnostics, []);
    assert.deepEqual(r.config, { include: ['p/*.rein'], lint: { REIN301: 'error', REIN300: 'off' } });
  });

  it('never throws on bad JSON and points at the problem', () => {
    const r = parseConfig('{\n  "lint": { "REIN301": "error", }\n}');
    assert.equal(r.diagnostics.length, 1);
    assert.equal(r.diagnostics[0].code, 'REIN305');
    assert.equal(r.diagnostics[0].file, 'rein.json');
    assert.match(r.diagnostics[0].message, /not valid JSON/);
    assert.equal(r.diagnostics[0].range.start.line, 1);
    assert.deepEqual(r.config, { lint: {} });
  });

  it('locates unknown keys and suggests corrections', () => {
    const r = parseConfig('{\n  "lnit": {},\n  "lint": {\n    "unused-declaraton": "off",\n    "REIN205": "off",\n    "REIN302": "loud"\n  }\n}\n');
    const byLine = r.diagnostics.map((d) => [d.range.start.line, d.help ?? '', d.message]);
    assert.equal(byLine.length, 4);
    assert.deepEqual(byLine.find((x) => x[0] === 1)?.[1], 'did you mean `lint`?');
    assert.deepEqual(byLine.find((x) => x[0] === 3)?.[1], 'did you mean `unused-declaration`?');
    const d = r.diagnostics.find((x) => x.range.start.line === 3)!;
    assert.equal(d.data?.suggestion, '"unused-declaration"');
    assert.equal(d.range.start.character, 4);
    assert.equal(d.range.end.character, 23);
    assert.match(String(byLine.find((x) => x[0] === 4)?.[2]), /`REIN205` is not a lint rule/);
    assert.match(String(byLine.find((x) => x[0] === 5)?.[2]), /must be one of/);
  });

  it('rejects wrong shapes', () => {
    assert.equal(parseConfig('[]').diagnostics.length, 1);
    assert.equal(parseConfig('{ "include": "x" }').diagnostics.length, 1);
    assert.equal(parseConfig('{ "lint": [] }').diagnostics.length, 1);
    assert.deepEqual(parseConfig('{}').diagnostics, []);
  });

  it('says what the right shape is, in plain English', () => {
    const msg = (src: string) => parseConfig(src).diagnostics.map((d) => d.message);
    assert.deepEqual(msg('[]'), ['the configuration must be an object']);
    assert.deepEqual(msg('{ "include": "x" }'), ['`include` must be an array of strings']);
    assert.deepEqual(msg('{ "exclude": [1] }'), ['`exclude[0]` must be a string']);
    assert.deepEqual(msg('{ "lint": [] }'), ['`lint` must be an object']);
  });
});

// #17 item 2: iterating maps (`m.keys()`, `m.values()`, `m.entries()`) and `string(x)`.
// Checker typing and diagnostics, both backends deciding alike (differential), run-time errors on
// wrong shapes (fail closed), and the rendering of `string(x)` (the same as interpolation).

import { strict as assert } from 'node:assert';
import { check } from '../../language/check.js';
import { compile } from '../../language/policy.js';
import { checkBody, whenErrors } from './helpers.js';
import { rng } from '../helpers/prng.js';

function diags(cond: string) {
  return checkBody(`rule r {\n  when ${cond}\n  deny "m"\n}\n`).diagnostics.filter((d) => d.severity === 'error');
}

describe('map iteration and string(x)', () => {
  describe('checker', () => {
    it('types keys/values/entries from the map type; entries are { key, value }', () => {
      assert.deepEqual(whenErrors('(action.args ?? {}).keys().any(k => k.starts_with("x_"))'), []);
      assert.deepEqual(whenErrors('(action.args ?? {}).entries().any(e => e.key == "path" and type_of(e.value) == "string")'), []);
      const src = 'policy p { default allow }\ninput { caps: map<int>, tags: map<string> }\n';
      const typed = (cond: string) => compile({ 'p.rein': `${src}rule r {\n  when ${cond}\n  deny "m"\n}\n` });
      assert.doesNotThrow(() => typed('caps.values().sum() > 10 and caps.entries().any(e => e.value > 3 and e.key.len() > 1)'));
      const bad = checkBody('').diagnostics; // the prelude itself is clean
      assert.deepEqual(bad.filter((d) => d.severity === 'error'), []);
    });

    it('a wrong use of a value type is reported (map<int> values are ints)', () => {
      const r = check({ 'p.rein': 'policy p { default allow }\ninput { caps: map<int> }\nrule r {\n  when caps.values().any(v => v.starts_with("a"))\n  deny "m"\n}\n' });
      const errs = r.diagnostics.filter((d) => d.severity === 'error');
      assert.equal(errs.length, 1, JSON.stringify(errs));
      assert.match(errs[0].message, /no method `starts_with`|`int` has no method/);
    });

    it('misspelt map method: did you mean', () => {
      const [d] = diags('(action.args ?? {}).kesy().len() > 0');
      assert.equal(d.code, 'REIN204');
      assert.match(d.message, /has no method `kesy` \(maps have `\.keys\(\)`, `\.values\(\)`, `\.entries\(\)`\)/);
      assert.equal(d.help, 'did you mean `keys`?');
    });

    it('a list method on a map points at .values() and .entries()', () => {
      const [d] = diags('(action.args ?? {}).any(v => v == 1)');
      assert.equal(d.code, 'REIN204');
      assert.match(d.help ?? '', /`\.values\(\)\.any\(v => …\)` or `\.entries\(\)\.any\(e => …\)`/);
    });

    it('map methods take no argument; string() takes one', () => {
      assert.deepEqual(whenErrors('(action.args ?? {}).keys(1).len() > 0'), ['REIN209']);
      assert.deepEqual(whenErrors('string() == ""'), ['REIN209']);
      assert.deepEqual(whenErrors('string(agent, 1) == ""'), ['REIN209']);
      assert.deepEqual(whenErrors('string(action.args) == "x" and string(null) == "null" and string(cost.estimate) == "$1.00"'), []);
    });

    it('string(x) is a string: comparing it with a number is a type error', () => {
      assert.ok(whenErrors('string(score) == 1').length > 0);
    });
  });

  describe('evaluation, both backends', () => {
    const SRC = `policy p { default allow  on error deny  currency "USD" }
input {
  args: map<any>
  caps?: map<money>
  raw?: any
  at?: time
  wait?: duration
}
rule secret_anywhere {
  when args.values().any(v => string(v).contains("sk-"))
  deny "secret in \${string(args.keys())}"
}
rule path_outside {
  when args.entries().any(e => e.key.ends_with("path") and not string(e.value).starts_with("/work/"))
  deny "path"
}
rule big_caps {
  when (caps ?? {}).values().sum() > $10 or string(caps) == "{ a: $1.50 }"
  deny "caps \${string(caps)}"
}
rule raw_keys {
  when type_of(raw) != "null" and raw.keys().len() > 2
  deny "raw"
}
rule rendering {
  when string(at) == "2026-11-24T10:00:00Z" and string(wait) == "1h30m"
  deny "rendered"
}
`;
    const clo = compile({ 'p.rein': SRC }, { codegen: false });
    const gen = compile({ 'p.rein': SRC }, { codegen: true });

    const decide = (req: unknown) => {
      const a = JSON.parse(JSON.stringify(clo.evaluate(req, { now: 0 })));
      const b = JSON.parse(JSON.stringify(gen.evaluate(req, { now: 0 })));
      assert.deepEqual(b, a, `backends differ on ${JSON.stringify(req)}`);
      return a as { effect: string; reasons: { name: string; message: string }[]; errors: { message: string }[] };
    };

    it('scans every argument, whatever its name', () => {
      assert.equal(decide({ args: { q: 'hello', invented_by_model: 'token sk-123' } }).effect, 'deny');
      assert.equal(decide({ args: { q: 'hello', n: 3, nested: { deep: ['sk-9'] } } }).effect, 'deny', 'string() renders nested values');
      assert.equal(decide({ args: { q: 'hello', n: 3 } }).effect, 'allow');
      assert.equal(decide({ args: {} }).effect, 'allow');
    });

    it('keys are sorted, so the message does not depend on the JSON order', () => {
      const a = decide({ args: { zeta: 'sk-1', alpha: 1 } });
      const b = decide({ args: { alpha: 1, zeta: 'sk-1' } });
      assert.equal(a.reasons[0].message, 'secret in ["alpha", "zeta"]');
      assert.equal(b.reasons[0].message, a.reasons[0].message);
    });

    it('entries: key and value', () => {
      assert.deepEqual(decide({ args: { file_path: '/etc/passwd' } }).reasons.map((r) => r.name), ['path_outside']);
      assert.equal(decide({ args: { file_path: '/work/a' } }).effect, 'allow');
      assert.equal(decide({ args: { mode: '/etc' } }).effect, 'allow');
    });

    it('money values sum exactly; string() renders money with the currency', () => {
      assert.deepEqual(decide({ args: {}, caps: { a: 6, b: 5 } }).reasons.map((r) => r.name), ['big_caps']);
      const d = decide({ args: {}, caps: { a: 1.5 } });
      assert.deepEqual(d.reasons.map((r) => [r.name, r.message]), [['big_caps', 'caps { a: $1.50 }']]);
      assert.equal(decide({ args: {}, caps: { a: 1 } }).effect, 'allow');
    });

    it('times and durations render as in interpolation', () => {
      assert.deepEqual(decide({ args: {}, at: '2026-11-24T10:00:00Z', wait: '1h30m' }).reasons.map((r) => r.name), ['rendering']);
    });

    it('a null map iterates as null (no match); a non-map `any` fails closed with a run-time error', () => {
      assert.equal(decide({ args: {}, raw: null }).effect, 'allow');
      assert.equal(decide({ args: {}, raw: { a: 1, b: 2, c: 3 } }).effect, 'deny');
      const d = decide({ args: {}, raw: [1, 2, 3] });
      assert.equal(d.effect, 'deny');
      assert.match(d.errors.map((e) => e.message).join('\n'), /`\.keys\(\)` needs a map, got list/);
    });

    it('random requests: both backends decide alike', () => {
      const r = rng(17);
      const val = (depth: number): unknown => {
        const k = Math.floor(r() * 6);
        if (depth > 2 || k === 0) return r() < 0.5 ? 'sk-' + Math.floor(r() * 9) : '/work/' + Math.floor(r() * 9);
        if (k === 1) return Math.floor(r() * 100) / 4;
        if (k === 2) return null;
        if (k === 3) return [val(depth + 1), val(depth + 1)];
        if (k === 4) return { [`k${Math.floor(r() * 5)}`]: val(depth + 1) };
        return r() < 0.5;
      };
      for (let i = 0; i < 300; i++) {
        const args: Record<string, unknown> = {};
        const n = Math.floor(r() * 4);
        for (let j = 0; j < n; j++) args[['path', 'x_path', 'q', 'cmd'][Math.floor(r() * 4)] + j] = val(0);
        decide({ args, raw: r() < 0.3 ? val(0) : undefined });
      }
    });
  });
});

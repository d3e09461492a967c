// Declarations that type-checked and then silently did something else (review h10r F7, F14, F16):
// a top-level `let`/`def`/`extern def` named `input` (every `input` still read the request),
// `@monitor("false")` (still monitored: the rule enforced nothing), and a constant fractional `charge`
// on a plain-number budget (counters hold whole units: every decision then failed).
import { strict as assert } from 'node:assert';
import { check } from '../../language/check.js';
import { compile } from '../../language/policy.js';

const codes = (src: string) => check({ 'a.rein': src }).diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.code} ${d.message}`);

describe('checker: names and annotations that would silently do something else', () => {
  it('F7: a let, def or extern named `input` is REIN201 (it would never be read)', () => {
    const base = 'input { tool: string }\nrule r { when tool in ["db.drop"] deny "x" }\n';
    for (const decl of ['let input = ["db.drop"]', 'def input(x: string) = x', 'extern def input(x: string): bool', 'let input: list<string> from "x.json"']) {
      const errs = codes(base + decl);
      assert.ok(errs.some((e) => /^REIN201 .*cannot be named `input`: `input` is the whole request/.test(e)), `${decl}: ${errs.join('; ')}`);
    }
    // A parameter or a lambda variable named input still shadows it (a local name), as before.
    assert.deepEqual(codes(base + 'def f(input: string) = input == "a"\nrule s { when f(tool) deny "y" }'), []);
  });

  it('T10: a let, def, extern or data named like a built-in function, `now` or a detector namespace is REIN201 (it would replace the built-in in every rule, a base layer\'s too)', () => {
    const base = 'input { tool: string, ids: list<string> }\nrule r { when len(ids) > 100 deny "x" }\n';
    for (const n of ['len', 'min', 'max', 'now', 'type_of', 'hour', 'weekday', 'string', 'pii', 'secrets']) {
      for (const decl of [`let ${n} = 5`, `def ${n}(x: any) = 0`, `extern def ${n}(x: string): bool`, `let ${n}: list<string> from "x.json"`]) {
        const errs = codes(base + decl);
        assert.ok(errs.some((e) => new RegExp(`^REIN201 .*cannot be named \`${n}\`: it is (a built-in function|the clock|a detector namespace)`).test(e)), `${decl}: ${errs.join('; ')}`);
      }
    }
    // a parameter or lambda variable named like a built-in is a local name, as before
    assert.deepEqual(codes(base + 'def f(len: int) = len > 1\nrule s { when f(2) deny "y" }'), []);
    // a type named like a built-in type
    for (const t of ['string', 'number', 'int', 'bool', 'money', 'duration', 'time', 'any', 'list', 'map']) {
      const errs = codes(`input { tool: string }\ntype ${t} = "yes" | "no"\nrule r { when tool == "a" deny "x" }`);
      assert.ok(errs.some((e) => new RegExp(`^REIN201 a \`type\` cannot be named \`${t}\``).test(e)), `${t}: ${errs.join('; ')}`);
    }
  });

  it('T10: a team layer cannot redefine a built-in its base reads (the base\'s deny holds)', async () => {
    const { mkdtempSync, mkdirSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { readPolicyDir, checkPolicySet } = await import('../../language/node/load.js');
    const dir = mkdtempSync(join(tmpdir(), 'rein-t10-'));
    writeFileSync(join(dir, 'policy.rein'), 'policy g { default allow  on error deny }\ninput { ids: list<string> }\nrule bulk { when len(ids) > 100 deny "bulk" }\n');
    mkdirSync(join(dir, 'team'));
    writeFileSync(join(dir, 'team', 'rein.json'), JSON.stringify({ extends: '..' }));
    writeFileSync(join(dir, 'team', 'rules.rein'), 'def len(x: any) = 0\n');
    const set = await readPolicyDir(join(dir, 'team'));
    const errs = checkPolicySet(set).diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.code} ${d.message}`);
    assert.ok(errs.some((e) => /^REIN201 a `def` cannot be named `len`/.test(e)), errs.join('; '));
  });

  it('F16: `@monitor` with a value is REIN241; plain `@monitor` is fine', () => {
    for (const v of ['"false"', '"off"', '"true"']) {
      const errs = codes(`input { tool: string }\n@monitor(${v})\nrule r { when tool == "a" deny "a" }`);
      assert.ok(errs.some((e) => /^REIN241 `@monitor` takes no value/.test(e)), errs.join('; '));
    }
    assert.deepEqual(codes('input { tool: string }\n@monitor\nrule r { when tool == "a" deny "a" }'), []);
  });

  it('F14: a constant fractional `charge` on a plain-number budget is REIN213 (whole units), as a fractional limit is', () => {
    const errs = codes('input { u: string }\nbudget risk { limit 10 charge 0.5 by u }');
    assert.ok(errs.some((e) => /^REIN213 `charge` must be a whole number \(counters hold whole units\), found 0.5/.test(e)), errs.join('; '));
    assert.deepEqual(codes('input { u: string }\nbudget risk { limit 10 charge 2 by u }'), []);
    assert.deepEqual(codes('input { u: string, c: money }\nbudget spend { limit $10 charge $0.5 by u }'), [], 'money charges are in micros: fractions are fine');
    // The whole-unit budget compiles and counts.
    const p = compile({ 'a.rein': 'input { u: string }\nbudget risk { limit 10 charge 2 by u }' });
    assert.equal(p.evaluate({ u: 'x' }).effect, 'allow');
  });
});

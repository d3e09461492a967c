// The built-ins registry (language/semantics/builtins.ts) is the one place a built-in is written.
// These tests fail when an entry lacks what the registry cannot give by itself: its row in the
// user documentation, its completion item, or an implementation in the evaluator.

import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  BUDGET_MEMBERS,
  DETECTOR_DOCS,
  GLOBAL_BUILTINS,
  LIST_BUILTINS,
  LIST_METHODS,
  MAP_BUILTINS,
  MAP_METHODS,
  STRING_BUILTINS,
  type BuiltinDoc,
  type BuiltinExample,
} from '../../language/semantics/builtins.js';
import { LIST_RUNS, MAP_RUNS } from '../../language/semantics/method-runs.js';
import { complete } from '../../language/services/completion.js';
import { hover } from '../../language/services/hover.js';
import { compile } from '../../language/policy.js';
import { check } from '../../language/index.js';
import { DETECTORS as DETECTOR_IMPLS } from '../../language/runtime/detectors.js';
import { fixture } from '../services/helper.js';

const languageMd = readFileSync(fileURLToPath(new URL('../../docs/language.md', import.meta.url)), 'utf8');
/** The row of §6's "Methods and functions" table that starts with `| on |`. */
function docsRow(on: string): string {
  const row = languageMd.split('\n').find((l) => l.startsWith(`| ${on} |`));
  assert.ok(row, `docs/language.md has no \`| ${on} |\` row in "Methods and functions"`);
  return row;
}

const lists = Object.values(LIST_BUILTINS);
const strings = Object.values(STRING_BUILTINS);
const maps = Object.values(MAP_BUILTINS);

describe('built-ins registry', () => {
  describe('user documentation (docs/language.md §6) names every built-in', () => {
    it('list methods: `xs.NAME(` in the lists row', () => {
      const row = docsRow('lists');
      for (const m of lists) assert.ok(row.includes(`\`xs.${m.name}(`), `docs/language.md: the lists row lacks \`xs.${m.name}(…)\``);
    });
    it('string methods: `s.NAME(` in the strings row', () => {
      const row = docsRow('strings');
      for (const m of strings) assert.ok(row.includes(`\`s.${m.name}(`), `docs/language.md: the strings row lacks \`s.${m.name}(…)\``);
    });
    it('map methods: `m.NAME(` in the maps row', () => {
      const row = docsRow('maps');
      for (const m of maps) assert.ok(row.includes(`\`m.${m.name}(`), `docs/language.md: the maps row lacks \`m.${m.name}(…)\``);
    });
    it('global functions and values in the global row', () => {
      const row = docsRow('global');
      for (const g of Object.values(GLOBAL_BUILTINS)) {
        const want = 'property' in g && g.property ? `\`${g.name}\`` : `\`${g.name}(`;
        assert.ok(row.includes(want), `docs/language.md: the global row lacks ${want}`);
      }
    });
    it('detectors in the detectors row, budget members in the budgets paragraph', () => {
      const row = docsRow('detectors');
      for (const [ns, ds] of Object.entries(DETECTOR_DOCS)) for (const d of ds) assert.ok(row.includes(`\`${ns}.${d.name}(s)\``), `docs/language.md: the detectors row lacks \`${ns}.${d.name}(s)\``);
      for (const m of BUDGET_MEMBERS) assert.ok(languageMd.includes(`\`.${m.name}\``), `docs/language.md lacks the budget member \`.${m.name}\``);
    });
    it('the documentation names no method the registry lacks (a removed built-in leaves the docs too)', () => {
      const names = (row: string, recv: string) => [...row.matchAll(new RegExp(`\`${recv}\\.([a-z_]+)\\(`, 'g'))].map((m) => m[1]);
      assert.deepEqual(names(docsRow('lists'), 'xs').sort(), lists.map((m) => m.name).sort());
      assert.deepEqual(names(docsRow('strings'), 's').sort(), strings.map((m) => m.name).sort());
      assert.deepEqual(names(docsRow('maps'), 'm').sort(), maps.map((m) => m.name).sort());
    });
  });

  describe('completion offers every method with its signature, documentation and snippet', () => {
    const src = 'input {\n  tags: list<string>\n  name: string\n  args: map<string>\n}\nrule r {\n  when RECV.<|>\n  deny "x"\n}\n';
    const check = (recv: string, table: BuiltinDoc[]) => {
      const fx = fixture({ 'p.rein': src.replace('RECV', recv) });
      const items = complete(fx.analysis, fx.file, fx.offset);
      for (const m of table) {
        const it = items.find((i) => i.label === m.name);
        assert.ok(it, `no completion item for \`${recv}.${m.name}\``);
        assert.equal(it.detail, m.signature, `${m.name}: detail`);
        assert.equal(it.documentation, m.doc, `${m.name}: documentation`);
        assert.equal(it.insertText, m.snippet, `${m.name}: snippet`);
      }
    };
    it('on a list', () => check('tags', lists));
    it('on a string', () => check('name', strings));
    it('on a map', () => check('args', maps));
    it('globals in an expression', () => {
      const fx = fixture({ 'p.rein': 'rule r {\n  when <|>\n  deny "x"\n}\n' });
      const labels = complete(fx.analysis, fx.file, fx.offset).map((i) => i.label);
      for (const g of Object.values(GLOBAL_BUILTINS)) assert.ok(labels.includes(g.name), `no completion item for \`${g.name}\``);
    });
  });

  it('hover on a method call shows the registry entry', () => {
    for (const [recv, m] of [['tags', LIST_BUILTINS.any], ['name', STRING_BUILTINS.starts_with], ['args', MAP_BUILTINS.values]] as const) {
      const text = `input {\n  tags: list<string>\n  name: string\n  args: map<string>\n}\nrule r {\n  when ${recv}.${m.name}<|>(x => true)\n  deny "x"\n}\n`.replace(
        '(x => true)',
        recv === 'tags' ? '(x => x == "a")' : recv === 'args' ? '().contains("a")' : '("a")',
      );
      const fx = fixture({ 'p.rein': text });
      const h = hover(fx.analysis, fx.file, fx.offset - 1);
      assert.ok(h && h.contents.includes(m.signature) && h.contents.includes(m.doc), `hover on .${m.name}: ${JSON.stringify(h)}`);
    }
  });

  describe('the evaluator runs every method, identically in both backends (its example)', () => {
    const typeOf = (v: BuiltinExample['on']) =>
      typeof v === 'string' ? 'string' : !Array.isArray(v) ? 'map<string>' : typeof v[0] === 'number' ? 'list<int>' : 'list<string>';
    const literal = (v: unknown): string =>
      Array.isArray(v)
        ? `[${v.map(literal).join(', ')}]`
        : v !== null && typeof v === 'object'
          ? `{ ${Object.entries(v).map(([k, x]) => `${k}: ${literal(x)}`).join(', ')} }`
          : JSON.stringify(v);
    for (const [kind, table] of [['list', lists], ['string', strings], ['map', maps]] as const)
      for (const m of table as { name: string; example: BuiltinExample }[]) {
        it(`${kind} .${m.name}(): ${literal(m.example.on)}.${m.example.call} == ${literal(m.example.result)}`, () => {
          const { on, call, result } = m.example;
          const src = `input {\n  v: ${typeOf(on)}\n}\nrule probe {\n  when v.${call} == ${literal(result)}\n  deny "probe"\n}\n`;
          for (const codegen of [false, true]) {
            const p = compile({ 'p.rein': src }, { codegen });
            const holds = p.evaluate({ v: on });
            assert.deepEqual(holds.errors, [], `codegen ${codegen}: ${JSON.stringify(holds.errors)}`);
            assert.equal(holds.effect, 'deny', `codegen ${codegen}: v.${call} == ${literal(result)} does not hold for v = ${literal(on)}`);
          }
        });
      }
  });

  it('a method named like an Object.prototype member is unknown (REIN204), not an internal error (regression)', () => {
    for (const m of ['toString', 'constructor', 'hasOwnProperty', 'valueOf', '__proto__']) {
      const src = `input {\n  tags: list<string>\n  name: string\n  args: map<string>\n}\nrule r {\n  when tags.${m}() == "" or name.${m}() == "" or args.${m}() == "" or ${m}(1) == ""\n  deny "x"\n}\n`;
      const codes = check({ 'p.rein': src }).diagnostics.filter((d) => d.severity === 'error').map((d) => d.code);
      assert.ok(!codes.includes('REIN101'), `.${m}(): ${codes.join(', ')}`);
      assert.equal(codes.filter((c) => c === 'REIN204').length, 3, `.${m}(): ${codes.join(', ')}`);
    }
  });

  it('detectors: the registry and the implementations (runtime/detectors.ts) name the same ones', () => {
    const documented = Object.entries(DETECTOR_DOCS).flatMap(([ns, ds]) => ds.map((d) => `${ns}.${d.name}`));
    assert.deepEqual(documented.sort(), Object.keys(DETECTOR_IMPLS).sort());
  });

  it('string methods run from the registry: every entry has an implementation that gives its example', () => {
    for (const m of strings) {
      const [a, b] = (m.example.call.match(/\((.*)\)$/)![1].match(/"[^"]*"/g) ?? []).map((x) => JSON.parse(x));
      assert.deepEqual(m.run(m.example.on as string, a ?? null, b ?? null), m.example.result, `.${m.name}`);
    }
  });
});

describe('method-runs.ts: what lowering reads of each built-in list and map method', () => {
  it('every built-in has its run there, as its registry entry has it (a prebuilt policy lowers without builtins.ts)', async () => {
    // A fresh instance of the module, as a bundle without builtins.ts has it (builtins.ts completes
    // the entries of the instance it imports).
    const fresh = (await import(`../../language/semantics/method-runs.ts?fresh=${Date.now()}`)) as typeof import('../../language/semantics/method-runs.js');
    assert.notEqual(fresh.LIST_RUNS, LIST_METHODS, 'a fresh instance');
    assert.deepEqual(Object.keys(fresh.LIST_RUNS).sort(), Object.keys(LIST_BUILTINS).sort());
    for (const [name, m] of Object.entries(LIST_BUILTINS)) assert.deepEqual(fresh.LIST_RUNS[name], { lambda: m.lambda, min: m.min, max: m.max, loop: m.loop }, name);
    assert.deepEqual(Object.keys(fresh.MAP_RUNS).sort(), Object.keys(MAP_BUILTINS).sort());
    for (const [name, m] of Object.entries(MAP_BUILTINS)) assert.deepEqual(fresh.MAP_RUNS[name], { yields: m.yields }, name);
    // The registries the checker and the linter read are the ones lowering reads.
    assert.equal(LIST_METHODS, LIST_RUNS);
    assert.equal(MAP_METHODS, MAP_RUNS);
  });
});

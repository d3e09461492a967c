// Prebuilt policies (`rein build` formatVersion 2 → `rein/runtime` loadCompiled): the same policy as
// compiling the sources, without the parser; refused when changed, from another rein, or version 1.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { buildBundle, serializeBundle } from '../../language/node/bundle.js';
import { readPolicyDir } from '../../language/node/load.js';
import { compile } from '../../language/policy.js';
import { loadCompiled, BundleError, REIN_VERSION } from '../../language/runtime/index.js';
import { decodeProgram, encodeProgram } from '../../language/runtime/program-codec.js';
import { runTests } from '../../language/runtime/test-runner.js';
import { sha256Hex } from '../../language/runtime/hash.js';
import type { CheckedProgram } from '../../language/semantics/program.js';

const EXAMPLES = path.resolve('examples');
const NOW = new Date('2026-11-24T10:00:00Z');

async function bundleOf(dir: string): Promise<Record<string, unknown>> {
  const { bundle } = buildBundle(await readPolicyDir(dir));
  return JSON.parse(JSON.stringify(bundle)) as Record<string, unknown>;
}

describe('prebuilt policies: loadCompiled (rein/runtime)', function () {
  this.timeout(60_000);
  const sets = readdirSync(EXAMPLES, { withFileTypes: true })
    .filter((d) => d.isDirectory() && readdirSync(path.join(EXAMPLES, d.name)).some((f) => f.endsWith('.rein')))
    .map((d) => d.name);

  it('every example: the same hash, decisions (closures and codegen) and test results as compiling the sources', async () => {
    assert.ok(sets.length >= 4, `example sets found: ${sets.join(', ')}`);
    for (const name of sets) {
      const dir = path.join(EXAMPLES, name);
      const set = await readPolicyDir(dir);
      const fromText = compile(set.files);
      const bundle = await bundleOf(dir);
      for (const codegen of [false, true]) {
        const pre = await loadCompiled(bundle, { codegen });
        assert.equal(pre.hash, fromText.hash, name);
        const reqDir = path.join(dir, 'requests');
        let reqs: string[] = [];
        try {
          reqs = readdirSync(reqDir).filter((f) => f.endsWith('.json'));
        } catch {
          // a set without sample requests
        }
        for (const f of reqs) {
          const req = JSON.parse(readFileSync(path.join(reqDir, f), 'utf8'));
          for (const opts of [{ now: NOW }, { now: NOW, explain: true }, { now: NOW, mode: 'monitor' as const }]) {
            assert.deepEqual(pre.evaluate(req, opts), fromText.evaluate(req, opts), `${name}/${f} ${JSON.stringify(opts)} codegen=${codegen}`);
          }
        }
        const a = runTests(pre);
        const b = runTests(fromText);
        assert.deepEqual(a.summary, b.summary, name);
        assert.ok(a.summary.total > 0 && a.summary.failed === 0, `${name}: ${JSON.stringify(a.summary)}`);
      }
    }
  });

  it('serializeBundle: the same bundle back, the compiled program on one line (not indented)', async () => {
    const { bundle } = buildBundle(await readPolicyDir(path.join(EXAMPLES, 'coding-agent')));
    const text = serializeBundle(bundle);
    assert.deepEqual(JSON.parse(text), JSON.parse(JSON.stringify(bundle)));
    const line = text.split('\n').find((l) => l.startsWith('  "compiled": '));
    assert.ok(line && line.length > 0.8 * JSON.stringify(bundle.compiled).length, 'compiled is one line');
    assert.ok(text.length < 1.2 * JSON.stringify(bundle).length, `${text.length} bytes written for ${JSON.stringify(bundle).length} of JSON`);
    assert.equal((await loadCompiled(text)).hash, bundle.policy.hash);
  });

  it('accepts the bundle as JSON text', async () => {
    const bundle = await bundleOf(path.join(EXAMPLES, 'support-agent'));
    const p = await loadCompiled(JSON.stringify(bundle));
    assert.equal(p.hash, (bundle.policy as { hash: string }).hash);
  });

  it('refuses a bundle whose compiled program was changed (integrity), or whose program no longer hashes to policy.hash', async () => {
    const bundle = await bundleOf(path.join(EXAMPLES, 'support-agent'));
    const text = JSON.stringify(bundle);
    // A string literal of the program changed: the integrity digest no longer matches.
    const edited = JSON.parse(text.replace('"refund.issue"', '"refund.issued"'));
    assert.notEqual(JSON.stringify(edited), text, 'the fixture has the literal');
    await assert.rejects(loadCompiled(edited), (e: unknown) => e instanceof BundleError && /modified after it was built.*integrity/.test(e.message));
    // The recorded policy hash changed (integrity recomputed by hand): the recomputed hash disagrees.
    const b2 = JSON.parse(text);
    b2.policy.hash = 'sha256:' + '0'.repeat(64);
    b2.compiled.integrity = sha256Hex(JSON.stringify({ rein: b2.rein, policy: b2.policy, program: b2.compiled.program }));
    await assert.rejects(loadCompiled(b2), /program hashes to sha256:[0-9a-f]{64}, the bundle records sha256:0{64}; refusing to load it/);
  });

  it('clear errors: not JSON, not a bundle, formatVersion 1, another rein version, no compiled section', async () => {
    const bundle = await bundleOf(path.join(EXAMPLES, 'support-agent'));
    await assert.rejects(loadCompiled('{nope', { source: 'x.json' }), /`x.json` is not a rein bundle: invalid JSON/);
    await assert.rejects(loadCompiled({ format: 'other' }), /is not a rein bundle \(expected `"format": "rein-bundle"`\)/);
    await assert.rejects(loadCompiled({ ...bundle, formatVersion: 1 }), /cannot be loaded without the compiler: it has no compiled section; rebuild it with `rein build`/);
    await assert.rejects(loadCompiled({ ...bundle, rein: '0.0.1' }), new RegExp(`built by rein "0.0.1"; this is rein ${REIN_VERSION.replace(/\./g, '\\.')}: rebuild it`));
    await assert.rejects(loadCompiled({ ...bundle, compiled: undefined }), /the compiled section is missing/);
    await assert.rejects(loadCompiled({ ...bundle, compiled: { ...(bundle.compiled as object), encodingVersion: 9 } }), /compiled encoding "checked-program" version 9 is not supported/);
  });

  it('REIN_VERSION of the core is package.json’s version', () => {
    assert.equal(REIN_VERSION, JSON.parse(readFileSync('package.json', 'utf8')).version);
  });

  it('loads re2js only for a policy that uses `matches` (a fresh process on the runtime entry alone)', async () => {
    const coding = JSON.stringify(await bundleOf(path.join(EXAMPLES, 'coding-agent')));
    const support = JSON.stringify(await bundleOf(path.join(EXAMPLES, 'support-agent')));
    assert.match(readFileSync(path.join(EXAMPLES, 'coding-agent/rules-shell.rein'), 'utf8'), / matches /);
    const script = path.resolve('test/fixtures/prebuilt/lazy-re2.ts');
    const r = spawnSync(process.execPath, ['--import', 'tsx', script], { input: JSON.stringify([support, coding]), encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    const [before, afterPlain, afterRegex, effect] = JSON.parse(r.stdout.trim()) as [boolean, boolean, boolean, string];
    assert.deepEqual([before, afterPlain, afterRegex], [false, false, true]);
    assert.notEqual(effect, 'allow', 'the `matches` rule ran');
  });
});

describe('program codec', () => {
  it('keeps the graph: shared nodes stay shared, Map keys are the AST nodes, `$` keys survive', () => {
    const shared = { kind: 'X', v: 1 };
    const dollar = { $ref: 'not a ref', $id: 3, plain: true };
    const graph = { a: shared, b: [shared, shared], m: new Map<unknown, unknown>([[shared, 'x'], ['k', dollar]]), d: dollar };
    const back = decodeProgram<typeof graph>(JSON.parse(JSON.stringify(encodeProgram(graph))));
    assert.equal(back.b[0], back.a);
    assert.equal(back.b[1], back.a);
    assert.equal([...back.m.keys()][0], back.a);
    assert.deepEqual(back.d, dollar);
    assert.equal(back.m.get('k'), back.d);
  });

  it('a checked program: every `types` key is a node of the decoded files', async () => {
    const set = await readPolicyDir(path.join(EXAMPLES, 'coding-agent'));
    const program = compile(set.files).compiled.program as CheckedProgram;
    const back = decodeProgram<CheckedProgram>(JSON.parse(JSON.stringify(encodeProgram(program))));
    const nodes = new Set<unknown>();
    const walk = (v: unknown): void => {
      if (v === null || typeof v !== 'object' || nodes.has(v)) return;
      nodes.add(v);
      for (const x of Object.values(v)) walk(x);
    };
    walk(back.files);
    assert.equal(back.types.size, program.types.size);
    for (const k of back.types.keys()) assert.ok(nodes.has(k));
    for (const r of back.rules) assert.ok(nodes.has(r));
  });

  it('refuses what is not plain data, and malformed input', () => {
    class C {}
    assert.throws(() => encodeProgram({ x: new C() }), /\$\.x: a C instance is not plain data/);
    assert.throws(() => encodeProgram({ f: () => 1 }), /a function is not plain data/);
    assert.throws(() => encodeProgram({ n: NaN }), /NaN has no JSON form/);
    assert.throws(() => decodeProgram({ $ref: 0 }), /bad .\$ref. 0/);
    assert.throws(() => decodeProgram({ $map: 1 }), /.\$map. is not a list/);
    assert.throws(() => decodeProgram({ $what: 1 }), /unknown key .\$what./);
    assert.throws(() => decodeProgram([{ $id: 1, $v: {} }]), /.\$id. 1 out of order/);
  });

  it('a `__proto__` key stays an own property, never a prototype', () => {
    const back = decodeProgram<Record<string, unknown>>(JSON.parse('{"__proto__": {"polluted": true}}'));
    assert.equal(Object.getPrototypeOf(back), Object.prototype);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.deepEqual(Object.keys(back), ['__proto__']);
  });
});

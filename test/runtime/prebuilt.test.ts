// Prebuilt policies (`rein build` formatVersion 2 → `rein/runtime` loadCompiled): the same policy as
// compiling the sources, without the parser; refused when changed, from another rein, or version 1.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { buildBundle, loadBundle, serializeBundle } from '../../language/node/bundle.js';
import { readPolicyDir } from '../../language/node/load.js';
import { compile } from '../../language/policy.js';
import { loadCompiled, BundleError, REIN_VERSION } from '../../language/runtime/index.js';
import { decodeProgram, encodeProgram } from '../../language/runtime/program-codec.js';
import { runTests } from '../../language/runtime/test-runner.js';
import { sha256Hex } from '../../language/runtime/hash.js';
import type { CheckedProgram } from '../../language/semantics/program.js';

const EXAMPLES = path.resolve('examples');

/** The integrity digest of a bundle, recomputed by hand (docs/cli.md: what it covers). */
function integrity(b: { rein: unknown; policy: unknown; files: unknown; config?: unknown; compiled: { program: unknown } }): string {
  return sha256Hex(JSON.stringify({ rein: b.rein, policy: b.policy, files: b.files, config: b.config ?? null, program: b.compiled.program }));
}
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
      const fromText = compile(set.files, { data: set.data });
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
    b2.compiled.integrity = integrity(b2);
    await assert.rejects(loadCompiled(b2), /program hashes to sha256:[0-9a-f]{64}, the bundle records sha256:0{64}; refusing to load it/);
    // The sources changed: the digest covers them too (Node's loadBundle relies on it, not re-checking).
    const b3 = JSON.parse(text);
    const [file] = Object.keys(b3.files);
    b3.files[file] += '\n// edited';
    await assert.rejects(loadCompiled(b3), /modified after it was built: it does not match its integrity digest/);
    assert.throws(() => loadBundle(b3), /modified after it was built: it does not match its integrity digest/);
    const b4 = JSON.parse(text);
    b4.config = { lint: { 'missing-default': 'off' } };
    assert.throws(() => loadBundle(b4), /modified after it was built/);
  });

  it("Node's loadBundle compiles the compiled section, without re-checking the sources", async () => {
    const bundle = await bundleOf(path.join(EXAMPLES, 'support-agent'));
    const { policy } = loadBundle(bundle);
    assert.equal(policy.hash, (bundle.policy as { hash: string }).hash);
    // Sources that do not even parse, with the digest recomputed to match: still the compiled policy
    // (re-checking them would throw PolicyError) — the digest, not a re-check, guards the sources.
    const junk = JSON.parse(JSON.stringify(bundle));
    junk.files = { 'p.rein': 'rule {' };
    junk.compiled.integrity = integrity(junk);
    const loaded = loadBundle(junk).policy;
    assert.equal(loaded.hash, policy.hash);
    const req = JSON.parse(readFileSync(path.join(EXAMPLES, 'support-agent/requests', readdirSync(path.join(EXAMPLES, 'support-agent/requests'))[0]), 'utf8'));
    assert.deepEqual(loaded.evaluate(req, { now: NOW }), compile((await readPolicyDir(path.join(EXAMPLES, 'support-agent'))).files).evaluate(req, { now: NOW }));
    // A policy using `matches` loads synchronously too (the checker's module graph holds RE2).
    const coding = await bundleOf(path.join(EXAMPLES, 'coding-agent'));
    assert.equal(loadBundle(coding).policy.hash, (coding.policy as { hash: string }).hash);
  });

  it("Node's loadBundle re-checks the sources of a compiled section it cannot read (another encoding version), and still checks the hash", async () => {
    const bundle = await bundleOf(path.join(EXAMPLES, 'support-agent'));
    const older = { ...bundle, compiled: { ...(bundle.compiled as object), encodingVersion: 1, program: null } };
    assert.equal(loadBundle(older).policy.hash, (bundle.policy as { hash: string }).hash);
    const files = bundle.files as Record<string, string>;
    const [file] = Object.keys(files).filter((f) => files[f].includes('"refund.issue"'));
    assert.ok(file, 'the fixture has the literal');
    const changed = { ...older, files: { ...files, [file]: files[file].replace('"refund.issue"', '"refund.issued"') } };
    assert.throws(() => loadBundle(changed), /its sources hash to sha256:[0-9a-f]{64}, the bundle records sha256:[0-9a-f]{64}; refusing to load it/);
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

  it('source ranges are six integers (`$r`), unless shared or not exactly a range; decoding gives them back equal', () => {
    const range = (a: number, b: number) => ({ start: { line: a, character: 1, offset: 10 }, end: { line: b, character: 2, offset: 20 } });
    const sharedRange = range(3, 3);
    const sharedPos = { line: 7, character: 0, offset: 70 };
    const graph = {
      one: { kind: 'Name', range: range(0, 1) },
      two: [sharedRange, sharedRange],
      partly: { start: sharedPos, end: sharedPos },
      extra: { start: { line: 1, character: 1, offset: 1 }, end: { line: 1, character: 2, offset: 2 }, file: 'a.rein' },
      order: { end: { line: 1, character: 2, offset: 2 }, start: { line: 1, character: 1, offset: 1 } },
      fraction: { start: { line: 1.5, character: 1, offset: 1 }, end: { line: 1, character: 2, offset: 2 } },
    };
    const encoded = JSON.parse(JSON.stringify(encodeProgram(graph)));
    assert.deepEqual(encoded.one.range, { $r: [0, 1, 10, 1, 2, 20] });
    for (const k of ['partly', 'extra', 'order', 'fraction']) assert.ok(!('$r' in encoded[k]), `${k} is written as an object`);
    assert.ok(!JSON.stringify(encoded.two).includes('"$r"'), 'a shared range keeps its identity');
    const back = decodeProgram<typeof graph>(encoded);
    assert.deepEqual(back, graph);
    assert.deepEqual(Object.keys(back.order), ['end', 'start'], 'key order kept');
    assert.equal(back.two[0], back.two[1]);
    assert.equal(back.partly.start, back.partly.end);
    assert.throws(() => decodeProgram({ $r: [1, 2, 3] }), /\$r. is not a list of 6 integers/);
    assert.throws(() => decodeProgram({ $r: [1, 2, 3, 4, 5, 6], x: 1 }), /\$r. is not a list of 6 integers/);
  });

  it('a checked program encodes in at most 16 times the size of its sources (ranges made most of it: 23 times)', async () => {
    const set = await readPolicyDir(path.join(EXAMPLES, 'coding-agent'));
    const program = compile(set.files).compiled.program as CheckedProgram;
    const ratio = JSON.stringify(encodeProgram(program)).length / JSON.stringify(set.files).length;
    assert.ok(ratio <= 16, `${ratio.toFixed(1)} times the sources`);
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

// `rein init`: every template gives a policy set that checks clean and whose tests pass, with
// rein.json and a GitHub Actions workflow; existing files are never overwritten without --force.
import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runMain } from './helpers.js';
import { REIN_VERSION } from '../../language/node/version.js';

describe('rein init', function () {
  this.timeout(60_000);
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(path.join(tmpdir(), 'rein-init-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  for (const template of ['basic', 'mcp', 'coding-agent']) {
    it(`--template ${template}: checks clean, its tests pass, with rein.json and the CI workflow`, async () => {
      const r = await runMain(['init', 'proj', '--template', template], { cwd: dir });
      assert.equal(r.code, 0, r.stderr);
      const root = path.join(dir, 'proj');
      for (const f of ['policies/schema.rein', 'policies/tests.rein', 'policies/budgets.rein', 'rein.json', '.github/workflows/rein.yml']) {
        assert.ok(existsSync(path.join(root, f)), f);
      }
      const check = await runMain(['check', 'policies', '--format', 'json'], { cwd: root });
      assert.equal(check.code, 0, check.stdout + check.stderr);
      assert.deepEqual(JSON.parse(check.stdout).diagnostics, []);
      // what it writes is in canonical form: a generated workflow with `rein fmt --check` passes on day one
      const fmt = await runMain(['fmt', '--check', 'policies'], { cwd: root });
      assert.equal(fmt.code, 0, `rein fmt --check rejects the ${template} template: ${fmt.stdout}${fmt.stderr}`);
      const test = await runMain(['test', 'policies', '--coverage'], { cwd: root });
      assert.equal(test.code, 0, test.stdout + test.stderr);
      assert.match(test.stdout, /[1-9]\d* passed, 0 failed/);
      const wf = readFileSync(path.join(root, '.github/workflows/rein.yml'), 'utf8');
      assert.match(wf, /npx rein check policies --format github/);
      assert.match(wf, /npx rein test policies --format junit/);
      // no rein installed around the temporary folder: the published schema of this version
      assert.equal(JSON.parse(readFileSync(path.join(root, 'rein.json'), 'utf8')).$schema, `https://unpkg.com/rein@${REIN_VERSION}/dist/rein.schema.json`);
    });
  }

  it('the lint levels of the rein.json it writes apply to `rein check policies` (regression: rein.json sits above the set and was ignored)', async () => {
    assert.equal((await runMain(['init', 'proj'], { cwd: dir })).code, 0);
    const root = path.join(dir, 'proj');
    assert.equal(JSON.parse(readFileSync(path.join(root, 'rein.json'), 'utf8')).lint['deny-without-message'], 'error');
    writeFileSync(path.join(root, 'policies/extra.rein'), 'rule zz {\n  when true\n  deny\n}\n');
    for (const arg of ['policies', '.']) {
      const r = await runMain(['check', arg, '--format', 'json'], { cwd: root });
      assert.equal(r.code, 1, r.stdout + r.stderr);
      const d = JSON.parse(r.stdout).diagnostics.find((x: { code: string }) => x.code === 'REIN301');
      assert.equal(d?.severity, 'error', arg);
    }
    // a repository's root ends the search: with policies/ a repository of its own, the rein.json above it does not apply
    mkdirSync(path.join(root, 'policies/.git'));
    const r = await runMain(['check', 'policies', '--format', 'json'], { cwd: root });
    assert.equal(JSON.parse(r.stdout).diagnostics.find((x: { code: string }) => x.code === 'REIN301')?.severity, 'warning');
  });

  it('rein.json\'s $schema is the path to the installed package\'s schema, seen from DIR', async () => {
    mkdirSync(path.join(dir, 'node_modules/rein/dist'), { recursive: true });
    writeFileSync(path.join(dir, 'node_modules/rein/dist/rein.schema.json'), '{}');
    assert.equal((await runMain(['init'], { cwd: dir })).code, 0);
    assert.equal(JSON.parse(readFileSync(path.join(dir, 'rein.json'), 'utf8')).$schema, './node_modules/rein/dist/rein.schema.json');
    // `rein init sub/proj` in a project: the schema two folders up (it was `./node_modules/…`, a path
    // that did not exist from the rein.json)
    assert.equal((await runMain(['init', 'sub/proj'], { cwd: dir })).code, 0);
    const ref = JSON.parse(readFileSync(path.join(dir, 'sub/proj/rein.json'), 'utf8')).$schema;
    assert.equal(ref, '../../node_modules/rein/dist/rein.schema.json');
    assert.ok(existsSync(path.join(dir, 'sub/proj', ref)));
  });

  it('the mcp template declares the gateway\'s request (INTERFACES §6 fields)', async () => {
    assert.equal((await runMain(['init', '--template', 'mcp'], { cwd: dir })).code, 0);
    const schema = readFileSync(path.join(dir, 'policies/schema.rein'), 'utf8');
    for (const field of ['phase: "list" | "call" | "result"', 'server: { name: string }', 'annotations:', 'arguments: map<any>', 'client: { name: string, version: string }', 'session: string', 'result?: { isError: bool, text: string }']) {
      assert.ok(schema.includes(field), field);
    }
  });

  it('never overwrites: existing files are listed and nothing is written; --force overwrites', async () => {
    writeFileSync(path.join(dir, 'rein.json'), '{"lint":{}}\n');
    const r = await runMain(['init'], { cwd: dir });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /rein\.json already exists; nothing written \(--force overwrites\)/);
    assert.ok(!existsSync(path.join(dir, 'policies')));
    assert.equal((await runMain(['init', '--force'], { cwd: dir })).code, 0);
    assert.match(readFileSync(path.join(dir, 'rein.json'), 'utf8'), /rein\.schema\.json/);
  });

  it('an unknown template is a usage error naming the choices', async () => {
    const r = await runMain(['init', '--template', 'fancy'], { cwd: dir });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--template must be one of basic, mcp, coding-agent \(got `fancy`\)/);
  });

  it('--format json lists what was written (and prints nothing else)', async () => {
    const r = await runMain(['init', 'proj', '--format', 'json'], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.template, 'basic');
    assert.ok(out.files.some((f: string) => f.endsWith('rein.json')));
    assert.ok(out.files.some((f: string) => f.endsWith(path.join('.github', 'workflows', 'rein.yml'))));
    for (const f of out.files as string[]) assert.ok(existsSync(path.resolve(dir, f)), f);
  });
});

// Symbolic links in policy sets (regression, R12 of session 9: a linked `.rein` file or set directory
// was silently left out of the set — a deny rule vanished — and a Kubernetes ConfigMap volume, where
// every file is a link into `..data/`, did not load at all). Every reader agrees: the CLI's set
// loading and discovery, the language server's workspace, and `rein serve`'s watcher.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { LoadError, discoverPolicyDirs, loadPolicy, readPolicyDir, resolvePolicySets } from '../../language/node/index.js';
import { PolicyHolder, type ReloadResult } from '../../language/node/serve/policy-holder.js';
import { MemoryBudgetStore } from '../../language/runtime/memory-store.js';
import { nodeFileSystem } from '../../server/src/node.js';
import { runMain } from './helpers.js';

const SCHEMA = 'policy s {\n  default allow\n}\n\ninput {\n  tool: string\n}\n';
const guard = (tool: string) => `rule no_${tool} {\n  when tool == "${tool}"\n  deny "${tool} is blocked"\n}\n`;

describe('symbolic links in policy sets (R12: linked files and sets were dropped silently)', function () {
  this.timeout(60_000);
  let dir = '';
  const p = (...xs: string[]) => path.join(dir, ...xs);
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'rein-symlink-'));
    mkdirSync(p('.git')); // no rein.json above the scratch dir applies
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** A shared rule file linked into a set. */
  function linkedFile(): string {
    mkdirSync(p('shared'));
    mkdirSync(p('set'));
    writeFileSync(p('shared', 'guard.rein'), guard('shell'));
    writeFileSync(p('set', 'schema.rein'), SCHEMA);
    symlinkSync('../shared/guard.rein', p('set', 'guard.rein'));
    return p('set');
  }

  /** A ConfigMap volume: `..<timestamp>/` holds the files, `..data` links to it, each name links into `..data/`. */
  function configMap(files: Record<string, string>, stamp = '..2026_12_06_23_00_00.1'): string {
    const cm = p('cm');
    mkdirSync(path.join(cm, stamp), { recursive: true });
    for (const [n, t] of Object.entries(files)) writeFileSync(path.join(cm, stamp, n), t);
    symlinkSync(stamp, path.join(cm, '..data'));
    for (const n of Object.keys(files)) symlinkSync(`..data/${n}`, path.join(cm, n));
    return cm;
  }

  it('a linked .rein file is part of its set: loaded, checked, built and enforced', async () => {
    const set = linkedFile();
    const read = await readPolicyDir(set);
    assert.deepEqual(Object.keys(read.files), ['guard.rein', 'schema.rein']);
    assert.equal(read.paths['guard.rein'], path.join(set, 'guard.rein'));
    const d = (await loadPolicy(set)).evaluate({ tool: 'shell' });
    assert.equal(d.effect, 'deny');
    assert.deepEqual(d.reasons.map((r) => r.name), ['no_shell']);
    const check = await runMain(['check', set]);
    assert.equal(check.code, 0, check.stderr);
    assert.match(check.stdout + check.stderr, /in 2 files/);
    const ev = await runMain(['eval', set, '-i', '-', '--format', 'json'], { input: '{"tool":"shell"}' });
    assert.equal(JSON.parse(ev.stdout).effect, 'deny', ev.stdout + ev.stderr);
  });

  it('a Kubernetes ConfigMap volume loads as its named files (the `..data` internals are not a second set)', async () => {
    const cm = configMap({ 'schema.rein': SCHEMA, 'guard.rein': guard('shell') });
    const sets = await resolvePolicySets([cm]);
    assert.equal(sets.length, 1);
    assert.equal(sets[0]!.root, cm);
    assert.deepEqual(Object.keys(sets[0]!.files), ['guard.rein', 'schema.rein']);
    assert.equal((await loadPolicy(cm)).evaluate({ tool: 'shell' }).effect, 'deny');
  });

  it('a linked set directory is discovered; a link back up the tree ends the walk', async () => {
    mkdirSync(p('real'));
    writeFileSync(p('real', 'schema.rein'), SCHEMA + 'rule broken {\n  when nope == 1\n  deny "x"\n}\n');
    mkdirSync(p('tree', 'ok'), { recursive: true });
    writeFileSync(p('tree', 'ok', 'schema.rein'), SCHEMA);
    symlinkSync('../real', p('tree', 'linked'));
    symlinkSync('..', p('tree', 'ok', 'up')); // a loop: tree/ok/up/ok/up/…
    assert.deepEqual(await discoverPolicyDirs(p('tree')), [p('tree', 'linked'), p('tree', 'ok')]);
    const check = await runMain(['check', p('tree')]);
    assert.equal(check.code, 1, 'the linked set has an error, so the gate fails');
    assert.match(check.stdout + check.stderr, /REIN200/);
  });

  it('a dangling link or a non-regular file named .rein is a load error, never skipped', async () => {
    const set = linkedFile();
    symlinkSync('../shared/missing.rein', p('set', 'gone.rein'));
    await assert.rejects(readPolicyDir(set), (e: Error) => e instanceof LoadError && /gone\.rein` is a symbolic link to nothing/.test(e.message));
    const check = await runMain(['check', set]);
    assert.equal(check.code, 2);
    assert.match(check.stderr, /gone\.rein` is a symbolic link to nothing/);
    rmSync(p('set', 'gone.rein'));
    symlinkSync('/dev/null', p('set', 'dev.rein'));
    await assert.rejects(readPolicyDir(set), (e: Error) => e instanceof LoadError && /dev\.rein` is not a regular file/.test(e.message));
  });

  it('the language server sees the same files and sets', () => {
    const set = linkedFile();
    const cm = configMap({ 'schema.rein': SCHEMA });
    symlinkSync('..', p('set', 'up')); // a loop
    const uri = (x: string) => pathToFileURL(x).href;
    assert.deepEqual(nodeFileSystem.listPolicyFiles(uri(set)), [uri(path.join(set, 'guard.rein')), uri(path.join(set, 'schema.rein'))]);
    assert.deepEqual(nodeFileSystem.listPolicyFiles(uri(cm)), [uri(path.join(cm, 'schema.rein'))]);
    assert.deepEqual(nodeFileSystem.discoverSetDirs(uri(dir)).sort(), [uri(cm), uri(set), uri(p('shared'))].sort());
  });

  it('`rein serve` reloads when a ConfigMap volume swaps `..data` to a new version', async () => {
    const cm = configMap({ 'schema.rein': SCHEMA, 'guard.rein': guard('shell') });
    const reloads: ReloadResult[] = [];
    let wake: (() => void) | null = null;
    const h = new PolicyHolder({ source: cm, store: new MemoryBudgetStore(), onReload: (r) => (reloads.push(r), wake?.()) });
    try {
      await h.init();
      await h.load();
      h.watch(20);
      assert.equal(h.current!.policy.evaluate({ tool: 'curl' }).effect, 'allow');
      // kubelet's atomic update: a new timestamped directory, `..data_tmp` linked to it, renamed over `..data`
      const next = '..2026_12_06_23_05_00.2';
      mkdirSync(path.join(cm, next));
      writeFileSync(path.join(cm, next, 'schema.rein'), SCHEMA);
      writeFileSync(path.join(cm, next, 'guard.rein'), guard('curl'));
      symlinkSync(next, path.join(cm, '..data_tmp'));
      renameSync(path.join(cm, '..data_tmp'), path.join(cm, '..data'));
      const deadline = Date.now() + 20_000;
      while (!reloads.some((r) => r.changed) && Date.now() < deadline) {
        await new Promise<void>((res) => {
          wake = res;
          setTimeout(res, 200).unref();
        });
      }
      assert.ok(reloads.some((r) => r.changed), `no reload after the swap: ${JSON.stringify(reloads)}`);
      assert.equal(h.current!.policy.evaluate({ tool: 'curl' }).effect, 'deny');
    } finally {
      h.close();
    }
  });
});

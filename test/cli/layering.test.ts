// Layering a team's set over a base set in another directory (`rein.json` `extends`, docs/layering.md):
// the loader reads the base untouched under `../` names, one namespace (clashes are REIN201), the
// base's header governs, decisions name the winning rule's file, REIN340 spans the layers, chains and
// circles, `rein fmt` leaves the base alone, and `rein mcp` reloads when a base file changes.

import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkPolicySet, compilePolicySet, readPolicyDir, readPolicySet, LoadError } from '../../language/node/load.js';
import { runTests } from '../../language/runtime/test-runner.js';
import { PolicyHost } from '../../language/node/mcp/host.js';
import { dataPathsOf } from '../../language/node/data-watch.js';
import { runMain as run } from './helpers.js';

const EXAMPLE = fileURLToPath(new URL('../../examples/layered-tools/', import.meta.url));
const NOW = Date.UTC(2026, 0, 5, 10, 0, 0);

describe('layering a set over a base set in another directory', () => {
  let dir: string;
  let team: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'rein-layers-'));
    cpSync(EXAMPLE, path.join(dir, 'global'), { recursive: true });
    team = path.join(dir, 'global', 'team-payments');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the base under names relative to the team, and the layered set checks and tests clean', async () => {
    const set = await readPolicyDir(team);
    assert.deepEqual(set.base?.files, ['../policy.rein', '../rules-global.rein', '../rules-team-ops.rein', '../schema.rein', '../tests.rein']);
    assert.equal(set.base?.root, path.join(dir, 'global'));
    assert.equal(set.paths['../rules-global.rein'], path.join(dir, 'global', 'rules-global.rein'));
    const r = checkPolicySet(set);
    assert.deepEqual(r.diagnostics, []);
    const report = runTests(compilePolicySet(set));
    assert.equal(report.summary.failed, 0);
    assert.ok(report.results.some((t) => t.file === 'tests.rein') && report.results.some((t) => t.file === '../tests.rein'), 'both layers\' tests run');
  });

  it('decisions name the winning rule and its layer\'s file; first_match with @priority decides across layers', async () => {
    const p = compilePolicySet(await readPolicyDir(team));
    const req = (tool: string, teamName = 'payments') => ({ agent: { id: 'p', team: teamName }, action: { tool } });
    const win = (tool: string, teamName?: string) => p.evaluate(req(tool, teamName), { now: NOW }).reasons.map((x) => [x.name, x.effect, x.location?.file]);
    assert.deepEqual(win('payments.transfer'), [['payments_tools', 'allow', 'rules.rein']]);
    assert.deepEqual(win('db.drop'), [['no_drop', 'deny', '../rules-global.rein']]);
    assert.deepEqual(win('payments.refund'), [['no_refund_tool', 'deny', 'rules.rein']]);
    assert.deepEqual(win('payments.transfer', 'support'), [['not_listed', 'deny', '../rules-global.rein']]);
  });

  it('the base is part of the hash: editing a global file changes the team set\'s policy hash', async () => {
    const before = compilePolicySet(await readPolicyDir(team)).hash;
    writeFileSync(path.join(dir, 'global', 'rules-global.rein'), readFileSync(path.join(dir, 'global', 'rules-global.rein'), 'utf8') + '\n// edited\n');
    assert.notEqual(compilePolicySet(await readPolicyDir(team)).hash, before);
  });

  it('a name declared in both layers is REIN201, pointing at the base declaration', async () => {
    writeFileSync(path.join(team, 'clash.rein'), 'rule no_shell {\n  when action.tool == "x"\n  allow "mine"\n}\n');
    const r = checkPolicySet(await readPolicyDir(team));
    const d = r.diagnostics.find((x) => x.code === 'REIN201')!;
    assert.ok(d, JSON.stringify(r.diagnostics));
    assert.ok([d.file, ...(d.related ?? []).map((x) => x.file)].includes('../rules-global.rein'), JSON.stringify(d));
    assert.equal(r.ok, false);
  });

  it('a second policy header in the team layer is REIN203 (the base\'s header governs)', async () => {
    writeFileSync(path.join(team, 'header.rein'), 'policy mine {\n  default allow\n}\n');
    const r = checkPolicySet(await readPolicyDir(team));
    assert.ok(r.diagnostics.some((x) => x.code === 'REIN203'), JSON.stringify(r.diagnostics.map((x) => x.code)));
  });

  it('REIN340: a team rule after a global rule that always matches is unreachable', async () => {
    writeFileSync(path.join(team, 'late.rein'), '@priority("-200")\nrule payments_last {\n  when agent.team == "payments"\n  allow "never"\n}\n');
    const r = checkPolicySet(await readPolicyDir(team));
    const d = r.diagnostics.find((x) => x.code === 'REIN340')!;
    assert.equal(d.file, 'late.rein');
    assert.match(d.message, /`payments_last` can never decide: .* rule `not_listed`/);
    assert.equal(d.related?.[0]?.file, '../rules-global.rein');
  });

  it('chains: a base that extends another is read too; a circle or a missing base is a LoadError', async () => {
    // global-extra <- global <- team-payments
    const extra = path.join(dir, 'extra');
    cpSync(path.join(dir, 'global'), extra, { recursive: true, filter: (s) => !s.includes('team-payments') });
    for (const f of ['policy.rein', 'schema.rein', 'rules-global.rein', 'rules-team-ops.rein', 'tests.rein']) rmSync(path.join(dir, 'global', f));
    writeFileSync(path.join(dir, 'global', 'more.rein'), '/// A rule of the middle layer.\n@priority("150")\nrule no_fax {\n  when action.tool == "fax"\n  deny "no fax"\n}\n');
    writeFileSync(path.join(dir, 'global', 'rein.json'), JSON.stringify({ extends: '../extra' }));
    const set = await readPolicyDir(team);
    assert.ok(set.files['../../extra/rules-global.rein'] && set.files['../more.rein']);
    const p = compilePolicySet(set);
    assert.equal(p.evaluate({ agent: { id: 'p', team: 'payments' }, action: { tool: 'fax' } }, { now: NOW }).reasons[0].location?.file, '../more.rein');
    // A base whose rein.json does not parse would drop its own `extends` (and the layer under it)
    // silently: it is a LoadError (review finding, session 7).
    writeFileSync(path.join(dir, 'global', 'rein.json'), '{"extends":"../extra",}');
    await assert.rejects(readPolicyDir(team), (e: unknown) => e instanceof LoadError && /`extends` in `.*rein\.json`: the base set: `.*rein\.json` is not valid JSON/.test(e.message));
    writeFileSync(path.join(dir, 'global', 'rein.json'), JSON.stringify({ extends: '../extra' }));
    writeFileSync(path.join(extra, 'rein.json'), JSON.stringify({ extends: '../global/team-payments' }));
    await assert.rejects(readPolicyDir(team), (e: unknown) => e instanceof LoadError && /go round in a circle/.test(e.message));
    writeFileSync(path.join(team, 'rein.json'), JSON.stringify({ extends: '../nowhere' }));
    await assert.rejects(readPolicyDir(team), (e: unknown) => e instanceof LoadError && /the base set `\.\.\/nowhere` is not a directory/.test(e.message));
  });

  it('the `base` option layers a set over a directory without a rein.json', async () => {
    rmSync(path.join(team, 'rein.json'));
    const alone = checkPolicySet(await readPolicyDir(team));
    assert.ok(alone.diagnostics.some((d) => d.code === 'REIN202'), 'alone, the team layer has no input');
    const set = await readPolicySet(team, dir, { base: '..' });
    assert.deepEqual(checkPolicySet(set).diagnostics, []);
  });

  it('`rein check`, `rein test` and `rein eval` load the layers; `rein fmt --write` leaves the base untouched', async () => {
    const c = await run(['check', team]);
    assert.equal(c.code, 0, c.stderr);
    const t = await run(['test', team]);
    assert.equal(t.code, 0, t.stdout + t.stderr);
    assert.match(t.stdout, /12 passed/);
    const e = await run(['eval', team, '--input', path.join(team, 'requests', 'payments-drop.json')]);
    assert.match(e.stdout, /"file": "\.\.\/rules-global\.rein"/);
    const global = path.join(dir, 'global', 'rules-global.rein');
    writeFileSync(global, readFileSync(global, 'utf8').replace('rule no_shell {', 'rule   no_shell   {'));
    const before = readFileSync(global, 'utf8');
    const f = await run(['fmt', '--write', team]);
    assert.equal(f.code, 0, f.stderr);
    assert.equal(readFileSync(global, 'utf8'), before, 'the base file is not formatted');
  });

  it('`rein check` over a base and its layers reports a base file\'s diagnostic once and counts each file once (review h12r2 T16)', async () => {
    const global = path.join(dir, 'global', 'rules-global.rein');
    writeFileSync(global, readFileSync(global, 'utf8') + '\nlet zz_unused = 1\n');
    const c = await run(['check', path.join(dir, 'global'), '--max-warnings', '1']);
    assert.equal(c.code, 0, c.stdout + c.stderr);
    assert.equal(c.stdout.match(/REIN300 `let` `zz_unused` is never used/g)?.length, 1, c.stdout);
    assert.match(c.stdout, /0 errors, 1 warning in 7 files/);
    const j = await run(['check', path.join(dir, 'global'), '--format', 'json']);
    const out = JSON.parse(j.stdout) as { diagnostics: { code: string }[]; summary: { warnings: number; files: number } };
    assert.equal(out.diagnostics.filter((d) => d.code === 'REIN300').length, 1);
    assert.deepEqual([out.summary.warnings, out.summary.files], [1, 7]);
  });

  it('`rein mcp` reloads when a base file changes', async function () {
    this.timeout(30_000);
    const policy = compilePolicySet(await readPolicyDir(team));
    const log: string[] = [];
    const host = new PolicyHost(policy, { ctx: { io: { cwd: dir }, err: (s) => log.push(s) } });
    try {
      host.watch(team, 20);
      const before = host.policy.hash;
      const global = path.join(dir, 'global', 'rules-global.rein');
      const text = readFileSync(global, 'utf8');
      const end = Date.now() + 15_000;
      let n = 0;
      while (host.policy.hash === before && Date.now() < end) {
        const tmp = `${global}.tmp`;
        writeFileSync(tmp, `${text}\n// edit ${n++}\n`);
        renameSync(tmp, global);
        await new Promise((r) => setTimeout(r, 150));
      }
      assert.notEqual(host.policy.hash, before, log.join(''));
    } finally {
      host.close();
    }
  });

  it('a base in a subdirectory of the team (`"extends": "global"`) is watched too', async () => {
    // Review finding (session 7): only `../…` and absolute names were watched.
    const sub = path.join(dir, 'team');
    cpSync(team, sub, { recursive: true });
    cpSync(path.join(dir, 'global'), path.join(sub, 'global'), { recursive: true, filter: (s) => !s.includes('team-payments') });
    writeFileSync(path.join(sub, 'rein.json'), JSON.stringify({ extends: 'global' }));
    const policy = compilePolicySet(await readPolicyDir(sub));
    const watched = dataPathsOf(policy, sub);
    assert.ok(watched.includes(path.join(sub, 'global', 'rules-global.rein')), watched.join('\n'));
    assert.ok(!watched.includes(path.join(sub, 'rules.rein')), 'the team\'s own files are watched by the set watcher');
  });
});

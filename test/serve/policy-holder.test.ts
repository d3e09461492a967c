// Which policy version made a reservation (settle after a hot reload), kept without a per-decision
// entry: per version, the run of reservation counters it issued and a checkpoint per minute.
import assert from 'node:assert/strict';
import { PolicyHolder, type PolicyVersion } from '../../language/node/serve/policy-holder.js';
import { MemoryBudgetStore } from '../../language/runtime/memory-store.js';
import type { Decision } from '../../language/runtime/decision.js';
import { copyAgent, model } from './helpers.js';
import { appendFileSync, cpSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';

describe('PolicyHolder: reservation owners', function () {
  this.timeout(60_000);

  it('finds the version of each reservation across reloads, forgets them after their grace, and never claims foreign ids', async () => {
    const dir = copyAgent();
    const h = new PolicyHolder({ source: dir, store: new MemoryBudgetStore() });
    await h.init();
    const v1 = await h.load();
    const ids1: string[] = [];
    for (let i = 0; i < 5; i++) {
      const d = await v1.engine.decide(model(`t${i}`, '0.01'));
      h.track(v1, d, 1000);
      ids1.push(d.reservation!.id);
    }
    appendFileSync(join(dir, 'policy.rein'), '\nrule extra {\n  when action.tool == "x"\n  deny "x"\n}\n');
    assert.equal((await h.reload()).changed, true);
    const v2 = h.current as PolicyVersion;
    assert.notEqual(v2, v1);
    const d2 = await v2.engine.decide(model('t9', '0.01'));
    h.track(v2, d2, 1000);
    for (const id of ids1) assert.equal(h.ownerOf(id), v1, id);
    assert.equal(h.ownerOf(d2.reservation!.id), v2);
    // Not made here: another process's prefix, a counter never issued, another shape.
    const [prefix] = [d2.reservation!.id.slice(0, d2.reservation!.id.lastIndexOf('-'))];
    assert.equal(h.ownerOf('someoneelse-1'), undefined);
    assert.equal(h.ownerOf(`${prefix}-zzzzzz`), undefined);
    assert.equal(h.ownerOf('not an id'), undefined);
    // An id of another shape is remembered one by one.
    const odd = { reservation: { id: 'odd_id', expires: d2.reservation!.expires } } as Decision;
    h.track(v2, odd, 1000);
    assert.equal(h.ownerOf('odd_id'), v2);
    // After expiry + grace, forgotten (the sweep drops the checkpoints; ownerOf checks the time too).
    const later = Date.parse(d2.reservation!.expires) + 1001;
    assert.equal(h.ownerOf(ids1[0]!, later), undefined);
    h.sweep(later);
    assert.equal(h.ownerOf(ids1[4]!), undefined);
    assert.equal(h.ownerOf('odd_id'), undefined);
    h.close();
  });

  it('reads ids by hand exactly as the id shape says: base-36 lower case, 1–10 digits, this process\'s prefix', async () => {
    const h = new PolicyHolder({ source: copyAgent(), store: new MemoryBudgetStore() });
    await h.init();
    const v = await h.load();
    const d = await v.engine.decide(model('t1', '0.01'));
    h.track(v, d, 1000);
    const id = d.reservation!.id;
    const prefix = id.slice(0, id.lastIndexOf('-'));
    assert.equal(h.ownerOf(id), v);
    for (const other of [
      `${prefix}-${id.slice(id.lastIndexOf('-') + 1).toUpperCase()}Z`, // upper case is not base-36 here
      `${prefix}-`,
      `${prefix}-00000000001`, // 11 digits
      `${prefix}-1.5`,
      `${'x'.repeat(prefix.length)}-1`, // a prefix of the same length, other characters
      `${prefix}x-1`,
      `-1`,
    ]) {
      assert.equal(h.ownerOf(other), undefined, other);
    }
    // Expiry times are parsed once per distinct text: decisions with another `expires` keep theirs.
    const a = { reservation: { id: 'a_id', expires: '2030-01-01T00:00:00.000Z' } } as Decision;
    const b = { reservation: { id: 'b_id', expires: '2030-01-01T00:00:10.000Z' } } as Decision;
    h.track(v, a, 1000);
    h.track(v, b, 1000);
    h.track(v, { reservation: { id: 'c_id', expires: a.reservation!.expires } } as Decision, 1000);
    const at = (iso: string, plusMs: number) => Date.parse(iso) + plusMs;
    assert.equal(h.ownerOf('a_id', at(a.reservation!.expires, 999)), v);
    assert.equal(h.ownerOf('a_id', at(a.reservation!.expires, 1000)), undefined);
    assert.equal(h.ownerOf('b_id', at(a.reservation!.expires, 1000)), v);
    assert.equal(h.ownerOf('c_id', at(a.reservation!.expires, 1000)), undefined);
    h.close();
  });
});

// A watch follows the inode it was armed on: a policy directory replaced by a redeploy (deleted and
// recreated) or by an atomic `mv` swap was never reloaded, and the old rules served silently
// (regression, review h11r R14).
describe('PolicyHolder: a replaced policy directory is reloaded', function () {
  this.timeout(60_000);
  const until = async (what: string, ok: () => boolean): Promise<void> => {
    for (let i = 0; i < 200 && !ok(); i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(ok(), what);
  };
  const extra = (name: string) => `\nrule ${name} {\n  when action.tool == "${name}"\n  deny "${name}"\n}\n`;

  it('deleted and recreated (a redeploy), then edited again', async () => {
    const dir = copyAgent();
    const logs: string[] = [];
    const h = new PolicyHolder({ source: dir, store: new MemoryBudgetStore(), log: (m) => logs.push(m) });
    await h.init();
    await h.load();
    h.watch(20);
    try {
      const first = h.hash;
      const copy = `${dir}.copy`;
      cpSync(dir, copy, { recursive: true });
      rmSync(dir, { recursive: true, force: true });
      await new Promise((r) => setTimeout(r, 300));
      mkdirSync(dir);
      cpSync(copy, dir, { recursive: true });
      appendFileSync(join(dir, 'policy.rein'), extra('redeployed'));
      await until('the recreated directory is loaded', () => h.hash !== first && h.current!.policy.compiled.program !== undefined);
      const second = h.hash;
      // and the watch is armed on the new directory: a later edit reloads too
      appendFileSync(join(dir, 'policy.rein'), extra('edited_later'));
      await until('a later edit in the recreated directory is loaded', () => h.hash !== second);
    } finally {
      h.close();
    }
  });

  it('swapped with mv (an atomic deploy)', async () => {
    const dir = copyAgent();
    const h = new PolicyHolder({ source: dir, store: new MemoryBudgetStore() });
    await h.init();
    await h.load();
    h.watch(20);
    try {
      const first = h.hash;
      cpSync(dir, `${dir}.new`, { recursive: true });
      appendFileSync(join(`${dir}.new`, 'policy.rein'), extra('swapped'));
      await new Promise((r) => setTimeout(r, 100));
      renameSync(dir, `${dir}.old`);
      renameSync(`${dir}.new`, dir);
      await until('the swapped-in directory is loaded', () => h.hash !== first);
      const second = h.hash;
      appendFileSync(join(dir, 'policy.rein'), extra('after_swap'));
      await until('an edit after the swap is loaded', () => h.hash !== second);
    } finally {
      h.close();
    }
  });
});

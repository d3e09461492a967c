// ReplaceableWatch (language/node/data-watch.ts), which `rein serve` and `rein mcp` arm on the policy
// directory: a replaced directory (rm + mkdir, an `mv` swap) keeps reporting changes (regression,
// review h11r R14: the watch followed the old inode and went silent).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReplaceableWatch } from '../../language/node/data-watch.js';

const tick = (ms = 150) => new Promise((r) => setTimeout(r, ms));

describe('ReplaceableWatch', function () {
  this.timeout(20_000);

  it('reports edits, the directory going and coming back, an mv swap, and edits in each new directory', async () => {
    const root = mkdtempSync(join(tmpdir(), 'rein-rw-'));
    const dir = join(root, 'policies');
    mkdirSync(dir);
    const events: (string | null)[] = [];
    const logs: string[] = [];
    const w = new ReplaceableWatch(dir, (f) => events.push(f), (m) => logs.push(m));
    assert.equal(w.start(), true);
    try {
      const sees = async (what: string, pred: () => boolean) => {
        for (let i = 0; i < 60 && !pred(); i++) await tick(50);
        assert.ok(pred(), `${what}: ${JSON.stringify(events)}`);
      };
      writeFileSync(join(dir, 'a.rein'), '// 1');
      await sees('an edit', () => events.includes('a.rein'));
      rmSync(dir, { recursive: true });
      await sees('the directory removed', () => events.includes(null));
      await tick();
      mkdirSync(dir);
      events.length = 0;
      await sees('the directory recreated', () => events.includes(null));
      await tick();
      writeFileSync(join(dir, 'b.rein'), '// 2');
      await sees('an edit in the recreated directory', () => events.includes('b.rein'));
      // the mv swap
      const next = join(root, 'policies.new');
      mkdirSync(next);
      writeFileSync(join(next, 'c.rein'), '// 3');
      renameSync(dir, join(root, 'policies.old'));
      renameSync(next, dir);
      events.length = 0;
      await sees('the swap', () => events.includes(null));
      await tick();
      writeFileSync(join(dir, 'd.rein'), '// 4');
      await sees('an edit in the swapped-in directory', () => events.includes('d.rein'));
      // editing the moved-away directory is not a change of the set any more
      events.length = 0;
      writeFileSync(join(root, 'policies.old', 'e.rein'), '// 5');
      await tick(400);
      assert.ok(!events.includes('e.rein'), JSON.stringify(events));
      assert.ok(logs.some((m) => /is gone: the loaded version keeps serving/.test(m)), logs.join('\n'));
    } finally {
      w.close();
      rmSync(root, { recursive: true, force: true });
    }
  });
});

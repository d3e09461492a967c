// The control room's log index (#15: filtered and drill-down queries must not re-read the log): the
// index's answers equal those of reading the whole log again, for filters, drill-downs and single
// records; an index that dropped rows (its cap) falls back to reading the log and is still right.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { LogSource } from '../../language/node/serve/dashboard/log-source.js';
import { DashboardModel, type RecordFilter } from '../../language/node/serve/dashboard/model.js';
import { writeFixtureLog } from './dashboard-fixture.js';

const START = Date.parse('2026-12-04T00:00:00Z');
const END = Date.parse('2026-12-06T03:00:00Z');

describe('control room: the log index', function () {
  this.timeout(120_000);
  let dir: string;
  let log: string;
  let src: LogSource;
  let capped: LogSource;

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'rein-index-'));
    log = path.join(dir, 'decisions.jsonl');
    await writeFixtureLog(log, 4000, { start: START, end: END, driftAt: 0.6 });
    src = new LogSource(log, new DashboardModel());
    await src.poll();
    capped = new LogSource(log, new DashboardModel(), { maxIndexRows: 1024 });
    await capped.poll();
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const filters: RecordFilter[] = [
    { team: 'sales' },
    { agent: 'agent-3' },
    { tool: 'db.drop' },
    { model: 'large', team: 'ops' },
    { policy: '1.0.0' },
    { team: 'nobody' },
    { rule: 'large_transfer' },
    { effect: 'deny', team: 'support' },
  ];
  const now = END + 3600_000;
  const view = (m: DashboardModel) => {
    const { ceilings: _c, ...rest } = m.summary({ now });
    return rest;
  };

  it('a filtered summary from the index equals reading the log again', async () => {
    assert.equal(src.index.complete, true);
    assert.equal(src.index.n, 4000);
    for (const f of filters) {
      const fast = new DashboardModel();
      assert.equal(await src.summarizeIndexed(f, fast), true, JSON.stringify(f));
      const slow = new DashboardModel();
      await src.replay(f, slow);
      assert.deepEqual(view(fast), view(slow), JSON.stringify(f));
    }
    // Not vacuous: the filters select different, non-empty parts of the log.
    const sales = new DashboardModel();
    await src.summarizeIndexed({ team: 'sales' }, sales);
    assert.ok(sales.totals.n > 1000 && sales.totals.n < 2000, String(sales.totals.n));
  });

  it('drill-downs (newest N by rule, effect, chain, before) equal a scan of the log', async () => {
    const queries: [RecordFilter, { limit: number; before?: number; chain?: string }][] = [
      [{ rule: 'no_drop' }, { limit: 50 }],
      [{ effect: 'require_approval' }, { limit: 7 }],
      [{ rule: 'team_daily', team: 'ops' }, { limit: 200 }],
      [{}, { limit: 20, before: 1234 }],
      [{ tool: 'search' }, { limit: 5, chain: 'decisions.jsonl' }],
      [{}, { limit: 5, chain: 'other.jsonl' }],
    ];
    for (const [f, o] of queries) {
      const fast = await src.scan(f, o);
      const slow = await capped.scan(f, o); // the capped index cannot answer: it reads the log
      assert.equal(capped.index.complete, false);
      assert.deepEqual(fast.map((r) => [r.chain, r.record.seq]), slow.map((r) => [r.chain, r.record.seq]), JSON.stringify([f, o]));
      assert.ok(fast.every((r) => r.record.hash), 'whole records');
    }
    assert.equal((await src.scan({ rule: 'no_drop' }, { limit: 50 })).length, 50);
  });

  it('a record by chain and seq is read at its offset', async () => {
    for (const seq of [0, 1, 511, 512, 2047, 3999]) {
      const r = await src.record('decisions.jsonl', seq);
      assert.equal(r?.seq, seq);
    }
    assert.equal(await src.record('decisions.jsonl', 4000), null);
  });

  it('an index at its cap drops its older half and falls back to the log for filters', async () => {
    assert.ok(capped.index.n <= 1024 && capped.index.dropped >= 4000 - 1024, `${capped.index.n} rows, ${capped.index.dropped} dropped`);
    const m = new DashboardModel();
    assert.equal(await capped.summarizeIndexed({ team: 'sales' }, m), false);
    // The record view still finds a recent record through the index and an old one through the log.
    assert.equal((await capped.record('decisions.jsonl', 3990))?.seq, 3990);
    assert.equal((await capped.record('decisions.jsonl', 10))?.seq, 10);
  });
});

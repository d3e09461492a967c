// The control room's log index (#15: filtered and drill-down queries must not re-read the log): the
// index's answers equal those of reading the whole log again, for filters, drill-downs and single
// records; an index that dropped rows (its cap) falls back to reading the log and is still right.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { LogSource } from '../../language/node/serve/dashboard/log-source.js';
import { isEventRecord } from '../../language/audit/record.js';
import { DashboardModel, matchesFilter, type RecordFilter } from '../../language/node/serve/dashboard/model.js';
import { appendDecision, writeFixtureLog } from './dashboard-fixture.js';

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

  it('several chains read over several polls, times interleaved: a filtered summary equals counting the matching records in reading order', async () => {
    const d2 = mkdtempSync(path.join(tmpdir(), 'rein-index-chains-'));
    try {
      /** The reference: a model that counts only the records matching `f`, fed as the index is. */
      class Filtered extends DashboardModel {
        constructor(readonly f: RecordFilter) {
          super();
        }
        override add(rec: Parameters<DashboardModel['add']>[0], chain: string, notify?: boolean, set?: Parameters<DashboardModel['add']>[3]): void {
          if (!isEventRecord(rec) && matchesFilter(rec, this.f)) super.add(rec, chain, notify, set);
        }
      }
      const fs: RecordFilter[] = [{ team: 'sales' }, { agent: 'agent-5', tool: 'search' }, { policy: '1.0.0' }, { model: 'large' }, { tool: 'db.drop', team: 'ops' }];
      const indexed = new LogSource(d2, new DashboardModel());
      const refs = fs.map((f) => ({ f, m: new Filtered(f), src: null as LogSource | null }));
      for (const r of refs) r.src = new LogSource(d2, r.m, { maxIndexRows: 1024 });
      const H = 3600_000;
      for (let round = 0; round < 2; round++) {
        for (const [k, name] of ['a', 'b', 'c'].entries()) {
          const start = START + round * 30 * H + k * 7 * H + k * 13;
          await writeFixtureLog(path.join(d2, `${name}.jsonl`), 500 + 100 * k, { start, end: start + 26 * H, seed: 7 + k + 10 * round, driftAt: 0.5 });
        }
        // a few decisions with errors (a string amount), in two chains
        for (const [j, name] of ['a', 'c'].entries()) {
          for (let e = 0; e < 3; e++) {
            const req = { agent: { id: 'agent-5', team: e === 0 ? 'ops' : 'sales' }, action: { tool: e === 2 ? 'db.drop' : 'search', model: 'large', amount: 'lots' as unknown as number }, cost: { estimate: '0.01' } };
            await appendDecision(path.join(d2, `${name}.jsonl`), req, START + round * 30 * H + 20 * H + j * 3 * H + e * 60_000);
          }
        }
        await indexed.poll();
        for (const r of refs) await r.src!.poll();
      }
      assert.equal(indexed.index.n, 2 * (500 + 600 + 700 + 6));
      assert.equal(indexed.index.complete, true);
      const strip = (m: DashboardModel) => {
        const { ceilings: _c, recent: _r, errors: _e, ...rest } = m.summary({ now: START + 80 * H });
        return rest;
      };
      for (const { f, m } of refs) {
        const fast = new DashboardModel();
        assert.equal(await indexed.summarizeIndexed(f, fast), true);
        assert.ok(fast.totals.n > 0, JSON.stringify(f));
        assert.deepEqual(strip(fast), strip(m), JSON.stringify(f));
        // the newest 50 by time (what the page lists), whatever chain and poll they came from
        const all = await indexed.scan(f, { limit: 4000 });
        const want = all.map((x) => x.record.time).sort().reverse().slice(0, 50);
        assert.deepEqual(fast.summary({ now: START + 80 * H }).recent.map((x) => x.time), want, JSON.stringify(f));
        // the newest decisions with errors, newest first
        const withErrors = all.filter((x) => (x.record.decision.errors ?? []).length > 0).sort((x, y) => (x.record.time < y.record.time ? 1 : -1));
        const errs = fast.summary({ now: START + 80 * H }).errors;
        assert.equal(errs.length > 0, withErrors.length > 0, JSON.stringify(f));
        assert.deepEqual([...new Set(errs.map((e) => `${e.chain}/${e.seq}`))], withErrors.map((x) => `${x.chain}/${x.record.seq}`).slice(0, new Set(errs.map((e) => `${e.chain}/${e.seq}`)).size), JSON.stringify(f));
      }
      const sales = new DashboardModel();
      await indexed.summarizeIndexed({ team: 'sales' }, sales);
      assert.equal(sales.totals.errors, 8, 'the error decisions are counted');
      assert.ok(sales.summary().errors.length >= 8);
      // drill-downs across interleaved chains stop early yet equal a full read of the log
      for (const [f, o] of [[{ rule: 'no_drop' }, { limit: 30 }], [{ team: 'ops' }, { limit: 100 }], [{}, { limit: 10, chain: 'b.jsonl' }]] as const) {
        const fast = await indexed.scan(f, o);
        const slow = await refs[0]!.src!.scan(f, o);
        assert.equal(refs[0]!.src!.index.complete, false);
        assert.deepEqual(fast.map((r) => [r.chain, r.record.seq]), slow.map((r) => [r.chain, r.record.seq]), JSON.stringify([f, o]));
      }
      await indexed.stop();
      for (const r of refs) await r.src!.stop();
    } finally {
      rmSync(d2, { recursive: true, force: true });
    }
  });
});

import { strict as assert } from 'node:assert';
import { WindowCache, windowOf, windowTag } from '../../language/runtime/windows.js';

const t = (iso: string): number => Date.parse(iso);
const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

describe('budget windows', () => {
  it('minute, hour and day are aligned to UTC', () => {
    const now = t('2026-11-24T10:05:42.123Z');
    const m = windowOf({ kind: 'fixed', unit: 'minute' }, now);
    assert.equal(m.index, '2026-11-24T10:05');
    assert.equal(iso(m.start), '2026-11-24T10:05:00.000Z');
    assert.equal(iso(m.end), '2026-11-24T10:06:00.000Z');
    const h = windowOf({ kind: 'fixed', unit: 'hour' }, now);
    assert.equal(h.index, '2026-11-24T10');
    assert.equal(iso(h.start), '2026-11-24T10:00:00.000Z');
    assert.equal(iso(h.end), '2026-11-24T11:00:00.000Z');
    const d = windowOf({ kind: 'fixed', unit: 'day' }, now);
    assert.equal(d.index, '2026-11-24');
    assert.equal(iso(d.start), '2026-11-24T00:00:00.000Z');
    assert.equal(iso(d.end), '2026-11-25T00:00:00.000Z');
  });

  it('a day ends exactly at midnight UTC (end is exclusive)', () => {
    const before = windowOf({ kind: 'fixed', unit: 'day' }, t('2026-11-24T23:59:59.999Z'));
    const after = windowOf({ kind: 'fixed', unit: 'day' }, t('2026-11-25T00:00:00.000Z'));
    assert.equal(before.index, '2026-11-24');
    assert.equal(after.index, '2026-11-25');
  });

  it('weeks are ISO weeks starting Monday 00:00 UTC', () => {
    // 2026-11-26 is a Thursday; its week starts Monday 2026-11-23.
    const w = windowOf({ kind: 'fixed', unit: 'week' }, t('2026-11-26T12:00:00Z'));
    assert.equal(iso(w.start), '2026-11-23T00:00:00.000Z');
    assert.equal(iso(w.end), '2026-11-30T00:00:00.000Z');
    assert.equal(w.index, '2026-W48');
    // Sunday late evening still belongs to the week that started on Monday.
    const sun = windowOf({ kind: 'fixed', unit: 'week' }, t('2026-11-29T23:59:59Z'));
    assert.equal(sun.index, '2026-W48');
    assert.equal(windowOf({ kind: 'fixed', unit: 'week' }, t('2026-11-30T00:00:00Z')).index, '2026-W49');
  });

  it('ISO week years cross calendar years', () => {
    // 2025-12-29 (Monday) starts ISO week 2026-W01; 2021-01-01 (Friday) is in 2020-W53.
    const a = windowOf({ kind: 'fixed', unit: 'week' }, t('2025-12-31T08:00:00Z'));
    assert.equal(a.index, '2026-W01');
    assert.equal(iso(a.start), '2025-12-29T00:00:00.000Z');
    assert.equal(windowOf({ kind: 'fixed', unit: 'week' }, t('2021-01-01T00:00:00Z')).index, '2020-W53');
    // The epoch itself (a Thursday) is in the week that began Monday 1969-12-29.
    assert.equal(iso(windowOf({ kind: 'fixed', unit: 'week' }, 0).start), '1969-12-29T00:00:00.000Z');
  });

  it('months start on the 1st at 00:00 UTC and have their own length', () => {
    const feb = windowOf({ kind: 'fixed', unit: 'month' }, t('2028-02-15T00:00:00Z'));
    assert.equal(feb.index, '2028-02');
    assert.equal(iso(feb.start), '2028-02-01T00:00:00.000Z');
    assert.equal(iso(feb.end), '2028-03-01T00:00:00.000Z');
    assert.equal(feb.end!.getTime() - feb.start!.getTime(), 29 * 86_400_000); // leap year
    const dec = windowOf({ kind: 'fixed', unit: 'month' }, t('2026-12-31T23:59:59.999Z'));
    assert.equal(dec.index, '2026-12');
    assert.equal(iso(dec.end), '2027-01-01T00:00:00.000Z');
    assert.equal(windowOf({ kind: 'fixed', unit: 'month' }, t('2027-01-01T00:00:00Z')).index, '2027-01');
    const apr = windowOf({ kind: 'fixed', unit: 'month' }, t('2026-04-30T12:00:00Z'));
    assert.equal(apr.end!.getTime() - apr.start!.getTime(), 30 * 86_400_000);
  });

  it('durations are epoch-aligned buckets', () => {
    const ms = 15 * 60_000;
    const a = windowOf({ kind: 'fixed', ms }, t('2026-11-24T10:14:59.999Z'));
    assert.equal(iso(a.start), '2026-11-24T10:00:00.000Z');
    assert.equal(iso(a.end), '2026-11-24T10:15:00.000Z');
    assert.equal(a.index, Math.floor(t('2026-11-24T10:00:00Z') / ms));
    const b = windowOf({ kind: 'fixed', ms }, t('2026-11-24T10:15:00Z'));
    assert.equal(b.index, (a.index as number) + 1);
    // A 7-day duration is epoch-aligned (Thursdays), unlike `per week`.
    const seven = windowOf({ kind: 'fixed', ms: 7 * 86_400_000 }, t('2026-11-26T12:00:00Z'));
    assert.equal(seven.start!.getUTCDay(), 4);
  });

  it('lifetime and per-request have no index', () => {
    assert.deepEqual(windowOf({ kind: 'lifetime' }, 123), { index: null, start: null, end: null });
    assert.deepEqual(windowOf({ kind: 'request' }, 123), { index: null, start: null, end: null });
  });

  it('window tags distinguish window kinds', () => {
    const tags = [
      windowTag({ kind: 'lifetime' }),
      windowTag({ kind: 'request' }),
      windowTag({ kind: 'fixed', unit: 'day' }),
      windowTag({ kind: 'fixed', unit: 'hour' }),
      windowTag({ kind: 'fixed', ms: 900_000 }),
    ];
    assert.equal(new Set(tags).size, tags.length);
  });

  it('rejects invalid times and lengths', () => {
    assert.throws(() => windowOf({ kind: 'fixed', unit: 'day' }, NaN), RangeError);
    assert.throws(() => windowOf({ kind: 'fixed', ms: 0 }, 0), RangeError);
  });
});

describe('WindowCache', () => {
  const t = (s: string) => Date.parse(s);

  it('returns the same span within a window, a new one after it ends, and the right one going backwards', () => {
    const c = new WindowCache({ kind: 'fixed', unit: 'day' });
    const a = c.at(t('2026-11-24T00:00:00Z'));
    assert.equal(c.at(t('2026-11-24T23:59:59.999Z')), a);
    assert.deepEqual([a.index, a.startIso, a.endIso, a.endMs], ['2026-11-24', '2026-11-24T00:00:00.000Z', '2026-11-25T00:00:00.000Z', t('2026-11-25T00:00:00Z')]);
    const b = c.at(t('2026-11-25T00:00:00Z'));
    assert.notEqual(b, a);
    assert.equal(b.index, '2026-11-25');
    assert.equal(c.at(t('2026-11-24T12:00:00Z')).index, '2026-11-24');
  });

  it('agrees with windowOf for every unit and a duration, over many times', () => {
    const windows = [
      { kind: 'fixed' as const, unit: 'minute' as const },
      { kind: 'fixed' as const, unit: 'hour' as const },
      { kind: 'fixed' as const, unit: 'week' as const },
      { kind: 'fixed' as const, unit: 'month' as const },
      { kind: 'fixed' as const, ms: 15 * 60_000 },
      { kind: 'lifetime' as const },
      { kind: 'request' as const },
    ];
    for (const w of windows) {
      const c = new WindowCache(w);
      let now = t('2025-12-28T00:00:00Z');
      for (let i = 0; i < 400; i++) {
        now += ((i * 104_729) % 9_000_000) - 1_000_000; // mostly forward, sometimes back
        const got = c.at(now);
        const want = windowOf(w, now);
        assert.deepEqual({ index: got.index, start: got.start, end: got.end }, want, `${JSON.stringify(w)} at ${new Date(now).toISOString()}`);
        assert.equal(got.startIso, want.start ? want.start.toISOString() : null);
        assert.equal(got.endMs, want.end ? want.end.getTime() : null);
      }
    }
  });

  it('throws on an invalid time like windowOf, even for lifetime windows', () => {
    const c = new WindowCache({ kind: 'lifetime' });
    c.at(0);
    assert.throws(() => c.at(NaN), RangeError);
  });
});

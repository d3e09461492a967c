// Every detector is linear in its input (issue: `'@' + '.'.repeat(80_000) + 'a'` took ~7 s in
// pii.email). Ratios of CPU time, not wall-clock bounds: 10× the text may take at most ~15× the
// time. Times under a floor (250 ms) are noise on a shared machine (GC) and pass: a quadratic
// detector takes seconds on 1 MB.
import assert from 'node:assert/strict';
import { DETECTORS } from '../../language/runtime/detectors.js';
import { SHAPES } from '../../bench/detectors-inputs.js';

const FLOOR_MS = 250;

/** The least CPU time (user + system, ms) of `runs` calls: CPU time, not wall-clock, so other
 *  processes on a loaded machine (and this one being descheduled) do not stretch a sample. */
function best(f: (s: string) => boolean, s: string, runs: number): number {
  let m = Infinity;
  for (let i = 0; i < runs; i++) {
    const t = process.cpuUsage();
    f(s);
    const d = process.cpuUsage(t);
    m = Math.min(m, (d.user + d.system) / 1000);
  }
  return m;
}

describe('detectors are linear in their input', function () {
  this.timeout(120_000);
  for (const name of Object.keys(DETECTORS)) {
    it(`${name}: 10× the text takes at most ~15× the time, on every adversarial shape`, () => {
      const f = DETECTORS[name];
      const bad: string[] = [];
      for (const [shape, make] of Object.entries(SHAPES)) {
        // 10 kB → 100 kB first, so a quadratic detector fails in seconds rather than minutes.
        let prev = best(f, make(10_000), 3);
        for (const size of [100_000, 1_000_000]) {
          const text = make(size);
          let t = best(f, text, 3);
          // A GC pause or another process can stretch one sample: measure both sizes again before failing.
          if (t > FLOOR_MS && t > 15 * prev) {
            prev = Math.min(prev, best(f, make(size / 10), 5));
            t = Math.min(t, best(f, text, 5));
          }
          if (t > FLOOR_MS && t > 15 * prev) bad.push(`${shape}: ${size / 10} → ${size} chars took ${prev.toFixed(2)} → ${t.toFixed(2)} ms`);
          prev = t;
          if (bad.length) break;
        }
      }
      assert.deepEqual(bad, []);
    });
  }

  it('scans the whole text: a secret after 1 MB of padding is still found', () => {
    const pad = 'x '.repeat(600_000);
    assert.equal(DETECTORS['secrets.any'](pad + 'AKIAIOSFODNN7EXAMPLE'), true);
    assert.equal(DETECTORS['pii.email'](pad + 'bob@example.com'), true);
    assert.equal(DETECTORS['pii.iban'](pad + 'DE89 3704 0044 0532 0130 00'), true);
    assert.equal(DETECTORS['pii.ssn'](pad + '123-45-6789'), true);
    assert.equal(DETECTORS['pii.ip'](pad + 'fe80::1'), true);
    assert.equal(DETECTORS['pii.url'](pad + 'https://example.com'), true);
  });
});

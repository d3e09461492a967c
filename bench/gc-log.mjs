// Preloaded into a process under benchmark (`node --import ./bench/gc-log.mjs …`, bench:mcp's
// BENCH_GC=1): records every garbage collection (kind, start as epoch ms, duration) and writes them
// to $REIN_BENCH_GC_DIR/gc-<pid>.json when the process exits and once a second before that.
import { PerformanceObserver, constants, performance } from 'node:perf_hooks';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.env.REIN_BENCH_GC_DIR;
if (dir) {
  const gcs = [];
  const kinds = { [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor', [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major', [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental', [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb' };
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcs.push({ kind: kinds[e.detail?.kind] ?? String(e.detail?.kind), at: performance.timeOrigin + e.startTime, ms: e.duration });
  }).observe({ entryTypes: ['gc'] });
  const dump = () => writeFileSync(join(dir, `gc-${process.pid}.json`), JSON.stringify(gcs));
  process.on('exit', dump);
  setInterval(dump, 1000).unref();
}

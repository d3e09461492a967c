// `--watch` for `rein check` and `rein test`: run, then re-run whenever a .rein file or rein.json
// under the watched paths changes (debounced), clearing the screen on a terminal and ending each run
// with a summary line. Runs until the process is interrupted (or `signal` aborts, for tests).

import { watch, type FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';
import * as path from 'node:path';
import type { Ctx } from './context.js';

const RELEVANT = /(\.rein|rein\.json)$/;

export async function watchLoop(ctx: Ctx, paths: string[], what: string, run: () => Promise<number>, signal?: AbortSignal): Promise<number> {
  const roots = await Promise.all(
    paths.map(async (p) => {
      const abs = ctx.resolve(p);
      try {
        return (await stat(abs)).isDirectory() ? abs : path.dirname(abs);
      } catch {
        return abs;
      }
    }),
  );
  let code = 0;
  const once = async () => {
    if (ctx.io.isTTY) ctx.out('\x1b[2J\x1b[H');
    try {
      code = await run();
    } catch (e) {
      const { reportError } = await import('./cli.js');
      code = reportError(ctx, e, what);
    }
    const time = new Date().toTimeString().slice(0, 8);
    ctx.err(`[${time}] rein ${what}: exit ${code}; watching ${roots.map((r) => ctx.display(r) || '.').join(', ')} for changes (Ctrl-C to stop)\n`);
  };
  // The watchers exist before the first run: a change made while it runs (or right after its summary
  // line) re-runs instead of being missed.
  const watchers: FSWatcher[] = [];
  let timer: NodeJS.Timeout | undefined;
  const onChange = (_event: string, file: string | Buffer | null) => {
    if (file !== null && !RELEVANT.test(String(file))) return;
    clearTimeout(timer);
    timer = setTimeout(() => {
      running = running.then(once);
    }, 100);
  };
  for (const r of [...new Set(roots)]) {
    try {
      const w = watch(r, { recursive: true }, onChange);
      w.on('error', () => undefined);
      watchers.push(w);
    } catch {
      // a path that vanished: the next run reports it
    }
  }
  let running: Promise<void> = once();
  await running;
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    if (signal?.aborted) return stop();
    signal?.addEventListener('abort', stop, { once: true });
    process.once('SIGINT', stop);
  });
  clearTimeout(timer);
  for (const w of watchers) w.close();
  await running;
  return code;
}

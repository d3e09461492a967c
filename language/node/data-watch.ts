// Watching a policy set's data files (`data … from "file.json"`, docs/data.md) and the files of a base
// set it layers over (docs/layering.md) for `rein mcp` and `rein serve`: each file's directory is
// watched (not the file: editors save by renaming), and a change of one of the named files — or of
// any `.rein` file in a directory that holds one of them (a file added to the base) — calls
// `onChange` (the caller debounces and reloads). After each
// load the caller passes the current files, so a data file added or dropped is watched or released.

import { realpathSync, watch, type FSWatcher } from 'node:fs';
import * as path from 'node:path';
import type { Policy } from '../runtime/compile.js';
import { dataFilesOf, readPolicySet } from './load.js';

/** The absolute paths of a compiled policy's data files and of its files not directly in `root` (a
 *  base set it layers over, docs/layering.md: `../global/…`, or `global/…` for a base in a
 *  subdirectory, which the set's own non-recursive watcher does not see), for a set rooted at `root`. */
export function dataPathsOf(policy: Policy, root: string): string[] {
  const program = policy.compiled.program;
  const files = (program?.files ?? []).map((f) => f.file);
  const outside = files.filter((f) => f.includes('/'));
  return [...(program?.data ?? []).map((d) => d.file), ...outside].map((f) => path.resolve(root, f)).concat(linkTargets(root, files));
}

/** The real paths of the set's files that are symbolic links to a file outside `root` (a shared rule
 *  file linked into the set): an edit there changes the set, and the set's own watcher does not see
 *  it. (Links into `root` itself — a ConfigMap volume's `..data/` — are seen by that watcher.) */
function linkTargets(root: string, files: readonly string[]): string[] {
  const out: string[] = [];
  let realRoot: string;
  try {
    realRoot = realpathSync(root);
  } catch {
    return out;
  }
  for (const f of files) {
    try {
      const real = realpathSync(path.resolve(root, f));
      if (!real.startsWith(realRoot + path.sep)) out.push(real);
    } catch {
      // gone since the load: the reload that follows reports it
    }
  }
  return out;
}

/** The absolute paths of the data files and base-set files that the set at `source` names now, read
 *  from its sources (not from a compiled policy): after a reload is refused — say a new `data`
 *  declaration names a file that does not exist yet — these are watched too, so creating the file
 *  reloads. Never throws: an unreadable set names nothing. */
export async function namedPathsOf(source: string): Promise<string[]> {
  try {
    const set = await readPolicySet(source);
    const names = [...dataFilesOf(set), ...(set.base?.files ?? [])];
    return names.map((n) => set.paths[n] ?? path.resolve(set.root, n));
  } catch {
    return [];
  }
}

/** The root a policy path's set is read from: the directory itself, or a file's directory. */
export function setRootOf(p: string, isDir: boolean): string {
  return isDir ? path.resolve(p) : path.dirname(path.resolve(p));
}

export class DataWatch {
  private readonly watchers = new Map<string, FSWatcher>();
  private names = new Map<string, Set<string>>();

  constructor(
    private readonly onChange: () => void,
    private readonly log: (message: string) => void,
  ) {}

  /** Watch exactly these files (absolute paths). */
  set(files: readonly string[]): void {
    const want = new Map<string, Set<string>>();
    for (const f of files) {
      const d = path.dirname(f);
      let s = want.get(d);
      if (!s) want.set(d, (s = new Set()));
      s.add(path.basename(f));
    }
    this.names = want;
    for (const [d, w] of this.watchers) {
      if (!want.has(d)) {
        w.close();
        this.watchers.delete(d);
      }
    }
    for (const d of want.keys()) {
      if (this.watchers.has(d)) continue;
      try {
        const w = watch(d, { persistent: false }, (_ev, f) => {
          const n = this.names.get(d);
          if (f === null || n?.has(String(f)) || (String(f).endsWith('.rein') && [...(n ?? [])].some((x) => x.endsWith('.rein')))) this.onChange();
        });
        w.on('error', (e) => this.log(`watching ${d} failed: ${e.message}`));
        this.watchers.set(d, w);
      } catch (e) {
        this.log(`cannot watch ${d} for data file changes: ${(e as Error).message} (send SIGHUP to reload)`);
      }
    }
  }

  close(): void {
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
  }
}

/**
 * Watches a policy directory (or file) that may be *replaced*: deleted and recreated (a redeploy), or
 * swapped with `mv` (an atomic deploy). A watch follows the inode it was armed on, so such a
 * replacement would silence it while the old rules kept serving (review h11r R14). The parent
 * directory is watched too: an event naming `p` re-arms the watch on whatever `p` is now and counts
 * as a change. `onChange(name)` gets the changed file's name inside `p` (null: unknown, or `p` itself
 * was replaced).
 */
export class ReplaceableWatch {
  private w: FSWatcher | null = null;
  private parent: FSWatcher | null = null;
  private gone = false;

  constructor(
    private readonly p: string,
    private readonly onChange: (name: string | null) => void,
    private readonly log: (message: string) => void,
  ) {}

  /** Start watching; false when `p` itself cannot be watched (the parent still is, if it can be). */
  start(): boolean {
    const ok = this.arm(true);
    try {
      const base = path.basename(this.p);
      this.parent = watch(path.dirname(this.p), { persistent: false }, (_ev, f) => {
        if (f !== null && String(f) !== base) return;
        this.arm(false);
        this.onChange(null);
      });
      this.parent.on('error', () => undefined);
    } catch {
      this.parent = null;
    }
    return ok;
  }

  private arm(first: boolean): boolean {
    this.w?.close();
    this.w = null;
    try {
      const w = watch(this.p, { persistent: false }, (_ev, f) => this.onChange(f === null ? null : String(f)));
      w.on('error', (e) => this.log(`watching ${this.p} failed: ${e.message}`));
      this.w = w;
      if (this.gone) this.log(`${this.p} is back: watching it again`);
      this.gone = false;
      return true;
    } catch (e) {
      if (first) this.log(`cannot watch ${this.p} for changes: ${(e as Error).message} (send SIGHUP to reload)`);
      else if (!this.gone) this.log(`${this.p} is gone: the loaded version keeps serving until it is back`);
      this.gone = true;
      return false;
    }
  }

  close(): void {
    this.w?.close();
    this.w = null;
    this.parent?.close();
    this.parent = null;
  }
}

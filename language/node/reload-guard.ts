// What a hot reload (`rein serve`, `rein mcp`) refuses besides a set with errors: a policy file caught
// while it is being written (review h13r1 S10). A `.rein` file rewritten in place (`cat > f`, scp,
// rsync --inplace, a slow copy) is first emptied, then written in parts; an empty file, or the part
// before the cut, is a valid member of a set, and loading it would drop the rules the rest holds.
//
// Two guards: the watchers reload only after the files have been quiet for RELOAD_QUIET_MS (every
// change restarts the wait), and a set with an empty `.rein` file is refused (the old version keeps
// serving; to take a file out of the set, delete it). Write policy files atomically all the same
// (a temp file and `mv`, a ConfigMap, or a bundle, whose digest refuses a cut copy): a writer that
// stalls longer than the quiet period mid-declaration can still be read half-way.

import { stat } from 'node:fs/promises';
import type { Policy } from '../runtime/compile.js';
import { compilePolicySet, LoadError, loadPolicy, readPolicySet, type PolicySet } from './load.js';

/** How long the policy's files must be unchanged before a watcher reloads them (ms). */
export const RELOAD_QUIET_MS = 1000;

/** The `.rein` files of `set` that are empty (only whitespace): being written, most likely. */
export function emptyPolicyFiles(set: Pick<PolicySet, 'files'>): string[] {
  return Object.keys(set.files)
    .filter((name) => name.endsWith('.rein') && set.files[name]!.trim() === '')
    .sort();
}

/** The refusal for `emptyPolicyFiles`, or null when there are none. */
export function emptyFilesProblem(set: Pick<PolicySet, 'files'>): string | null {
  const empty = emptyPolicyFiles(set);
  if (empty.length === 0) return null;
  const list = empty.map((n) => `\`${n}\``).join(', ');
  return `${list} ${empty.length === 1 ? 'is' : 'are'} empty — a file being written? Not reloaded (to take a file out of the set, delete it; write policy files atomically: a temp file and \`mv\`)`;
}

/** `loadPolicy` for a reload: a directory or `.rein` file with an empty `.rein` file is refused
 *  (LoadError); a bundle loads as always (its integrity digest refuses a cut copy). */
export async function loadForReload(source: string): Promise<Policy> {
  const st = await stat(source).catch(() => null);
  if (!st || !(st.isDirectory() || source.endsWith('.rein'))) return loadPolicy(source);
  const set = await readPolicySet(source);
  const problem = emptyFilesProblem(set);
  if (problem) throw new LoadError(problem);
  return compilePolicySet(set);
}

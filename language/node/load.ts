// Reading policy sets from disk (Node only). A policy set is the `.rein` files of one directory
// (not recursive) or an explicit list of files, plus the `rein.json` at the set's root or, failing
// that, the nearest in a parent folder (`findConfig`).
//
// File names inside a set (the keys of `files`, the `file` of diagnostics, the names hashed into the
// policy hash) are relative to the set's root (`tools.rein`), so a set hashes and reports the same
// from any working directory. `paths` maps each name back to its absolute path for display.

import { promises as fs, type Dirent } from 'node:fs';
import '../semantics/regex.js'; // RE2 for every `matches` pattern (semantics/patterns.ts)
import * as path from 'node:path';
import type { Diagnostic } from '../diagnostics.js';
import { parseConfig } from '../config.js';
import { check } from '../check.js';
import { parse } from '../syntax/parser.js';
import type { ReinConfig } from '../config.js';
import { dataFile } from '../semantics/program.js';
import { compile } from '../policy.js';
import type { Policy } from '../runtime/compile.js';
import type { CheckResult } from '../semantics/program.js';
import { PolicyError } from '../errors.js';
import { isBundleFile, readBundle } from './bundle.js';
import { LoadError, ioReason } from './errors.js';
import { decodeUtf8 } from './utf8.js';

export interface PolicySet {
  /** Absolute directory the names are relative to. */
  root: string;
  /** Source by name (relative to `root`, `/`-separated). */
  files: Record<string, string>;
  /** Absolute path by name (also has `rein.json` when present). */
  paths: Record<string, string>;
  /** The parsed `rein.json` (undefined when absent or invalid). */
  config?: unknown;
  /** Diagnostics about `rein.json` (file `rein.json`). */
  configDiagnostics: Diagnostic[];
  /** Source of `rein.json` when present (for excerpts). */
  configSource?: string;
  /** The JSON text of each data file the set's `data` declarations name (docs/data.md), by name
   *  relative to `root` (`paths` has their absolute paths). A file that cannot be read is absent
   *  (the check reports it, REIN251). */
  data?: Record<string, string>;
  /** When the set layers over a base set (`extends` in `rein.json`, or the `base` option;
   *  docs/layering.md): the base's root and the names its files have in `files` (`../global/x.rein`). */
  base?: { root: string; files: string[] };
}

export interface ReadOptions {
  /** A base set to layer over, instead of `rein.json`'s `extends`: a directory, absolute or relative
   *  to the set's root (docs/layering.md). */
  base?: string;
}

export { LoadError };

export const CONFIG_FILE = 'rein.json';
const SKIP_DIRS = new Set(['node_modules']);

function toPosix(p: string): string {
  return p.split(path.sep).join('/');
}

async function statOrNull(p: string) {
  try {
    return await fs.stat(p);
  } catch {
    return null;
  }
}

async function readText(p: string): Promise<string> {
  let bytes: Uint8Array;
  try {
    bytes = await fs.readFile(p);
  } catch (e) {
    throw new LoadError(`cannot read \`${p}\`: ${ioReason(e)}`);
  }
  return decodeUtf8(bytes, p);
}

/**
 * Layer the set over its base set (docs/layering.md): the base directory's files (and, when the base
 * extends another, that one's) join `files` under names relative to this set's root, so they share
 * one namespace, hash and report as `../global/rules.rein`. The base is only read. A base that is
 * not a directory, or a chain of `extends` that comes back to a set in it, is a LoadError.
 */
async function readBase(set: PolicySet, options: ReadOptions, chain: readonly string[]): Promise<void> {
  // `extends` layers the set whose own root holds the `rein.json`; one found in a parent folder lends
  // its lint levels, not its base (it would layer every set below it, the base included, over the base).
  const own = set.paths[CONFIG_FILE] === path.join(set.root, CONFIG_FILE);
  const spec = options.base ?? (own ? (set.config as ReinConfig | undefined)?.extends : undefined);
  if (!spec) return;
  const dir = path.resolve(set.root, spec);
  const where = options.base ? '--base' : `\`extends\` in \`${path.join(set.root, CONFIG_FILE)}\``;
  if (dir === set.root || chain.includes(dir)) throw new LoadError(`${where}: the base sets go round in a circle (${[...chain, set.root, dir].join(' -> ')})`);
  const st = await statOrNull(dir);
  if (!st?.isDirectory()) throw new LoadError(`${where}: the base set \`${spec}\` is not a directory`);
  // A base whose rein.json does not parse would lose its own `extends` (and the guardrails of the set
  // under it) without a word: readConfig refuses it, as for a missing base.
  let base: PolicySet;
  try {
    base = await readDir(dir, {}, [...chain, set.root], false);
  } catch (e) {
    throw e instanceof LoadError && !e.message.startsWith('`extends` in') && !e.message.startsWith('--base') ? new LoadError(`${where}: the base set: ${e.message}`) : e;
  }
  const names: string[] = [];
  for (const [name, text] of Object.entries(base.files)) {
    const rel = toPosix(path.relative(set.root, path.join(base.root, name)));
    set.files[rel] = text;
    set.paths[rel] = base.paths[name];
    names.push(rel);
  }
  set.base = { root: base.root, files: names.sort() };
}


/** The data files the set's `data` declarations name, relative to its root. */
export function dataFilesOf(set: Pick<PolicySet, 'files'>): string[] {
  const out = new Set<string>();
  for (const [name, text] of Object.entries(set.files)) {
    if (!/\bdata\b/.test(text)) continue; // most files declare none: skip the parse
    for (const d of parse(text, name).ast.decls) {
      if (d.kind === 'LetDecl' && d.source && d.source.parts.every((p) => p.kind === 'Text')) {
        const src = d.source.parts.map((p) => (p.kind === 'Text' ? p.value : '')).join('');
        if (src) out.add(dataFile(name, src));
      }
    }
  }
  return [...out].sort();
}

/** Read the set's data files into `set.data` (again: `rein mcp` re-reads them on a change). */
export async function readData(set: PolicySet): Promise<void> {
  const names = dataFilesOf(set);
  if (names.length === 0) {
    delete set.data;
    return;
  }
  set.data = {};
  for (const name of names) {
    const abs = path.resolve(set.root, name);
    set.paths[name] = abs;
    let bytes: Uint8Array;
    try {
      bytes = await fs.readFile(abs);
    } catch {
      // absent from `data`: the check reports the file as not found (REIN251)
      continue;
    }
    set.data[name] = decodeUtf8(bytes, abs);
  }
}

/**
 * The `rein.json` that applies to a set rooted at `root` (docs/configuration.md): the one in `root`,
 * else the nearest in a parent folder — as tsconfig.json or an ESLint config is found. The search
 * stops at the file system root and after a directory holding `.git` (a repository's root), so a
 * stray `rein.json` outside the project does not apply.
 */
export async function findConfig(root: string): Promise<string | null> {
  let dir = path.resolve(root);
  for (;;) {
    const p = path.join(dir, CONFIG_FILE);
    if ((await statOrNull(p))?.isFile()) return p;
    if (await statOrNull(path.join(dir, '.git'))) return null;
    const up = path.dirname(dir);
    if (up === dir) return null;
    dir = up;
  }
}

async function readConfig(set: PolicySet): Promise<void> {
  const cfgPath = await findConfig(set.root);
  if (cfgPath === null) return;
  const text = await readText(cfgPath);
  // A rein.json that is not JSON, or whose `extends` is not a directory name, would drop the base set
  // the set layers over — its guardrails — without a word (fail open): refuse to load the set, as a
  // broken base's rein.json is refused. Its other problems stay REIN305 warnings.
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new LoadError(`\`${cfgPath}\` is not valid JSON (${(e as Error).message}); fix it: a set's rein.json may layer it over a base set (\`extends\`), so the set is not loaded without it`);
  }
  const ext = raw !== null && typeof raw === 'object' ? (raw as { extends?: unknown }).extends : undefined;
  if (ext !== undefined && (typeof ext !== 'string' || ext === '')) throw new LoadError(`\`extends\` in \`${cfgPath}\` must be a directory name (a non-empty string), got ${JSON.stringify(ext)}`);
  set.paths[CONFIG_FILE] = cfgPath;
  set.configSource = text;
  const { config, diagnostics } = parseConfig(text);
  set.config = config;
  set.configDiagnostics = diagnostics.map((d) => ({ ...d, file: CONFIG_FILE }));
}

/**
 * What a directory entry is once symbolic links are followed (stat, not lstat): a shared rule file
 * linked into a set, or a Kubernetes ConfigMap volume (every file a link into `..data/`), is a file
 * of the set like any other. A link that leads nowhere (dangling, or a loop) is `'broken'`.
 */
async function kindOf(dir: string, e: Dirent): Promise<'file' | 'dir' | 'other' | 'broken'> {
  if (e.isFile()) return 'file';
  if (e.isDirectory()) return 'dir';
  if (!e.isSymbolicLink()) return 'other';
  const st = await statOrNull(path.join(dir, e.name));
  return !st ? 'broken' : st.isFile() ? 'file' : st.isDirectory() ? 'dir' : 'other';
}

/** The `.rein` files directly in `dir` (not recursive), sorted by name. Symbolic links are followed;
 *  a `.rein` name that is a dangling link or not a regular file (a FIFO, a device) is a LoadError,
 *  never skipped: a rule file that silently drops out of a set is a guardrail gone. */
export async function reinFilesIn(dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch (e) {
    throw new LoadError(`cannot read directory \`${dir}\`: ${ioReason(e)}`);
  }
  const out: string[] = [];
  for (const e of entries) {
    if (!e.name.endsWith('.rein')) continue;
    const kind = await kindOf(dir, e);
    if (kind === 'file') out.push(e.name);
    else if (kind === 'broken') throw new LoadError(`\`${path.join(dir, e.name)}\` is a symbolic link to nothing (its target is missing or the links go round in a circle)`);
    else if (kind === 'other') throw new LoadError(`\`${path.join(dir, e.name)}\` is not a regular file`);
  }
  return out.sort();
}

/** Read one directory as a policy set (its `.rein` files, not recursive, plus `rein.json`, layered
 *  over its base set when it has one). */
export async function readPolicyDir(dir: string, options: ReadOptions = {}): Promise<PolicySet> {
  return readDir(dir, options, [], true);
}

async function readDir(dir: string, options: ReadOptions, chain: readonly string[], withData: boolean): Promise<PolicySet> {
  const root = path.resolve(dir);
  const st = await statOrNull(root);
  if (!st) throw new LoadError(`no such file or directory: \`${dir}\``);
  if (!st.isDirectory()) throw new LoadError(`not a directory: \`${dir}\``);
  const names = await reinFilesIn(root);
  if (names.length === 0) throw new LoadError(`no \`.rein\` files in \`${dir}\``);
  const set: PolicySet = { root, files: {}, paths: {}, configDiagnostics: [] };
  for (const name of names) {
    const abs = path.join(root, name);
    set.files[name] = await readText(abs);
    set.paths[name] = abs;
  }
  await readConfig(set);
  await readBase(set, options, chain);
  if (withData) await readData(set);
  return set;
}

/** Some of a directory's `.rein` files as its set (rooted at the directory, with its `rein.json`). */
async function readSelected(dir: string, names: string[], options: ReadOptions = {}): Promise<PolicySet> {
  const set: PolicySet = { root: dir, files: {}, paths: {}, configDiagnostics: [] };
  for (const name of names) {
    const abs = path.join(dir, name);
    set.files[name] = await readText(abs);
    set.paths[name] = abs;
  }
  await readConfig(set);
  await readBase(set, options, []);
  await readData(set);
  return set;
}

/**
 * Read an explicit list of `.rein` files as one set. Names are relative to the files' common
 * directory, which is also where `rein.json` is looked for.
 */
export async function readPolicyFiles(files: string[], options: ReadOptions = {}): Promise<PolicySet> {
  if (files.length === 0) throw new LoadError('no policy files given');
  const abs = files.map((f) => path.resolve(f));
  let root = path.dirname(abs[0]);
  for (const a of abs) {
    while (!(a === root || a.startsWith(root.endsWith(path.sep) ? root : root + path.sep))) root = path.dirname(root);
  }
  const set: PolicySet = { root, files: {}, paths: {}, configDiagnostics: [] };
  for (let i = 0; i < abs.length; i++) {
    const st = await statOrNull(abs[i]);
    if (!st) throw new LoadError(`no such file or directory: \`${files[i]}\``);
    if (!st.isFile()) throw new LoadError(`not a file: \`${files[i]}\``);
    const name = toPosix(path.relative(root, abs[i]));
    set.files[name] = await readText(abs[i]);
    set.paths[name] = abs[i];
  }
  await readConfig(set);
  await readBase(set, options, []);
  await readData(set);
  return set;
}

/**
 * Every directory at or under `dir` that holds `.rein` files, sorted. Skips `node_modules` and
 * directories whose name starts with a dot (`.git`, and a ConfigMap volume's `..data` internals,
 * whose files the volume's own links name). Symbolic links to directories are followed.
 */
export async function discoverPolicyDirs(dir: string): Promise<string[]> {
  const out: string[] = [];
  // Symbolic links to directories are followed; a directory reached twice (a link back up the tree,
  // or two links to one set) is walked once, under the first path found.
  const seen = new Set<string>();
  async function walk(d: string): Promise<void> {
    let real: string;
    try {
      real = await fs.realpath(d);
    } catch (e) {
      throw new LoadError(`cannot read directory \`${d}\`: ${ioReason(e)}`);
    }
    if (seen.has(real)) return;
    seen.add(real);
    let entries;
    try {
      entries = await fs.readdir(d, { withFileTypes: true });
    } catch (e) {
      throw new LoadError(`cannot read directory \`${d}\`: ${ioReason(e)}`);
    }
    if ((await reinFilesIn(d)).length > 0) out.push(d);
    const subdirs: string[] = [];
    for (const e of entries) {
      if (e.name.startsWith('.') || SKIP_DIRS.has(e.name)) continue;
      if ((await kindOf(d, e)) === 'dir') subdirs.push(e.name);
    }
    for (const s of subdirs.sort()) await walk(path.join(d, s));
  }
  await walk(path.resolve(dir));
  return out.sort();
}

/**
 * A glob as a RegExp over `/`-separated relative paths: `**` any number of path segments, `*` any
 * characters but `/`, `?` one character but `/`, `{a,b}` alternatives. A pattern without `/`
 * matches the file name in any directory (as in .gitignore).
 */
export function globToRegExp(glob: string): RegExp {
  let g = glob.replace(/^\.\//, '');
  if (!g.includes('/')) g = `**/${g}`;
  let re = '';
  for (let i = 0; i < g.length; i++) {
    const ch = g[i];
    if (ch === '*' && g[i + 1] === '*') {
      const slash = g[i + 2] === '/';
      re += slash ? '(?:.*/)?' : '.*';
      i += slash ? 2 : 1;
    } else if (ch === '*') re += '[^/]*';
    else if (ch === '?') re += '[^/]';
    else if (ch === '{') {
      const end = g.indexOf('}', i);
      if (end < 0) re += '\\{';
      else {
        re += `(?:${g.slice(i + 1, end).split(',').map((a) => a.replace(/[.+^$()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')).join('|')})`;
        i = end;
      }
    } else re += ch.replace(/[.+^$()|[\]\\{}]/g, '\\$&');
  }
  // A pattern naming a directory also covers everything below it.
  return new RegExp(`^${re}(?:/.*)?$`);
}

/** Keep the files (relative to a root, `/`-separated) that `include` (when given) and not `exclude` select. */
export function selectFiles(files: string[], include?: string[], exclude?: string[]): string[] {
  const inc = include?.map(globToRegExp);
  const exc = (exclude ?? []).map(globToRegExp);
  return files.filter((f) => (!inc || inc.some((r) => r.test(f))) && !exc.some((r) => r.test(f)));
}

/** `include`/`exclude` of the `rein.json` directly in `dir`, if any (invalid configs select everything). */
async function selectionOf(dir: string): Promise<{ include?: string[]; exclude?: string[] } | undefined> {
  const cfgPath = path.join(dir, CONFIG_FILE);
  const st = await statOrNull(cfgPath);
  if (!st?.isFile()) return undefined;
  const { config } = parseConfig(await readText(cfgPath));
  const c = config as { include?: string[]; exclude?: string[] };
  if (!c.include && !c.exclude) return undefined;
  return { include: c.include, exclude: c.exclude };
}

/**
 * The policy sets named by command-line PATHs: each directory contributes every directory at or
 * under it that holds `.rein` files (one set each); all `.rein` files named explicitly form one set
 * together. A PATH that does not exist is a LoadError. A file that is not `.rein`, or a directory
 * tree without any `.rein` file, is a LoadError when it is the only PATH; among several PATHs (a
 * shell glob such as `examples/*` that also matches `examples/README.md`) it is skipped, unless no
 * PATH holds any policy.
 */
export async function resolvePolicySets(paths: string[], cwd: string = process.cwd()): Promise<PolicySet[]> {
  const dirs: string[] = [];
  const files: string[] = [];
  const selected: PolicySet[] = [];
  const seenSelected = new Set<string>();
  const skipped: LoadError[] = [];
  const skip = (e: LoadError): void => {
    if (paths.length === 1) throw e;
    skipped.push(e);
  };
  for (const p of paths) {
    const abs = path.resolve(cwd, p);
    const st = await statOrNull(abs);
    if (!st) throw new LoadError(`no such file or directory: \`${p}\``);
    if (st.isDirectory()) {
      const found = await discoverPolicyDirs(abs);
      const selection = await selectionOf(abs);
      if (selection) {
        // `rein.json` at PATH narrows discovery to the files its include/exclude globs select.
        const kept = new Set<string>();
        for (const d of found) {
          for (const name of await reinFilesIn(d)) {
            const rel = toPosix(path.relative(abs, path.join(d, name)));
            if (selectFiles([rel], selection.include, selection.exclude).length) kept.add(path.join(d, name));
          }
        }
        if (kept.size === 0) throw new LoadError(`no \`.rein\` files under \`${p}\` match the include/exclude of its \`rein.json\``);
        for (const d of found) {
          const names = (await reinFilesIn(d)).filter((n) => kept.has(path.join(d, n)));
          if (names.length === 0) continue;
          if (seenSelected.has(d)) continue;
          seenSelected.add(d);
          const all = await reinFilesIn(d);
          selected.push(names.length === all.length ? await readPolicyDir(d) : await readSelected(d, names));
        }
        continue;
      }
      if (found.length === 0) {
        skip(new LoadError(`no \`.rein\` files found under \`${p}\``));
        continue;
      }
      dirs.push(...found);
    } else if (p.endsWith('.rein')) files.push(abs);
    else skip(new LoadError(`not a \`.rein\` file or a directory: \`${p}\``));
  }
  if (skipped.length > 0 && dirs.length === 0 && files.length === 0 && selected.length === 0) throw skipped[0];
  const sets: PolicySet[] = [...selected];
  const seen = new Set<string>(seenSelected);
  for (const d of dirs) {
    if (seen.has(d)) continue;
    seen.add(d);
    sets.push(await readPolicyDir(d));
  }
  if (files.length > 0) sets.push(await readPolicyFiles(files));
  return sets;
}

/**
 * One policy set for commands that need exactly one (`eval`, `build`, `diff`, `test` per PATH):
 * a directory (its own `.rein` files, not recursive) or a single `.rein` file.
 */
export async function readPolicySet(p: string, cwd: string = process.cwd(), options: ReadOptions = {}): Promise<PolicySet> {
  const abs = path.resolve(cwd, p);
  const st = await statOrNull(abs);
  if (!st) throw new LoadError(`no such file or directory: \`${p}\``);
  if (st.isDirectory()) return readPolicyDir(abs, options);
  return readPolicyFiles([abs], options);
}

/** Type-check a set, with its `rein.json`; config diagnostics are included. Never throws. */
export function checkPolicySet(set: PolicySet): CheckResult {
  const result = check(set.files, { config: set.config, data: set.data ?? {} });
  const diagnostics = [...set.configDiagnostics, ...result.diagnostics];
  return { ...result, diagnostics, ok: result.ok && !set.configDiagnostics.some((d) => d.severity === 'error') };
}

/** Check then compile a set. Throws PolicyError (with every diagnostic) when it has errors. */
export function compilePolicySet(set: PolicySet): Policy {
  const result = checkPolicySet(set);
  if (!result.ok) throw new PolicyError('the policy set has errors', result.diagnostics);
  return compile(result);
}

/**
 * Load a compiled policy from a directory (a policy set), a single `.rein` file, or a bundle
 * built by `rein build`. Throws PolicyError on policy errors, LoadError/BundleError on IO or bundle
 * problems.
 */
export async function loadPolicy(pathOrBundle: string): Promise<Policy> {
  const st = await statOrNull(pathOrBundle);
  if (!st) throw new LoadError(`no such file or directory: \`${pathOrBundle}\``);
  if (st.isFile() && isBundleFile(pathOrBundle)) return (await readBundle(pathOrBundle)).policy;
  return compilePolicySet(await readPolicySet(pathOrBundle));
}

// The server's view of the workspace: policy sets keyed by directory URI, each a PolicySet from
// the core fed with open documents (which win) and, through a FileSystem abstraction, unopened
// `.rein` files from disk. The browser build passes `noFileSystem` and works on open documents.
//
// Document states (explicit, Langium style):
//   changed  — the text changed, not parsed yet;
//   parsed   — the file's ParseResult is cached for its version (only changed files are re-parsed);
//   checked  — `checkParsed` ran over the whole set for the current generation.
// Requests ask for the state they need (`analysisFor` → checked), checking cancellation between stages.

import { PolicySet, type Analysis } from '../../language/services/policy-set.js';
import { parseConfig, validateConfig } from '../../language/config.js';
import type { Diagnostic } from '../../language/diagnostics.js';

/** File access for unopened files. URIs in, text out. Synchronous: policy files are small. */
export interface FileSystem {
  /** URIs of the `.rein` files directly in the directory (not recursive). */
  listPolicyFiles(dirUri: string): string[];
  readFile(uri: string): string | undefined;
  /** Directories (URIs) under a root that hold `.rein` files (for workspace-wide features). */
  discoverSetDirs(rootUri: string): string[];
  /** The nearest `name` in the directory or a parent folder (stops at the file system root). */
  findUp(dirUri: string, name: string): string | undefined;
  /** A documentation URL for a diagnostic code, when the docs are reachable. */
  docsLink?(code: string): string | undefined;
}

export const noFileSystem: FileSystem = {
  listPolicyFiles: () => [],
  readFile: () => undefined,
  discoverSetDirs: () => [],
  findUp: () => undefined,
};

export const CONFIG_FILE = 'rein.json';

export function dirOf(uri: string): string {
  const i = uri.lastIndexOf('/');
  return i >= 0 ? uri.slice(0, i) : uri;
}
export function baseOf(uri: string): string {
  return uri.slice(uri.lastIndexOf('/') + 1);
}
export const isPolicyUri = (uri: string) => /\.rein$/i.test(uri);
export const isConfigUri = (uri: string) => baseOf(uri) === CONFIG_FILE;

export interface SetEntry {
  dir: string;
  set: PolicySet;
  /** Open documents of this set (their text wins over disk). */
  open: Set<string>;
  configUri?: string;
  configDiagnostics: Diagnostic[];
  /** Files of the base set this one layers over (`extends` in its `rein.json`, docs/layering.md):
   *  checked with the set, their diagnostics left to the base's own set. */
  baseUris?: Set<string>;
}

export class Cancelled extends Error {
  constructor() {
    super('request cancelled');
  }
}

export interface CancelToken {
  readonly isCancellationRequested: boolean;
}

export class Workspace {
  private readonly sets = new Map<string, SetEntry>();
  private readonly listeners: ((dir: string) => void)[] = [];

  constructor(readonly fs: FileSystem) {}

  /** Called after any change of a set (the server debounces diagnostics on it). */
  onDidChangeSet(fn: (dir: string) => void): void {
    this.listeners.push(fn);
  }
  private changed(dir: string): void {
    for (const l of this.listeners) l(dir);
  }

  allSets(): SetEntry[] {
    return [...this.sets.values()];
  }
  setOf(uri: string): SetEntry | undefined {
    return this.sets.get(dirOf(uri));
  }

  /** The set for a directory, loading its unopened files from disk the first time. */
  ensureSet(dir: string): SetEntry {
    let e = this.sets.get(dir);
    if (e) return e;
    e = { dir, set: new PolicySet(), open: new Set(), configDiagnostics: [] };
    this.sets.set(dir, e);
    for (const uri of this.fs.listPolicyFiles(dir)) {
      const text = this.fs.readFile(uri);
      if (text !== undefined) e.set.set(uri, text);
    }
    this.loadConfig(e);
    return e;
  }

  /** Editor-wide lint levels (the `rein.lint` setting); a set's `rein.json` takes precedence. */
  private lintDefaults: Record<string, string> = {};

  /** Sets the editor-wide lint levels and re-checks every set. Invalid entries are ignored. */
  setLintDefaults(levels: unknown): void {
    const { config } = validateConfig({ lint: levels && typeof levels === 'object' ? levels : {} });
    this.lintDefaults = config.lint;
    for (const e of this.sets.values()) {
      this.loadConfig(e);
      this.changed(e.dir);
    }
  }

  /** The set's `rein.json`: in its folder, else the nearest in a parent folder (as the CLI finds it). */
  private loadConfig(e: SetEntry): void {
    const own = `${e.dir}/${CONFIG_FILE}`;
    let uri = own;
    let text = this.fs.readFile(own);
    if (text === undefined) {
      const up = this.fs.findUp(dirOf(e.dir), CONFIG_FILE);
      if (up !== undefined) {
        uri = up;
        text = this.fs.readFile(up);
      }
    }
    const defaults = this.lintDefaults;
    if (text === undefined) {
      e.configUri = undefined;
      e.configDiagnostics = [];
      e.set.setOptions(Object.keys(defaults).length ? { config: { lint: defaults } } : undefined);
      return;
    }
    const { config, diagnostics } = parseConfig(text);
    e.configUri = uri;
    e.configDiagnostics = diagnostics.map((d: Diagnostic) => ({ ...d, file: uri }));
    e.set.setOptions({ config: { ...config, lint: { ...defaults, ...config.lint } } });
    // `extends` layers the set in the rein.json's own folder only (docs/configuration.md)
    this.loadBase(e, uri === own ? config.extends : undefined);
  }

  /** The base set's files join the set (one level of `extends`), so the names it declares resolve. */
  private loadBase(e: SetEntry, spec: string | undefined): void {
    for (const u of e.baseUris ?? []) e.set.delete(u);
    e.baseUris = undefined;
    if (!spec) return;
    let dir: string;
    try {
      dir = new URL(spec.replace(/\/+$/, '') + '/', e.dir + '/').href.replace(/\/$/, '');
    } catch {
      return;
    }
    if (dir === e.dir) return;
    e.baseUris = new Set();
    const owner = this.sets.get(dir);
    for (const uri of this.fs.listPolicyFiles(dir)) {
      // a base file open in the editor: its text, not the disk's
      const text = owner?.open.has(uri) ? owner.set.source(uri)?.text : this.fs.readFile(uri);
      if (text === undefined) continue;
      e.set.set(uri, text);
      e.baseUris.add(uri);
    }
  }

  /** The workspace roots `discover` walked (a set created under them later is loaded too). */
  private roots: string[] = [];

  /** Load every set under the workspace roots (for diagnostics of unopened files and workspace symbols). */
  discover(rootUris: string[]): void {
    this.roots = rootUris;
    for (const root of rootUris) {
      for (const dir of this.fs.discoverSetDirs(root)) {
        if (!this.sets.has(dir)) {
          this.ensureSet(dir);
          this.changed(dir);
        }
      }
    }
  }

  open(uri: string, text: string, version: number): void {
    const e = this.ensureSet(dirOf(uri));
    e.open.add(uri);
    e.set.set(uri, text, version);
    this.changed(e.dir);
    this.toLayers(uri, text);
  }

  change(uri: string, text: string, version: number): void {
    const e = this.ensureSet(dirOf(uri));
    if (e.set.set(uri, text, version)) this.changed(e.dir);
    this.toLayers(uri, text);
  }

  close(uri: string): void {
    const e = this.sets.get(dirOf(uri));
    if (!e) return;
    e.open.delete(uri);
    const disk = this.fs.readFile(uri);
    if (disk === undefined) e.set.delete(uri);
    else e.set.set(uri, disk);
    this.changed(e.dir);
    this.toLayers(uri, disk);
  }

  /** The editor's text of a base file reaches the sets layered over it (`undefined`: the file is gone). */
  private toLayers(uri: string, text: string | undefined): void {
    for (const other of this.sets.values()) {
      if (!other.baseUris?.has(uri)) continue;
      if (text === undefined ? other.set.delete(uri) : other.set.set(uri, text)) this.changed(other.dir);
    }
  }

  /** `workspace/didChangeWatchedFiles`: create (1), change (2), delete (3). */
  watched(changes: { uri: string; type: 1 | 2 | 3 }[]): void {
    // a policy file in a folder without a set (a new set: `rein init`, a checkout, a moved folder):
    // load the sets under the roots as at start-up, so the new one is checked without opening a file
    if (changes.some((c) => c.type !== 3 && isPolicyUri(c.uri) && !this.sets.has(dirOf(c.uri)))) this.discover(this.roots);
    const touched = new Set<string>();
    // A folder created or deleted (an editor reports a moved or deleted folder once, not its files):
    // a created folder's sets are loaded; the sets in a deleted one lose the files that are gone.
    for (const c of changes) {
      if (isPolicyUri(c.uri) || isConfigUri(c.uri)) continue;
      if (c.type === 1) {
        if (!this.roots.some((r) => c.uri === r || c.uri.startsWith(r + '/'))) continue;
        for (const dir of this.fs.discoverSetDirs(c.uri)) {
          if (!this.sets.has(dir)) {
            this.ensureSet(dir);
            touched.add(dir);
          }
        }
      } else if (c.type === 3) {
        for (const e of this.sets.values()) {
          if (e.dir !== c.uri && !e.dir.startsWith(c.uri + '/')) continue;
          for (const f of e.set.files()) {
            if (!e.open.has(f) && !e.baseUris?.has(f) && this.fs.readFile(f) === undefined && e.set.delete(f)) touched.add(e.dir);
          }
        }
      }
    }
    for (const c of changes) {
      // a file of a base set that other sets layer over
      for (const other of this.sets.values()) {
        if (other.configUri && dirOf(c.uri) !== other.dir && isPolicyUri(c.uri) && (other.baseUris?.has(c.uri) || [...(other.baseUris ?? [])].some((u) => dirOf(u) === dirOf(c.uri)))) {
          this.loadConfig(other);
          touched.add(other.dir);
        }
      }
      const dir = dirOf(c.uri);
      if (isConfigUri(c.uri)) {
        // a rein.json applies to the sets below its folder that have none of their own
        for (const other of this.sets.values()) {
          if (other.dir !== dir && other.dir.startsWith(dir + '/')) {
            this.loadConfig(other);
            touched.add(other.dir);
          }
        }
      }
      const e = this.sets.get(dir);
      if (!e) continue; // not under a root (or past discovery's limits): loads from disk when first needed
      if (isConfigUri(c.uri)) {
        this.loadConfig(e);
        touched.add(dir);
        continue;
      }
      if (!isPolicyUri(c.uri) || e.open.has(c.uri)) continue;
      if (c.type === 3) {
        if (e.set.delete(c.uri)) touched.add(dir);
      } else {
        const text = this.fs.readFile(c.uri);
        if (text === undefined) {
          if (e.set.delete(c.uri)) touched.add(dir);
        } else if (e.set.set(c.uri, text)) touched.add(dir);
      }
    }
    for (const d of touched) this.changed(d);
  }

  /**
   * The checked analysis of the set holding `uri` (loading it if needed), stage by stage with a
   * cancellation check between parsing and checking.
   */
  analysisFor(uri: string, token?: CancelToken): { entry: SetEntry; analysis: Analysis } {
    const entry = this.ensureSet(dirOf(uri));
    if (!entry.set.has(uri) && isPolicyUri(uri)) {
      const text = this.fs.readFile(uri);
      if (text !== undefined) entry.set.set(uri, text);
    }
    return { entry, analysis: this.checked(entry, token) };
  }

  /**
   * The checked analysis of a set. (Not `analysisFor(entry.set.files()[0])`: in a layered set the
   * first file may be a base file, whose folder is the base's own set.)
   */
  checked(entry: SetEntry, token?: CancelToken): Analysis {
    if (token?.isCancellationRequested) throw new Cancelled();
    entry.set.parseChanged();
    if (token?.isCancellationRequested) throw new Cancelled();
    return entry.set.analysis();
  }

  /** Every set's analysis (for workspace symbols). */
  allAnalyses(token?: CancelToken): Analysis[] {
    const out: Analysis[] = [];
    for (const e of this.sets.values()) {
      if (token?.isCancellationRequested) throw new Cancelled();
      if (e.set.size) out.push(e.set.analysis());
    }
    return out;
  }
}

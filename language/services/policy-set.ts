// An editable policy set: the `.rein` files of one directory, each with its text and version.
// Explicit document states (Langium style): a file is `changed` until it is parsed; the set is
// `checked` once `checkParsed` ran over the current parse results. Only a changed file is
// re-parsed; the set is re-checked as a whole (names are shared across files).
// Pure: no IO. The language server feeds texts from open documents or from disk.

import { parse } from '../syntax/parser.js';
import { checkParsed } from '../check.js';
import type { CheckOptions, ParsedFile } from '../check.js';
import type { ParseResult } from '../syntax/ast.js';
import type { CheckResult } from '../semantics/program.js';
import { LineIndex } from '../diagnostics.js';

export type DocumentState = 'changed' | 'parsed';
export type SetState = 'changed' | 'parsed' | 'checked';

export interface SourceState {
  file: string;
  text: string;
  version: number;
  state: DocumentState;
  /** Set once `state` is `parsed`. */
  parsed?: ParseResult;
  lines: LineIndex;
}

/** A consistent view of a checked policy set. Immutable once built. */
export interface Analysis {
  /** Increases on every change of the set. */
  generation: number;
  sources: ReadonlyMap<string, Readonly<SourceState> & { parsed: ParseResult }>;
  result: CheckResult;
}

export class PolicySet {
  private readonly sources = new Map<string, SourceState>();
  private generation = 0;
  private analysisCache?: Analysis;
  private options: CheckOptions | undefined;
  /** Statistics, for tests and the benchmark. */
  readonly stats = { parses: 0, checks: 0 };

  constructor(options?: CheckOptions) {
    this.options = options;
  }

  /** Set the text of a file. Returns false when nothing changed (same text). */
  set(file: string, text: string, version = -1): boolean {
    const cur = this.sources.get(file);
    if (cur && cur.text === text) {
      cur.version = version;
      return false;
    }
    this.sources.set(file, { file, text, version, state: 'changed', lines: new LineIndex(text) });
    this.touch();
    return true;
  }

  delete(file: string): boolean {
    const had = this.sources.delete(file);
    if (had) this.touch();
    return had;
  }

  setOptions(options: CheckOptions | undefined): void {
    this.options = options;
    this.touch();
  }

  has(file: string): boolean {
    return this.sources.has(file);
  }
  files(): string[] {
    return [...this.sources.keys()].sort();
  }
  get size(): number {
    return this.sources.size;
  }
  source(file: string): Readonly<SourceState> | undefined {
    return this.sources.get(file);
  }
  get state(): SetState {
    if (this.analysisCache && this.analysisCache.generation === this.generation) return 'checked';
    for (const s of this.sources.values()) if (s.state === 'changed') return 'changed';
    return 'parsed';
  }
  get currentGeneration(): number {
    return this.generation;
  }

  /** Parse the changed files (only those). Cheap when nothing changed. */
  parseChanged(): void {
    for (const s of this.sources.values()) {
      if (s.state === 'changed') {
        s.parsed = parse(s.text, s.file);
        s.state = 'parsed';
        this.stats.parses++;
      }
    }
  }

  /** The checked set, computed on demand and cached until the next change. */
  analysis(): Analysis {
    if (this.analysisCache && this.analysisCache.generation === this.generation) return this.analysisCache;
    this.parseChanged();
    const files = this.files();
    const parsed: ParsedFile[] = files.map((f) => {
      const s = this.sources.get(f)!;
      return { file: f, ast: s.parsed!.ast, diagnostics: s.parsed!.diagnostics, text: s.text };
    });
    const result = checkParsed(parsed, this.options);
    this.stats.checks++;
    const sources = new Map<string, SourceState & { parsed: ParseResult }>();
    for (const f of files) sources.set(f, { ...(this.sources.get(f)! as SourceState & { parsed: ParseResult }) });
    this.analysisCache = { generation: this.generation, sources, result };
    return this.analysisCache;
  }

  private touch(): void {
    this.generation++;
  }
}

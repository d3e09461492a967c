// The checked program: what `check()` produces besides diagnostics, and what the compiler, the
// test runner and the language server consume. Built by language/semantics/checker.ts.

import type * as A from '../syntax/ast.js';
import type { Diagnostic } from '../diagnostics.js';
import type { FieldType, Type } from './types.js';

/** What a name (or a member property) resolves to. `file` is the file holding the declaration. */
export type Symbol =
  | { kind: 'let'; name: string; file: string; decl: A.LetDecl; type: Type }
  | { kind: 'def'; name: string; file: string; decl: A.DefDecl; type: Type }
  /** `extern def`: a host function; `type` is its function type (docs/externs.md). */
  | { kind: 'extern'; name: string; file: string; decl: A.ExternDecl; type: Type }
  | { kind: 'rule'; name: string; file: string; decl: A.RuleDecl }
  | { kind: 'budget'; name: string; file: string; decl: A.BudgetDecl; type: Type }
  | { kind: 'type'; name: string; file: string; decl: A.TypeDecl; type: Type }
  /** A top-level field of `input` (in scope as a bare name). */
  | { kind: 'input-field'; name: string; file: string; field: A.FieldDecl; type: Type }
  /** The name `input` (the whole request). */
  | { kind: 'input'; name: 'input'; file: string; decl: A.InputDecl; type: Type }
  /** A field reached through `.name` on an object whose type comes from the schema. */
  | { kind: 'field'; name: string; file: string; field: A.FieldDecl; type: Type }
  | { kind: 'param'; name: string; file: string; param: A.Param; type: Type }
  | { kind: 'lambda-param'; name: string; file: string; node: A.Name; type: Type }
  /** `len min max now hour weekday`. */
  | { kind: 'builtin'; name: string; type: Type }
  /** A list/string/budget method reached through `.name(…)` (`any`, `lower`, `spent`, …). */
  | { kind: 'method'; name: string; type: Type }
  /** `pii` / `secrets` (namespace) or `pii.email` (detector). */
  | { kind: 'detector'; name: string; type: Type };

export interface PolicyHeader {
  name: string;
  version?: string;
  default: 'allow' | 'deny';
  /** True when the header (or the whole `policy`) omitted `default`. */
  defaultImplicit: boolean;
  onError: 'allow' | 'deny';
  currency: string;
  /** `combine`: how rules combine (absent: `deny_overrides`). */
  combine?: CombiningAlgorithm;
}

/** The rule-combining algorithms of the policy header's `combine` (docs/language.md). */
export const COMBINING_ALGORITHMS = ['deny_overrides', 'first_match'] as const;
export type CombiningAlgorithm = (typeof COMBINING_ALGORITHMS)[number];

/** A data document: `data NAME: TYPE from "file.json"` (docs/data.md). `file` is the path relative to
 *  the set's root (`dataFile`); `value` is the file's JSON once the set was checked with its data
 *  (`check(files, { data })`), before conversion to the declared type. */
export interface DataDocument {
  name: string;
  file: string;
  decl: A.LetDecl;
  value?: unknown;
}

/** The file a data declaration in `declFile` names with `source`, relative to the set's root
 *  (`/`-separated, `.` and `..` resolved as far as the root). */
export function dataFile(declFile: string, source: string): string {
  const abs = source.startsWith('/');
  const parts: string[] = [];
  for (const p of (abs ? source : declFile.slice(0, declFile.lastIndexOf('/') + 1) + source).split('/')) {
    if (p === '' || p === '.') continue;
    if (p === '..' && parts.length > 0 && parts[parts.length - 1] !== '..') parts.pop();
    else parts.push(p);
  }
  return (abs ? '/' : '') + parts.join('/');
}

export interface CheckedProgram {
  files: A.SourceFile[];
  header: PolicyHeader;
  /** The resolved type of `input` (an object type); `{ kind: 'error' }` when missing. */
  inputType: Type;
  /** Every declaration by name (lets, defs, rules, budgets, types). */
  symbols: Map<string, Symbol>;
  /** Lets in dependency order (a let only reads lets before it). */
  lets: A.LetDecl[];
  defs: A.DefDecl[];
  /** `extern def` declarations (host functions), in file order. */
  externs: A.ExternDecl[];
  rules: A.RuleDecl[];
  budgets: A.BudgetDecl[];
  tests: A.TestDecl[];
  /** The type of every expression the checker visited. */
  types: Map<A.Expr, Type>;
  /** What each referencing `Name` resolves to (NameExpr names, member properties, test/budget names). */
  refs: Map<A.Name, Symbol>;
  /** The declaration of each field of an object type (the editor's rename follows a field into test
   *  requests with it). Absent on a program read back from a bundle. */
  fieldDecls?: WeakMap<FieldType, { field: A.FieldDecl; file: string }>;
  /** The file each declaration lives in. */
  declFile: Map<A.Decl, string>;
  /** Data documents (`data NAME: TYPE from "file"`), in declaration order; absent when there are none. */
  data?: DataDocument[];
}

export interface CheckResult {
  /** True when there is no error-severity diagnostic. */
  ok: boolean;
  diagnostics: Diagnostic[];
  program: CheckedProgram;
}

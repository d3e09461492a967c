// The checker: names, types and the static part of tests (LANGUAGE §1–7; REIN2xx, REIN4xx).
// Input: parsed files. Output: the CheckedProgram (program.ts) plus diagnostics. Never throws on
// bad input: unresolved things get the `error` type, which is compatible with everything so one
// mistake yields one diagnostic.

import type * as A from '../syntax/ast.js';
import { SEVERITIES, type Diagnostic, type DiagnosticCode, type DiagnosticData, type Range } from '../diagnostics.js';
import { COMBINING_ALGORITHMS, dataFile, type CheckedProgram, type DataDocument, type CombiningAlgorithm, type PolicyHeader, type Symbol } from './program.js';
import { nullable, nullDefault, stripNull, T, typeToString, type FieldType, type Type } from './types.js';
import { assignable, comparable, isLoose, isNullable, isNumeric, isScalar, isStringy, join, mergeTypes } from './type-utils.js';
import { BUDGET_PROPERTIES, BUILTIN_TYPES, budgetProperty, DETECTOR_TYPE, DETECTORS, GLOBALS, LIST_METHODS, MAP_METHODS, STRING_METHODS } from './builtins.js';
import { suggest } from './suggest.js';
import { checkPattern } from './pattern-check.js';
import { walkExpr } from './expr-walk.js';
import { brief } from './print.js';
import { requestPath } from './request-path.js';

/** The longest `timeout` of an `extern def` (docs/externs.md): a decision may wait that long. */
const MAX_EXTERN_TIMEOUT_MS = 10 * 60_000;

export interface ParsedFile {
  file: string;
  ast: A.SourceFile;
  diagnostics: Diagnostic[];
  /** The source text, when known (used for `rein-ignore` comments). */
  text?: string;
}

export interface CheckerOutput {
  program: CheckedProgram;
  diagnostics: Diagnostic[];
}

type Extra = { data?: DiagnosticData; help?: string; related?: Diagnostic['related'] };

class Scope {
  readonly vars = new Map<string, Symbol>();
  constructor(readonly parent?: Scope) {}
  lookup(name: string): Symbol | undefined {
    for (let s: Scope | undefined = this; s; s = s.parent) {
      const v = s.vars.get(name);
      if (v) return v;
    }
    return undefined;
  }
}

type Callable = A.LetDecl | A.DefDecl;

/** Comparison operators (`a == b == c` does not chain). */
const CHAINING = new Set(['==', '!=', '<', '<=', '>', '>=']);

/** The largest `quorum` (distinct approvers) a `require approval` may ask for. */
export const MAX_QUORUM = 100;
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-](\d{2}):(\d{2}))$/;

export function isRfc3339(s: string): boolean {
  const m = RFC3339.exec(s);
  if (!m) return false;
  const [y, mo, d, h, mi, se] = [m[1], m[2], m[3], m[4], m[5], m[6]].map(Number);
  if (mo < 1 || mo > 12 || h > 23 || mi > 59 || se > 60) return false;
  const days = new Date(Date.UTC(y, mo, 0)).getUTCDate();
  if (d < 1 || d > days) return false;
  if (m[9] !== undefined && (Number(m[9]) > 23 || Number(m[10]) > 59)) return false;
  return !Number.isNaN(Date.parse(s.replace(' ', 'T')));
}

/** The literal text of a plain string literal (no interpolation), looking through parentheses. */
export function literalString(e: A.Expr | undefined): string | undefined {
  while (e && e.kind === 'Paren') e = e.expr;
  if (!e || e.kind !== 'String') return undefined;
  if (e.parts.some((p) => p.kind !== 'Text')) return undefined;
  return e.parts.map((p) => (p.kind === 'Text' ? p.value : '')).join('');
}

function unparen(e: A.Expr | undefined): A.Expr | undefined {
  while (e && e.kind === 'Paren') e = e.expr;
  return e;
}

const isNumberLiteral = (e: A.Expr | undefined): boolean => {
  const u = unparen(e);
  return !!u && (u.kind === 'Number' || (u.kind === 'Unary' && u.op === '-' && unparen(u.operand)?.kind === 'Number'));
};

export class Checker {
  readonly diagnostics: Diagnostic[] = [];
  private file = '';
  private readonly files: ParsedFile[];
  private readonly symbols = new Map<string, Symbol>();
  private readonly types = new Map<A.Expr, Type>();
  private readonly refs = new Map<A.Name, Symbol>();
  private readonly declFile = new Map<A.Decl, string>();
  /** Schema field types → their declarations (for go-to-definition on `action.tool`). */
  private readonly fieldDecls = new WeakMap<FieldType, { field: A.FieldDecl; file: string }>();
  private readonly typeState = new Map<A.TypeDecl, 'pending' | 'done'>();
  private readonly typeValue = new Map<A.TypeDecl, Type>();
  private readonly declState = new Map<Callable, 'pending' | 'done'>();
  private readonly defSig = new Map<A.DefDecl, { params: Type[]; result?: Type }>();
  private readonly budgetUnit = new Map<A.BudgetDecl, 'money' | 'number' | undefined>();
  /** Edges between lets and defs (who reads whom) for recursion and let ordering. */
  private readonly edges = new Map<Callable, Set<Callable>>();
  private readonly stack: Callable[] = [];
  private readonly global = new Scope();
  private inputDecl?: A.InputDecl;
  private inputType: Type = T.error;
  private readonly lets: A.LetDecl[] = [];
  private readonly data: DataDocument[] = [];
  private readonly defs: A.DefDecl[] = [];
  private readonly rules: A.RuleDecl[] = [];
  private readonly budgets: A.BudgetDecl[] = [];
  private readonly tests: A.TestDecl[] = [];
  private readonly typeDecls: A.TypeDecl[] = [];
  private readonly policies: A.PolicyDecl[] = [];
  private readonly externs: A.ExternDecl[] = [];

  constructor(files: ParsedFile[]) {
    this.files = [...files].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  }

  // ------------------------------------------------------------------ diagnostics

  /** Pattern literals already checked (a `let` of patterns used by several `matches`). */
  private readonly checkedPatterns = new Set<A.Node>();

  private report(code: DiagnosticCode, range: Range, message: string, extra: Extra = {}, file = this.file): void {
    const d: Diagnostic = { file, range, severity: SEVERITIES[code], code, message };
    if (extra.help) d.help = extra.help;
    if (extra.data) d.data = extra.data;
    if (extra.related) d.related = extra.related;
    this.diagnostics.push(d);
  }

  private inFile<R>(decl: A.Decl, fn: () => R): R {
    const saved = this.file;
    this.file = this.declFile.get(decl) ?? saved;
    try {
      return fn();
    } finally {
      this.file = saved;
    }
  }

  private unknownName(name: A.Name, candidates: Iterable<string>, what = 'name'): void {
    const s = suggest(name.text, candidates);
    this.report('REIN200', name.range, `unknown ${what} \`${name.text}\``, dym(s));
  }

  // ------------------------------------------------------------------ entry

  run(): CheckerOutput {
    this.collect();
    const header = this.checkHeader();
    this.header = header;
    this.resolveInput();
    for (const t of this.typeDecls) this.inFile(t, () => this.typeDeclType(t));
    for (const x of this.externs) this.inFile(x, () => this.checkExtern(x));
    for (const l of this.lets) this.letType(l);
    for (const d of this.defs) this.checkDef(d);
    for (const b of this.budgets) this.inFile(b, () => this.checkBudget(b));
    for (const r of this.rules) this.inFile(r, () => this.checkRule(r));
    for (const t of this.tests) this.inFile(t, () => this.checkTest(t));
    this.reportCycles();
    const program: CheckedProgram = {
      files: this.files.map((f) => f.ast),
      header,
      inputType: this.inputType,
      symbols: this.symbols,
      lets: this.orderLets(),
      defs: this.defs,
      externs: this.externs,
      rules: this.rules,
      budgets: this.budgets,
      tests: this.tests,
      types: this.types,
      refs: this.refs,
      declFile: this.declFile,
    };
    // not enumerable: the program is plain data by contract (a bundle encodes it; a WeakMap is not)
    Object.defineProperty(program, 'fieldDecls', { value: this.fieldDecls, enumerable: false });
    if (this.data.length > 0) program.data = this.data;
    return { program, diagnostics: this.diagnostics };
  }

  // ------------------------------------------------------------------ declarations

  /** A top-level `let`, `def` or `extern def` named `input` is REIN201: `input` is the whole request
   *  in every expression, so the declaration would never be read (a rule written against it would
   *  silently read the request instead). So is one named like a global function (`len`, `hour`, …),
   *  `now` or a detector namespace (`pii`, `secrets`): it would replace the built-in in every rule of
   *  the set — and of the base sets a layer extends (review h12r2 T10: a team's `def hour(t: time) = 12`
   *  lifted the base's after-hours deny). True when reported. */
  private namedInput(name: A.Name | undefined, what: string, file: string): boolean {
    const n = name?.text;
    if (n === undefined) return false;
    if (n === 'input') {
      this.report('REIN201', name!.range, `${what} cannot be named \`input\`: \`input\` is the whole request in every expression, so it would never be read`, { help: 'give it another name' }, file);
      return true;
    }
    if (Object.prototype.hasOwnProperty.call(GLOBALS, n) || Object.prototype.hasOwnProperty.call(DETECTORS, n)) {
      const builtin = n === 'now' ? 'the clock' : Object.prototype.hasOwnProperty.call(DETECTORS, n) ? 'a detector namespace' : 'a built-in function';
      this.report('REIN201', name!.range, `${what} cannot be named \`${n}\`: it is ${builtin}, and the declaration would replace it in every rule of the set (and of the sets this one extends)`, { help: 'give it another name' }, file);
      return true;
    }
    return false;
  }

  /** A `type` named like a built-in type (`string`, `money`, …) is REIN201: it would change what every
   *  field of that type means, the base's `input` included (review h12r2 T10). True when reported. */
  private namedBuiltinType(name: A.Name | undefined, file: string): boolean {
    const n = name?.text;
    if (n === undefined || !BUILTIN_TYPES.includes(n)) return false;
    this.report('REIN201', name!.range, `a \`type\` cannot be named \`${n}\`: it is a built-in type, and the declaration would change what every \`${n}\` in the set means`, { help: 'give it another name' }, file);
    return true;
  }

  private declare(name: A.Name | undefined, sym: Symbol, file: string): void {
    if (!name) return;
    const prev = this.symbols.get(name.text);
    if (prev) {
      const where = symbolLocation(prev);
      this.report(
        'REIN201',
        name.range,
        `\`${name.text}\` is already declared`,
        where ? { related: [{ file: where.file, range: where.range, message: `\`${name.text}\` is first declared here` }] } : {},
        file,
      );
      return;
    }
    this.symbols.set(name.text, sym);
    this.global.vars.set(name.text, sym);
  }

  private collect(): void {
    const firstInput: { decl: A.InputDecl; file: string }[] = [];
    const testNames = new Map<string, { file: string; range: Range }>();
    for (const f of this.files) {
      this.file = f.file;
      for (const d of f.ast.decls) {
        this.declFile.set(d, f.file);
        this.meaningAnnotations(d);
        switch (d.kind) {
          case 'PolicyDecl':
            if (this.policies.length > 0) {
              const p = this.policies[0];
              this.report('REIN203', d.name?.range ?? d.range, 'more than one `policy` header in the policy set', {
                related: [{ file: this.declFile.get(p)!, range: p.name?.range ?? p.range, message: 'the first `policy` header' }],
              });
            } else this.policies.push(d);
            break;
          case 'InputDecl':
            if (firstInput.length > 0) {
              const p = firstInput[0];
              this.report('REIN203', keywordRange(d.range, 'input'), 'more than one `input` declaration in the policy set', {
                related: [{ file: p.file, range: keywordRange(p.decl.range, 'input'), message: 'the first `input` declaration' }],
              });
            } else {
              firstInput.push({ decl: d, file: f.file });
              this.inputDecl = d;
              for (const fd of d.fields) {
                // A top-level field named like a global would hide it (`now`) or never be read (`input`).
                if (fd.name && (fd.name.text === 'now' || fd.name.text === 'input')) {
                  this.report('REIN201', fd.name.range, `an input field cannot be named \`${fd.name.text}\`: it is the ${fd.name.text === 'now' ? 'clock' : 'whole request'} in every expression (nest it in an object, or declare its parent as a map and read \`m["${fd.name.text}"]\`)`);
                  continue;
                }
                this.declare(fd.name, { kind: 'input-field', name: fd.name.text, file: f.file, field: fd, type: T.error }, f.file);
              }
            }
            break;
          case 'TypeDecl':
            this.typeDecls.push(d);
            if (this.namedBuiltinType(d.name, f.file)) break;
            if (d.name) this.declare(d.name, { kind: 'type', name: d.name.text, file: f.file, decl: d, type: T.error }, f.file);
            break;
          case 'LetDecl':
            this.lets.push(d);
            if (this.namedInput(d.name, d.source ? 'a data document' : 'a `let`', f.file)) break;
            if (d.name) this.declare(d.name, { kind: 'let', name: d.name.text, file: f.file, decl: d, type: T.error }, f.file);
            if (d.source && d.name) {
              const src = literalString(d.source);
              if (src === undefined || src === '') this.report('REIN250', d.source.range, 'the data file must be a plain string (no `${…}`)', { help: 'e.g. `data teams: map<Team> from "teams.json"`' }, f.file);
              // Relative to the declaring file, as the set's sources are: an absolute path would tie the
              // policy to one machine (and read anything on it).
              else if (src.startsWith('/') || /^[A-Za-z]:[\\/]/.test(src) || src.startsWith('\\')) this.report('REIN250', d.source.range, `the data file \`${src}\` must be a path relative to this file, not an absolute one`, { help: 'e.g. `from "teams.json"` or `from "../shared/teams.json"`' }, f.file);
              else this.data.push({ name: d.name.text, file: dataFile(f.file, src), decl: d });
            }
            break;
          case 'DefDecl':
            this.defs.push(d);
            if (this.namedInput(d.name, 'a `def`', f.file)) break;
            if (d.name) this.declare(d.name, { kind: 'def', name: d.name.text, file: f.file, decl: d, type: T.error }, f.file);
            break;
          case 'ExternDecl':
            this.externs.push(d);
            if (this.namedInput(d.name, 'an `extern def`', f.file)) break;
            if (d.name) this.declare(d.name, { kind: 'extern', name: d.name.text, file: f.file, decl: d, type: T.error }, f.file);
            break;
          case 'RuleDecl':
            this.rules.push(d);
            // named like a built-in (`pii`, `len`): every `pii.any(…)` of the set would then fail (review L10.6)
            if (this.namedInput(d.name, 'a rule', f.file)) break;
            if (d.name) this.declare(d.name, { kind: 'rule', name: d.name.text, file: f.file, decl: d }, f.file);
            break;
          case 'BudgetDecl':
            this.budgets.push(d);
            if (this.namedInput(d.name, 'a budget', f.file)) break;
            if (d.name) this.declare(d.name, { kind: 'budget', name: d.name.text, file: f.file, decl: d, type: T.error }, f.file);
            break;
          case 'TestDecl': {
            this.tests.push(d);
            const n = literalString(d.name);
            if (n !== undefined && d.name) {
              const prev = testNames.get(n);
              if (prev)
                this.report('REIN201', d.name.range, `a test named ${JSON.stringify(n)} already exists`, {
                  related: [{ file: prev.file, range: prev.range, message: 'the first test with this name' }],
                });
              else testNames.set(n, { file: f.file, range: d.name.range });
            }
            break;
          }
        }
      }
    }
    if (!this.inputDecl && this.files.length > 0) {
      const f = this.files[0];
      const at = f.ast.range.start;
      this.report('REIN202', { start: at, end: at }, 'the policy set has no `input` declaration', {
        help: 'declare the request schema, e.g. `input { action: { kind: string } }`',
      }, f.file);
    }
    if (!this.inputDecl && this.files.length === 0) {
      // An empty set would allow everything (no validation, `default allow`): it is an error, fail closed.
      const zero = { line: 0, character: 0, offset: 0 };
      this.report('REIN202', { start: zero, end: zero }, 'the policy set has no files, so no `input` declaration', {
        help: 'give `check`/`compile` an object of file name → source text, e.g. { "policy.rein": "input { … }" }',
      }, '');
    }
    if (this.inputDecl) {
      const file = this.declFile.get(this.inputDecl)!;
      const sym: Symbol = { kind: 'input', name: 'input', file, decl: this.inputDecl, type: T.error };
      this.global.vars.set('input', sym);
      if (!this.symbols.has('input')) this.symbols.set('input', sym);
    }
  }

  private checkHeader(): PolicyHeader {
    const h: PolicyHeader = { name: '', default: 'allow', defaultImplicit: true, onError: 'deny', currency: 'USD' };
    const p = this.policies[0];
    if (!p) return h;
    this.file = this.declFile.get(p)!;
    h.name = p.name?.text ?? '';
    const seen = new Map<string, Range>();
    for (const it of p.items) {
      const key = it.kind;
      const word = { PolicyVersion: 'version', PolicyDefault: 'default', PolicyOnError: 'on error', PolicyCurrency: 'currency', PolicyCombine: 'combine' }[key];
      if (seen.has(key)) {
        this.report('REIN216', it.range, `\`${word}\` is set more than once in the policy header`, {
          related: [{ file: this.file, range: seen.get(key)!, message: `the first \`${word}\`` }],
        });
        continue;
      }
      seen.set(key, it.range);
      switch (it.kind) {
        case 'PolicyVersion': {
          const v = literalString(it.value);
          if (v === undefined) this.report('REIN216', it.value.range, 'the policy `version` must be a plain string without interpolation');
          else if (v.trim() === '') this.report('REIN216', it.value.range, 'the policy `version` must not be empty');
          else h.version = v;
          break;
        }
        case 'PolicyDefault':
          h.default = it.effect;
          h.defaultImplicit = false;
          break;
        case 'PolicyOnError':
          h.onError = it.effect;
          break;
        case 'PolicyCurrency': {
          const v = literalString(it.value);
          if (v === undefined || !/^[A-Z]{3}$/.test(v)) {
            const up = v?.toUpperCase();
            const ok = up !== undefined && /^[A-Z]{3}$/.test(up);
            this.report(
              'REIN216',
              it.value.range,
              `\`currency\` must be a three-letter ISO 4217 code in capitals, found ${v === undefined ? 'an interpolated string' : `\`${v}\``}`,
              ok ? { help: `did you mean \`"${up}"\`?`, data: { suggestion: `"${up}"` } } : { help: 'e.g. `currency "USD"`' },
            );
          } else h.currency = v;
          break;
        }
        case 'PolicyCombine': {
          const a = it.algorithm.text;
          if ((COMBINING_ALGORITHMS as readonly string[]).includes(a)) {
            if (a !== 'deny_overrides') h.combine = a as CombiningAlgorithm;
          } else {
            const s = suggest(a, COMBINING_ALGORITHMS);
            this.report('REIN216', it.algorithm.range, `unknown combining algorithm \`${a}\``, s ? { help: `did you mean \`${s}\`?`, data: { suggestion: s } } : { help: 'use `deny_overrides` (the default) or `first_match`' });
          }
          break;
        }
      }
    }
    return h;
  }

  // ------------------------------------------------------------------ types

  private objectType(fields: A.FieldDecl[], name?: string): Type {
    const out: FieldType[] = [];
    const seen = new Map<string, A.FieldDecl>();
    for (const fd of fields) {
      const prev = seen.get(fd.name.text);
      if (prev) {
        this.report('REIN201', fd.name.range, `field \`${fd.name.text}\` is declared twice`, {
          related: [{ file: this.file, range: prev.name.range, message: 'the first declaration' }],
        });
        continue;
      }
      seen.set(fd.name.text, fd);
      const ft: FieldType = { name: fd.name.text, type: fd.type ? this.resolveType(fd.type) : T.error, optional: fd.optional };
      if (fd.doc) ft.doc = fd.doc;
      this.fieldDecls.set(ft, { field: fd, file: this.file });
      out.push(ft);
    }
    const t: Type = { kind: 'object', fields: out };
    if (name) t.name = name;
    return t;
  }

  resolveType(te: A.TypeExpr): Type {
    switch (te.kind) {
      case 'ObjectType':
        return this.objectType(te.fields);
      case 'UnionType': {
        const values: string[] = [];
        for (const m of te.members) {
          const v = literalString(m);
          if (v === undefined) {
            this.report('REIN208', m.range, 'an enum member must be a plain string literal');
            continue;
          }
          if (!values.includes(v)) values.push(v);
        }
        return { kind: 'enum', values };
      }
      case 'TypeName': {
        const n = te.name.text;
        const arity = n === 'list' || n === 'map' ? 1 : 0;
        if (BUILTIN_TYPES.includes(n) && !this.symbols.has(n)) {
          if (te.args.length !== arity) {
            this.report('REIN208', te.range, arity ? `\`${n}\` needs one type argument, e.g. \`${n}<string>\`` : `\`${n}\` takes no type arguments`);
            if (arity) return n === 'list' ? { kind: 'list', elem: T.any } : { kind: 'map', value: T.any };
          }
          switch (n) {
            case 'list':
              return { kind: 'list', elem: this.resolveType(te.args[0]) };
            case 'map':
              return { kind: 'map', value: this.resolveType(te.args[0]) };
            default:
              return { kind: n } as Type;
          }
        }
        const sym = this.symbols.get(n);
        if (!sym) {
          const s = suggest(n, [...BUILTIN_TYPES, ...this.typeDecls.map((t) => t.name?.text ?? '')]);
          this.report('REIN208', te.name.range, `unknown type \`${n}\``, dym(s));
          return T.error;
        }
        if (sym.kind !== 'type') {
          this.report('REIN208', te.name.range, `\`${n}\` is a ${symbolNoun(sym)}, not a type`);
          return T.error;
        }
        this.refs.set(te.name, sym);
        if (te.args.length) this.report('REIN208', te.range, `\`${n}\` takes no type arguments`);
        return this.inFile(sym.decl, () => this.typeDeclType(sym.decl));
      }
    }
  }

  private typeDeclType(d: A.TypeDecl): Type {
    const st = this.typeState.get(d);
    if (st === 'done') return this.typeValue.get(d)!;
    if (st === 'pending') {
      this.report('REIN208', d.name?.range ?? d.range, `type \`${d.name?.text}\` refers to itself; recursive types are not supported`);
      this.typeValue.set(d, T.error);
      return T.error;
    }
    this.typeState.set(d, 'pending');
    let t: Type = T.error;
    if (d.type) {
      t = d.type.kind === 'ObjectType' ? this.objectType(d.type.fields, d.name?.text) : this.resolveType(d.type);
    }
    if (this.typeState.get(d) === 'pending') {
      this.typeValue.set(d, t);
    } else t = this.typeValue.get(d)!;
    this.typeState.set(d, 'done');
    const sym = d.name && this.symbols.get(d.name.text);
    if (sym && sym.kind === 'type' && sym.decl === d) sym.type = t;
    return this.typeValue.get(d)!;
  }

  private resolveInput(): void {
    const d = this.inputDecl;
    if (!d) return;
    this.inFile(d, () => {
      this.inputType = this.objectType(d.fields, 'input');
      const t = this.inputType;
      if (t.kind === 'object')
        for (const ft of t.fields) {
          const sym = this.symbols.get(ft.name);
          if (sym && sym.kind === 'input-field' && sym.field.name.text === ft.name) sym.type = ft.optional ? nullable(ft.type) : ft.type;
        }
      const s = this.global.vars.get('input');
      if (s && s.kind === 'input') s.type = t;
    });
  }

  // ------------------------------------------------------------------ lets and defs

  private edge(to: Callable): void {
    const from = this.stack[this.stack.length - 1];
    if (!from) return;
    let s = this.edges.get(from);
    if (!s) this.edges.set(from, (s = new Set()));
    s.add(to);
  }

  private letType(d: A.LetDecl): Type {
    const sym = d.name ? this.symbols.get(d.name.text) : undefined;
    const own = sym && sym.kind === 'let' && sym.decl === d ? sym : undefined;
    const st = this.declState.get(d);
    if (st === 'done') return own?.type ?? T.error;
    if (st === 'pending') return T.error; // a cycle; reported by reportCycles
    this.declState.set(d, 'pending');
    this.stack.push(d);
    const t = this.inFile(d, () => {
      const declared = d.type ? this.resolveType(d.type) : undefined;
      const vt = d.value ? this.expr(d.value, this.global, declared) : T.error;
      if (declared && d.value) this.expectAssignable(d.value, vt, declared, 'REIN205', `\`${d.name?.text}\` is declared as`);
      return declared ?? vt;
    });
    this.stack.pop();
    this.declState.set(d, 'done');
    if (own) own.type = t;
    return t;
  }

  private signature(d: A.DefDecl): { params: Type[]; result?: Type } {
    let sig = this.defSig.get(d);
    if (!sig) {
      sig = this.inFile(d, () => ({
        params: d.params.map((p) => (p.type ? this.resolveType(p.type) : T.any)),
        result: d.returnType ? this.resolveType(d.returnType) : undefined,
      }));
      this.defSig.set(d, sig);
    }
    return sig;
  }

  /** The def's function type; infers the result from the body when no return type is declared. */
  private defType(d: A.DefDecl): Type {
    const sig = this.signature(d);
    const result = sig.result ?? this.checkDef(d);
    return { kind: 'function', params: sig.params, result };
  }

  private checkDef(d: A.DefDecl): Type {
    const sig = this.signature(d);
    const sym = d.name ? this.symbols.get(d.name.text) : undefined;
    const own = sym && sym.kind === 'def' && sym.decl === d ? sym : undefined;
    const st = this.declState.get(d);
    if (st === 'done') return own && own.type.kind === 'function' ? own.type.result : (sig.result ?? T.error);
    if (st === 'pending') return sig.result ?? T.error;
    this.declState.set(d, 'pending');
    this.stack.push(d);
    const result = this.inFile(d, () => {
      const scope = new Scope(this.global);
      d.params.forEach((p, i) => {
        const prev = scope.vars.get(p.name.text);
        if (prev && prev.kind === 'param')
          this.report('REIN201', p.name.range, `parameter \`${p.name.text}\` is declared twice`, {
            related: [{ file: this.file, range: prev.param.name.range, message: 'the first parameter' }],
          });
        scope.vars.set(p.name.text, { kind: 'param', name: p.name.text, file: this.file, param: p, type: sig.params[i] });
      });
      const bt = d.body ? this.expr(d.body, scope, sig.result) : T.error;
      if (sig.result && d.body) this.expectAssignable(d.body, bt, sig.result, 'REIN205', `\`${d.name?.text}\` returns`);
      return sig.result ?? bt;
    });
    this.stack.pop();
    this.declState.set(d, 'done');
    if (own) own.type = { kind: 'function', params: sig.params, result };
    return result;
  }

  /** REIN210 for every let/def on a cycle (Tarjan's SCC over the read graph). */
  private reportCycles(): void {
    const index = new Map<Callable, number>();
    const low = new Map<Callable, number>();
    const onStack = new Set<Callable>();
    const st: Callable[] = [];
    let i = 0;
    const sccs: Callable[][] = [];
    const visit = (v: Callable) => {
      // iterative DFS to stay safe on long chains
      const work: { v: Callable; it: Iterator<Callable> }[] = [];
      const enter = (x: Callable) => {
        index.set(x, i);
        low.set(x, i);
        i++;
        st.push(x);
        onStack.add(x);
        work.push({ v: x, it: (this.edges.get(x) ?? new Set<Callable>()).values() });
      };
      enter(v);
      while (work.length) {
        const top = work[work.length - 1];
        const n = top.it.next();
        if (!n.done) {
          const w = n.value;
          if (!index.has(w)) enter(w);
          else if (onStack.has(w)) low.set(top.v, Math.min(low.get(top.v)!, index.get(w)!));
          continue;
        }
        work.pop();
        if (work.length) {
          const parent = work[work.length - 1].v;
          low.set(parent, Math.min(low.get(parent)!, low.get(top.v)!));
        }
        if (low.get(top.v) === index.get(top.v)) {
          const comp: Callable[] = [];
          let w: Callable;
          do {
            w = st.pop()!;
            onStack.delete(w);
            comp.push(w);
          } while (w !== top.v);
          sccs.push(comp);
        }
      }
    };
    for (const v of [...this.lets, ...this.defs]) if (!index.has(v)) visit(v);
    for (const comp of sccs) {
      const self = comp.length === 1 && this.edges.get(comp[0])?.has(comp[0]);
      if (comp.length < 2 && !self) continue;
      const inComp = new Set(comp);
      for (const c of comp) {
        const what = c.kind === 'DefDecl' ? '`def`' : '`let`';
        const loop = this.cyclePath(c, inComp).map((n) => `\`${n.name?.text ?? '?'}\``);
        const path = comp.length === 1 ? `${loop[0]} ${c.kind === 'DefDecl' ? 'calls' : 'reads'} itself` : loop.join(' → ');
        this.report('REIN210', c.name?.range ?? c.range, `${what} \`${c.name?.text}\` is recursive (${path})`, {
          help: 'recursion is not allowed so that every evaluation terminates',
        }, this.declFile.get(c)!);
      }
    }
  }

  /** A shortest loop from `start` back to itself inside one strongly connected component. */
  private cyclePath(start: Callable, comp: Set<Callable>): Callable[] {
    const prev = new Map<Callable, Callable>();
    const queue: Callable[] = [start];
    while (queue.length) {
      const v = queue.shift()!;
      for (const w of this.edges.get(v) ?? []) {
        if (!comp.has(w)) continue;
        if (w === start) {
          const path: Callable[] = [start];
          for (let x: Callable | undefined = v; x && x !== start; x = prev.get(x)) path.splice(1, 0, x);
          path.push(start);
          return path;
        }
        if (!prev.has(w)) {
          prev.set(w, v);
          queue.push(w);
        }
      }
    }
    return [start, start];
  }

  /** Lets in dependency order: a let only reads lets before it (through defs too). */
  private orderLets(): A.LetDecl[] {
    const out: A.LetDecl[] = [];
    const seen = new Set<Callable>();
    const visit = (v: Callable) => {
      if (seen.has(v)) return;
      seen.add(v);
      for (const w of this.edges.get(v) ?? []) visit(w);
      if (v.kind === 'LetDecl') out.push(v);
    };
    for (const l of this.lets) visit(l);
    return out;
  }

  // ------------------------------------------------------------------ rules, budgets, tests

  private condition(c: A.Condition): void {
    if (!c.expr) return;
    const t = this.expr(c.expr, this.global);
    this.expectBool(c.expr, t, `\`${c.kind === 'When' ? 'when' : 'unless'}\` condition`);
  }

  private expectBool(e: A.Expr, t: Type, what: string): void {
    const s = stripNull(t);
    if (isLoose(s) || s.kind === 'bool' || s.kind === 'null') return;
    this.report('REIN205', e.range, `${what} must be \`bool\`, found \`${typeToString(t)}\``);
  }

  private message(m: A.StringLit | undefined): void {
    if (m) this.expr(m, this.global);
  }

  private effect(e: A.EffectClause): void {
    switch (e.kind) {
      case 'Deny':
      case 'Warn':
      case 'Allow':
        this.message(e.message);
        break;
      case 'RequireApproval':
        if (e.from) {
          const t = this.expr(e.from, this.global);
          if (isNullable(t) && !isLoose(stripNull(t)))
            this.report('REIN206', e.from.range, `\`${brief(e.from)}\` may be null; \`from\` needs a value`, { data: { nullGuard: true } });
          else if (!isLoose(t) && !isStringy(t)) this.report('REIN205', e.from.range, `\`from\` must be a \`string\`, found \`${typeToString(t)}\``);
        }
        this.approvalTerms(e);
        this.message(e.message);
        break;
      case 'Set':
        break; // phase 2: reported by the parser (REIN105)
      case 'Redact':
        this.redact(e);
        break;
    }
  }

  /**
   * `@monitor` and `@priority` change evaluation; other annotations are metadata, so a misspelt one
   * is silently metadata: `@Monitor` on a rule enforces it. Their names in another case, and
   * `@monitor` where it does nothing (a `let`, a `test`…), are REIN241.
   */
  private meaningAnnotations(d: A.Decl): void {
    for (const a of d.annotations ?? []) {
      const n = a.name.text;
      const meant = (['monitor', 'priority'] as const).find((m) => m !== n && m === n.toLowerCase());
      if (meant) {
        // on the name (after `@`): the quick fix replaces it with the suggestion
        this.report('REIN241', a.name.range, `\`@${n}\` is not \`@${meant}\` (annotation names are case-sensitive): as written it is metadata and changes nothing`, { help: `write \`@${meant}\``, data: { suggestion: meant } });
      } else if (n === 'monitor' && d.kind !== 'RuleDecl' && d.kind !== 'BudgetDecl') {
        this.report('REIN241', a.range, '`@monitor` applies to rules and budgets: here it changes nothing', { help: 'remove it, or put it on the rule or budget to monitor' });
      }
    }
  }

  /** `@priority("N")`: a whole number (as a string), meaningful only under `combine first_match`.
   *  `@monitor` takes no value: `@monitor("false")` would still put the rule in monitor mode. */
  private priority(r: A.RuleDecl): void {
    for (const a of r.annotations) {
      if (a.name.text === 'monitor' && a.value) {
        this.report('REIN241', a.range, '`@monitor` takes no value: with any value the rule is still in monitor mode (reported, never enforced)', { help: 'write `@monitor` to monitor the rule, or remove the annotation to enforce it' });
        continue;
      }
      if (a.name.text !== 'priority') continue;
      const v = a.value ? literalString(a.value) : undefined;
      if (v === undefined || !/^-?\d{1,9}$/.test(v.trim()))
        this.report('REIN241', a.range, `\`@priority\` needs a whole number, found ${v === undefined ? (a.value ? 'an interpolated string' : 'no value') : `\`"${v}"\``}`, { help: 'e.g. `@priority("10")`: higher runs first under `combine first_match`' });
      else if (this.header?.combine !== 'first_match')
        this.report('REIN241', a.range, '`@priority` orders rules only under `combine first_match`; this policy combines with `deny_overrides`', { help: 'add `combine first_match` to the policy header, or remove `@priority`' });
    }
  }

  /** `quorum N` (a whole number 1…MAX_QUORUM) and `expires D` (a positive duration). */
  private approvalTerms(e: A.ApprovalEffect): void {
    const q = e.quorum;
    if (q && (!q.isInt || q.value < 1 || q.value > MAX_QUORUM))
      this.report('REIN240', q.range, `\`quorum\` must be a whole number from 1 to ${MAX_QUORUM}, found \`${q.value}\``, { help: 'the number of distinct approvers that must approve, e.g. `quorum 2`' });
    const x = e.expires;
    if (x && x.ms <= 0) this.report('REIN240', x.range, `\`expires\` must be a positive duration, found \`${x.raw}\``, { help: 'how long an approval stands after it is given, e.g. `expires 15m`' });
  }

  /** The checked policy header (set first in `run`). */
  private header: PolicyHeader | undefined;

  /** `redact PATH using DETECTOR ["REPLACEMENT"]`: PATH a path into the request (fields, constant
   *  indexes) that can hold a string; DETECTOR a detector; the replacement a constant string. */
  private redact(e: A.RedactEffect): void {
    if (e.path) {
      const t = this.expr(e.path, this.global);
      // An error type was reported already (an unknown name or field, with its did-you-mean).
      if (t.kind !== 'error' && !requestPath(e.path, (n) => this.global.lookup(n)?.kind)) {
        this.report('REIN205', e.path.range, `\`redact\` needs a path into the request (fields and constant indexes), found \`${brief(e.path)}\``, {
          help: 'e.g. `redact action.args.query using pii.email`',
        });
      } else if (!isLoose(stripNull(t)) && !holdsString(t)) {
        this.report('REIN205', e.path.range, `\`redact\` masks strings; \`${brief(e.path)}\` is \`${typeToString(t)}\`, which holds none`);
      }
    }
    const u = e.using;
    // Without `using`, the whole string is masked.
    if (u) {
      const ns = u.kind === 'Member' ? this.detectorNamespace(u.object, this.global) : undefined;
      if (ns && u.kind === 'Member') this.detector(u, ns);
      else {
        const s = suggestDetector(brief(u), allDetectors());
        this.report('REIN205', u.range, `\`using\` takes a detector, found \`${brief(u)}\``, detectorHelp(s, allDetectors()));
      }
    }
    if (e.message && e.message.parts.some((p) => p.kind !== 'Text'))
      this.report('REIN205', e.message.range, 'the replacement of `redact` is a constant string (no `${…}`)');
  }

  private checkRule(r: A.RuleDecl): void {
    this.priority(r);
    for (const item of r.body) {
      if (item.kind === 'When' || item.kind === 'Unless') this.condition(item as A.Condition);
      else this.effect(item as A.EffectClause);
    }
  }

  private budgetUnitOf(b: A.BudgetDecl): 'money' | 'number' | undefined {
    if (this.budgetUnit.has(b)) return this.budgetUnit.get(b);
    const limit = b.items.find((i): i is A.LimitClause => i.kind === 'Limit');
    let unit: 'money' | 'number' | undefined;
    this.budgetUnit.set(b, undefined);
    if (limit?.amount) {
      // A limit may read the request and `let` data (`limit caps[team] ?? $50`): evaluated per request;
      // a null there is a run-time error, so a nullable limit is typed by what it holds.
      let t = stripNull(this.inFile(b, () => this.expr(limit.amount!, this.global)));
      // `caps[team] ?? $50` with an untyped table: the unit of the default.
      for (let x = unparen(limit.amount); isLoose(t) && x?.kind === 'Binary' && x.op === '??' && x.right; x = unparen(x.left)) {
        const rt = this.types.get(x.right);
        if (rt && !isLoose(stripNull(rt))) t = stripNull(rt);
      }
      if (t.kind === 'money') unit = 'money';
      else if (isNumeric(t)) unit = 'number';
      else if (!isLoose(t)) {
        this.inFile(b, () =>
          this.report('REIN213', limit.amount!.range, `a budget \`limit\` must be \`money\` or a number, found \`${typeToString(t)}\``),
        );
      }
    }
    this.budgetUnit.set(b, unit);
    const sym = b.name && this.symbols.get(b.name.text);
    if (sym && sym.kind === 'budget' && sym.decl === b) sym.type = unit ? { kind: 'budget', unit } : T.error;
    return unit;
  }

  private checkBudget(b: A.BudgetDecl): void {
    const unit = this.budgetUnitOf(b);
    const at = b.name?.range ?? headRange(b.range);
    const limits = b.items.filter((i) => i.kind === 'Limit');
    const charges = b.items.filter((i) => i.kind === 'Charge');
    // a budget whose name is missing (a syntax error says so) is "the budget", not "budget ``"
    const budget = b.name?.text ? `budget \`${b.name.text}\`` : 'the budget';
    if (limits.length === 0) this.report('REIN213', at, `${budget} has no \`limit\``, { help: 'e.g. `limit $50 per day`, or a token bucket: `burst 3 refill 1 per 1s`' });
    if (charges.length === 0) this.report('REIN213', at, `${budget} has no \`charge\``, { help: 'e.g. `charge cost.estimate` or `charge 1`' });
    const once = new Set<string>();
    for (const it of b.items) {
      if (it.kind === 'Limit' || it.kind === 'Charge' || it.kind === 'WarnAt' || it.kind === 'OnExceed' || it.kind === 'By') {
        if (once.has(it.kind)) {
          const word = { Limit: 'limit` or `burst', Charge: 'charge', WarnAt: 'warn at', OnExceed: 'on exceed', By: 'by' }[it.kind];
          this.report('REIN213', it.range, `\`${word}\` appears more than once in ${budget}`);
        }
        once.add(it.kind);
      }
      switch (it.kind) {
        case 'Limit': {
          if (it.amount) {
            const c = constNumber(it.amount);
            if (c !== undefined && c <= 0) this.report('REIN213', it.amount.range, 'a budget `limit` must be greater than zero');
            else if (c !== undefined && unit === 'number') this.wholeUnits(it.amount, c, it.burst ? 'burst' : 'limit');
            this.requestBudgetClause(it.amount, 'limit');
          }
          if (it.per && it.per.kind === 'Duration' && !(it.per.ms >= 1000))
            this.report('REIN213', it.per.range, `a budget window must be at least one second, found \`${it.per.raw}\``);
          this.checkWindowStyle(it, unit);
          break;
        }
        case 'Charge': {
          if (!it.expr) break;
          const t = this.expr(it.expr, this.global);
          const s = stripNull(t);
          if (isLoose(s) || s.kind === 'null') break;
          if (s.kind === 'money') {
            if (unit === 'number')
              this.report('REIN207', it.expr.range, `the \`charge\` is \`money\` but the \`limit\` is a plain number`, {
                help: 'write the limit as money, e.g. `limit $50`',
              });
          } else if (isNumeric(s)) {
            if (unit === 'number') {
              const c = constNumber(it.expr);
              if (c !== undefined) this.wholeUnits(it.expr, c, 'charge');
            }
            if (unit === 'money')
              this.report(
                'REIN207',
                it.expr.range,
                `the \`charge\` is a plain number but the \`limit\` is \`money\``,
                isNumberLiteral(it.expr) ? { help: `write it as money, e.g. \`$${brief(it.expr)}\`` } : {},
              );
          } else this.report('REIN213', it.expr.range, `a \`charge\` must be \`money\` or a number, found \`${typeToString(t)}\``);
          this.noBudgetRead(it.expr, 'charge');
          break;
        }
        case 'By':
          for (const k of it.keys) {
            const t = this.expr(k, this.global);
            if (!isScalar(t)) this.report('REIN213', k.range, `a \`by\` key must be a scalar (string, number, bool…), found \`${typeToString(t)}\``);
            this.noBudgetRead(k, 'by');
          }
          break;
        case 'When':
        case 'Unless':
          this.condition(it);
          if (it.expr) this.noBudgetRead(it.expr, it.kind === 'When' ? 'when' : 'unless');
          break;
        case 'WarnAt': {
          if (!it.threshold) break;
          const t = this.expr(it.threshold, this.global);
          if (!isLoose(t) && !isNumeric(t)) {
            this.report('REIN213', it.threshold.range, `\`warn at\` must be a percentage such as \`80%\`, found \`${typeToString(t)}\``);
            break;
          }
          if (this.requestBudgetClause(it.threshold, 'warn at')) break;
          const c = constNumber(it.threshold);
          if (c !== undefined && !(c > 0 && c <= 1))
            this.report('REIN213', it.threshold.range, `\`warn at\` must be between 0% and 100% of the limit, found \`${brief(it.threshold)}\``, {
              help: 'write a percentage, e.g. `warn at 80%`',
            });
          break;
        }
        case 'OnExceed':
          if (it.effect) {
            if (it.effect.kind === 'Allow') this.report('REIN213', it.effect.range, '`on exceed allow` would never enforce the budget', { help: 'use `deny`, `require approval` or `warn`' });
            // A rule's transforms are not a budget's effects: a budget exceeded with one would only warn.
            else if (it.effect.kind === 'Redact' || it.effect.kind === 'Set')
              this.report('REIN213', it.effect.range, `\`on exceed ${it.effect.kind === 'Redact' ? 'redact' : 'set'}\` is not a budget effect: the budget would never be enforced`, {
                help: 'use `deny`, `require approval` or `warn`; to mask data, write a rule with `redact`',
              });
            this.effect(it.effect);
          }
          break;
      }
    }
  }

  /** A test's time (`at "…"`, `spent b = 5 at "…"`): an RFC 3339 string literal (REIN402). */
  private checkTestTime(time: A.StringLit, what: string): void {
    const v = literalString(time);
    if (v === undefined || !isRfc3339(v))
      this.report('REIN402', time.range, `${what} needs an RFC 3339 time such as \`"2026-01-05T10:00:00Z"\`, found ${v === undefined ? 'an interpolated string' : `\`${v}\``}`);
  }

  /** Rolling windows (`per rolling 1h`), token buckets (`burst 3 refill 1 per 1s`) and anchored
   *  periods (`per 30d anchored`): a length in time (a duration, `minute`, `hour`, `day` or `week`),
   *  one style at a time, and a constant, positive `refill` in the budget's unit. */
  /** A constant limit, burst or refill of a plain-number budget: counters hold whole units. */
  private wholeUnits(e: A.Expr, c: number, what: string): void {
    if (!Number.isSafeInteger(c)) this.report('REIN213', e.range, `\`${what}\` must be a whole number (counters hold whole units), found ${c}`);
  }

  private checkWindowStyle(it: A.LimitClause, unit: 'money' | 'number' | undefined): void {
    const style = it.burst ? 'a token bucket' : it.rolling ? 'a rolling window' : it.anchored ? 'an anchored period' : undefined;
    if (style === undefined) return;
    if (it.rolling && it.anchored) {
      this.report('REIN213', it.anchored.range, 'a window is either `rolling` or `anchored`, not both', { help: 'e.g. `per rolling 1h` or `per 30d anchored`' });
    }
    if (it.burst && (it.rolling || it.anchored)) {
      this.report('REIN213', (it.rolling ?? it.anchored)!.range, `a token bucket refills continuously: \`${it.rolling ? 'rolling' : 'anchored'}\` does not apply`, { help: 'e.g. `burst 3 refill 1 per 1s`' });
    }
    const per = it.per;
    if (per && (per.kind === 'Request' || (per.kind === 'Unit' && per.unit === 'month'))) {
      this.report('REIN213', per.range, `${style} needs a fixed length: \`${per.kind === 'Request' ? 'request' : 'month'}\` has none`, {
        help: per.kind === 'Request' ? 'write a duration, e.g. `1h`' : 'write a duration, e.g. `30d`',
      });
    }
    if (it.burst && it.refill) {
      const c = constNumber(it.refill);
      if (c !== undefined && c <= 0) this.report('REIN213', it.refill.range, 'a token bucket\'s `refill` must be greater than zero');
      else if (c !== undefined && unit === 'number') this.wholeUnits(it.refill, c, 'refill');
      const refillType = this.expr(it.refill, this.global);
      if (!this.constantRefill(it.refill)) {
        const t = stripNull(refillType);
        if (!isLoose(t) && t.kind !== 'null') {
          if (t.kind === 'money' && unit === 'number') this.report('REIN207', it.refill.range, 'the `refill` is `money` but the burst is a plain number', { help: 'write both as money, e.g. `burst $5 refill $1 per 1h`' });
          else if (isNumeric(t) && unit === 'money' && it.refill.kind !== 'Number') this.report('REIN207', it.refill.range, 'the `refill` is a plain number but the burst is `money`', { help: 'write both as money, e.g. `burst $5 refill $1 per 1h`' });
          else if (t.kind !== 'money' && !isNumeric(t)) this.report('REIN207', it.refill.range, `the \`refill\` must be a number or money, found \`${typeToString(t)}\``);
        }
      }
    }
  }

  /** A token bucket's `refill` is fixed when the policy is compiled: report (REIN213) one that reads
   *  the request, the clock or a budget, directly or through lets and defs. True when reported. */
  private constantRefill(e: A.Expr): boolean {
    const what = this.envRead(e, new Set());
    if (!what) return false;
    this.report('REIN213', e.range, `a budget \`refill\` must be a constant, but it reads ${what}`, { help: 'a token bucket refills at a fixed rate: write a constant, e.g. `refill 1 per 1s`' });
    return true;
  }

  /** A budget's `limit` and `warn at` may read the request and `let` data (evaluated per request, before
   *  any counter is read), but not the clock or a budget: report (REIN213) one that does, directly or
   *  through lets and defs. True when reported. */
  private requestBudgetClause(e: A.Expr, clause: string): boolean {
    const what = this.envRead(e, new Set(), false);
    if (!what) return false;
    this.report('REIN213', e.range, `a budget \`${clause}\` may read the request and \`let\` data, but it reads ${what}`, {
      help: 'a limit is evaluated per request from the request and constants: write e.g. `limit team_caps[team] ?? $50 per day`',
    });
    return true;
  }

  /** A budget's `when`, `unless`, `charge` and `by` cannot read a budget (`b.used`): budgets are
   *  planned together before any counter is read, so there it would always be null (session 13
   *  review L16: "once `b` is half used, cap calls at $1" never capped). REIN213, directly or through
   *  lets and defs. */
  private noBudgetRead(e: A.Expr, clause: string): void {
    const what = this.budgetRead(e, new Set());
    if (!what)
      return;
    this.report('REIN213', e.range, `a budget's \`${clause}\` cannot read ${what}: budgets are checked together, before any counter is known, so it would always be null there`, {
      help: 'read budgets in a rule instead, e.g. `rule surge { when b.used >= 50% and cost > $1 deny "…" }`',
    });
  }

  private budgetRead(root: A.Expr, seen: Set<string>): string | undefined {
    let found: string | undefined;
    walkExpr(root, (e) => {
      if (found || e.kind !== 'NameRef') return;
      const s = this.refs.get(e.name);
      if (s?.kind === 'budget') found = `a budget (\`${e.name.text}\`)`;
      else if ((s?.kind === 'let' || s?.kind === 'def') && !seen.has(s.name)) {
        seen.add(s.name);
        const body = s.kind === 'let' ? s.decl.value : s.decl.body;
        const inner = body && this.budgetRead(body, seen);
        if (inner) found = `${inner} through \`${s.name}\``;
      }
    });
    return found;
  }

  /** What an expression reads of the decision's environment (`the request (\`team\`)`, `the clock (\`now\`)`, …), if anything. */
  private envRead(root: A.Expr, seen: Set<string>, requestToo = true): string | undefined {
    let found: string | undefined;
    walkExpr(root, (e) => {
      if (found || e.kind !== 'NameRef') return;
      const s = this.refs.get(e.name);
      if (!s) return;
      switch (s.kind) {
        case 'input-field':
        case 'input':
          if (requestToo) found = `the request (\`${e.name.text}\`)`;
          break;
        case 'budget':
          found = `a budget (\`${e.name.text}\`)`;
          break;
        case 'builtin':
          if (s.name === 'now') found = 'the clock (`now`)';
          break;
        case 'extern':
          found = `a host function (\`${s.name}\`)`;
          break;
        case 'let':
        case 'def': {
          if (seen.has(s.name)) return;
          seen.add(s.name);
          const body = s.kind === 'let' ? s.decl.value : s.decl.body;
          const inner = body && this.envRead(body, seen, requestToo);
          if (inner) found = `${inner} through \`${s.name}\``;
          break;
        }
      }
    });
    return found;
  }

  private resolveDecided(n: A.Name, what: string, allowBudgets = true): Symbol | undefined {
    const sym = this.symbols.get(n.text);
    if (sym && (sym.kind === 'rule' || (allowBudgets && sym.kind === 'budget'))) {
      this.refs.set(n, sym);
      return sym;
    }
    const cands = [...this.rules.map((r) => r.name?.text ?? ''), ...(allowBudgets ? this.budgets.map((b) => b.name?.text ?? '') : [])];
    const s = suggest(n.text, cands);
    this.report('REIN400', n.range, sym ? `\`${n.text}\` is a ${symbolNoun(sym)}, not ${what}` : `unknown ${what} \`${n.text}\``, dym(s));
    return undefined;
  }

  /** `extern name(args) = value` in a test: an extern of the set, its arguments and value typed as declared. */
  private checkExternStub(it: A.ExternStubItem): void {
    const sym = it.name ? this.symbols.get(it.name.text) : undefined;
    if (!it.name || !sym || sym.kind !== 'extern') {
      if (it.name) {
        const s = suggest(it.name.text, this.externs.map((x) => x.name?.text ?? ''));
        this.report('REIN232', it.name.range, sym ? `\`${it.name.text}\` is a ${symbolNoun(sym)}, not an \`extern def\`` : `unknown extern \`${it.name.text}\``, dym(s));
      }
      for (const a of it.args ?? []) this.expr(a, this.global);
      if (it.value) this.expr(it.value, this.global);
      return;
    }
    this.refs.set(it.name, sym);
    const sig = this.externSig(sym.decl);
    const what = `\`${it.name.text}\``;
    if (it.args) {
      if (it.args.length !== sig.params.length)
        this.report('REIN232', it.name.range, `${what} takes ${sig.params.length} argument${sig.params.length === 1 ? '' : 's'}, the stub gives ${it.args.length}`);
      it.args.forEach((a, i) => {
        const want = sig.params[i];
        const t = this.expr(a, this.global, want);
        if (want) this.argument(a, t, want, `argument ${i + 1} of ${what}`);
      });
    }
    if (it.value) {
      const t = this.expr(it.value, this.global, sig.result);
      this.expectAssignable(it.value, t, sig.result, 'REIN205', `${what} returns`);
    }
  }

  /** `data NAME = EXPR` in a test: NAME is a data declaration; the value fits its declared type. */
  private checkDataOverride(it: A.DataOverrideItem): void {
    const sym = it.name ? this.symbols.get(it.name.text) : undefined;
    if (!it.name || !sym || sym.kind !== 'let' || !sym.decl.source) {
      if (it.name) {
        const s = suggest(it.name.text, this.data.map((x) => x.name));
        this.report('REIN250', it.name.range, sym ? `\`${it.name.text}\` is a ${symbolNoun(sym)}, not a \`data\` declaration` : `unknown data document \`${it.name.text}\``, s ? { help: `did you mean \`${s}\`?`, data: { suggestion: s } } : {});
      }
      if (it.value) this.expr(it.value, this.global);
      return;
    }
    this.refs.set(it.name, sym);
    const want = this.letType(sym.decl);
    if (it.value) {
      this.expr(it.value, this.global, want);
      this.conform(it.value, want, '');
    }
  }

  private checkTest(t: A.TestDecl): void {
    let given = false;
    let expect = false;
    for (const it of t.items) {
      switch (it.kind) {
        case 'Given': {
          given = true;
          if (!it.expr) break;
          const ty = this.expr(it.expr, this.global);
          if (!isLoose(ty) && ty.kind !== 'object' && ty.kind !== 'map')
            this.report('REIN205', it.expr.range, `\`given\` must be an object (the request), found \`${typeToString(ty)}\``);
          else this.conform(it.expr, this.inputType, '');
          break;
        }
        case 'Spent': {
          if (it.at) this.checkTestTime(it.at, '`spent … at`');
          let unit: 'money' | 'number' | undefined;
          let known = false;
          if (it.budget) {
            const sym = this.symbols.get(it.budget.text);
            if (sym && sym.kind === 'budget') {
              this.refs.set(it.budget, sym);
              unit = this.budgetUnitOf(sym.decl);
              known = true;
            } else {
              const s = suggest(it.budget.text, this.budgets.map((b) => b.name?.text ?? ''));
              this.report('REIN400', it.budget.range, sym ? `\`${it.budget.text}\` is a ${symbolNoun(sym)}, not a budget` : `unknown budget \`${it.budget.text}\``, dym(s));
            }
          }
          if (it.amount) {
            const ty = this.expr(it.amount, this.global);
            if (known && unit && !isLoose(ty)) {
              if (unit === 'money' && ty.kind !== 'money')
                this.report(isNumeric(ty) ? 'REIN207' : 'REIN205', it.amount.range, `budget \`${it.budget!.text}\` counts money; the amount must be \`money\`, found \`${typeToString(ty)}\``, isNumberLiteral(it.amount) ? { help: `write \`$${brief(it.amount)}\`` } : {});
              else if (unit === 'number' && !isNumeric(ty))
                this.report(ty.kind === 'money' ? 'REIN207' : 'REIN205', it.amount.range, `budget \`${it.budget!.text}\` counts plain numbers; the amount must be a number, found \`${typeToString(ty)}\``);
            }
          }
          break;
        }
        case 'At': {
          if (!it.time) break;
          this.checkTestTime(it.time, '`at`');
          break;
        }
        case 'Approved':
          for (const n of it.names) this.resolveDecided(n, 'rule or budget');
          break;
        case 'Expect':
          expect = true;
          for (const n of it.by) this.resolveDecided(n, 'rule or budget');
          for (const p of it.redact?.paths ?? []) {
            if (this.expr(p, this.global).kind !== 'error' && !requestPath(p, (n) => this.global.lookup(n)?.kind))
              this.report('REIN205', p.range, `\`expect … with redact\` lists paths into the request, found \`${brief(p)}\``, { help: 'e.g. `expect allow with redact prompt`' });
          }
          break;
        case 'ExpectWarnings':
          expect = true;
          for (const n of it.names) this.resolveDecided(n, 'rule or budget');
          break;
        case 'ExternStub':
          this.checkExternStub(it);
          break;
        case 'DataOverride':
          this.checkDataOverride(it);
          break;
      }
    }
    const at = t.name?.range ?? headRange(t.range);
    if (!given) this.report('REIN401', at, 'test has no `given` request', { help: 'add `given { … }` with the request to decide' });
    if (!expect) this.report('REIN401', at, 'test has no `expect`', { help: 'add e.g. `expect deny by rule_name`' });
  }

  /**
   * Check the literal parts of a test request against the input schema: object and list literals
   * written in `given` (also on either side of `with`). Values arrive as JSON, so a `time` accepts
   * a string and `money` accepts a number or a string; absent and extra fields are left to the
   * run-time validation (extra fields are ignored there, and a `with` may complete a partial base).
   */
  private conform(e: A.Expr | undefined, schema: Type, path: string): void {
    const u = unparen(e);
    const s = stripNull(schema);
    if (!u || isLoose(s)) return;
    if (u.kind === 'Binary' && u.op === 'with') {
      this.conform(u.left, schema, path);
      this.conform(u.right, schema, path);
      return;
    }
    const where = path === '' ? 'the request' : `\`${path}\``;
    if (u.kind === 'Object') {
      if (s.kind === 'object' || s.kind === 'map') {
        for (const en of u.entries) {
          const key = en.key.kind === 'Name' ? en.key.text : literalString(en.key);
          if (key === undefined) continue;
          const ft = s.kind === 'map' ? s.value : s.fields.find((f) => f.name === key)?.type;
          if (ft) this.conform(en.value, ft, path === '' ? key : `${path}.${key}`);
        }
      } else this.report('REIN205', u.range, `${where} must be \`${typeToString(s)}\`, found an object`);
      return;
    }
    if (u.kind === 'List') {
      if (s.kind === 'list') u.items.forEach((item, i) => this.conform(item, s.elem, `${path}[${i}]`));
      else this.report('REIN205', u.range, `${where} must be \`${typeToString(s)}\`, found a list`);
      return;
    }
    const t = this.types.get(u);
    if (!t || isLoose(t) || t.kind === 'null' || isNullable(t)) return;
    if (t.kind === 'object' || t.kind === 'map') {
      if (s.kind !== 'object' && s.kind !== 'map') this.report('REIN205', u.range, `${where} must be \`${typeToString(s)}\`, found \`${typeToString(t)}\``);
      return;
    }
    let ok: boolean;
    switch (s.kind) {
      case 'time':
        ok = t.kind === 'time' || isStringy(t);
        break;
      case 'money':
        ok = t.kind === 'money' || isNumeric(t) || isStringy(t);
        break;
      default:
        ok = assignable(t, s);
    }
    if (!ok) {
      const money = t.kind === 'money' && isNumeric(s);
      this.report(money ? 'REIN207' : 'REIN205', u.range, `${where} must be \`${typeToString(s)}\`, found \`${typeToString(t)}\``);
    } else this.checkEnumLiteral(u, s);
  }

  // ------------------------------------------------------------------ expressions

  private expectAssignable(e: A.Expr, t: Type, want: Type, code: DiagnosticCode, what: string): boolean {
    if (assignable(t, want)) {
      this.checkEnumLiteral(e, want);
      return true;
    }
    if (isNullable(t) && assignable(stripNull(t), want)) {
      this.report('REIN206', e.range, `\`${brief(e)}\` may be null, but ${what} \`${typeToString(want)}\``, {
        data: { nullGuard: true },
        help: 'add a default with `??`',
      });
      return false;
    }
    const money = (t.kind === 'money' && isNumeric(stripNull(want))) || (isNumeric(t) && stripNull(want).kind === 'money');
    this.report(money ? 'REIN207' : code, e.range, `${what} \`${typeToString(want)}\`, found \`${typeToString(t)}\``);
    return false;
  }

  /** REIN214 when a plain string literal is compared with / passed as an enum it is not a value of —
   *  also inside a list or object literal checked against a type holding the enum (`list<K>`, `{ k: K }`,
   *  `map<K>`), and through a `let` holding such a literal (`kind in risky_kinds`, the way the docs
   *  write lists: reported at the use, `via`). */
  private checkEnumLiteral(e: A.Expr | undefined, want: Type, via?: A.NameExpr): void {
    const u = unparen(e);
    if (!u) return;
    if (u.kind === 'NameRef') {
      if (via !== undefined) return;
      const sym = this.refs.get(u.name);
      // an untyped let (a typed one's literals are checked at its declaration)
      if (sym?.kind === 'let' && sym.decl.value !== undefined && sym.decl.source === undefined && sym.decl.type === undefined) this.checkEnumLiteral(sym.decl.value, want, u);
      return;
    }
    const w = stripNull(want);
    if (w.kind === 'list' && u.kind === 'List') {
      for (const item of u.items) this.checkEnumLiteral(item, w.elem, via);
      return;
    }
    if ((w.kind === 'object' || w.kind === 'map') && u.kind === 'Object') {
      for (const en of u.entries) {
        const key = en.key.kind === 'Name' ? en.key.text : literalString(en.key);
        const ft = w.kind === 'map' ? w.value : w.fields.find((f) => f.name === key)?.type;
        if (ft !== undefined) this.checkEnumLiteral(en.value, ft, via);
      }
      return;
    }
    if (w.kind !== 'enum') return;
    if (u.kind === 'List') {
      for (const item of u.items) this.checkEnumLiteral(item, w, via);
      return;
    }
    const v = literalString(u);
    if (v === undefined || w.values.includes(v)) return;
    const s = suggest(v, w.values);
    const values = w.values.map((x) => `\`"${x}"\``).join(', ');
    if (via !== undefined) {
      this.report('REIN214', via.range, `\`${via.name.text}\` holds \`"${v}"\`, which is not one of ${values}`, s ? { help: `did you mean \`"${s}"\`? (in \`let ${via.name.text}\`)` } : {});
      return;
    }
    this.report('REIN214', u.range, `\`"${v}"\` is not one of ${values}`, s ? { help: `did you mean \`"${s}"\`?`, data: { suggestion: `"${s}"` } } : {});
  }

  expr(e: A.Expr, sc: Scope, expected?: Type): Type {
    const t = this.exprInner(e, sc, expected);
    this.types.set(e, t);
    return t;
  }

  private exprInner(e: A.Expr, sc: Scope, expected?: Type): Type {
    switch (e.kind) {
      case 'Number':
        return e.isInt ? T.int : T.number;
      case 'Percent':
        return T.number;
      case 'Money':
        return T.money;
      case 'Duration':
        return T.duration;
      case 'String':
        for (const p of e.parts) if (p.kind === 'Interpolation' && p.expr) this.expr(p.expr, sc);
        return T.string;
      case 'Bool':
        return T.bool;
      case 'Null':
        return T.null;
      case 'List': {
        const want = expected && stripNull(expected).kind === 'list' ? (stripNull(expected) as { elem: Type }).elem : undefined;
        let elem: Type | undefined;
        for (const item of e.items) {
          const t = this.expr(item, sc, want);
          if (!elem) elem = t;
          else {
            const j = join(elem, t);
            if (!j) {
              this.report('REIN205', item.range, `list items must have one type: \`${typeToString(t)}\` does not fit \`${typeToString(elem)}\``);
              elem = T.error;
            } else elem = j;
          }
        }
        return { kind: 'list', elem: elem ?? T.any };
      }
      case 'Object': {
        const fields: FieldType[] = [];
        const seen = new Map<string, Range>();
        const exp = expected && stripNull(expected);
        for (const en of e.entries) {
          const key = en.key.kind === 'Name' ? en.key.text : literalString(en.key);
          if (en.key.kind === 'String') this.expr(en.key, sc);
          const want = key !== undefined && exp?.kind === 'object' ? exp.fields.find((f) => f.name === key)?.type : undefined;
          const vt = en.value ? this.expr(en.value, sc, want) : T.error;
          if (key === undefined) continue;
          if (seen.has(key)) {
            this.report('REIN201', en.key.range, `key \`${key}\` appears twice in this object`, {
              related: [{ file: this.file, range: seen.get(key)!, message: 'the first occurrence' }],
            });
            continue;
          }
          seen.set(key, en.key.range);
          fields.push({ name: key, type: vt, optional: false });
        }
        return { kind: 'object', fields };
      }
      case 'NameRef':
        return this.nameRef(e, sc);
      case 'Member':
        return this.member(e, sc);
      case 'Index':
        return this.index(e, sc);
      case 'Call':
        return this.call(e, sc);
      case 'Lambda':
        this.report('REIN205', e.range, 'a lambda `x => …` can only be the argument of a list method such as `any` or `map`');
        this.lambda(e, sc, [T.any]);
        return T.error;
      case 'Unary': {
        if (!e.operand) return T.error;
        const t = this.expr(e.operand, sc);
        if (e.op === 'not') {
          this.expectBool(e.operand, t, 'the operand of `not`');
          return T.bool;
        }
        if (isLoose(t)) return t;
        if (isNullable(t)) {
          this.nullGuard(e.operand);
          return T.error;
        }
        if (isNumeric(t) || t.kind === 'money' || t.kind === 'duration') return t;
        this.report('REIN205', e.range, `cannot negate a \`${typeToString(t)}\``);
        return T.error;
      }
      case 'Binary':
        return this.binary(e, sc, expected);
      case 'If': {
        if (e.cond) this.expectBool(e.cond, this.expr(e.cond, sc), '`if` condition');
        const a = e.then ? this.expr(e.then, sc, expected) : T.error;
        const b = e.else ? this.expr(e.else, sc, expected) : T.error;
        const j = join(a, b);
        if (!j) {
          const money = (a.kind === 'money' && isNumeric(b)) || (isNumeric(a) && b.kind === 'money');
          this.report(money ? 'REIN207' : 'REIN205', e.else!.range, `the branches of \`if\` have different types: \`${typeToString(a)}\` and \`${typeToString(b)}\``);
          return T.error;
        }
        return j;
      }
      case 'Paren':
        return e.expr ? this.expr(e.expr, sc, expected) : T.error;
      case 'Error':
        return T.error;
    }
  }

  private nullGuard(e: A.Expr): void {
    // the default follows the value's type (`?? $0` for money, `?? ""` for a string), as the quick fix's
    const def = nullDefault(this.types.get(e));
    this.report('REIN206', e.range, `\`${brief(e)}\` may be null`, { data: { nullGuard: true }, help: `add a default: \`(${brief(e)} ?? ${def})\`` });
  }

  private globalNames?: string[];

  /** Candidates for "did you mean": local names, then (cached) globals, builtins and declarations. */
  private visibleNames(sc: Scope): string[] {
    if (!this.globalNames) {
      // only what can be a value: not types, and not rules (a rule is never a value)
      const g = new Set<string>([...Object.keys(GLOBALS), ...Object.keys(DETECTORS)]);
      for (const [k, v] of this.global.vars) if (v.kind !== 'type' && v.kind !== 'rule') g.add(k);
      this.globalNames = [...g];
    }
    const local: string[] = [];
    for (let s: Scope | undefined = sc; s && s !== this.global; s = s.parent) for (const k of s.vars.keys()) local.push(k);
    return local.length ? [...local, ...this.globalNames] : this.globalNames;
  }

  private nameRef(e: A.NameExpr, sc: Scope): Type {
    const n = e.name.text;
    const sym = sc.lookup(n);
    if (!sym) {
      if (n in GLOBALS) {
        const t = GLOBALS[n];
        this.refs.set(e.name, { kind: 'builtin', name: n, type: t });
        return t;
      }
      if (n in DETECTORS) {
        this.refs.set(e.name, { kind: 'detector', name: n, type: T.any });
        this.report('REIN205', e.range, `\`${n}\` is a detector namespace; call a detector such as \`${n}.${DETECTORS[n][0]}(text)\``);
        return T.error;
      }
      this.unknownName(e.name, this.visibleNames(sc));
      return T.error;
    }
    this.refs.set(e.name, sym);
    switch (sym.kind) {
      case 'let':
        this.edge(sym.decl);
        return this.letType(sym.decl);
      case 'def':
        this.edge(sym.decl);
        this.report('REIN205', e.range, `\`${n}\` is a \`def\`; call it: \`${n}(…)\``);
        return T.error;
      case 'extern':
        this.report('REIN205', e.range, `\`${n}\` is an \`extern def\`; call it: \`${n}(…)\``);
        return T.error;
      case 'rule':
        this.report('REIN205', e.range, `rule \`${n}\` cannot be used as a value`);
        return T.error;
      case 'type':
        this.report('REIN205', e.range, `\`${n}\` is a type, not a value`);
        return T.error;
      case 'budget': {
        const u = this.budgetUnitOf(sym.decl);
        return u ? { kind: 'budget', unit: u } : T.error;
      }
      default:
        return sym.type;
    }
  }

  private fieldSymbol(ft: FieldType): Symbol | undefined {
    const fd = this.fieldDecls.get(ft);
    return fd ? { kind: 'field', name: ft.name, file: fd.file, field: fd.field, type: ft.optional ? nullable(ft.type) : ft.type } : undefined;
  }

  /** The type of `.name` on a (non-null) receiver type; reports REIN204/REIN205 on failure. */
  private property(recv: Type, prop: A.Name, whole: A.Expr): Type {
    const name = prop.text;
    switch (recv.kind) {
      case 'any':
      case 'error':
        return recv;
      case 'null':
        return T.null;
      case 'object': {
        const f = recv.fields.find((x) => x.name === name);
        if (!f) {
          const s = suggest(name, recv.fields.map((x) => x.name));
          this.report('REIN204', prop.range, `${describe(recv, whole)} has no field \`${name}\``, dym(s));
          return T.error;
        }
        const sym = this.fieldSymbol(f);
        if (sym) this.refs.set(prop, sym);
        return f.optional ? nullable(f.type) : f.type;
      }
      case 'map':
        return isLoose(recv.value) ? recv.value : nullable(recv.value);
      case 'budget': {
        const t = budgetProperty(recv.unit, name);
        if (!t) {
          const s = suggest(name, BUDGET_PROPERTIES);
          this.report('REIN204', prop.range, `a budget has no property \`${name}\` (it has \`.spent\`, \`.remaining\`, \`.limit\`, \`.used\`)`, dym(s));
          return T.error;
        }
        this.refs.set(prop, { kind: 'method', name, type: t });
        return t;
      }
      default: {
        const isMethod = (recv.kind === 'list' && name in LIST_METHODS) || (isStringy(recv) && name in STRING_METHODS);
        if (isMethod) this.report('REIN205', whole.range, `\`${name}\` is a method; call it: \`.${name}()\``);
        else this.report('REIN204', prop.range, `${describe(recv, whole)} has no field \`${name}\``);
        return T.error;
      }
    }
  }

  private detectorNamespace(e: A.Expr, sc: Scope): string | undefined {
    return e.kind === 'NameRef' && e.name.text in DETECTORS && !sc.lookup(e.name.text) ? e.name.text : undefined;
  }

  private detector(e: A.MemberExpr, ns: string): Type {
    const obj = e.object as A.NameExpr;
    this.refs.set(obj.name, { kind: 'detector', name: ns, type: T.any });
    this.types.set(obj, T.any);
    if (!e.property) return T.error;
    const name = e.property.text;
    if (!DETECTORS[ns].includes(name)) {
      const s = suggestDetector(name, DETECTORS[ns]);
      this.report('REIN200', e.property.range, `unknown detector \`${ns}.${name}\``, detectorHelp(s, DETECTORS[ns], `${ns}.`));
      return T.error;
    }
    this.refs.set(e.property, { kind: 'detector', name: `${ns}.${name}`, type: DETECTOR_TYPE });
    return DETECTOR_TYPE;
  }

  private member(e: A.MemberExpr, sc: Scope): Type {
    const ns = this.detectorNamespace(e.object, sc);
    if (ns) {
      const t = this.detector(e, ns);
      if (t.kind === 'function') this.report('REIN205', e.range, `detector \`${ns}.${e.property!.text}\` must be called: \`${ns}.${e.property!.text}(text)\``);
      return T.error;
    }
    const ot = this.expr(e.object, sc);
    if (!e.property) return T.error;
    if (ot.kind === 'nullable') {
      const t = this.property(ot.inner, e.property, e);
      return nullable(t);
    }
    return this.property(ot, e.property, e);
  }

  private index(e: A.IndexExpr, sc: Scope): Type {
    const ot = this.expr(e.object, sc);
    const it = e.index ? this.expr(e.index, sc) : T.error;
    const recv = stripNull(ot);
    const wrap = (t: Type) => (ot.kind === 'nullable' ? nullable(t) : t);
    switch (recv.kind) {
      case 'any':
      case 'error':
        return recv;
      case 'null':
        return T.null;
      case 'list':
        if (!isLoose(it) && it.kind !== 'int') {
          if (isNullable(it)) this.nullGuard(e.index!);
          else this.report('REIN205', e.index!.range, `a list index must be an \`int\`, found \`${typeToString(it)}\``);
        }
        return wrap(nullable(recv.elem));
      case 'map':
        if (!isLoose(it) && !isStringy(stripNull(it))) this.report('REIN205', e.index!.range, `a map key must be a \`string\`, found \`${typeToString(it)}\``);
        return wrap(isLoose(recv.value) ? recv.value : nullable(recv.value));
      case 'object': {
        const key = literalString(e.index);
        if (key !== undefined) {
          const f = recv.fields.find((x) => x.name === key);
          if (!f) {
            const s = suggest(key, recv.fields.map((x) => x.name));
            this.report('REIN204', e.index!.range, `${describe(recv, e)} has no field \`${key}\``, s ? { help: `did you mean \`"${s}"\`?`, data: { suggestion: `"${s}"` } } : {});
            return T.error;
          }
          return wrap(f.optional ? nullable(f.type) : f.type);
        }
        if (!isLoose(it) && !isStringy(stripNull(it))) this.report('REIN205', e.index!.range, `an object key must be a \`string\`, found \`${typeToString(it)}\``);
        return T.any;
      }
      default:
        this.report('REIN205', e.range, `cannot index a \`${typeToString(recv)}\``);
        return T.error;
    }
  }

  private lambda(arg: A.Expr, sc: Scope, params: Type[]): Type {
    const l = unparen(arg);
    if (!l || l.kind !== 'Lambda') {
      this.expr(arg, sc);
      this.report('REIN209', arg.range, 'expected a lambda such as `x => x.ok`');
      return T.error;
    }
    if (l.params.length !== params.length)
      this.report('REIN209', l.range, `the lambda must take ${params.length} parameter${params.length === 1 ? '' : 's'}, found ${l.params.length}`);
    const inner = new Scope(sc);
    l.params.forEach((p, i) => {
      const sym: Symbol = { kind: 'lambda-param', name: p.text, file: this.file, node: p, type: params[i] ?? T.any };
      inner.vars.set(p.text, sym);
      this.refs.set(p, sym);
    });
    const body = l.body ? this.expr(l.body, inner) : T.error;
    const ft: Type = { kind: 'function', params, result: body };
    this.types.set(l, ft);
    if (arg !== l) this.types.set(arg, ft);
    return body;
  }

  private arity(e: A.CallExpr, what: string, min: number, max: number): boolean {
    const n = e.args.length;
    if (n < min || n > max) {
      const want = min === max ? `${min}` : max === Infinity ? `at least ${min}` : `${min} or ${max}`;
      this.report('REIN209', e.range, `${what} takes ${want} argument${min === 1 && max === 1 ? '' : 's'}, found ${n}`);
      return false;
    }
    return true;
  }

  private argument(arg: A.Expr, t: Type, want: Type, what: string): void {
    if (assignable(t, want)) {
      this.checkEnumLiteral(arg, want);
      return;
    }
    if (isNullable(t) && assignable(stripNull(t), want)) {
      this.report('REIN206', arg.range, `\`${brief(arg)}\` may be null, but ${what} must be \`${typeToString(want)}\``, { data: { nullGuard: true }, help: 'add a default with `??`' });
      return;
    }
    this.report('REIN209', arg.range, `${what} must be \`${typeToString(want)}\`, found \`${typeToString(t)}\``);
  }

  private call(e: A.CallExpr, sc: Scope): Type {
    const callee = e.callee;
    // detectors: pii.email(s)
    if (callee.kind === 'Member') {
      const ns = this.detectorNamespace(callee.object, sc);
      if (ns) {
        const ft = this.detector(callee, ns);
        this.types.set(callee, ft);
        const what = `\`${ns}.${callee.property?.text}\``;
        if (ft.kind !== 'function') {
          for (const a of e.args) this.expr(a, sc);
          return T.error;
        }
        if (this.arity(e, what, 1, 1)) {
          const t = this.expr(e.args[0], sc);
          // a detector accepts a possibly-null string (null is never a match)
          if (!isLoose(t) && !isStringy(stripNull(t)) && t.kind !== 'null') this.report('REIN209', e.args[0].range, `the argument of ${what} must be a \`string\`, found \`${typeToString(t)}\``);
        } else for (const a of e.args) this.expr(a, sc);
        return T.bool;
      }
      if (callee.property) return this.methodCall(e, callee, sc);
    }
    if (callee.kind === 'NameRef' && !sc.lookup(callee.name.text) && callee.name.text in GLOBALS) {
      return this.globalCall(e, callee, sc);
    }
    if (callee.kind === 'NameRef') {
      const sym = sc.lookup(callee.name.text);
      if (sym && sym.kind === 'extern') return this.externCall(e, callee, sym, sc);
      if (sym && sym.kind === 'def') {
        this.refs.set(callee.name, sym);
        this.edge(sym.decl);
        const ft = this.defType(sym.decl);
        this.types.set(callee, ft);
        this.callArguments(e, callee, this.signature(sym.decl).params, sc);
        return ft.kind === 'function' ? ft.result : T.error;
      }
    }
    const ct = this.expr(callee, sc);
    for (const a of e.args) this.expr(a, sc);
    if (!isLoose(ct)) this.report('REIN205', callee.range, `\`${brief(callee)}\` is not a function`);
    return T.error;
  }

  /** A call of an `extern def`: arity and argument types as for a `def`; the declared result type. */
  private externCall(e: A.CallExpr, callee: A.NameExpr, sym: Extract<Symbol, { kind: 'extern' }>, sc: Scope): Type {
    this.refs.set(callee.name, sym);
    const sig = this.externSig(sym.decl);
    this.types.set(callee, { kind: 'function', params: sig.params, result: sig.result });
    this.callArguments(e, callee, sig.params, sc);
    return sig.result;
  }

  /** The arguments of a call of a `def` or an `extern def`: their number, and each against its parameter. */
  private callArguments(e: A.CallExpr, callee: A.NameExpr, params: readonly Type[], sc: Scope): void {
    const what = `\`${callee.name.text}\``;
    const ok = this.arity(e, what, params.length, params.length);
    e.args.forEach((a, i) => {
      const want = params[i];
      const t = this.expr(a, sc, want);
      if (ok && want) this.argument(a, t, want, `argument ${i + 1} of ${what}`);
    });
  }

  private readonly externSigs = new Map<A.ExternDecl, { params: Type[]; result: Type }>();

  /** An extern's parameter and result types (untyped parts are \`any\`; REIN230 reports them). */
  private externSig(d: A.ExternDecl): { params: Type[]; result: Type } {
    let sig = this.externSigs.get(d);
    if (!sig) {
      sig = this.inFile(d, () => ({
        params: d.params.map((p) => (p.type ? this.resolveType(p.type) : T.any)),
        result: d.returnType ? this.resolveType(d.returnType) : T.error,
      }));
      this.externSigs.set(d, sig);
    }
    return sig;
  }

  /** REIN230: an `extern def` needs typed parameters, a result type, values that cross the host
   *  boundary as JSON (no money, time or duration), and a positive timeout. */
  private checkExtern(d: A.ExternDecl): void {
    const sig = this.externSig(d);
    const name = d.name?.text ?? 'extern';
    const sym = d.name ? this.symbols.get(d.name.text) : undefined;
    if (sym && sym.kind === 'extern' && sym.decl === d) sym.type = { kind: 'function', params: sig.params, result: sig.result };
    d.params.forEach((p, i) => {
      if (!p.type) this.report('REIN230', p.name.range, `parameter \`${p.name.text}\` of \`extern def ${name}\` needs a type`, { help: 'the host is called with values of the declared types: write `name: string`' });
      else {
        const bad = notJsonType(sig.params[i]);
        if (bad) this.report('REIN230', p.type.range, `parameter \`${p.name.text}\` of \`extern def ${name}\` cannot be \`${bad}\``, { help: EXTERN_TYPES_HELP });
      }
    });
    if (!d.returnType) this.report('REIN230', d.name?.range ?? headRange(d.range), `\`extern def ${name}\` needs a result type`, { help: 'write `: TYPE` after the parameters: the host\'s answer is checked against it' });
    else {
      const bad = notJsonType(sig.result);
      if (bad) this.report('REIN230', d.returnType.range, `\`extern def ${name}\` cannot return \`${bad}\``, { help: EXTERN_TYPES_HELP });
    }
    if (d.timeout && !(d.timeout.ms > 0)) this.report('REIN230', d.timeout.range, `the timeout of \`extern def ${name}\` must be longer than zero`);
    else if (d.timeout && d.timeout.ms > MAX_EXTERN_TIMEOUT_MS)
      this.report('REIN230', d.timeout.range, `the timeout of \`extern def ${name}\` must be at most 10m (a decision waits for it)`);
  }

  private globalCall(e: A.CallExpr, callee: A.NameExpr, sc: Scope): Type {
    const n = callee.name.text;
    const gt = GLOBALS[n];
    this.refs.set(callee.name, { kind: 'builtin', name: n, type: gt });
    this.types.set(callee, gt);
    if (gt.kind !== 'function') {
      for (const a of e.args) this.expr(a, sc);
      this.report('REIN205', e.range, `\`${n}\` is a value, not a function: write \`${n}\``);
      return T.error;
    }
    const args = e.args.map((a) => this.expr(a, sc));
    if (!this.arity(e, `\`${n}\``, gt.params.length, gt.params.length)) return n === 'len' || n === 'hour' || n === 'weekday' ? T.int : T.error;
    switch (n) {
      case 'len': {
        const t = stripNull(args[0]);
        if (isNullable(args[0]) && !isLoose(t)) this.argument(e.args[0], args[0], t, 'the argument of `len`');
        else if (!isLoose(t) && !isStringy(t) && t.kind !== 'list' && t.kind !== 'map' && t.kind !== 'object')
          this.report('REIN209', e.args[0].range, `\`len\` needs a string, list or map, found \`${typeToString(t)}\``);
        return T.int;
      }
      case 'hour':
      case 'weekday':
        this.argument(e.args[0], args[0], T.time, `the argument of \`${n}\``);
        return T.int;
      case 'type_of':
        // Any value: the result is the enum of shape names, so a misspelt name is REIN214.
        return gt.result;
      case 'string':
        // Any value, null included (rendered `null`), as in interpolation.
        return T.string;
      default: {
        // min / max
        const [a, b] = args;
        for (let i = 0; i < 2; i++) if (isNullable(args[i]) && !isLoose(stripNull(args[i]))) this.nullGuard(e.args[i]);
        const x = stripNull(a);
        const y = stripNull(b);
        if (isLoose(x) || isLoose(y)) return isLoose(x) ? y : x;
        if (isNumeric(x) && isNumeric(y)) return x.kind === 'int' && y.kind === 'int' ? T.int : T.number;
        if (x.kind === y.kind && (x.kind === 'money' || x.kind === 'duration' || x.kind === 'time')) return x;
        const money = (x.kind === 'money' && isNumeric(y)) || (isNumeric(x) && y.kind === 'money');
        this.report(money ? 'REIN207' : 'REIN209', e.range, `\`${n}\` needs two numbers, amounts of money, durations or times of the same kind, found \`${typeToString(a)}\` and \`${typeToString(b)}\``);
        return T.error;
      }
    }
  }

  private methodCall(e: A.CallExpr, callee: A.MemberExpr, sc: Scope): Type {
    const prop = callee.property!;
    const name = prop.text;
    const ot = this.expr(callee.object, sc);
    const recv = stripNull(ot);
    const wrap = (t: Type) => (ot.kind === 'nullable' && !isLoose(t) ? nullable(t) : t);
    const what = `\`.${name}()\``;
    if (isLoose(recv) || recv.kind === 'null') {
      for (const a of e.args) {
        if (unparen(a)?.kind === 'Lambda') this.lambda(a, sc, [T.any]);
        else this.expr(a, sc);
      }
      // `x.keys()` on an `any` is a map method (a run-time error on another shape): its list type.
      if (recv.kind === 'any' && name in MAP_METHODS && e.args.length === 0) {
        const result = MAP_METHODS[name].result(T.any);
        const ft: Type = { kind: 'function', params: [], result };
        this.refs.set(prop, { kind: 'method', name, type: ft });
        this.types.set(callee, ft);
        return wrap(result);
      }
      this.types.set(callee, recv.kind === 'null' ? T.null : recv);
      return recv.kind === 'null' ? T.null : recv;
    }
    if (recv.kind === 'list') {
      const m = LIST_METHODS[name];
      if (!m) {
        const s = suggest(name, Object.keys(LIST_METHODS));
        this.report('REIN204', prop.range, `\`${typeToString(recv)}\` has no method \`${name}\``, dym(s));
        for (const a of e.args) {
          if (unparen(a)?.kind === 'Lambda') this.lambda(a, sc, [recv.elem]);
          else this.expr(a, sc);
        }
        this.types.set(callee, T.error);
        return T.error;
      }
      const elem = recv.elem;
      const ok = this.arity(e, what, m.min, m.max);
      const at = (i: number): A.Node => e.args[i] ?? callee;
      const result = m.type({
        list: recv,
        what,
        argc: Math.min(e.args.length, m.max),
        lambda: (i) => (e.args[i] ? this.lambda(e.args[i], sc, [elem]) : T.error),
        predicate: (i) => {
          const bt = e.args[i] ? this.lambda(e.args[i], sc, [elem]) : T.error;
          const l = unparen(e.args[i]);
          if (l && l.kind === 'Lambda' && l.body) this.expectBool(l.body, bt, `the lambda of ${what}`);
        },
        value: (i) => (e.args[i] ? this.expr(e.args[i], sc) : T.error),
        error: (i, code, message, extra = {}) =>
          this.report(code, at(i).range, message, { ...(extra.help ? { help: extra.help } : {}), ...(extra.nullGuard ? { data: { nullGuard: true } } : {}) }),
        comparable: (t, i) => {
          if (!comparable(t, elem)) return false;
          this.checkEnumLiteral(e.args[i], elem);
          // `["tool-call"].contains(kind)`: the list's literals against the argument's enum
          if (stripNull(t).kind === 'enum') this.checkEnumLiteral(callee.object, { kind: 'list', elem: t });
          return true;
        },
      });
      if (!ok) for (const a of e.args.slice(m.max)) this.expr(a, sc);
      this.refs.set(prop, { kind: 'method', name, type: { kind: 'function', params: [], result } });
      this.types.set(callee, { kind: 'function', params: [], result });
      return wrap(result);
    }
    if (isStringy(recv)) {
      const m = STRING_METHODS[name];
      if (!m) {
        const s = suggest(name, Object.keys(STRING_METHODS));
        this.report('REIN204', prop.range, `\`string\` has no method \`${name}\``, dym(s));
        for (const a of e.args) this.expr(a, sc);
        this.types.set(callee, T.error);
        return T.error;
      }
      const ok = this.arity(e, what, m.params.length, m.params.length);
      const params = m.params.map((p) => p.type);
      e.args.forEach((a, i) => {
        const t = this.expr(a, sc);
        if (ok) this.argument(a, t, params[i], `argument ${i + 1} of ${what}`);
      });
      const ft: Type = { kind: 'function', params, result: m.result };
      this.refs.set(prop, { kind: 'method', name, type: ft });
      this.types.set(callee, ft);
      return wrap(m.result);
    }
    if (recv.kind === 'map' || recv.kind === 'object') {
      const m = MAP_METHODS[name];
      if (!m) {
        for (const a of e.args) this.expr(a, sc);
        this.types.set(callee, T.error);
        if (recv.kind === 'object' && recv.fields.some((f) => f.name === name)) {
          this.report('REIN205', callee.range, `\`${brief(callee)}\` is a field, not a method`);
          return T.error;
        }
        const s = suggest(name, Object.keys(MAP_METHODS));
        const kind = recv.kind === 'map' ? `\`${typeToString(recv)}\`` : 'an object';
        const help = s
          ? { help: `did you mean \`${s}\`?`, data: { suggestion: s } }
          : name in LIST_METHODS
            ? { help: `\`.${name}()\` is a list method: iterate the values or the entries, e.g. \`.values().${name}(v => …)\` or \`.entries().${name}(e => …)\`` }
            : {};
        this.report('REIN204', prop.range, `${kind} has no method \`${name}\` (maps have \`.keys()\`, \`.values()\`, \`.entries()\`)`, help);
        return T.error;
      }
      this.arity(e, what, 0, 0);
      for (const a of e.args) this.expr(a, sc);
      // An object's values have different types: as a map, they are `any`.
      const result = m.result(recv.kind === 'map' ? recv.value : T.any);
      const ft: Type = { kind: 'function', params: [], result };
      this.refs.set(prop, { kind: 'method', name, type: ft });
      this.types.set(callee, ft);
      return wrap(result);
    }
    // not a list, string or map: a field holding a function does not exist, so this is an error
    for (const a of e.args) this.expr(a, sc);
    this.types.set(callee, T.error);
    this.report('REIN204', prop.range, `\`${typeToString(recv)}\` has no method \`${name}\``);
    return T.error;
  }

  // ------------------------------------------------------------------ binary operators

  private binary(e: A.BinaryExpr, sc: Scope, expected?: Type): Type {
    const op = e.op;
    if (op === 'and' || op === 'or') {
      const l = this.expr(e.left, sc);
      this.expectBool(e.left, l, `the left side of \`${op}\``);
      if (e.right) this.expectBool(e.right, this.expr(e.right, sc), `the right side of \`${op}\``);
      return T.bool;
    }
    if (op === 'matches') return this.matches(e, sc);
    // `a == b == c` parses as `(a == b) == c`: comparisons do not chain (language.md), so say so
    // instead of letting it mean something else than in Python (review L10.1)
    if (CHAINING.has(op) && e.left.kind === 'Binary' && CHAINING.has(e.left.op))
      this.report('REIN101', e.range, `comparisons do not chain: \`${brief(e)}\` would compare the result of \`${brief(e.left)}\` with \`${e.right ? brief(e.right) : '…'}\``, {
        help: 'write `a == b and b == c`, or parenthesise: `(a == b) == c`',
      });
    if (op === '??') {
      const l = this.expr(e.left, sc, expected);
      const r = e.right ? this.expr(e.right, sc, stripNull(l)) : T.error;
      const j = join(stripNull(l), r);
      if (!j) {
        const money = (stripNull(l).kind === 'money' && isNumeric(r)) || (isNumeric(stripNull(l)) && r.kind === 'money');
        this.report(
          money ? 'REIN207' : 'REIN205',
          e.right!.range,
          brief(e.right!) === typeToString(r)
            ? `the default \`${brief(e.right!)}\` does not match \`${typeToString(stripNull(l))}\``
            : `the default \`${brief(e.right!)}\` (\`${typeToString(r)}\`) does not match \`${typeToString(stripNull(l))}\``,
          money && isNumberLiteral(e.right) ? { help: `write it as money: \`$${brief(e.right!)}\`` } : {},
        );
        return stripNull(l);
      }
      return j;
    }
    if (op === 'with') {
      const l = this.expr(e.left, sc);
      const r = e.right ? this.expr(e.right, sc) : T.error;
      const okObj = (t: Type) => isLoose(t) || t.kind === 'object' || t.kind === 'map';
      if (!okObj(l)) this.report('REIN205', e.left.range, `\`with\` merges objects; the left side is \`${typeToString(l)}\``);
      if (e.right && !okObj(r)) this.report('REIN205', e.right.range, `\`with\` merges objects; the right side is \`${typeToString(r)}\``);
      if (!okObj(l) || !okObj(r)) return T.error;
      if (l.kind === 'map' || r.kind === 'map') return isLoose(l) ? l : l.kind === 'map' ? l : T.any;
      return mergeTypes(l, r);
    }
    const l = this.expr(e.left, sc);
    if (!e.right) return T.error;
    // an enum on one side gives the other side's literals a context
    const r = this.expr(e.right, sc);
    switch (op) {
      case '==':
      case '!=':
        return this.equality(e, l, r);
      case '<':
      case '<=':
      case '>':
      case '>=':
        return this.ordering(e, l, r);
      case 'in':
      case 'not in':
        return this.membership(e, l, r);
      default:
        return this.arithmetic(e, l, r);
    }
  }

  private moneyMix(e: A.BinaryExpr, l: Type, r: Type, verb: string): boolean {
    const x = stripNull(l);
    const y = stripNull(r);
    const lm = x.kind === 'money' && isNumeric(y);
    const rm = isNumeric(x) && y.kind === 'money';
    if (!lm && !rm) return false;
    const num = lm ? e.right! : e.left;
    const help = isNumberLiteral(num) ? { help: `write the amount as money: \`$${brief(num)}\``, data: { suggestion: `$${brief(num)}` } } : { help: 'money only combines with money (`$…`); multiply or divide money by a number instead' };
    this.report('REIN207', num.range, `cannot ${verb} \`money\` and a plain number`, help);
    return true;
  }

  private equality(e: A.BinaryExpr, l: Type, r: Type): Type {
    if (this.moneyMix(e, l, r, 'compare')) return T.bool;
    if (!comparable(l, r)) {
      this.report('REIN205', e.range, `cannot compare \`${typeToString(l)}\` with \`${typeToString(r)}\` (always ${e.op === '==' ? 'false' : 'true'})`);
      return T.bool;
    }
    this.checkEnumLiteral(e.right, l);
    this.checkEnumLiteral(e.left, r);
    return T.bool;
  }

  private ordering(e: A.BinaryExpr, l: Type, r: Type): Type {
    if (this.moneyMix(e, l, r, 'compare')) return T.bool;
    const x = stripNull(l);
    const y = stripNull(r);
    if (isLoose(x) || isLoose(y) || x.kind === 'null' || y.kind === 'null') return T.bool;
    const ok =
      (isNumeric(x) && isNumeric(y)) ||
      (x.kind === y.kind && (x.kind === 'money' || x.kind === 'duration' || x.kind === 'time')) ||
      (isStringy(x) && isStringy(y));
    if (!ok) this.report('REIN205', e.range, `cannot order \`${typeToString(l)}\` and \`${typeToString(r)}\` with \`${e.op}\``);
    return T.bool;
  }

  private membership(e: A.BinaryExpr, l: Type, r: Type): Type {
    const c = stripNull(r);
    if (isLoose(c) || c.kind === 'null') return T.bool;
    if (c.kind === 'list') {
      if (this.moneyMix(e, l, c.elem, 'compare')) return T.bool;
      if (!comparable(l, c.elem)) this.report('REIN205', e.range, `\`${typeToString(l)}\` can never be in a \`${typeToString(c)}\``);
      else {
        this.checkEnumLiteral(e.right, l);
        this.checkEnumLiteral(e.left, c.elem);
      }
      return T.bool;
    }
    if (c.kind === 'map' || c.kind === 'object') {
      const k = stripNull(l);
      if (!isLoose(k) && !isStringy(k) && k.kind !== 'null') this.report('REIN205', e.left.range, `map keys are strings; found \`${typeToString(l)}\``);
      return T.bool;
    }
    this.report('REIN205', e.right!.range, `\`${e.op}\` needs a list or a map on the right, found \`${typeToString(r)}\``, isStringy(c) ? { help: 'for substrings use `.contains()`' } : {});
    return T.bool;
  }

  private matches(e: A.BinaryExpr, sc: Scope): Type {
    const l = this.expr(e.left, sc);
    const ls = stripNull(l);
    if (!isLoose(ls) && !isStringy(ls) && ls.kind !== 'null') this.report('REIN205', e.left.range, `\`matches\` needs a string on the left, found \`${typeToString(l)}\``);
    if (!e.right) return T.bool;
    const r = this.expr(e.right, sc);
    // The pattern: a string, or a list of strings (true when one of them matches).
    const rs = stripNull(r);
    const elem = rs.kind === 'list' ? stripNull(rs.elem) : rs;
    if (!isLoose(elem) && !isStringy(elem) && rs.kind !== 'null') {
      this.report('REIN215', e.right.range, `\`matches\` needs a pattern: a string or a list of strings, found \`${typeToString(r)}\``, {
        help: 'write the pattern as a string literal, e.g. `s matches "^db\\\\."`, or keep a list of patterns in a `let`',
      });
      return T.bool;
    }
    // Patterns written out (a literal, a list of literals, or a `let` holding one) are checked now;
    // the others are compiled when they are first met, and an invalid one fails the rule (fail closed).
    for (const [text, at, file] of this.constantPatterns(e.right, sc, 0, this.file)) {
      if (this.checkedPatterns.has(at)) continue; // a `let` used by several rules: reported once
      this.checkedPatterns.add(at);
      const p = checkPattern(text);
      if (p) this.report(p.code, at.range, p.message, p.help ? { help: p.help } : {}, file);
    }
    return T.bool;
  }

  /** The string literals a pattern expression is made of, when it is constant: a literal, a list of
   *  literals, or a `let` whose value is one (followed a few levels). */
  private constantPatterns(e: A.Expr | undefined, sc: Scope, depth: number, file: string): [string, A.Node, string][] {
    const x = unparen(e);
    if (!x || depth > 8) return [];
    const lit = literalString(x);
    if (lit !== undefined) return [[lit, x, file]];
    if (x.kind === 'List') return x.items.flatMap((it) => this.constantPatterns(it, sc, depth + 1, file));
    if (x.kind === 'NameRef') {
      const sym = sc.lookup(x.name.text);
      if (sym && sym.kind === 'let' && sym.decl.value) return this.constantPatterns(sym.decl.value, sc, depth + 1, sym.file);
    }
    return [];
  }

  private arithmetic(e: A.BinaryExpr, l: Type, r: Type): Type {
    const op = e.op;
    if (isLoose(l) || isLoose(r)) return isLoose(l) ? l : r;
    let bad = false;
    if (isNullable(l)) {
      this.nullGuard(e.left);
      bad = true;
    }
    if (isNullable(r)) {
      this.nullGuard(e.right!);
      bad = true;
    }
    if (bad) return T.error;
    const k = (t: Type) => (isNumeric(t) ? 'num' : t.kind);
    const a = k(l);
    const b = k(r);
    const bothInt = l.kind === 'int' && r.kind === 'int';
    let out: Type | undefined;
    switch (op) {
      case '+':
      case '-':
        if (a === 'num' && b === 'num') out = bothInt ? T.int : T.number;
        else if (a === 'money' && b === 'money') out = T.money;
        else if (a === 'duration' && b === 'duration') out = T.duration;
        else if (a === 'time' && b === 'duration') out = T.time;
        else if (op === '+' && a === 'duration' && b === 'time') out = T.time;
        else if (op === '-' && a === 'time' && b === 'time') out = T.duration;
        break;
      case '*':
        if (a === 'num' && b === 'num') out = bothInt ? T.int : T.number;
        else if ((a === 'money' && b === 'num') || (a === 'num' && b === 'money')) out = T.money;
        else if ((a === 'duration' && b === 'num') || (a === 'num' && b === 'duration')) out = T.duration;
        break;
      case '/':
        if (a === 'num' && b === 'num') out = T.number;
        else if (a === 'money' && b === 'num') out = T.money;
        else if (a === 'money' && b === 'money') out = T.number;
        else if (a === 'duration' && b === 'num') out = T.duration;
        else if (a === 'duration' && b === 'duration') out = T.number;
        break;
      case '%':
        if (a === 'num' && b === 'num') out = bothInt ? T.int : T.number;
        break;
    }
    if (out) return out;
    if ((op === '+' || op === '-') && this.moneyMix(e, l, r, op === '+' ? 'add' : 'subtract')) return T.money;
    const help = op === '+' && isStringy(l) && isStringy(r) ? { help: 'join strings with interpolation: `"${a}${b}"`' } : {};
    this.report('REIN205', e.opRange, `\`${op}\` is not defined for \`${typeToString(l)}\` and \`${typeToString(r)}\``, help);
    return T.error;
  }
}

/** A constant number (for limits and thresholds): literals, percentages, money and unary minus. */
export function constNumber(e: A.Expr | undefined): number | undefined {
  const u = unparen(e);
  if (!u) return undefined;
  switch (u.kind) {
    case 'Number':
    case 'Percent':
      return u.value;
    case 'Money':
      return u.micros / 1e6;
    case 'Unary': {
      const v = u.op === '-' ? constNumber(u.operand) : undefined;
      return v === undefined ? undefined : -v;
    }
    default:
      return undefined;
  }
}

/** How to name a receiver in a message: its type when named or short, else the expression. */
function describe(t: Type, whole: A.Expr): string {
  const ts = typeToString(t);
  if (ts.length <= 30) return `\`${ts}\``;
  const obj = whole.kind === 'Member' || whole.kind === 'Index' ? whole.object : whole;
  return `\`${brief(obj)}\``;
}

/** The range of the keyword that starts a declaration (declarations start with their keyword or annotations). */
function keywordRange(r: Range, word: string): Range {
  const s = r.start;
  return { start: s, end: { line: s.line, character: s.character + word.length, offset: s.offset + word.length } };
}

function headRange(r: Range): Range {
  return { start: r.start, end: r.start };
}

function symbolNoun(s: Symbol): string {
  switch (s.kind) {
    case 'input-field':
      return 'input field';
    case 'lambda-param':
      return 'parameter';
    default:
      return s.kind;
  }
}

/** Where a symbol is declared (for `related` information). */
export function symbolLocation(s: Symbol): { file: string; range: Range } | undefined {
  switch (s.kind) {
    case 'let':
    case 'def':
    case 'extern':
    case 'rule':
    case 'budget':
    case 'type':
      return { file: s.file, range: s.decl.name?.range ?? s.decl.range };
    case 'input-field':
    case 'field':
      return { file: s.file, range: s.field.name.range };
    case 'input':
      return { file: s.file, range: s.decl.range };
    case 'param':
      return { file: s.file, range: s.param.name.range };
    case 'lambda-param':
      return { file: s.file, range: s.node.range };
    default:
      return undefined;
  }
}

const EXTERN_TYPES_HELP = 'values cross the host boundary as JSON: use string, number, int, bool, string unions, lists, maps and objects of them (pass money as a number of currency units)';

/** The first part of a type that cannot cross the host boundary as JSON (money, time, duration,
 *  functions, budgets), or undefined. */
function notJsonType(t: Type, depth = 0): string | undefined {
  if (depth > 32) return undefined;
  switch (t.kind) {
    case 'money':
    case 'time':
    case 'duration':
    case 'function':
    case 'budget':
      return typeToString(t);
    case 'list':
      return notJsonType(t.elem, depth + 1);
    case 'map':
      return notJsonType(t.value, depth + 1);
    case 'nullable':
      return notJsonType(t.inner, depth + 1);
    case 'object':
      for (const f of t.fields) {
        const bad = notJsonType(f.type, depth + 1);
        if (bad) return bad;
      }
      return undefined;
    default:
      return undefined;
  }
}

export function checkProgram(files: ParsedFile[]): CheckerOutput {
  return new Checker(files).run();
}

/** Every detector's qualified name (`pii.email`). */
function allDetectors(): string[] {
  return Object.entries(DETECTORS).flatMap(([ns, ds]) => ds.map((d) => `${ns}.${d}`));
}

/** A did-you-mean's help and quick-fix data (none without a suggestion). */
const dym = (s: string | undefined) => (s ? { help: `did you mean \`${s}\`?`, data: { suggestion: s } } : {});

/** The help of an unknown detector: the suggestion (shown with its namespace `ns`), else every detector. */
const detectorHelp = (s: string | undefined, all: string[], ns = '') =>
  s ? { ...dym(ns + s), data: { suggestion: s } } : { help: `detectors: ${all.map((d) => `\`${ns}${d}\``).join(', ')}` };

/** A did-you-mean for a detector name: the closest one, else the one whose last part is (close to)
 *  the name or its first word (`email` → `pii.email`, `aws_key` → `aws`). */
function suggestDetector(name: string, ds: string[]): string | undefined {
  const tails = ds.map((d) => d.slice(d.lastIndexOf('.') + 1));
  const near = (n: string) => suggest(n, ds) ?? ds[tails.indexOf(n)] ?? ds[tails.indexOf(suggest(n, tails)!)];
  return near(name) ?? near(name.split(/[\W_]/)[0]);
}


/** Whether a value of type `t` is or contains a string (what `redact` can mask). */
function holdsString(t: Type, seen = new Set<Type>()): boolean {
  if (seen.has(t)) return false;
  seen.add(t);
  switch (t.kind) {
    case 'string':
    case 'enum':
    case 'any':
    case 'error':
      return true;
    case 'nullable':
      return holdsString(t.inner, seen);
    case 'list':
      return holdsString(t.elem, seen);
    case 'map':
      return holdsString(t.value, seen);
    case 'object':
      return t.fields.some((f) => holdsString(f.type, seen));
    default:
      return false;
  }
}

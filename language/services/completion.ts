// Completion: keywords by context, input fields after `.`, enum literals inside strings compared
// with an enum field, lets/defs/rules/budgets, budget members, methods and detectors with snippets.

import type * as A from '../syntax/ast.js';
import type { CheckedProgram } from '../semantics/program.js';
import type { Type } from '../semantics/types.js';
import { stripNull, typeToString } from '../semantics/types.js';
import type { Analysis } from './policy-set.js';
import type { CompletionItem, CompletionKind } from './types.js';
import { pathAt, declAt, exprsEndingAt, childrenOf, type AnyNode } from './locate.js';
import { typeOfExpr, fieldsOf, enumValues } from './expr-types.js';
import {
  GLOBALS,
  LIST_METHODS,
  MAP_METHODS,
  STRING_METHODS,
  BUDGET_MEMBERS,
  DETECTOR_NAMESPACES,
  DETECTORS,
  ANNOTATION_DOCS,
  type BuiltinDoc,
} from './builtin-docs.js';

const TOP_LEVEL = ['policy', 'input', 'type', 'let', 'def', 'extern def', 'rule', 'budget', 'test', 'data'];
const RULE_CLAUSES = ['when', 'unless', 'deny', 'require approval', 'warn', 'allow'];
const BUDGET_CLAUSES = ['limit', 'charge', 'by', 'when', 'unless', 'warn at', 'on exceed', 'burst'];
const TEST_CLAUSES = ['given', 'spent', 'at', 'approved', 'expect', 'extern', 'data'];
const POLICY_ITEMS = ['version', 'default', 'on error', 'currency', 'combine'];
const WINDOWS = ['minute', 'hour', 'day', 'week', 'month', 'request'];
const EFFECTS = ['deny', 'require approval', 'warn', 'allow'];
const DECISION_EFFECTS = ['allow', 'deny', 'require_approval'];
/** What may follow `require approval`: `from GROUP`, `quorum N`, `expires DURATION` (in that order). */
const APPROVAL_TERMS = ['from', 'quorum', 'expires'];
/** `… require approval [from X] quorum N ` (the cursor after the number): `expires` may follow. */
const afterQuorum = (words: readonly string[]): boolean => words.length >= 2 && words[words.length - 2] === 'quorum' && /^\d+$/.test(words[words.length - 1]!);
const PRIMITIVE_TYPES = ['string', 'number', 'int', 'bool', 'money', 'duration', 'time', 'any'];
const EXPR_KEYWORDS = ['if', 'not', 'true', 'false', 'null'];

const isWord = (c: string | undefined) => !!c && /[A-Za-z0-9_]/.test(c);

export function complete(analysis: Analysis, file: string, offset: number): CompletionItem[] {
  const src = analysis.sources.get(file);
  if (!src) return [];
  const text = src.text;
  const ast = src.parsed.ast;
  const program = analysis.result.program;
  const lines = src.lines;

  let wordStart = offset;
  while (wordStart > 0 && isWord(text[wordStart - 1])) wordStart--;
  let wordEnd = offset;
  while (wordEnd < text.length && isWord(text[wordEnd])) wordEnd++;
  const replace = lines.range(wordStart, wordEnd);

  if (inComment(ast, offset)) return [];

  // Inside a string literal: enum values of the compared field.
  const str = stringAt(ast, offset);
  if (str) return enumCompletions(program, str.path, str.lit, lines, text, offset);
  const open = unterminatedStringStart(text, offset);
  if (open !== undefined) return enumFromText(program, ast, text, open, offset, lines);

  // Keys of a request object (`given { … }`, or a `let` used as a `given`), from the schema.
  const keys = objectKeyCompletions(program, ast, offset, replace, text, wordStart);
  if (keys) return keys;

  // After `@`: annotations.
  if (text[wordStart - 1] === '@') return annotationCompletions(replace);

  // After `.`: members.
  if (text[wordStart - 1] === '.') {
    return memberCompletions(program, ast, wordStart - 1, replace);
  }

  const decl = declAt(ast, offset);
  const lineStart = lines.offsetAt(lines.position(offset).line, 0);
  // The item the cursor is in starts at the line's start, or later on the line: after the body's
  // `{` or at the last clause that starts before the cursor (one-line declarations:
  // `test "t" { given {…} expect | }`, `rule r { | }`).
  const itemStart = decl ? Math.max(lineStart, clauseStart(decl, text, lineStart, wordStart)) : lineStart;
  const before = text.slice(itemStart, wordStart);
  const words = before.trim().split(/\s+/).filter(Boolean);
  const last = words[words.length - 1];
  const atLineStart = words.length === 0 || (words.length === 1 && words[0].startsWith('@'));
  const insideBraces = decl ? text.slice(decl.range.start.offset, offset).includes('{') : false;
  const continuesExpression = (t: string, from: number): boolean => from === lineStart && continuesLine(t, from);

  const kw = (labels: string[], sort = '0'): CompletionItem[] =>
    labels.map((label) => ({ label, kind: 'keyword' as CompletionKind, replace, sortText: sort + label }));

  if (!decl || (!insideBraces && atLineStart && decl.kind !== 'LetDecl' && decl.kind !== 'DefDecl' && decl.kind !== 'TypeDecl')) {
    if (atLineStart) return [...kw(TOP_LEVEL), ...topLevelSnippets(replace)];
  }
  if (!decl) return [];

  switch (decl.kind) {
    case 'PolicyDecl':
      if (last === 'default' || last === 'error') return kw(['allow', 'deny']);
      if (last === 'on') return kw(['error']);
      if (last === 'combine') return kw(['deny_overrides', 'first_match']);
      if (atLineStart) return kw(POLICY_ITEMS);
      return [];
    case 'InputDecl':
    case 'TypeDecl':
      if (/[:<|=]\s*$/.test(before) || last === ':' || (last && /[:<]$/.test(last))) return typeCompletions(program, replace);
      return [];
    case 'RuleDecl':
      if (atLineStart && insideBraces && !continuesExpression(text, lineStart)) {
        return [...kw(RULE_CLAUSES), ...ruleSnippets(replace)];
      }
      if (last === 'require') return kw(['approval']);
      if (last === 'approval') return kw(APPROVAL_TERMS);
      if (afterQuorum(words)) return kw(['expires']);
      return expressionCompletions(program, ast, offset, replace);
    case 'BudgetDecl':
      if (atLineStart && insideBraces && !continuesExpression(text, lineStart)) return kw(BUDGET_CLAUSES);
      if (last === 'per') return words[0] === 'burst' ? [] : kw([...WINDOWS, 'rolling']);
      if (last === 'rolling') return kw(['minute', 'hour', 'day', 'week']);
      if (words[0] === 'limit' && words[words.length - 2] === 'per' && last !== 'request' && last !== 'month' && last !== 'rolling') return kw(['anchored']);
      if (words[0] === 'burst' && words.length >= 2 && !words.includes('refill')) return kw(['refill']);
      if (words[0] === 'burst' && words[words.length - 2] === 'refill') return kw(['per']);
      if (last === 'on') return kw(['exceed']);
      if (last === 'exceed') return kw(EFFECTS);
      if (last === 'warn') return kw(['at']);
      if (last === 'require') return kw(['approval']);
      if (last === 'approval') return kw(APPROVAL_TERMS);
      if (afterQuorum(words)) return kw(['expires']);
      return expressionCompletions(program, ast, offset, replace);
    case 'TestDecl': {
      if (atLineStart && insideBraces && !continuesExpression(text, lineStart)) return kw(TEST_CLAUSES);
      const first = words[0];
      if (first === 'expect') {
        if (words.length === 1) return [...kw(DECISION_EFFECTS), ...kw(['warnings'], '1')];
        if (last === 'warnings') return [...kw(['none']), ...declCompletions(program, ['rule', 'budget'], replace)];
        if (words.length === 2 && words[1] !== 'warnings') return kw(['by']);
        return declCompletions(program, ['rule', 'budget'], replace);
      }
      if (first === 'approved') return declCompletions(program, ['rule', 'budget'], replace);
      if (first === 'spent' && words.length === 1) return declCompletions(program, ['budget'], replace);
      return expressionCompletions(program, ast, offset, replace);
    }
    case 'LetDecl':
    case 'DefDecl': {
      const eq = text.slice(decl.range.start.offset, offset).indexOf('=');
      if (eq < 0) {
        if (/:\s*$/.test(before) || (last && last.endsWith(':'))) return typeCompletions(program, replace);
        return [];
      }
      return expressionCompletions(program, ast, offset, replace);
    }
    default:
      return [];
  }
}

/**
 * Where the body item holding the cursor starts, when after `lineStart`: just after the body's `{`
 * when that is on the cursor's line, or at the last clause of the body that starts before `at`.
 */
function clauseStart(decl: A.Decl, text: string, lineStart: number, at: number): number {
  const items: readonly A.Node[] =
    decl.kind === 'RuleDecl' ? decl.body : decl.kind === 'BudgetDecl' || decl.kind === 'TestDecl' || decl.kind === 'PolicyDecl' ? decl.items : [];
  if (decl.kind !== 'RuleDecl' && decl.kind !== 'BudgetDecl' && decl.kind !== 'TestDecl' && decl.kind !== 'PolicyDecl') return lineStart;
  // the body's `{`: the first after the name (a test's name is a string that may hold a `{`)
  const name = (decl as { name?: A.Node }).name;
  const brace = text.indexOf('{', name ? name.range.end.offset : decl.range.start.offset);
  let start = lineStart;
  if (brace >= lineStart && brace < at) start = brace + 1;
  for (const it of items) {
    const s = it.range.start.offset;
    if (s >= start && s < at) start = s;
  }
  // a clause the parser dropped (`expect` with nothing after it yet): its keyword, outside brackets
  // and strings and not after a `.`
  const clauses = CLAUSE_WORDS[decl.kind];
  let depth = 0;
  for (let j = start; j < at; j++) {
    const c = text[j];
    if (c === '"') {
      j = skipString(text, j, at) - 1;
      continue;
    }
    if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') depth = Math.max(0, depth - 1);
    else if (depth === 0 && /[a-z_]/.test(c) && !isWord(text[j - 1])) {
      let k = j;
      while (k < at && isWord(text[k])) k++;
      if (k < at && clauses.has(text.slice(j, k)) && text[j - 1] !== '.') start = j;
      j = k - 1;
    }
  }
  return start;
}

/** The first word of each body's clauses (for `clauseStart`). */
const CLAUSE_WORDS: Record<string, ReadonlySet<string>> = {
  RuleDecl: new Set(RULE_CLAUSES.map((c) => c.split(' ')[0])),
  BudgetDecl: new Set(BUDGET_CLAUSES.map((c) => c.split(' ')[0])),
  TestDecl: new Set(TEST_CLAUSES),
  PolicyDecl: new Set(POLICY_ITEMS.map((c) => c.split(' ')[0])),
};

/** The offset after the string literal opening at `from` (its `${…}` skipped), at most `end`. */
function skipString(text: string, from: number, end: number): number {
  let depth = 0; // open braces of an interpolation
  for (let j = from + 1; j < end; j++) {
    const c = text[j];
    if (depth === 0) {
      if (c === '\\') j++;
      else if (c === '"') return j + 1;
      else if (c === '$' && text[j + 1] === '{') {
        depth = 1;
        j++;
      } else if (c === '\n') return j;
    } else if (c === '"') j = skipString(text, j, end) - 1;
    else if (c === '{') depth++;
    else if (c === '}') depth--;
  }
  return end;
}

/** True when the previous non-blank line ends in the middle of an expression (`and`, `(`, `,`, an operator). */
function continuesLine(text: string, lineStart: number): boolean {
  let i = lineStart - 1;
  while (i >= 0 && /\s/.test(text[i])) i--;
  if (i < 0) return false;
  const tail = text.slice(Math.max(0, i - 8), i + 1);
  return /(\band|\bor|\bnot|\bin|\bwith|\bthen|\belse|\bif|[(\[,+\-*/%=<>?|&])$/.test(tail);
}

function inComment(ast: A.SourceFile, offset: number): boolean {
  return ast.comments.some((c) => c.range.start.offset < offset && offset <= c.range.end.offset && (c.kind !== 'block' || offset < c.range.end.offset));
}

function stringAt(ast: A.SourceFile, offset: number): { lit: A.StringLit; path: AnyNode[] } | undefined {
  const path = pathAt(ast as unknown as AnyNode, offset);
  // A lambda still missing its body (`xs.any(s => |)`) ends before the cursor: include it.
  const inner = path[path.length - 1];
  const pending = childrenOf(inner).filter((c) => c.kind === 'Lambda' && !(c as unknown as A.LambdaExpr).body && c.range.start.offset < offset);
  for (let i = path.length - 1 + pending.length; i >= 0; i--) {
    const n = i >= path.length ? pending[i - path.length] : path[i];
    if (n.kind === 'Interpolation') return undefined;
    if (n.kind === 'String') {
      if (n.range.start.offset < offset && offset < n.range.end.offset) return { lit: n as unknown as A.StringLit, path: path.slice(0, i + 1) };
      return undefined;
    }
  }
  return undefined;
}

/**
 * Offset of an opening quote on the cursor's line with no closing quote before the cursor; undefined
 * when the cursor is in code, also code inside a string's `${…}` (strings nest in interpolations).
 */
function unterminatedStringStart(text: string, offset: number): number | undefined {
  let i = offset - 1;
  while (i >= 0 && text[i] !== '\n') i--;
  // each level: a string (its opening quote) or an interpolation's code (its open-brace depth)
  const stack: ({ quote: number } | { braces: number })[] = [];
  for (let j = i + 1; j < offset; j++) {
    const c = text[j];
    const top = stack[stack.length - 1];
    if (top && 'quote' in top) {
      if (c === '\\') j++;
      else if (c === '"') stack.pop();
      else if (c === '$' && text[j + 1] === '{') {
        stack.push({ braces: 0 });
        j++;
      }
    } else {
      if (c === '/' && text[j + 1] === '/') return undefined;
      if (c === '"') stack.push({ quote: j });
      else if (top && c === '{') top.braces++;
      else if (top && c === '}') {
        if (top.braces === 0) stack.pop();
        else top.braces--;
      }
    }
  }
  const top = stack[stack.length - 1];
  return top && 'quote' in top ? top.quote : undefined;
}

function enumItems(values: string[], replace: A.Node['range'] | undefined, quoted: boolean): CompletionItem[] {
  return values.map((v, i) => ({
    label: v,
    kind: 'enum-member' as const,
    detail: 'enum value',
    insertText: quoted ? JSON.stringify(v) : v,
    replace,
    sortText: String(i).padStart(4, '0'),
  }));
}

function enumCompletions(
  program: CheckedProgram,
  path: AnyNode[],
  lit: A.StringLit,
  lines: import('../diagnostics.js').LineIndex,
  text: string,
  offset: number,
): CompletionItem[] {
  let values: string[] | undefined;
  let i = path.length - 2;
  let child: AnyNode = lit as unknown as AnyNode;
  if (path[i]?.kind === 'List') {
    child = path[i];
    i--;
  }
  const parent = path[i];
  if (parent?.kind === 'Entry') {
    values = enumValues(expectedTypeAt(program, path)?.type);
  }
  if (parent?.kind === 'Binary') {
    const b = parent as unknown as A.BinaryExpr;
    if (b.op === '==' || b.op === '!=' || b.op === 'in' || b.op === 'not in') {
      const other = (b.left as unknown) === child ? b.right : b.left;
      values = enumValues(typeOfExpr(program, other));
    }
  }
  if (!values) return [];
  const closed = text[lit.range.end.offset - 1] === '"' && lit.range.end.offset - 1 > lit.range.start.offset;
  const from = lit.range.start.offset + 1;
  const to = closed ? lit.range.end.offset - 1 : Math.max(offset, from);
  return enumItems(values, lines.range(from, to), false);
}

function enumFromText(
  program: CheckedProgram,
  ast: A.SourceFile,
  text: string,
  quote: number,
  offset: number,
  lines: import('../diagnostics.js').LineIndex,
): CompletionItem[] {
  // `EXPR == "|` (unterminated): find the expression that ends before the operator.
  const m = /(==|!=|\bin)\s*\[?\s*$/.exec(text.slice(Math.max(0, quote - 40), quote));
  if (!m) return [];
  let end = quote - (m[0].length);
  while (end > 0 && /\s/.test(text[end - 1])) end--;
  const exprs = exprsEndingAt(ast as unknown as AnyNode, end);
  for (const e of exprs) {
    const values = enumValues(typeOfExpr(program, e as unknown as A.Expr));
    if (values) return enumItems(values, lines.range(quote + 1, offset), false);
  }
  return [];
}

function builtinItem(b: BuiltinDoc, kind: CompletionKind, replace: A.Node['range']): CompletionItem {
  return {
    label: b.name,
    kind,
    detail: b.signature,
    documentation: b.doc,
    insertText: b.property ? b.name : b.snippet,
    snippet: !b.property,
    replace,
  };
}

function memberCompletions(program: CheckedProgram, ast: A.SourceFile, dot: number, replace: A.Node['range']): CompletionItem[] {
  const exprs = exprsEndingAt(ast as unknown as AnyNode, dot);
  for (const n of exprs) {
    const e = n as unknown as A.Expr;
    if (e.kind === 'NameRef' && (e.name.text === 'pii' || e.name.text === 'secrets') && !program.symbols.has(e.name.text)) {
      return DETECTORS[e.name.text].map((d) => builtinItem(d, 'function', replace));
    }
    const t = typeOfExpr(program, e);
    if (!t) continue;
    return membersOfType(t, replace);
  }
  return [];
}

export function membersOfType(t: Type, replace: A.Node['range']): CompletionItem[] {
  const b = stripNull(t);
  switch (b.kind) {
    case 'object':
      return b.fields.map((f, i) => ({
        label: f.name,
        kind: 'field' as const,
        detail: `${f.name}${f.optional ? '?' : ''}: ${typeToString(f.type)}`,
        documentation: f.doc,
        replace,
        sortText: String(i).padStart(4, '0'),
      }));
    case 'map':
      return MAP_METHODS.map((m) => builtinItem(m, 'method', replace));
    case 'list':
      return LIST_METHODS.map((m) => builtinItem(m, 'method', replace));
    case 'string':
    case 'enum':
      return STRING_METHODS.map((m) => builtinItem(m, 'method', replace));
    case 'budget':
      return BUDGET_MEMBERS.map((m) => ({ ...builtinItem(m, 'property', replace), detail: `${m.name}: ${m.name === 'used' ? 'number' : b.unit}` }));
    default:
      return [];
  }
}

function declCompletions(program: CheckedProgram, kinds: ('rule' | 'budget')[], replace: A.Node['range']): CompletionItem[] {
  const out: CompletionItem[] = [];
  for (const s of program.symbols.values()) {
    if ((s.kind === 'rule' || s.kind === 'budget') && kinds.includes(s.kind)) {
      out.push({ label: s.name, kind: s.kind, detail: s.kind, documentation: s.decl.doc, replace });
    }
  }
  return out.sort((a, b) => a.label.localeCompare(b.label));
}

function typeCompletions(program: CheckedProgram, replace: A.Node['range']): CompletionItem[] {
  const out: CompletionItem[] = PRIMITIVE_TYPES.map((t) => ({ label: t, kind: 'type' as const, replace }));
  out.push({ label: 'list', kind: 'type', insertText: 'list<${1}>', snippet: true, replace });
  out.push({ label: 'map', kind: 'type', insertText: 'map<${1}>', snippet: true, replace });
  for (const s of program.symbols.values()) if (s.kind === 'type') out.push({ label: s.name, kind: 'type', detail: typeToString(s.type), documentation: s.decl.doc, replace });
  return out;
}

function expressionCompletions(program: CheckedProgram, ast: A.SourceFile, offset: number, replace: A.Node['range']): CompletionItem[] {
  const out: CompletionItem[] = [];
  // Locals: lambda parameters and def parameters around the cursor.
  const path = pathAt(ast as unknown as AnyNode, offset);
  const seen = new Set<string>();
  // A lambda still missing its body (`xs.any(s => |)`) ends before the cursor: include it.
  const inner = path[path.length - 1];
  const pending = childrenOf(inner).filter((c) => c.kind === 'Lambda' && !(c as unknown as A.LambdaExpr).body && c.range.start.offset < offset);
  for (let i = path.length - 1 + pending.length; i >= 0; i--) {
    const n = i >= path.length ? pending[i - path.length] : path[i];
    if (n.kind === 'Lambda') for (const p of (n as unknown as A.LambdaExpr).params) add(p.text, 'variable', 'lambda parameter', undefined, '0');
    if (n.kind === 'DefDecl') for (const p of (n as unknown as A.DefDecl).params) add(p.name.text, 'variable', 'parameter', undefined, '0');
  }
  for (const f of fieldsOf(program.inputType)) add(f.name, 'field', `${f.name}${f.optional ? '?' : ''}: ${typeToString(f.type)}`, f.doc, '1');
  add('input', 'variable', 'the whole request', undefined, '3');
  for (const s of program.symbols.values()) {
    if (s.kind === 'let') add(s.name, 'variable', `${s.decl.source ? 'data' : 'let'} ${s.name}: ${typeToString(s.type)}`, s.decl.doc, '2');
    else if (s.kind === 'budget') add(s.name, 'budget', `budget ${s.name}`, s.decl.doc, '2');
    else if (s.kind === 'def' || s.kind === 'extern') {
      const params = s.decl.params.map((p, i) => `\${${i + 1}:${p.name.text}}`).join(', ');
      if (!seen.has(s.name)) {
        seen.add(s.name);
        out.push({
          label: s.name,
          kind: 'function',
          detail: s.kind === 'extern' && s.type.kind === 'function'
            ? `extern def ${s.name}(${s.decl.params.map((p, i) => `${p.name.text}: ${typeToString((s.type as { params: Type[] }).params[i] ?? { kind: 'any' })}`).join(', ')}): ${typeToString(s.type.result)}`
            : `def ${s.name}(${s.decl.params.map((p) => p.name.text).join(', ')})`,
          documentation: s.decl.doc,
          insertText: `${s.name}(${params})`,
          snippet: true,
          replace,
          sortText: '2' + s.name,
        });
      }
    }
  }
  for (const g of GLOBALS) if (!seen.has(g.name)) out.push({ ...builtinItem(g, g.property ? 'variable' : 'function', replace), sortText: '4' + g.name });
  for (const d of DETECTOR_NAMESPACES) if (!seen.has(d.name)) out.push({ ...builtinItem(d, 'module', replace), sortText: '4' + d.name });
  for (const k of EXPR_KEYWORDS) out.push({ label: k, kind: 'keyword', replace, sortText: '5' + k });
  return out;

  function add(label: string, kind: CompletionKind, detail: string, doc: string | undefined, sort: string): void {
    if (seen.has(label)) return;
    seen.add(label);
    out.push({ label, kind, detail, documentation: doc, replace, sortText: sort + label });
  }
}

function topLevelSnippets(replace: A.Node['range']): CompletionItem[] {
  return [
    { label: 'rule … { when … deny … }', kind: 'snippet', insertText: 'rule ${1:name} {\n  when ${2:condition}\n  deny "${3:message}"\n}', snippet: true, replace, sortText: '1rule' },
    { label: 'budget … { limit … }', kind: 'snippet', insertText: 'budget ${1:name} {\n  limit ${2:\\$50} per ${3:day}\n  charge ${4:cost.estimate}\n  by ${5:agent.team}\n}', snippet: true, replace, sortText: '1budget' },
    { label: 'test "…" { given … expect … }', kind: 'snippet', insertText: 'test "${1:name}" {\n  given ${2:request}\n  expect ${3|allow,deny,require_approval|}\n}', snippet: true, replace, sortText: '1test' },
  ];
}

function ruleSnippets(replace: A.Node['range']): CompletionItem[] {
  return [
    { label: 'require approval from …', kind: 'snippet', insertText: 'require approval from "${1:team}" "${2:message}"', snippet: true, replace, sortText: '1require' },
  ];
}

// ---------------------------------------------------------------- request objects

/** The expected type at the end of `path` when it lies in a request (a `given`, or a let a `given` uses). */
export function expectedTypeAt(program: CheckedProgram, path: AnyNode[]): { type: Type; node: AnyNode } | undefined {
  let start = path.findIndex((n) => n.kind === 'Given');
  let type: Type | undefined;
  if (start >= 0) type = program.inputType;
  else {
    const li = path.findIndex((n) => n.kind === 'LetDecl');
    const let_ = path[li] as unknown as A.LetDecl | undefined;
    if (!let_?.name || !usedAsGiven(program, let_.name.text)) return undefined;
    start = li;
    type = program.inputType;
  }
  if (!type || type.kind === 'error') return undefined;
  let node = path[start];
  for (let i = start + 1; i < path.length && type; i++) {
    const n = path[i];
    const prev = path[i - 1];
    if (n.kind === 'Name') break;
    if (prev.kind === 'Entry') {
      const entry = prev as unknown as A.ObjectEntry;
      if ((entry.value as unknown) !== n) break;
      const key = entry.key.kind === 'Name' ? entry.key.text : entry.key.parts.map((p) => (p.kind === 'Text' ? p.value : '')).join('');
      type = fieldsOf(type).find((f) => f.name === key)?.type;
    } else if (prev.kind === 'List') {
      const b = stripNull(type);
      type = b.kind === 'list' ? b.elem : undefined;
    } else if (n.kind === 'Binary' && (n as unknown as A.BinaryExpr).op !== 'with') {
      return undefined;
    } else if (n.kind === 'Call' || n.kind === 'Member' || n.kind === 'Index' || n.kind === 'If' || n.kind === 'Lambda') {
      return undefined;
    }
    node = n;
  }
  return type ? { type, node } : undefined;
}

function usedAsGiven(program: CheckedProgram, name: string): boolean {
  for (const t of program.tests) {
    for (const item of t.items) {
      if (item.kind !== 'Given' || !item.expr) continue;
      let e: A.Expr | undefined = item.expr;
      while (e?.kind === 'Binary' && e.op === 'with') e = e.left;
      if (e?.kind === 'NameRef' && e.name.text === name) return true;
    }
  }
  return false;
}

function objectKeyCompletions(
  program: CheckedProgram,
  ast: A.SourceFile,
  offset: number,
  replace: A.Node['range'],
  text: string,
  wordStart: number,
): CompletionItem[] | undefined {
  const path = pathAt(ast as unknown as AnyNode, offset);
  let objIdx = -1;
  const last = path[path.length - 1];
  if (last?.kind === 'Object') objIdx = path.length - 1;
  else if (last?.kind === 'Name' && path[path.length - 2]?.kind === 'Entry' && (path[path.length - 2] as unknown as A.ObjectEntry).key === (last as unknown)) objIdx = path.length - 3;
  else if (last?.kind === 'Entry' && !(last as unknown as A.ObjectEntry).value) objIdx = path.length - 2;
  if (objIdx < 0 || path[objIdx]?.kind !== 'Object') return undefined;
  // In the object but before a `:` on this entry: a key position.
  const before = text.slice(path[objIdx].range.start.offset, wordStart);
  if (!/[{,]\s*$/.test(before)) return undefined;
  const exp = expectedTypeAt(program, path.slice(0, objIdx + 1));
  if (!exp) return []; // a key of a free-form object: nothing to suggest
  const obj = path[objIdx] as unknown as A.ObjectExpr;
  const present = new Set(obj.entries.filter((e) => e.key.kind === 'Name' && !(e.key.range.start.offset <= offset && offset <= e.key.range.end.offset)).map((e) => (e.key as A.Name).text));
  return fieldsOf(exp.type)
    .filter((f) => !present.has(f.name))
    .map((f, i) => ({
      label: f.name,
      kind: 'field' as const,
      detail: `${f.name}${f.optional ? '?' : ''}: ${typeToString(f.type)}`,
      documentation: f.doc,
      insertText: `${f.name}: `,
      replace,
      sortText: String(i).padStart(4, '0'),
    }));
}

function annotationCompletions(replace: A.Node['range']): CompletionItem[] {
  return [
    { label: 'monitor', kind: 'property', detail: '@monitor', documentation: 'Evaluate the rule but only report it under `monitored`; it never changes the effect.', replace },
    { label: 'severity', kind: 'property', detail: '@severity("…")', documentation: 'Metadata carried into the decision (`annotations`).', insertText: 'severity("${1|critical,high,medium,low|}")', snippet: true, replace },
    { label: 'owner', kind: 'property', detail: '@owner("…")', documentation: 'Metadata carried into the decision (`annotations`).', insertText: 'owner("${1:team}")', snippet: true, replace },
    { label: 'priority', kind: 'property', detail: '@priority("N")', documentation: ANNOTATION_DOCS.priority, insertText: 'priority("${1:10}")', snippet: true, replace },
  ];
}

// Hover: the type of a name, its `///` docs, budget limits and windows, built-in and detector docs.

import type * as A from '../syntax/ast.js';
import type { Symbol } from '../semantics/program.js';
import { typeToString, stripNull } from '../semantics/types.js';
import type { Analysis } from './policy-set.js';
import type { HoverResult } from './types.js';
import { nameAt, resolveName, pathAt, type AnyNode } from './locate.js';
import { typeOfExpr, fieldsOf } from './expr-types.js';
import { requestKeySymbol } from './navigation.js';
import {
  findGlobal,
  findDetector,
  findNamespace,
  LIST_METHODS,
  MAP_METHODS,
  STRING_METHODS,
  BUDGET_MEMBERS,
  KEYWORD_DOCS,
  ANNOTATION_DOCS,
  type BuiltinDoc,
} from './builtin-docs.js';

const code = (s: string) => '```rein\n' + s + '\n```';

export function hover(analysis: Analysis, file: string, offset: number): HoverResult | undefined {
  const src = analysis.sources.get(file);
  if (!src) return undefined;
  const program = analysis.result.program;
  const found = nameAt(src.parsed.ast, offset);
  if (found) {
    const sym = resolveName(program, file, found.name, found.path) ?? requestKeySymbol(program, found.name, found.path);
    const parent = found.path[found.path.length - 2];
    let contents: string | undefined;
    if (sym) contents = describeSymbol(analysis, sym, parent);
    if (!contents && parent?.kind === 'Member') contents = describeMember(analysis, parent as unknown as A.MemberExpr);
    if (!contents && parent?.kind === 'NameRef') {
      const g = findGlobal(found.name.text) ?? findNamespace(found.name.text);
      if (g) contents = builtin(g);
    }
    // `combine ALGORITHM` in the policy header: the algorithm's meaning.
    if (!contents && (parent?.kind as string) === 'PolicyCombine' && KEYWORD_DOCS[found.name.text]) contents = `**${found.name.text}** — ${KEYWORD_DOCS[found.name.text]}`;
    // `@priority("N")`, `@monitor`, …: the annotation's meaning.
    if (!contents && (parent?.kind as string) === 'Annotation' && Object.hasOwn(ANNOTATION_DOCS, found.name.text)) contents = `**@${found.name.text}** — ${ANNOTATION_DOCS[found.name.text]}`;
    if (contents) return { contents, range: found.name.range };
    return undefined;
  }
  // A keyword under the cursor.
  const text = src.text;
  let s = offset;
  while (s > 0 && /\w/.test(text[s - 1])) s--;
  if (text[s] === '@') s++; // on the `@` of an annotation
  let e = s > offset ? s : offset;
  while (e < text.length && /\w/.test(text[e])) e++;
  const word = text.slice(s, e);
  // An annotation: `@priority("N")`, `@monitor`, …
  if (word && text[s - 1] === '@' && Object.hasOwn(ANNOTATION_DOCS, word) && !isInStringOrComment(src.parsed.ast, s)) {
    return { contents: `**@${word}** — ${ANNOTATION_DOCS[word]}`, range: src.lines.range(s - 1, e) };
  }
  if (word && KEYWORD_DOCS[word] && !isInStringOrComment(src.parsed.ast, s)) {
    return { contents: `**${word}** — ${KEYWORD_DOCS[word]}`, range: src.lines.range(s, e) };
  }
  return undefined;
}

function isInStringOrComment(ast: A.SourceFile, offset: number): boolean {
  if (ast.comments.some((c) => c.range.start.offset <= offset && offset < c.range.end.offset)) return true;
  return pathAt(ast as unknown as AnyNode, offset).some((n) => n.kind === 'String' && n.range.start.offset < offset);
}

function builtin(b: BuiltinDoc): string {
  return code(b.signature) + '\n\n' + b.doc;
}

function withDoc(head: string, doc: string | undefined, extra?: string): string {
  return code(head) + (doc ? '\n\n' + doc : '') + (extra ? '\n\n' + extra : '');
}

function describeMember(analysis: Analysis, m: A.MemberExpr): string | undefined {
  const program = analysis.result.program;
  const prop = m.property?.text;
  if (!prop) return undefined;
  if (m.object.kind === 'NameRef' && (m.object.name.text === 'pii' || m.object.name.text === 'secrets')) {
    const d = findDetector(m.object.name.text, prop);
    return d && builtin(d);
  }
  const t = typeOfExpr(program, m.object);
  if (!t) return undefined;
  const b = stripNull(t);
  const table =
    b.kind === 'list' ? LIST_METHODS : b.kind === 'string' || b.kind === 'enum' ? STRING_METHODS : b.kind === 'budget' ? BUDGET_MEMBERS : b.kind === 'map' || b.kind === 'object' ? MAP_METHODS : [];
  const d = table.find((x) => x.name === prop);
  return d && builtin(d);
}

export function describeSymbol(analysis: Analysis, sym: Symbol, parent?: AnyNode): string | undefined {
  switch (sym.kind) {
    case 'let':
      if (sym.decl.source) return withDoc(`data ${sym.name}: ${typeToString(sym.type)} from ${sliceOf(analysis, sym.file, sym.decl.source)}`, sym.decl.doc);
      return withDoc(`let ${sym.name}: ${typeToString(sym.type)}`, sym.decl.doc);
    case 'def': {
      const d = sym.decl;
      const params = d.params.map((p) => `${p.name.text}${p.type ? ': ' + sliceOf(analysis, sym.file, p.type) : ''}`).join(', ');
      const result = sym.type.kind === 'function' ? typeToString(sym.type.result) : d.returnType ? sliceOf(analysis, sym.file, d.returnType) : '?';
      return withDoc(`def ${sym.name}(${params}): ${result}`, d.doc);
    }
    case 'extern': {
      const d = sym.decl;
      const params = d.params.map((p) => `${p.name.text}${p.type ? ': ' + sliceOf(analysis, sym.file, p.type) : ''}`).join(', ');
      const result = sym.type.kind === 'function' ? typeToString(sym.type.result) : d.returnType ? sliceOf(analysis, sym.file, d.returnType) : '?';
      const tail = `${d.timeout ? ` timeout ${d.timeout.raw}` : ''}${d.onError ? ` on error ${d.onError.effect}` : ''}`;
      const how = `Host function: the embedding registers it (\`externs\`); a failed or late call ${d.onError?.effect === 'allow' ? 'allows' : 'denies'} (timeout ${d.timeout ? d.timeout.raw : '1s'})`;
      return withDoc(`extern def ${sym.name}(${params}): ${result}${tail}`, d.doc, how);
    }
    case 'rule': {
      const d = sym.decl;
      const effect = d.body.find((c) => c.kind !== 'When' && c.kind !== 'Unless');
      const ann = d.annotations.map((a) => sliceOf(analysis, sym.file, a)).join(' ');
      const head = (ann ? ann + '\n' : '') + `rule ${sym.name}` + (effect ? `  // ${effectName(effect.kind)}` : '');
      return withDoc(head, d.doc, `Defined in \`${baseName(sym.file)}\``);
    }
    case 'budget': {
      const d = sym.decl;
      const lines = d.items
        .filter((i) => i.kind === 'Limit' || i.kind === 'Charge' || i.kind === 'By' || i.kind === 'WarnAt' || i.kind === 'OnExceed')
        .map((i) => '  ' + sliceOf(analysis, sym.file, i).replace(/\s+/g, ' '));
      const limit = d.items.find((i): i is A.LimitClause => i.kind === 'Limit');
      const window = limit ? windowText(limit) : undefined;
      return withDoc(`budget ${sym.name} {\n${lines.join('\n')}\n}`, d.doc, window ? `Window: ${window}` : undefined);
    }
    case 'type':
      return withDoc(`type ${sym.name} = ${sym.decl.type ? sliceOf(analysis, sym.file, sym.decl.type) : typeToString(sym.type)}`, sym.decl.doc);
    case 'input-field':
      return withDoc(`(input) ${sym.name}${sym.field.optional ? '?' : ''}: ${typeToString(sym.type)}`, sym.field.doc);
    case 'field':
      return withDoc(`(field) ${sym.name}${sym.field.optional ? '?' : ''}: ${typeToString(sym.type)}`, sym.field.doc);
    case 'input':
      return withDoc(
        `input {\n${fieldsOf(sym.type).map((f) => `  ${f.name}${f.optional ? '?' : ''}: ${typeToString(f.type)}`).join('\n')}\n}`,
        sym.decl.doc ?? 'The whole request.',
      );
    case 'param':
      return code(`(parameter) ${sym.name}: ${typeToString(sym.type)}`);
    case 'lambda-param':
      return code(`(parameter) ${sym.name}: ${typeToString(sym.type)}`);
    case 'builtin': {
      const g = findGlobal(sym.name);
      return g ? builtin(g) : code(`${sym.name}: ${typeToString(sym.type)}`);
    }
    case 'method':
      if (parent?.kind === 'Member') return describeMember(analysis, parent as unknown as A.MemberExpr) ?? code(`${sym.name}: ${typeToString(sym.type)}`);
      return code(`${sym.name}: ${typeToString(sym.type)}`);
    case 'detector': {
      if (parent?.kind === 'Member') {
        const m = parent as unknown as A.MemberExpr;
        if (m.object.kind === 'NameRef') {
          const d = findDetector(m.object.name.text, m.property?.text ?? sym.name);
          if (d) return builtin(d);
        }
      }
      const ns = findNamespace(sym.name);
      return ns ? builtin(ns) : code(`${sym.name}: ${typeToString(sym.type)}`);
    }
  }
}

function effectName(kind: string): string {
  return kind === 'RequireApproval' ? 'require approval' : kind.toLowerCase();
}

export function windowText(limit: A.LimitClause): string {
  const per = limit.per;
  if (!per) return 'lifetime (the counter never resets)';
  const len = per.kind === 'Unit' ? `1 ${per.unit}` : per.kind === 'Duration' ? per.raw : 'request';
  if (limit.burst) return `a token bucket: holds at most the burst, and gets the refill back every ${len}, in whole units`;
  if (limit.rolling) return `a rolling ${len}: every interval of ${len} admits at most the limit (60 sub-buckets; a charge counts for at least ${len} and less than ${len} plus two sub-buckets)`;
  if (limit.anchored) return `periods of ${len} from each key's first charge (not aligned to a calendar)`;
  if (per.kind === 'Request') return 'per request (caps a single charge)';
  if (per.kind === 'Unit') {
    const u = per.unit;
    const start = u === 'minute' ? 'each minute' : u === 'hour' ? 'each hour' : u === 'day' ? '00:00 UTC each day' : u === 'week' ? 'each week' : 'the 1st of each month, 00:00 UTC';
    return `per ${u}, fixed and aligned to UTC (resets at ${start})`;
  }
  return `per ${per.raw}, fixed windows aligned to the Unix epoch (UTC)`;
}

function baseName(file: string): string {
  const i = Math.max(file.lastIndexOf('/'), file.lastIndexOf('\\'));
  return i >= 0 ? file.slice(i + 1) : file;
}

function sliceOf(analysis: Analysis, file: string, node: { range: A.Node['range'] }): string {
  const s = analysis.sources.get(file);
  if (!s) return '';
  return s.text.slice(node.range.start.offset, node.range.end.offset);
}

// The Rein formatter: one canonical layout for `.rein` source (docs/formatting.md).
//
// `format(src)` parses, refuses broken code (throws PolicyError with the syntax diagnostics), then
// prints the AST through a small document printer (./doc.ts). Comments are not in the tree: they
// are interleaved by offset while the printer walks the AST in source order. A comment is printed
// before the first node that starts after it ("leading"), or right after an item/clause/list entry
// when it stood on the same line in the source ("trailing"), or before a closing brace when nothing
// follows it ("dangling"). Every comment is printed exactly once, with its text unchanged.

import { isError } from '../diagnostics.js';
import { PolicyError } from '../errors.js';
import { parse } from '../syntax/parser.js';
import { BINARY_PRECEDENCE } from '../syntax/precedence.js';
import type {
  Annotation,
  BudgetItem,
  Comment,
  Condition,
  Decl,
  EffectClause,
  Expr,
  FieldDecl,
  Name,
  Node,
  ObjectEntry,
  Param,
  PolicyItem,
  SourceFile,
  StringLit,
  TestItem,
  TypeExpr,
} from '../syntax/ast.js';
import { type Doc, blankline, group, hardline, ifBreak, indent, join, line, printDoc, softline } from './doc.js';

const COMPLETE_TREE_CODES = new Set(['REIN105', 'REIN106']);

export interface FormatOptions {
  /** File name used in diagnostics (default `<input>`). */
  file?: string;
  /** Spaces per indentation level (default 2). */
  indent?: number;
  /** Preferred maximum line length (default 100). */
  width?: number;
}

/**
 * Formats Rein source text into the canonical layout. Throws `PolicyError` (carrying the parser's
 * diagnostics) when the source has syntax errors: broken code is never formatted.
 * `\r\n` line endings become `\n`; the output ends with exactly one newline (an empty file stays empty).
 */
export function format(src: string, options: FormatOptions = {}): string {
  if (typeof src !== 'string') throw new TypeError(`format: expected the source text (a string), got ${src === null ? 'null' : typeof src}`);
  const text = normalizeSource(src);
  const file = options.file ?? '<input>';
  const { ast, diagnostics } = parse(text, file);
  // REIN105 (a phase-2 construct) and REIN106 (a rule without exactly one effect) come from the
  // parser but leave a complete tree: such code is formatted (the checker still reports them)
  const errors = diagnostics.filter((d) => isError(d) && !COMPLETE_TREE_CODES.has(d.code));
  if (errors.length > 0) throw new PolicyError(`cannot format ${file}: it has syntax errors`, errors);
  return formatAst(ast, text, options);
}

/** Line endings to `\n`, byte-order mark dropped. Offsets of the result are what the printer uses. */
export function normalizeSource(src: string): string {
  return src.replace(/^\uFEFF/, '').replace(/\r\n/g, '\n');
}

/**
 * Prints an already parsed file. `src` must be the exact text `ast` was parsed from (comments,
 * literals and blank lines are read from it). The AST must be free of syntax errors.
 */
export function formatAst(ast: SourceFile, src: string, options: FormatOptions = {}): string {
  const p = new Printer(ast, src, options.indent ?? 2, options.width ?? 100);
  const text = p.file().replace(/\r\n/g, '\n');
  const trimmed = text.replace(/\s+$/, '');
  return trimmed.length === 0 ? '' : trimmed + '\n';
}

// ------------------------------------------------------------------ precedence

const PREC = BINARY_PRECEDENCE;

function isWs(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13 || c === 12 || c === 11 || c === 0xfeff;
}

class Printer {
  private readonly comments: Comment[];
  private next = 0; // index of the first comment not printed yet
  private readonly commentAt = new Map<number, Comment>();

  constructor(
    private readonly ast: SourceFile,
    private readonly src: string,
    private readonly indentWidth: number,
    private readonly width: number,
  ) {
    this.comments = [...ast.comments].sort((a, b) => a.range.start.offset - b.range.start.offset);
    for (const c of this.comments) this.commentAt.set(c.range.start.offset, c);
  }

  // ---------------------------------------------------------------- source helpers

  /** Offset of the first token at or after `o` (skips whitespace and comments). */
  private tokenAt(o: number): number {
    const s = this.src;
    for (;;) {
      while (o < s.length && isWs(s.charCodeAt(o))) o++;
      const c = this.commentAt.get(o);
      if (!c) return o;
      o = c.range.end.offset;
    }
  }

  /** Offset just after the first `ch` token at or after `from` (skipping comments), or -1. */
  private after(from: number, ch: string): number {
    let o = from;
    const s = this.src;
    while (o < s.length) {
      o = this.tokenAt(o);
      if (s[o] === ch) return o + 1;
      if (s[o] === '"') {
        // skip a string literal
        o++;
        while (o < s.length && s[o] !== '"' && s[o] !== '\n') o += s[o] === '\\' ? 2 : 1;
      }
      o++;
    }
    return -1;
  }

  /** True when the source has an empty line between the previous token/comment and offset `o`. */
  private blankBefore(o: number): boolean {
    let n = 0;
    for (let i = o - 1; i >= 0; i--) {
      const c = this.src.charCodeAt(i);
      if (c === 10) n++;
      else if (!isWs(c)) break;
    }
    return n >= 2;
  }

  private commentDoc(c: Comment): Doc {
    const s = this.src;
    const start = c.range.start.offset;
    const end = c.range.end.offset;
    let i = start - 1;
    while (i >= 0 && (s[i] === ' ' || s[i] === '\t')) i--;
    const ownLine = i < 0 || s[i] === '\n' || s[i] === '\r';
    let j = end;
    while (j < s.length && (s[j] === ' ' || s[j] === '\t')) j++;
    const newlineAfter = c.kind !== 'block' || j >= s.length || s[j] === '\n' || s[j] === '\r';
    const text = c.kind === 'block' ? c.text : c.text.replace(/\s+$/, '');
    return { t: 'comment', text, ownLine, newlineAfter };
  }

  /** Every unprinted comment that starts before `offset`, as leading comments (no blank lines kept). */
  private lead(offset: number): Doc[] {
    const out: Doc[] = [];
    while (this.next < this.comments.length && this.comments[this.next].range.start.offset < offset) {
      out.push(this.commentDoc(this.comments[this.next++]));
    }
    return out;
  }

  /**
   * Leading comments in a block: each on its own line, keeping at most one empty line the author
   * put before a comment and before the item. `first` suppresses an empty line before the first element.
   */
  private leadBlock(offset: number, first: boolean): { docs: Doc[]; any: boolean } {
    const docs: Doc[] = [];
    let isFirst = first;
    while (this.next < this.comments.length && this.comments[this.next].range.start.offset < offset) {
      const c = this.comments[this.next++];
      if (!isFirst && this.blankBefore(c.range.start.offset)) docs.push(blankline);
      docs.push(this.commentDoc(c));
      isFirst = false;
    }
    if (!isFirst && this.blankBefore(offset)) docs.push(blankline);
    return { docs, any: docs.length > 0 };
  }

  /** Comments on the same source line right after `end` (only spaces and one comma between). */
  private trail(end: number): Doc[] {
    const out: Doc[] = [];
    let o = end;
    let commaSeen = false;
    while (this.next < this.comments.length) {
      const c = this.comments[this.next];
      const cs = c.range.start.offset;
      if (cs < o) break;
      const between = this.src.slice(o, cs);
      if (!/^[ \t]*(,[ \t]*)?$/.test(between)) break;
      if (between.includes(',')) {
        if (commaSeen) break;
        commaSeen = true;
      }
      out.push(this.commentDoc(c));
      this.next++;
      o = c.range.end.offset;
      if (c.kind !== 'block') break;
    }
    return out;
  }

  private print(doc: Doc): string {
    return printDoc(doc, this.width, this.indentWidth);
  }

  // ---------------------------------------------------------------- file

  file(): string {
    const segments: { text: string; blankBefore: boolean }[] = [];
    for (let i = 0; i < this.ast.decls.length; i++) {
      const d = this.ast.decls[i];
      const kw = this.declKeywordStart(d);
      const start = d.annotations.length > 0 ? Math.min(d.annotations[0].range.start.offset, kw) : kw;
      const firstElem = this.next < this.comments.length && this.comments[this.next].range.start.offset < start ? this.comments[this.next].range.start.offset : start;
      const authorBlank = i > 0 && this.blankBefore(firstElem);
      const { docs } = this.leadBlock(start, true);
      const body = this.decl(d, kw);
      const trailing = this.trail(d.range.end.offset);
      const text = this.print([...docs, body, ...trailing]);
      segments.push({ text, blankBefore: authorBlank });
    }
    // comments after the last declaration
    const rest = this.comments.length > this.next ? this.comments[this.next].range.start.offset : -1;
    if (rest >= 0) {
      const authorBlank = segments.length > 0 && this.blankBefore(rest);
      const { docs } = this.leadBlock(this.src.length + 1, true);
      segments.push({ text: this.print(docs), blankBefore: authorBlank });
    }
    let out = '';
    segments.forEach((seg, i) => {
      if (i > 0) {
        const prev = segments[i - 1];
        const multi = prev.text.includes('\n') || seg.text.includes('\n');
        out += multi || seg.blankBefore ? '\n\n' : '\n';
      }
      out += seg.text;
    });
    return out;
  }

  /** Offset of the declaration's keyword (after its annotations and doc comments). */
  private declKeywordStart(d: Decl): number {
    if (d.annotations.length > 0) return this.tokenAt(d.annotations[d.annotations.length - 1].range.end.offset);
    return this.tokenAt(d.range.start.offset);
  }

  private annotations(anns: Annotation[]): Doc {
    if (anns.length === 0) return '';
    const parts = anns.map((a) => [...this.lead(a.range.start.offset), this.annotation(a)]);
    return [group(join(line, parts)), hardline];
  }

  private annotation(a: Annotation): Doc {
    return ['@', a.name.text, a.value ? ['(', ...this.lead(a.value.range.start.offset), this.string(a.value), ')'] : ''];
  }

  private decl(d: Decl, kw: number): Doc {
    const anns = this.annotations(d.annotations);
    const kwLead = this.lead(kw);
    return [anns, ...kwLead, this.declBody(d, kw)];
  }

  private declBody(d: Decl, kw: number): Doc {
    switch (d.kind) {
      case 'PolicyDecl':
        return ['policy', d.name ? [' ', this.name(d.name)] : '', ' ', this.block(d, d.name?.range.end.offset ?? kw, d.items, (it) => this.policyItem(it))];
      case 'InputDecl':
        return ['input ', this.block(d, kw, d.fields, (f) => this.field(f))];
      case 'TypeDecl':
        return ['type ', d.name ? this.name(d.name) : '', ' = ', d.type ? this.type(d.type) : ''];
      case 'LetDecl':
        if (d.source) return ['data ', d.name ? this.name(d.name) : '', d.type ? [': ', this.type(d.type)] : '', ' from ', this.string(d.source)];
        return [
          'let ',
          d.name ? this.name(d.name) : '',
          d.type ? [': ', this.type(d.type)] : '',
          ' =',
          d.value ? this.assigned(d.value) : '',
        ];
      case 'DefDecl':
        return [
          'def ',
          d.name ? this.name(d.name) : '',
          this.params(d.name?.range.end.offset ?? kw, d.params),
          d.returnType ? [': ', this.type(d.returnType)] : '',
          ' =',
          d.body ? this.assigned(d.body) : '',
        ];
      case 'ExternDecl':
        return [
          'extern def ',
          d.name ? this.name(d.name) : '',
          this.params(d.name?.range.end.offset ?? kw, d.params),
          d.returnType ? [': ', this.type(d.returnType)] : '',
          d.timeout ? [' timeout ', d.timeout.raw] : '',
          d.onError ? [' on error ', d.onError.effect] : '',
        ];
      case 'RuleDecl':
        return ['rule ', d.name ? this.name(d.name) : '', ' ', this.block(d, d.name?.range.end.offset ?? kw, d.body, (it) => this.ruleItem(it))];
      case 'BudgetDecl':
        return ['budget ', d.name ? this.name(d.name) : '', ' ', this.block(d, d.name?.range.end.offset ?? kw, d.items, (it) => this.budgetItem(it))];
      case 'TestDecl':
        return ['test ', d.name ? this.string(d.name) : '', ' ', this.block(d, d.name?.range.end.offset ?? kw, d.items, (it) => this.testItem(it))];
    }
  }

  /** ` = value`: lists, objects and calls hug the `=`; anything else may move to the next line. */
  private assigned(e: Expr): Doc {
    if (e.kind === 'List' || e.kind === 'Object' || e.kind === 'Call' || e.kind === 'String' || e.kind === 'If') return [' ', this.expr(e)];
    return group(indent([line, this.expr(e)]));
  }

  private name(n: Name): Doc {
    return [...this.lead(n.range.start.offset), n.text];
  }

  /**
   * A `{ … }` body with one item per line. `headerEnd` is an offset before the opening brace.
   */
  private block<T extends { range: Node['range'] }>(owner: Node, headerEnd: number, items: T[], printItem: (it: T) => Doc): Doc {
    const open = this.after(headerEnd, '{');
    const end = owner.range.end.offset;
    const leadOpen = open >= 0 ? this.lead(open - 1) : [];
    const afterOpen = open >= 0 ? this.trail(open) : [];
    const body: Doc[] = [];
    items.forEach((it, i) => {
      const start = it.range.start.offset;
      const { docs } = this.leadBlock(start, i === 0);
      body.push(hardline, ...docs, printItem(it), ...this.trail(it.range.end.offset));
    });
    if (this.next < this.comments.length && this.comments[this.next].range.start.offset < end) {
      const { docs } = this.leadBlock(end - 1, items.length === 0);
      // leadBlock may add a blank line before the closing brace: drop it
      while (docs.length > 0 && docs[docs.length - 1] === blankline) docs.pop();
      body.push(hardline, ...docs);
    }
    if (body.length === 0 && afterOpen.length === 0) return [...leadOpen, '{}'];
    return [...leadOpen, '{', ...afterOpen, indent(body), hardline, '}'];
  }

  // ---------------------------------------------------------------- items

  private policyItem(it: PolicyItem): Doc {
    switch (it.kind) {
      case 'PolicyVersion':
        return ['version ', this.string(it.value)];
      case 'PolicyCurrency':
        return ['currency ', this.string(it.value)];
      case 'PolicyDefault':
        return ['default ', ...this.lead(it.effectRange.start.offset), it.effect];
      case 'PolicyOnError':
        return ['on error ', ...this.lead(it.effectRange.start.offset), it.effect];
      case 'PolicyCombine':
        return ['combine ', it.algorithm.text];
    }
  }

  private ruleItem(it: Condition | EffectClause): Doc {
    if (it.kind === 'When' || it.kind === 'Unless') return this.condition(it as Condition);
    return this.effect(it as EffectClause);
  }

  private condition(c: Condition): Doc {
    return [c.kind === 'When' ? 'when' : 'unless', c.expr ? [' ', this.expr(c.expr)] : ''];
  }

  private message(m: StringLit | undefined): Doc {
    return m ? [' ', this.string(m)] : '';
  }

  private effect(e: EffectClause): Doc {
    switch (e.kind) {
      case 'Deny':
        return ['deny', this.message(e.message)];
      case 'Warn':
        return ['warn', this.message(e.message)];
      case 'Allow':
        return ['allow', this.message(e.message)];
      case 'RequireApproval':
        return ['require approval', e.from ? [' from ', this.expr(e.from)] : '', e.quorum ? ` quorum ${e.quorum.raw}` : '', e.expires ? ` expires ${e.expires.raw}` : '', this.message(e.message)];
      case 'Set':
        return ['set', e.path ? [' ', this.expr(e.path)] : '', e.value ? [' = ', this.expr(e.value)] : '', this.message(e.message)];
      case 'Redact':
        return ['redact', e.path ? [' ', this.expr(e.path)] : '', e.using ? [' using ', this.expr(e.using)] : '', this.message(e.message)];
    }
  }

  private budgetItem(it: BudgetItem): Doc {
    switch (it.kind) {
      case 'When':
      case 'Unless':
        return this.condition(it);
      case 'Limit': {
        let per: Doc = '';
        if (it.per) {
          const p = it.per;
          const lead = this.lead((it.rolling ?? p).range.start.offset);
          per = [' per ', ...lead, it.rolling ? 'rolling ' : '', p.kind === 'Unit' ? p.unit : p.kind === 'Request' ? 'request' : p.raw, it.anchored ? ' anchored' : ''];
        }
        if (it.burst) return ['burst', it.amount ? [' ', this.expr(it.amount)] : '', ' refill', it.refill ? [' ', this.expr(it.refill)] : '', per];
        return ['limit', it.amount ? [' ', this.expr(it.amount)] : '', per];
      }
      case 'Charge':
        return ['charge', it.expr ? [' ', this.expr(it.expr)] : ''];
      case 'By':
        return ['by ', this.commaList(it.keys.map((k) => () => this.expr(k)))];
      case 'WarnAt':
        return ['warn at', it.threshold ? [' ', this.expr(it.threshold)] : ''];
      case 'OnExceed':
        return ['on exceed', it.effect ? [' ', ...this.lead(it.effect.range.start.offset), this.effect(it.effect)] : ''];
    }
  }

  private testItem(it: TestItem): Doc {
    switch (it.kind) {
      case 'Given':
        return ['given', it.expr ? [' ', this.expr(it.expr)] : ''];
      case 'Spent':
        return ['spent', it.budget ? [' ', this.name(it.budget)] : '', it.amount ? [' = ', this.expr(it.amount)] : '', it.at ? [' at ', this.string(it.at)] : ''];
      case 'At':
        return ['at', it.time ? [' ', this.string(it.time)] : ''];
      case 'Approved':
        return ['approved ', this.commaList(it.names.map((n) => () => this.name(n)))];
      case 'DataOverride':
        return ['data', it.name ? [' ', this.name(it.name)] : '', ' =', it.value ? [' ', this.expr(it.value)] : ''];
      case 'ExternStub': {
        let args: Doc = '';
        if (it.args && it.name) {
          const last = it.args[it.args.length - 1];
          const close = this.after(last ? last.range.end.offset : it.name.range.end.offset, ')');
          const end = { ...it.name.range.end, offset: close >= 0 ? close : it.range.end.offset };
          args = this.delimited({ range: { start: it.name.range.end, end } }, '(', ')', it.args, (a) => this.expr(a), { sep: 'comma', spaced: false, keepBroken: false, trailingComma: false });
        }
        const value: Doc = it.fails ? [' = error ', this.string(it.fails)] : it.value ? [' = ', this.expr(it.value)] : '';
        return ['extern', it.name ? [' ', this.name(it.name)] : '', args, value];
      }
      case 'Expect':
        return [
          'expect',
          it.effect ? [' ', ...this.lead(it.effect.range.start.offset), it.effect.value] : '',
          it.by.length > 0 ? [' by ', this.commaList(it.by.map((n) => () => this.name(n)))] : '',
          it.redact ? [' with redact ', it.redact.none ? 'none' : this.commaList(it.redact.paths.map((p) => () => this.expr(p)))] : '',
        ];
      case 'ExpectWarnings':
        return ['expect warnings ', it.none ? [...this.lead(it.range.end.offset), 'none'] : this.commaList(it.names.map((n) => () => this.name(n)))];
    }
  }

  /**
   * `a, b, c` without brackets (budget keys, test names). Never broken: a budget key on a new line
   * that is a clause keyword used as a name (`limit`) would start the next clause.
   */
  private commaList(items: (() => Doc)[]): Doc {
    return join(', ', items.map((f) => f()));
  }

  // ---------------------------------------------------------------- types

  private field(f: FieldDecl): Doc {
    return [this.name(f.name), f.optional ? '?' : '', ':', f.type ? [' ', this.type(f.type)] : ''];
  }

  private type(t: TypeExpr): Doc {
    const lead = this.lead(t.range.start.offset);
    switch (t.kind) {
      case 'TypeName':
        return [...lead, t.name.text, t.args.length > 0 ? ['<', join(', ', t.args.map((a) => this.type(a))), '>'] : ''];
      case 'UnionType':
        return [...lead, join(' | ', t.members.map((m) => this.string(m)))];
      case 'ObjectType':
        return [
          ...lead,
          this.delimited(t, '{', '}', t.fields, (f) => this.field(f), { sep: 'none', spaced: true, keepBroken: true, trailingComma: false }),
        ];
    }
  }

  private params(nameEnd: number, params: Param[]): Doc {
    const open = this.after(nameEnd, '(');
    const close = params.length > 0 ? this.after(params[params.length - 1].range.end.offset, ')') : this.after(open, ')');
    const fake = { range: { start: { line: 0, character: 0, offset: open - 1 }, end: { line: 0, character: 0, offset: close } } };
    return this.delimited(fake, '(', ')', params, (p) => [this.name(p.name), p.type ? [': ', this.type(p.type)] : ''], {
      sep: 'comma',
      spaced: false,
      keepBroken: false,
      trailingComma: false,
    });
  }

  // ---------------------------------------------------------------- delimited lists

  /**
   * `[a, b]`, `{ k: v }`, `(a, b)`, object types. Flat when it fits (and, with `keepBroken`, when the
   * author did not put a newline after the opening bracket); otherwise one item per line.
   */
  private delimited<T extends Node>(
    owner: Node,
    open: string,
    close: string,
    items: T[],
    printItem: (it: T) => Doc,
    opts: { sep: 'comma' | 'none'; spaced: boolean; keepBroken: boolean; trailingComma: boolean },
  ): Doc {
    const openOffset = this.after(owner.range.start.offset, open);
    const end = owner.range.end.offset;
    const afterOpen = openOffset >= 0 ? this.trail(openOffset) : [];
    let forceBreak = false;
    if (opts.keepBroken && openOffset >= 0) {
      const firstTok = this.tokenAt(openOffset);
      // a newline between the bracket and the first item (or the closing bracket)
      if (this.src.slice(openOffset, firstTok).includes('\n') && items.length > 0) forceBreak = true;
    }
    const sepFlat: Doc = opts.sep === 'comma' ? ',' : ifBreak('', ',');
    const body: Doc[] = [];
    items.forEach((it, i) => {
      const { docs } = this.leadBlock(it.range.start.offset, i === 0);
      const last = i === items.length - 1;
      const sep: Doc = last ? (opts.trailingComma ? ifBreak(',') : '') : sepFlat;
      body.push(i === 0 ? (opts.spaced ? line : softline) : line, ...docs, printItem(it), sep, ...this.trail(it.range.end.offset));
    });
    let dangling: Doc[] = [];
    if (this.next < this.comments.length && this.comments[this.next].range.start.offset < end) {
      const { docs } = this.leadBlock(end - 1, items.length === 0);
      while (docs.length > 0 && docs[docs.length - 1] === blankline) docs.pop();
      dangling = [items.length === 0 ? (opts.spaced ? line : softline) : line, ...docs];
    }
    if (items.length === 0 && dangling.length === 0 && afterOpen.length === 0) return open + close;
    return group([open, ...afterOpen, indent([...body, ...dangling]), opts.spaced ? line : softline, close], forceBreak);
  }

  // ---------------------------------------------------------------- expressions

  expr(e: Expr): Doc {
    const lead = this.lead(e.range.start.offset);
    const d = this.exprInner(e);
    return lead.length > 0 ? [...lead, d] : d;
  }

  private exprInner(e: Expr): Doc {
    switch (e.kind) {
      case 'Number':
      case 'Money':
      case 'Duration':
      case 'Percent':
        return e.raw;
      case 'String':
        return this.string(e);
      case 'Bool':
        return e.value ? 'true' : 'false';
      case 'Null':
        return 'null';
      case 'NameRef':
        return e.name.text;
      case 'List':
        return this.delimited(e, '[', ']', e.items, (it) => this.expr(it), { sep: 'comma', spaced: false, keepBroken: false, trailingComma: true });
      case 'Object':
        return this.delimited(e, '{', '}', e.entries, (en) => this.entry(en), { sep: 'comma', spaced: true, keepBroken: true, trailingComma: true });
      case 'Member': {
        // comments between the object and the dot stay before the dot
        const object = [this.expr(e.object), ...this.trail(e.object.range.end.offset), ...this.lead(this.tokenAt(e.object.range.end.offset))];
        // `$49 .x`: without the space the lexer would read `$49.x` as one (invalid) money literal
        return [object, e.object.kind === 'Money' ? ' .' : '.', e.property ? this.name(e.property) : ''];
      }
      case 'Index':
        return [this.expr(e.object), '[', e.index ? this.expr(e.index) : '', ...this.lead(e.range.end.offset - 1), ']'];
      case 'Call': {
        const callee = this.expr(e.callee);
        const fake = { range: { start: e.callee.range.end, end: e.range.end } };
        return [callee, this.delimited(fake, '(', ')', e.args, (a) => this.expr(a), { sep: 'comma', spaced: false, keepBroken: false, trailingComma: false })];
      }
      case 'Lambda': {
        const params = e.params.map((p) => this.name(p));
        const head: Doc = params.length === 1 && this.src[e.range.start.offset] !== '(' ? params[0] : ['(', join(', ', params), ')'];
        const last = e.params[e.params.length - 1];
        const beforeArrow = last ? [...this.trail(last.range.end.offset), ...this.lead(this.tokenAt(last.range.end.offset))] : [];
        return [head, ...beforeArrow, ' =>', e.body ? this.lambdaBody(e.body) : ''];
      }
      case 'Unary': {
        const operand = e.operand ? this.expr(e.operand) : '';
        if (e.op === 'not') return ['not ', operand];
        const needsSpace = e.operand !== undefined && this.startsWithMinus(e.operand);
        return ['-', needsSpace ? ' ' : '', operand];
      }
      case 'Binary':
        return this.binary(e);
      case 'If': {
        // comments before `then` / `else` stay before the keyword
        const cond: Doc = e.cond ? [this.expr(e.cond), ...this.trail(e.cond.range.end.offset), ...this.lead(this.tokenAt(e.cond.range.end.offset))] : '';
        const then: Doc = e.then ? [this.expr(e.then), ...this.trail(e.then.range.end.offset), ...this.lead(this.tokenAt(e.then.range.end.offset))] : '';
        return group(['if ', cond, indent([line, 'then ', then, line, 'else ', e.else ? this.expr(e.else) : ''])]);
      }
      case 'Paren':
        return ['(', e.expr ? this.expr(e.expr) : '', ...this.lead(e.range.end.offset - 1), ')'];
      case 'Error':
        return this.src.slice(e.range.start.offset, e.range.end.offset);
    }
  }

  private lambdaBody(b: Expr): Doc {
    return [' ', this.expr(b)];
  }

  private startsWithMinus(e: Expr): boolean {
    let x: Expr | undefined = e;
    for (;;) {
      if (!x) return false;
      switch (x.kind) {
        case 'Unary':
          return x.op === '-';
        case 'Binary':
          x = x.left;
          break;
        case 'Member':
        case 'Index':
          x = x.object;
          break;
        case 'Call':
          x = x.callee;
          break;
        case 'Number':
        case 'Money':
        case 'Duration':
        case 'Percent':
          return x.raw.startsWith('-');
        default:
          return false;
      }
    }
  }

  private binary(e: Extract<Expr, { kind: 'Binary' }>): Doc {
    // flatten a left-leaning chain of operators of the same precedence: `a and b and c`
    const chain: Extract<Expr, { kind: 'Binary' }>[] = [];
    let left: Expr = e;
    while (left.kind === 'Binary' && PREC[left.op] === PREC[e.op]) {
      chain.unshift(left);
      left = left.left;
    }
    const first: Doc = [this.expr(left), ...this.trail(left.range.end.offset)];
    const rest: Doc[] = [];
    for (const [i, b] of chain.entries()) {
      // comments between the left operand and the operator stay before the operator
      const beforeOp = this.lead(b.opRange.start.offset);
      const right: Doc = b.right ? [this.expr(b.right), ...(i < chain.length - 1 ? this.trail(b.right.range.end.offset) : [])] : '';
      if (b.op === 'with') rest.push(...beforeOp, ' ', b.op, ' ', right);
      else rest.push(...beforeOp, line, b.op, ' ', right);
    }
    // `base with { … }`: the object hugs `with` and breaks inside its own braces
    if (e.op === 'with') return [first, ...rest];
    return group([first, indent(rest)]);
  }

  private entry(en: ObjectEntry): Doc {
    const key = en.key.kind === 'Name' ? this.name(en.key) : this.string(en.key);
    return [key, ':', en.value ? [' ', this.expr(en.value)] : ''];
  }

  /** A string literal exactly as written, with interpolated expressions re-printed on one line. */
  private string(s: StringLit): Doc {
    const lead = this.lead(s.range.start.offset);
    const start = s.range.start.offset;
    const end = s.range.end.offset;
    const interps = s.parts.filter((p) => p.kind === 'Interpolation');
    const hasComment = this.next < this.comments.length && this.comments[this.next].range.start.offset < end;
    if (interps.length === 0 || hasComment) {
      // comments inside an interpolation: keep the literal verbatim, comments included
      while (this.next < this.comments.length && this.comments[this.next].range.start.offset < end) this.next++;
      return [...lead, this.src.slice(start, end)];
    }
    let out = '';
    let o = start;
    for (const p of interps) {
      if (p.kind !== 'Interpolation' || !p.expr) continue;
      let a = p.expr.range.start.offset;
      while (a > o && isWs(this.src.charCodeAt(a - 1))) a--;
      let b = p.expr.range.end.offset;
      out += this.src.slice(o, a);
      out += this.print(this.flat(this.expr(p.expr)));
      while (b < end && isWs(this.src.charCodeAt(b))) b++;
      o = b;
    }
    out += this.src.slice(o, end);
    return [...lead, out];
  }

  /** A document with every group flat and no line breaks (for interpolations). */
  private flat(d: Doc): Doc {
    if (typeof d === 'string') return d;
    if (Array.isArray(d)) return d.map((x) => this.flat(x));
    switch (d.t) {
      case 'line':
        return d.soft ? '' : ' ';
      case 'blankline':
        return ' ';
      case 'indent':
        return this.flat(d.contents);
      case 'group':
        return this.flat(d.contents);
      case 'ifBreak':
        return this.flat(d.flat);
      case 'comment':
        return d.text;
    }
  }
}

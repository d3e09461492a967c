// The Rein parser: Chevrotain `EmbeddedActionsParser` that builds the AST (ast.ts) directly.
//
// Design (see docs/grammar.md):
// - One parser instance, reused through `.input`. `recoveryEnabled: true`.
// - The token vector is split into *chunks* at declaration keywords that start a line; each chunk
//   is parsed on its own, so an error in one declaration never swallows the next one.
// - Declaration bodies (`policy`, `input`, object types, `rule`, `budget`, `test`) loop until `}`:
//   tokens that start no item are consumed by a `junk` rule that reports them once, so the body and
//   its name survive. A missing closing `}` is reported, not thrown.
// - Every expression slot is optional in the grammar and its absence is reported by hand
//   ("expected an expression after `and`"), so partial expressions stay in the AST
//   (`action.` → MemberExpr without property). Chevrotain's own exceptions (fixed keyword
//   sequences such as `on exceed`) get their wording from `errorMessageProvider`.
// - String interpolations are parsed after the chunk, from the string token's payload, by sub-lexing
//   the `${…}` text with shifted offsets.
// - The parser never throws: nesting is capped (MAX_DEPTH) and any unexpected failure of a chunk
//   becomes a diagnostic.

import { MAX_EXPR_DEPTH, limitExprDepth } from './depth.js';
import { EmbeddedActionsParser, EOF, type IToken, type TokenType, type IParserErrorMessageProvider, type IRecognitionException, type IOrAlt, type DSLMethodOpts } from 'chevrotain';
import { LineIndex, SEVERITIES, type Diagnostic, type Range } from '../diagnostics.js';
import type * as A from './ast.js';
import { BINARY_PRECEDENCE, NOT_PRECEDENCE } from './precedence.js';
import { suggest } from './suggest.js';
import {
  allTokens,
  lex,
  KW,
  AnyToken,
  Word,
  Name,
  Reserved,
  Identifier,
  StringLiteral,
  NumberLiteral,
  Money,
  Duration,
  Percent,
  AnnotationName,
  At,
  EqEq,
  NotEq,
  LtEq,
  GtEq,
  QQ,
  Arrow,
  Lt,
  Gt,
  Eq,
  Plus,
  Minus,
  Star,
  Slash,
  PercentOp,
  Dot,
  Comma,
  Colon,
  LParen,
  RParen,
  LBracket,
  RBracket,
  LCurly,
  RCurly,
  Pipe,
  Question,
  RESERVED_SET,
  type RawDiagnostic,
  type RawComment,
  type StringPayload,
  type NumberPayload,
  type MoneyPayload,
  type DurationPayload,
  type PercentPayload,
  DocComment,
  LineComment,
  BlockComment,
} from './lexer.js';

export { RESERVED_WORDS, CONTEXTUAL_KEYWORDS } from './keywords.js';

/** Maximum nesting of expressions (parentheses, lists, unary operators, …). */
export const MAX_DEPTH = 100;

type BodyCtx = 'top' | 'policy' | 'fields' | 'rule' | 'budget' | 'test' | 'interp';

interface SeqNot {
  t: 'not';
  tok: IToken;
}
interface SeqOp {
  t: 'op';
  op: A.BinaryOp;
  tok: IToken;
  end: number;
}
type SeqItem = SeqNot | SeqOp | { t: 'atom'; expr: A.Expr | undefined };

const PREC = BINARY_PRECEDENCE;
const NOT_PREC = NOT_PRECEDENCE;

class TooDeep extends Error {
  constructor(readonly token: IToken) {
    super('expression nested too deeply');
  }
}

// ------------------------------------------------------------------ token descriptions

function tokenLabel(t: TokenType): string {
  if (t === StringLiteral) return 'a string';
  if (t === NumberLiteral) return 'a number';
  if (t === Money) return 'an amount of money';
  if (t === Duration) return 'a duration';
  if (t === Percent) return 'a percentage';
  if (t === Identifier || t === Name || t === Word) return 'a name';
  if (t === AnnotationName) return 'an annotation';
  if (t === EOF) return 'the end of the file';
  if (t.name.startsWith('Kw_') || t.name.startsWith('Reserved_')) return `\`${t.name.replace(/^(Kw|Reserved)_/, '')}\``;
  const p = t.PATTERN;
  if (typeof p === 'string') return `\`${p}\``;
  return t.name;
}

function show(tok: IToken | undefined): string {
  if (!tok || tok.tokenType === EOF || Number.isNaN(tok.startOffset)) return 'the end of the file';
  const img = tok.image.length > 24 ? tok.image.slice(0, 23) + '…' : tok.image;
  return `\`${img.replace(/`/g, "'")}\``;
}

/** What each rule parses, for "expected … after …" messages. */
const RULE_WHAT: Record<string, string> = {
  declarations: 'a declaration',
  decl: 'a declaration (`rule`, `budget`, `let`, `def`, `type`, `input`, `policy` or `test`)',
  declName: 'a name',
  refName: 'a name',
  annotation: 'an annotation',
  policyItem: '`version`, `default`, `on error`, `currency` or `combine`',
  policyEffect: '`allow` or `deny`',
  field: 'a field',
  typeExpr: 'a type',
  ruleItem: '`when`, `unless` or an effect',
  condition: '`when` or `unless`',
  effectClause: 'an effect (`deny`, `require approval`, `warn` or `allow`)',
  budgetItem: 'a budget clause',
  window: '`minute`, `hour`, `day`, `week`, `month`, `request` or a duration',
  testItem: 'a test step',
  expectEffect: '`allow`, `deny` or `require_approval`',
  expectTail: '`warnings` or an effect (`allow`, `deny`, `require_approval`)',
  testName: 'a test name (a string)',
  primary: 'an expression',
  objectKey: 'a key',
};

const DECL_NOUN: Record<string, string> = {
  ruleDecl: 'the rule name',
  budgetDecl: 'the budget name',
  testDecl: 'the test name',
  policyDecl: 'the policy name',
  letDecl: 'the name',
  defDecl: 'the name',
  typeDecl: 'the type name',
  externDecl: 'the name',
};

const errorMessageProvider: IParserErrorMessageProvider = {
  buildMismatchTokenMessage({ expected, previous, ruleName }) {
    const label = tokenLabel(expected);
    if (expected === LCurly && DECL_NOUN[ruleName] && previous && previous.tokenType !== EOF && (previous.tokenType === Identifier || isWordTok(previous)) && !isDeclKeyword(previous)) {
      return `expected ${label} after ${DECL_NOUN[ruleName]}`;
    }
    if (expected === LParen && (ruleName === 'defDecl' || ruleName === 'externDecl')) {
      return `expected ${label} and the parameters after ${previous && !isDeclKeyword(previous) ? 'the name' : show(previous)}`;
    }
    if (expected === RParen && (ruleName === 'defDecl' || ruleName === 'externDecl')) {
      return `expected \`)\` to close the parameter list`;
    }
    return previous && !Number.isNaN(previous.startOffset) ? `expected ${label} after ${show(previous)}` : `expected ${label}`;
  },
  buildNotAllInputParsedMessage({ firstRedundant }) {
    return `unexpected ${show(firstRedundant)}`;
  },
  buildNoViableAltMessage({ previous, ruleName }) {
    const what = RULE_WHAT[ruleName] ?? 'something else';
    return previous && !Number.isNaN(previous.startOffset) ? `expected ${what} after ${show(previous)}` : `expected ${what}`;
  },
  buildEarlyExitMessage({ previous, ruleName }) {
    const what = RULE_WHAT[ruleName] ?? 'something else';
    return previous && !Number.isNaN(previous.startOffset) ? `expected ${what} after ${show(previous)}` : `expected ${what}`;
  },
};

const DECL_KEYWORDS = ['policy', 'input', 'type', 'let', 'def', 'extern', 'rule', 'budget', 'test', 'data'] as const;
const declKeywordTypes = new Set<TokenType>(DECL_KEYWORDS.map((k) => KW[k]));

function isDeclKeyword(t: IToken): boolean {
  return declKeywordTypes.has(t.tokenType);
}
function isWordTok(t: IToken): boolean {
  const c = t.tokenType.CATEGORIES;
  return t.tokenType === Identifier || (!!c && c.includes(Word));
}
function isNameTok(t: IToken): boolean {
  const c = t.tokenType.CATEGORIES;
  return t.tokenType === Identifier || (!!c && c.includes(Name));
}

/** What may follow `per` (for did-you-mean). */
const WINDOW_WORDS = ['minute', 'hour', 'day', 'week', 'month', 'request', 'rolling'] as const;

/** Tokens that start an item of each body (used by junk skipping and by the "next item" heuristic). */
const ITEM_STARTS: Record<BodyCtx, Set<TokenType>> = {
  top: new Set([...declKeywordTypes, AnnotationName]),
  policy: new Set([KW.version, KW.default, KW.on, KW.currency, KW.combine]),
  fields: new Set(),
  rule: new Set([KW.when, KW.unless, KW.deny, KW.require, KW.warn, KW.allow, KW.set, KW.redact]),
  budget: new Set([KW.limit, KW.charge, KW.by, KW.when, KW.unless, KW.warn, KW.on, KW.burst]),
  test: new Set([KW.given, KW.spent, KW.at, KW.approved, KW.expect, KW.extern, KW.data]),
  interp: new Set(),
};

const JUNK_MESSAGE: Record<BodyCtx, string> = {
  top: 'expected a declaration (`rule`, `budget`, `let`, `def`, `type`, `input`, `policy` or `test`)',
  policy: 'expected `version`, `default`, `on error`, `currency`, `combine` or `}` in the policy header',
  fields: 'expected a field (`name: type`) or `}`',
  rule: 'expected `when`, `unless`, `deny`, `require approval`, `warn`, `allow` or `}` in a rule',
  budget: 'expected `limit`, `charge`, `by`, `when`, `unless`, `warn at`, `on exceed` or `}` in a budget',
  test: 'expected `given`, `spent`, `at`, `approved`, `expect` or `}` in a test',
  interp: 'expected the end of the interpolation',
};

/** Words a misspelling out of place most likely meant (`quorom 2`, `per 30d anchord`): did you mean. */
const JUNK_NEAR: Partial<Record<BodyCtx, string[]>> = {
  rule: ['quorum', 'expires'],
  budget: ['anchored', 'quorum', 'expires'],
};

const OPENERS = new Set<TokenType>([LParen, LBracket, LCurly]);
const CLOSERS = new Set<TokenType>([RParen, RBracket, RCurly]);

/**
 * Reserved words that continue an expression after an operand (`type in xs`, `rule and x`,
 * `type not in xs`, `let matches "re"`, `def with {…}`, `if\n rule then …`): after a declaration
 * keyword at the start of a line they mean the keyword is an operand (an input field may be named
 * `type`, `rule`, …), not a declaration, whose name cannot be a reserved word anyway.
 */
const CONTINUES_OPERAND = new Set<string>(['and', 'or', 'in', 'not', 'matches', 'with', 'then', 'else']);

/** Clause keywords of the bodies (`deny`, `when`, `limit`, `expect`, …) that start no declaration. */
const CLAUSE_KEYWORDS = new Set<TokenType>(
  [...ITEM_STARTS.policy, ...ITEM_STARTS.rule, ...ITEM_STARTS.budget, ...ITEM_STARTS.test].filter((t) => !declKeywordTypes.has(t)),
);

/**
 * May `t2` be the name after the declaration keyword `t1`? Reserved words are (for REIN104), except
 * those that continue an operand; and a clause keyword on a later line is the next clause after a
 * keyword that ended an operand (`when a and⏎  rule⏎  deny "m"`: `rule` is an input field).
 */
function declName(t1: IToken, t2: IToken, text: string | undefined): boolean {
  if (!isWordTok(t2) || CONTINUES_OPERAND.has(t2.image)) return false;
  if (text !== undefined && CLAUSE_KEYWORDS.has(t2.tokenType)) {
    for (let k = t1.startOffset + t1.image.length; k < t2.startOffset; k++) {
      const c = text.charCodeAt(k);
      if (c === 10 || c === 13) return false;
    }
  }
  return true;
}

/** Does the declaration-start pattern hold at tokens[i]? (keyword + what must follow it; `text`, the
 *  file's, tells where lines end) */
function startsDecl(t1: IToken, t2: IToken | undefined, t3: IToken | undefined, text: string | undefined): boolean {
  const t = t1.tokenType;
  if (t === AnnotationName) return true;
  if (!declKeywordTypes.has(t)) return false;
  if (!t2 || t2.tokenType === EOF) return t === KW.input || t === KW.policy;
  switch (t) {
    case KW.policy:
      return t2.tokenType === LCurly || declName(t1, t2, text);
    case KW.input:
      return t2.tokenType === LCurly;
    case KW.extern:
      return t2.tokenType === KW.def;
    case KW.test:
      return t2.tokenType === StringLiteral || t2.tokenType === LCurly;
    case KW.data:
      // `data NAME: T from "f"` (`data` is also a common name: `data.x`, `data matches …` at the start
      // of a continued line are operands; in a test, `data NAME = v` is a step)
      return isNameTok(t2) && (t3?.tokenType === Colon || t3?.tokenType === KW.from);
    default:
      return declName(t1, t2, text);
  }
}

interface Pending {
  node: A.Interpolation;
  innerStart: number;
  innerEnd: number;
  /** How many `${…}` enclose this one (1 for an interpolation in a top-level string). */
  level: number;
}

// Alternatives and gated DSL options are built through these helpers so that the closures are
// plain call arguments: tools that preserve function names (esbuild `keepNames`, used by tsx)
// would otherwise wrap every `{ ALT: () => … }` in a costly `__name(…)` call on each parse step.
function alt<T>(f: () => T, ignoreAmbiguities = false): IOrAlt<T> {
  return ignoreAmbiguities ? { ALT: f, IGNORE_AMBIGUITIES: true } : { ALT: f };
}
function gated<T>(gate: () => boolean, def: () => T): DSLMethodOpts<T> {
  return { GATE: gate, DEF: def };
}

// ------------------------------------------------------------------ the parser

class ReinParser extends EmbeddedActionsParser {
  // per-parse state
  text = '';
  li: LineIndex = new LineIndex('');
  diags: (RawDiagnostic & { junk?: boolean })[] = [];
  pending: Pending[] = [];
  /** The `${…}` nesting level of the text being parsed (0 outside interpolations). */
  interpLevel = 0;
  eofOffset = 0;
  depth = 0;
  ctx: BodyCtx = 'top';
  // OR alternatives of hot rules, built once (Chevrotain performance idiom)
  primaryAlts?: IOrAlt<A.Expr>[];
  binopAlts?: IOrAlt<SeqOp>[];
  unaryAlts?: IOrAlt<A.Expr>[];
  /** End offset of the last effect clause that had no message (for "message must be a literal"). */
  effectEnd = -1;
  /** The declarations parsed so far in the current chunk (see `declarations`). */
  topDecls: A.Decl[] = [];

  /**
   * `validate`: run Chevrotain's grammar validations (ambiguities, left recursion, …). They cost
   * about a third of the construction time and cannot fail at run time for a fixed grammar, so the
   * shared instance skips them; `grammarErrors()` (run by a test) builds a validating instance.
   * LL(1) everywhere: the grammar needs no more (the validations prove it), and k = 1 makes the
   * lookahead precomputation several times cheaper than k = 2.
   */
  constructor(validate = false) {
    super(allTokens, { recoveryEnabled: true, maxLookahead: 1, errorMessageProvider, skipValidations: !validate });
    this.performSelfAnalysis();
    // Bodies skip junk themselves; Chevrotain's in-repetition re-sync is not needed and, with the
    // catch-all `AnyToken` category, it can spin at the end of input.
    (this as unknown as { attemptInRepetitionRecovery: () => void }).attemptInRepetitionRecovery = () => undefined;
    // Single-token insertion is only worth it when the next token is something specific that may
    // follow the missing one, not merely "any token" (the junk alternative of a body).
    const self = this as unknown as { canRecoverWithSingleTokenInsertion: (t: TokenType, follows: TokenType[]) => boolean };
    const insertion = self.canRecoverWithSingleTokenInsertion;
    self.canRecoverWithSingleTokenInsertion = function (this: unknown, t: TokenType, follows: TokenType[]) {
      return insertion.call(this, t, follows.filter((f) => f !== AnyToken));
    };
  }

  // ---------------------------------------------------------------- helpers (not grammar)

  rng(start: number, end: number): Range {
    return this.li.range(start, end < start ? start : end);
  }
  tokRange(t: IToken): Range {
    return this.rng(t.startOffset, t.startOffset + t.image.length);
  }
  real(t: IToken | undefined): t is IToken {
    return !!t && !t.isInsertedInRecovery && !Number.isNaN(t.startOffset) && t.tokenType !== EOF;
  }
  /** Start offset of the next token (end of input: end of the last token). */
  s(): number {
    const t = this.LA(1);
    return this.real(t) ? t.startOffset : this.eofOffset;
  }
  /** End offset of the last consumed token. */
  e(): number {
    const t = this.LA(0);
    return this.real(t) ? t.startOffset + t.image.length : 0;
  }
  from(start: number): Range {
    return this.rng(start, Math.max(start, this.e()));
  }
  report(code: RawDiagnostic['code'], message: string, start: number, end: number, help?: string, junk = false): void {
    this.diags.push({ code, message, start, end, help, junk });
  }
  /** Report that something is missing after `prev`: the range is the next token when it is on the same line, else `prev`. */
  missing(what: string, prev: IToken | undefined, candidates?: readonly string[]): void {
    const next = this.LA(1);
    const p = this.real(prev) ? prev : undefined;
    const msg = p ? `expected ${what} after ${show(p)}` : `expected ${what}`;
    if (this.real(next) && (!p || !this.newlineBetween(p.startOffset + p.image.length, next.startOffset))) {
      // A misspelt keyword (`per rollng 1h`): did you mean …?
      const near = candidates && isNameTok(next) ? suggest(next.image, candidates) : undefined;
      this.report('REIN101', msg, next.startOffset, next.startOffset + next.image.length, near ? `did you mean \`${near}\`?` : undefined);
    } else if (p) {
      this.report('REIN101', msg, p.startOffset, p.startOffset + p.image.length);
    } else {
      this.report('REIN101', msg, this.eofOffset, this.eofOffset);
    }
  }
  newlineBetween(a: number, b: number): boolean {
    for (let i = a; i < b; i++) {
      const c = this.text.charCodeAt(i);
      if (c === 10 || c === 13) return true;
    }
    return false;
  }
  /**
   * True when LA(1) looks like the start of the next item of the current body rather than an
   * operand: a clause keyword (`deny`, `when`, …) that is on a later line than `after`, or that is
   * followed by a string, `}`, the end of input or `approval` (`when a and deny "m"`).
   */
  nextIsItemOnNewLine(after: IToken | undefined): boolean {
    const t = this.LA(1);
    if (!this.real(t) || !this.real(after)) return false;
    const t2 = this.LA(2);
    const isDecl = declKeywordTypes.has(t.tokenType) && startsDecl(t, t2, this.LA(3), this.text);
    // at the top level only a real declaration start (`rule NAME`, `type NAME`, …) ends an operand:
    // `let a = type` and `def f(rule: int) = rule` at the end of the input are names
    if (!isDecl && (this.ctx === 'top' || !ITEM_STARTS[this.ctx].has(t.tokenType))) return false;
    if (this.newlineBetween(after.startOffset + after.image.length, t.startOffset)) return true;
    if (isDecl) return false;
    const n = t2.tokenType;
    return n === StringLiteral || n === RCurly || n === EOF || n === KW.approval;
  }
  /** Gate for the word after `.`: a word on the same line is always the member name. */
  memberNameOk(dot: IToken): boolean {
    const t = this.LA(1);
    if (this.real(t) && this.real(dot) && !this.newlineBetween(dot.startOffset + dot.image.length, t.startOffset)) return true;
    return !this.nextIsItemOnNewLine(dot);
  }
  /** Gate for an operand after an operator: not when the next token starts the next clause. */
  operandOk = (): boolean => !this.nextIsItemOnNewLine(this.LA(0));
  /** Length of the same-line whitespace before `t` (-1 when a line break or comment separates it). */
  gapBefore(t: IToken): number {
    let k = t.startOffset - 1;
    while (k >= 0 && (this.text[k] === ' ' || this.text[k] === '\t')) k--;
    return t.startOffset - 1 - k;
  }
  noteEffect(message: A.StringLit | undefined): void {
    this.effectEnd = message ? -1 : this.e();
  }
  atBodyEnd(): boolean {
    const t = this.LA(1).tokenType;
    return t === EOF || t === RCurly;
  }
  mkName(t: IToken): A.Name {
    return { kind: 'Name', text: t.image, range: this.tokRange(t) };
  }
  mkString(t: IToken): A.StringLit {
    const p = t.payload as StringPayload | undefined;
    const base = t.startOffset;
    const parts: (A.StringText | A.Interpolation)[] = [];
    for (const piece of p?.pieces ?? []) {
      if (piece.kind === 'text') {
        parts.push({ kind: 'Text', value: piece.value, range: this.rng(base + piece.start, base + piece.end) });
      } else {
        const node: A.Interpolation = { kind: 'Interpolation', range: this.rng(base + piece.start, base + piece.end) };
        parts.push(node);
        this.pending.push({ node, innerStart: base + piece.innerStart, innerEnd: base + piece.innerEnd, level: this.interpLevel + 1 });
      }
    }
    if (parts.length === 0) parts.push({ kind: 'Text', value: '', range: this.rng(base + 1, base + 1) });
    return { kind: 'String', parts, raw: t.image, range: this.tokRange(t) };
  }
  enter(): void {
    if (++this.depth > MAX_DEPTH) throw new TooDeep(this.LA(1));
  }
  binary(op: A.BinaryOp, opTok: IToken, opEnd: number, left: A.Expr, right: A.Expr | undefined): A.BinaryExpr {
    const start = left.range.start.offset;
    return {
      kind: 'Binary',
      op,
      opRange: this.rng(opTok.startOffset, opEnd),
      left,
      right,
      range: this.rng(start, Math.max(opEnd, right ? right.range.end.offset : opEnd)),
    };
  }
  /** Optional-expression helper result handling. */
  need(e: A.Expr | undefined, what: string, prev: IToken | undefined): A.Expr | undefined {
    if (!e) this.missing(what, prev);
    return e;
  }

  // ---------------------------------------------------------------- top level

  declarations = this.RULE('declarations', (): A.Decl[] => {
    // kept on the parser too: when a later declaration of the chunk fails without recovery, the
    // top rule returns nothing, but the declarations already parsed must not be lost
    const decls: A.Decl[] = (this.topDecls = []);
    this.many(1, gated(() => this.LA(1).tokenType !== EOF, () => {
        this.or(1, { MAX_LOOKAHEAD: 1, DEF: [
          alt(() => {
              const d = this.subrule(1, this.decl);
              this.ACTION(() => {
                if (d) decls.push(d);
              });
            }),
          alt(() => this.subrule(2, this.junk, { ARGS: ['top'] }), true),
        ]});
      }));
    return decls;
  });

  /** Consumes tokens that start no item of `ctx`, reporting them once. */
  junk = this.RULE('junk', (ctx: BodyCtx): undefined => {
    const first = this.consume(1, AnyToken);
    let depth = 0;
    this.ACTION(() => {
      if (OPENERS.has(first.tokenType)) depth++;
    });
    this.many(1, gated(() => {
        const t = this.LA(1);
        if (t.tokenType === EOF) return false;
        if (depth > 0) return true;
        if (ctx !== 'top' && t.tokenType === RCurly) return false;
        if (ctx === 'top') return !startsDecl(t, this.LA(2), this.LA(3), this.text);
        return !ITEM_STARTS[ctx].has(t.tokenType);
      }, () => {
        const t = this.consume(2, AnyToken);
        this.ACTION(() => {
          if (OPENERS.has(t.tokenType)) depth++;
          else if (CLOSERS.has(t.tokenType) && depth > 0) depth--;
        });
      }));
    this.ACTION(() => {
      if (!this.real(first)) return;
      let message = `unexpected ${show(first)}: ${JUNK_MESSAGE[ctx]}`;
      if (ctx === 'top' && first.tokenType === RCurly) message = 'unexpected `}`: no block is open here';
      if (ctx === 'top' && first.tokenType === At) message = 'expected an annotation name after `@`';
      if ((ctx === 'rule' || ctx === 'budget') && this.effectEnd === first.startOffset - this.gapBefore(first)) {
        message = `an effect message must be a string literal, found ${show(first)}`;
      }
      // operators people bring from other languages, where a body expected its next item
      let help: string | undefined;
      if (ctx !== 'top' && first.tokenType === Eq) help = 'to compare, write `==`';
      else if (first.tokenType === Pipe && this.LA(0)?.tokenType !== Pipe && this.text[first.startOffset + 1] === '|') help = 'write `or`';
      else if (isNameTok(first) && JUNK_NEAR[ctx] !== undefined) {
        const near = suggest(first.image, JUNK_NEAR[ctx]!);
        if (near !== undefined) help = `did you mean \`${near}\`?`;
      }
      this.report('REIN101', message, first.startOffset, Math.max(first.startOffset + first.image.length, this.e()), help, true);
    });
    return undefined;
  });

  decl = this.RULE('decl', (): A.Decl | undefined => {
    const start = this.ACTION(() => this.s());
    const annotations: A.Annotation[] = [];
    this.many(1, () => {
      const a = this.subrule(1, this.annotation);
      this.ACTION(() => {
        if (a) annotations.push(a);
      });
    });
    const d: A.Decl | undefined = this.or(1, [
      alt(() => this.subrule(2, this.policyDecl)),
      alt(() => this.subrule(3, this.inputDecl)),
      alt(() => this.subrule(4, this.typeDecl)),
      alt(() => this.subrule(5, this.letDecl)),
      alt(() => this.subrule(6, this.defDecl)),
      alt(() => this.subrule(7, this.externDecl)),
      alt(() => this.subrule(8, this.ruleDecl)),
      alt(() => this.subrule(9, this.budgetDecl)),
      alt(() => this.subrule(10, this.testDecl)),
      alt(() => this.subrule(11, this.dataDecl)),
    ]);
    return this.ACTION(() => {
      if (!d) return undefined;
      d.annotations = annotations;
      if (annotations.length) {
        d.head = d.range.start;
        d.range = this.rng(start, d.range.end.offset);
      }
      return d;
    });
  });

  annotation = this.RULE('annotation', (): A.Annotation | undefined => {
    const t = this.consume(1, AnnotationName);
    let value: A.StringLit | undefined;
    this.option(1, () => {
      const open = this.consume(2, LParen);
      const v = this.option(2, () => this.consume(3, StringLiteral));
      this.ACTION(() => {
        if (v) value = this.mkString(v);
        else this.missing('a string (the annotation value)', open);
      });
      const close = this.option(3, () => this.consume(4, RParen));
      this.ACTION(() => {
        if (!close && v) this.missing('`)`', v);
      });
    });
    return this.ACTION(() => ({
      kind: 'Annotation' as const,
      name: { kind: 'Name' as const, text: t.image.slice(1), range: this.rng(t.startOffset + 1, t.startOffset + t.image.length) },
      value,
      range: this.from(t.startOffset),
    }));
  });

  /** A declaration name: an identifier or contextual keyword; a reserved word is REIN104 but kept. */
  declName = this.RULE('declName', (): A.Name | undefined => {
    return this.or(1, [
      alt(() => this.mkNameAction(this.consume(1, Name))),
      alt(() => {
          const t = this.consume(2, Reserved);
          this.ACTION(() => {
            if (this.real(t)) this.report('REIN104', `\`${t.image}\` is a reserved word and cannot be used as a name`, t.startOffset, t.startOffset + t.image.length, 'rename it');
          });
          return this.mkNameAction(t);
        }),
    ]);
  });

  mkNameAction(t: IToken): A.Name | undefined {
    return this.ACTION(() => (this.real(t) ? this.mkName(t) : undefined));
  }

  /** A brace-delimited body; `open` is the `{` token. Reports a missing `}`. */
  closeBody(open: IToken | undefined, what: string): void {
    if (this.LA(1).tokenType === RCurly) return;
    if (this.real(open)) this.report('REIN101', `expected \`}\` to close ${what}`, open.startOffset, open.startOffset + 1, 'the `{` here is never closed');
    else this.report('REIN101', `expected \`}\` to close ${what}`, this.eofOffset, this.eofOffset);
  }

  // ---------------------------------------------------------------- policy header

  policyDecl = this.RULE('policyDecl', (): A.PolicyDecl => {
    const kw = this.consume(1, KW.policy);
    const name = this.option(1, () => this.subrule(1, this.declName));
    const open = this.consume(2, LCurly);
    const items: A.PolicyItem[] = [];
    this.ACTION(() => (this.ctx = 'policy'));
    this.many(1, gated(() => !this.atBodyEnd(), () =>
        this.or(1, { MAX_LOOKAHEAD: 1, DEF: [
          alt(() => {
              const it = this.subrule(2, this.policyItem);
              this.ACTION(() => it && items.push(it));
            }),
          alt(() => this.subrule(3, this.junk, { ARGS: ['policy'] }), true),
        ]})));
    this.ACTION(() => this.closeBody(open, 'the policy header'));
    this.option(2, () => this.consume(3, RCurly));
    return this.ACTION(() => ({ kind: 'PolicyDecl' as const, name, items, annotations: [], range: this.from(kw.startOffset) }))!;
  });

  policyItem = this.RULE('policyItem', (): A.PolicyItem | undefined => {
    const start = this.ACTION(() => this.s());
    return this.or(1, [
      alt(() => {
          const kw = this.consume(1, KW.version);
          const v = this.option(1, () => this.consume(2, StringLiteral));
          return this.ACTION(() => {
            if (!v) return void this.missing('a version string (e.g. `"1.0.0"`)', kw);
            return { kind: 'PolicyVersion' as const, value: this.mkString(v), range: this.from(start) };
          });
        }),
      alt(() => {
          this.consume(3, KW.default);
          const eff = this.subrule(1, this.policyEffect);
          return this.ACTION(() => (eff ? { kind: 'PolicyDefault' as const, effect: eff.effect, effectRange: eff.range, range: this.from(start) } : undefined));
        }),
      alt(() => {
          this.consume(4, KW.on);
          this.consume(5, KW.error);
          const eff = this.subrule(2, this.policyEffect);
          return this.ACTION(() => (eff ? { kind: 'PolicyOnError' as const, effect: eff.effect, effectRange: eff.range, range: this.from(start) } : undefined));
        }),
      alt(() => {
          const kw = this.consume(6, KW.currency);
          const v = this.option(2, () => this.consume(7, StringLiteral));
          return this.ACTION(() => {
            if (!v) return void this.missing('a currency code string (e.g. `"USD"`)', kw);
            return { kind: 'PolicyCurrency' as const, value: this.mkString(v), range: this.from(start) };
          });
        }),
      alt(() => {
          const kw = this.consume(8, KW.combine);
          const v = this.option(3, () => this.consume(9, Name));
          return this.ACTION(() => {
            if (!v || !this.real(v)) return void this.missing('a combining algorithm (`deny_overrides` or `first_match`)', kw);
            return { kind: 'PolicyCombine' as const, algorithm: this.mkName(v), range: this.from(start) };
          });
        }),
    ]);
  });

  policyEffect = this.RULE('policyEffect', (): { effect: 'allow' | 'deny'; range: Range } | undefined => {
    const t = this.or(1, [alt(() => this.consume(1, KW.allow)), alt(() => this.consume(2, KW.deny))]);
    return this.ACTION(() => (this.real(t) ? { effect: t.image as 'allow' | 'deny', range: this.tokRange(t) } : undefined));
  });

  // ---------------------------------------------------------------- input and types

  inputDecl = this.RULE('inputDecl', (): A.InputDecl => {
    const kw = this.consume(1, KW.input);
    const open = this.consume(2, LCurly);
    const fields = this.subrule(1, this.fieldList);
    this.ACTION(() => this.closeBody(open, 'the input'));
    this.option(1, () => this.consume(3, RCurly));
    return this.ACTION(() => ({ kind: 'InputDecl' as const, fields: fields ?? [], annotations: [], range: this.from(kw.startOffset) }))!;
  });

  /** Fields up to (not including) the closing `}`; commas optional. */
  fieldList = this.RULE('fieldList', (): A.FieldDecl[] => {
    const fields: A.FieldDecl[] = [];
    const saved = this.ACTION(() => this.ctx);
    this.ACTION(() => (this.ctx = 'fields'));
    this.many(1, gated(() => !this.atBodyEnd(), () =>
        this.or(1, { MAX_LOOKAHEAD: 1, DEF: [
          alt(() => {
              const f = this.subrule(1, this.field);
              this.ACTION(() => f && fields.push(f));
              this.option(1, () => this.consume(1, Comma));
            }),
          alt(() => this.subrule(2, this.junk, { ARGS: ['fields'] }), true),
        ]})));
    this.ACTION(() => (this.ctx = saved!));
    return fields;
  });

  field = this.RULE('field', (): A.FieldDecl | undefined => {
    const nameTok = this.consume(1, Word);
    const q = this.option(1, () => this.consume(2, Question));
    const colon = this.consume(3, Colon);
    const type = this.option(2, gated(() => !this.nextIsItemOnNewLine(colon), () => this.subrule(1, this.typeExpr)));
    return this.ACTION(() => {
      if (!this.real(nameTok)) return undefined;
      if (!type) this.missing('a type', this.real(colon) ? colon : nameTok);
      return { kind: 'FieldDecl' as const, name: this.mkName(nameTok), optional: !!q, type, range: this.from(nameTok.startOffset) };
    });
  });

  typeExpr = this.RULE('typeExpr', (): A.TypeExpr | undefined => {
    const start = this.ACTION(() => this.s());
    return this.or(1, [
      alt(() => {
          const first = this.consume(1, StringLiteral);
          const members: A.StringLit[] = [];
          this.ACTION(() => members.push(this.mkString(first)));
          this.many(1, () => {
            const bar = this.consume(2, Pipe);
            const m = this.option(1, () => this.consume(3, StringLiteral));
            this.ACTION(() => {
              if (m) members.push(this.mkString(m));
              else this.missing('a string literal (unions are of string literals only)', bar);
            });
          });
          return this.ACTION(() => ({ kind: 'UnionType' as const, members, range: this.from(start) }));
        }),
      alt(() => {
          const open = this.consume(4, LCurly);
          const fields = this.subrule(1, this.fieldList);
          this.ACTION(() => this.closeBody(open, 'the object type'));
          this.option(2, () => this.consume(5, RCurly));
          return this.ACTION(() => ({ kind: 'ObjectType' as const, fields: fields ?? [], range: this.from(start) }));
        }),
      alt(() => {
          const n = this.consume(6, Name);
          const args: A.TypeExpr[] = [];
          this.option(3, () => {
            const lt = this.consume(7, Lt);
            const a1 = this.option(4, () => this.subrule(2, this.typeExpr));
            this.ACTION(() => (a1 ? args.push(a1) : this.missing('a type', lt)));
            this.many(2, () => {
              const c = this.consume(8, Comma);
              const a = this.option(5, () => this.subrule(3, this.typeExpr));
              this.ACTION(() => (a ? args.push(a) : this.missing('a type', c)));
            });
            const gt = this.option(6, () => this.consume(9, Gt));
            this.ACTION(() => {
              if (!gt) this.missing('`>`', this.LA(0));
            });
          });
          // `int | string`: unions are of string literals only; report once and skip the rest
          this.many(3, () => {
            const bar = this.consume(10, Pipe);
            this.option(7, () => this.subrule(4, this.typeExpr));
            this.ACTION(() => this.report('REIN101', 'a union type lists string literals only (`"a" | "b"`)', bar.startOffset, this.e()));
          });
          return this.ACTION(() => (this.real(n) ? { kind: 'TypeName' as const, name: this.mkName(n), args, range: this.from(start) } : undefined));
        }),
    ]);
  });

  typeDecl = this.RULE('typeDecl', (): A.TypeDecl => {
    const kw = this.consume(1, KW.type);
    const name = this.option(9, () => this.subrule(1, this.declName));
    this.ACTION(() => !name && this.missing('a name', kw));
    const eq = this.consume(2, Eq);
    const type = this.option(1, () => this.subrule(2, this.typeExpr));
    return this.ACTION(() => {
      if (!type) this.missing('a type', this.real(eq) ? eq : this.LA(0));
      return { kind: 'TypeDecl' as const, name, type, annotations: [], range: this.from(kw.startOffset) };
    })!;
  });

  // ---------------------------------------------------------------- let / def / extern

  letDecl = this.RULE('letDecl', (): A.LetDecl => {
    const kw = this.consume(1, KW.let);
    const name = this.option(9, () => this.subrule(1, this.declName));
    this.ACTION(() => !name && this.missing('a name', kw));
    let type: A.TypeExpr | undefined;
    this.option(1, () => {
      const c = this.consume(2, Colon);
      type = this.option(2, () => this.subrule(2, this.typeExpr));
      this.ACTION(() => !type && this.missing('a type', c));
    });
    const eq = this.consume(3, Eq);
    const value = this.option(3, gated(() => !this.nextIsItemOnNewLine(eq), () => this.subrule(3, this.expression)));
    return this.ACTION(() => {
      this.need(value, 'a value', this.real(eq) ? eq : this.LA(0));
      return { kind: 'LetDecl' as const, name, type, value, annotations: [], range: this.from(kw.startOffset) };
    })!;
  });

  /** `data NAME: TYPE from "file.json"` (docs/data.md): a `LetDecl` with a `source` and no value. */
  dataDecl = this.RULE('dataDecl', (): A.LetDecl => {
    const kw = this.consume(1, KW.data);
    const name = this.option(9, () => this.subrule(1, this.declName));
    this.ACTION(() => !name && this.missing('a name', kw));
    let type: A.TypeExpr | undefined;
    let colon: IToken | undefined;
    this.option(1, () => {
      colon = this.consume(2, Colon);
      type = this.option(2, () => this.subrule(2, this.typeExpr));
    });
    const from = this.consume(3, KW.from);
    const file = this.option(3, () => this.consume(4, StringLiteral));
    return this.ACTION(() => {
      if (!type) this.missing('a type', colon ?? kw);
      if (!file || !this.real(file)) this.missing('the data file (a string)', this.real(from) ? from : this.LA(0));
      const d: A.LetDecl = { kind: 'LetDecl' as const, name, type, annotations: [], range: this.from(kw.startOffset) };
      if (file && this.real(file)) d.source = this.mkString(file);
      return d;
    })!;
  });

  params = this.RULE('params', (): A.Param[] => {
    const params: A.Param[] = [];
    this.option(1, () => {
      const p = this.subrule(1, this.param);
      this.ACTION(() => p && params.push(p));
      this.many(1, () => {
        const c = this.consume(1, Comma);
        const q = this.option(2, () => this.subrule(2, this.param));
        this.ACTION(() => {
          if (q) params.push(q);
          else if (this.LA(1).tokenType !== RParen) this.missing('a parameter', c);
        });
      });
    });
    return params;
  });

  param = this.RULE('param', (): A.Param | undefined => {
    const start = this.ACTION(() => this.s());
    const name = this.subrule(1, this.declName);
    let type: A.TypeExpr | undefined;
    this.option(1, () => {
      const c = this.consume(1, Colon);
      type = this.option(2, () => this.subrule(2, this.typeExpr));
      this.ACTION(() => !type && this.missing('a type', c));
    });
    return this.ACTION(() => (name ? { kind: 'Param' as const, name, type, range: this.from(start!) } : undefined));
  });

  defDecl = this.RULE('defDecl', (): A.DefDecl => {
    const kw = this.consume(1, KW.def);
    const name = this.option(9, () => this.subrule(1, this.declName));
    this.ACTION(() => !name && this.missing('a name', kw));
    this.consume(2, LParen);
    const params = this.subrule(2, this.params);
    this.consume(3, RParen);
    let returnType: A.TypeExpr | undefined;
    this.option(1, () => {
      const c = this.consume(4, Colon);
      returnType = this.option(2, () => this.subrule(3, this.typeExpr));
      this.ACTION(() => !returnType && this.missing('a return type', c));
    });
    const eq = this.consume(5, Eq);
    const body = this.option(3, gated(() => !this.nextIsItemOnNewLine(eq), () => this.subrule(4, this.expression)));
    return this.ACTION(() => {
      this.need(body, 'the function body (an expression)', this.real(eq) ? eq : this.LA(0));
      return { kind: 'DefDecl' as const, name, params: params ?? [], returnType, body, annotations: [], range: this.from(kw.startOffset) };
    })!;
  });

  externDecl = this.RULE('externDecl', (): A.ExternDecl => {
    const kw = this.consume(1, KW.extern);
    const defKw = this.consume(2, KW.def);
    const name = this.option(9, () => this.subrule(1, this.declName));
    this.ACTION(() => !name && this.missing('a name', defKw));
    this.consume(3, LParen);
    const params = this.subrule(2, this.params);
    this.consume(4, RParen);
    let returnType: A.TypeExpr | undefined;
    this.option(1, () => {
      const c = this.consume(5, Colon);
      returnType = this.option(2, () => this.subrule(3, this.typeExpr));
      this.ACTION(() => !returnType && this.missing('a return type', c));
    });
    let timeout: A.DurationLit | undefined;
    this.option(3, () => {
      const t = this.consume(6, KW.timeout);
      const d = this.option(4, () => this.consume(7, Duration));
      this.ACTION(() => {
        if (d && this.real(d)) timeout = this.durationLit(d);
        else this.missing('a duration (e.g. `200ms`)', t);
      });
    });
    let onError: A.ExternDecl['onError'];
    this.option(5, () => {
      this.consume(8, KW.on);
      this.consume(9, KW.error);
      onError = this.subrule(4, this.policyEffect);
    });
    return this.ACTION(() => {
      const d: A.ExternDecl = { kind: 'ExternDecl' as const, name, params: params ?? [], returnType, annotations: [], range: this.from(kw.startOffset) };
      if (timeout) d.timeout = timeout;
      if (onError) d.onError = onError;
      return d;
    })!;
  });

  // ---------------------------------------------------------------- rules

  ruleDecl = this.RULE('ruleDecl', (): A.RuleDecl => {
    const kw = this.consume(1, KW.rule);
    const name = this.option(9, () => this.subrule(1, this.declName));
    this.ACTION(() => !name && this.missing('a name', kw));
    const open = this.consume(2, LCurly);
    const body: (A.Condition | A.EffectClause)[] = [];
    this.ACTION(() => (this.ctx = 'rule'));
    this.many(1, gated(() => !this.atBodyEnd(), () =>
        this.or(1, { MAX_LOOKAHEAD: 1, DEF: [
          alt(() => {
              const c = this.subrule(2, this.condition);
              this.ACTION(() => c && body.push(c));
            }),
          alt(() => {
              const c = this.subrule(3, this.effectClause);
              this.ACTION(() => c && body.push(c));
            }),
          alt(() => this.subrule(4, this.junk, { ARGS: ['rule'] }), true),
        ]})));
    this.ACTION(() => this.closeBody(open, name ? `rule \`${name.text}\`` : 'the rule'));
    this.option(1, () => this.consume(3, RCurly));
    return this.ACTION(() => {
      const effects = body.filter((b) => b.kind !== 'When' && b.kind !== 'Unless');
      const label = name ? `rule \`${name.text}\`` : 'this rule';
      if (effects.length === 0) {
        const at = name ?? { range: this.tokRange(kw) };
        this.report('REIN106', `${label} has no effect clause`, at.range.start.offset, at.range.end.offset, 'add one of `deny`, `require approval`, `warn` or `allow`');
      }
      for (const extra of effects.slice(1)) {
        this.report('REIN106', `${label} has more than one effect clause`, extra.range.start.offset, extra.range.end.offset, 'a rule has exactly one effect: split it into two rules');
      }
      return { kind: 'RuleDecl' as const, name, body, annotations: [], range: this.from(kw.startOffset) };
    })!;
  });

  condition = this.RULE('condition', (): A.Condition | undefined => {
    const kw = this.or(1, [alt(() => this.consume(1, KW.when)), alt(() => this.consume(2, KW.unless))]);
    const expr = this.option(1, gated(() => !this.nextIsItemOnNewLine(kw), () => this.subrule(1, this.expression)));
    return this.ACTION(() => {
      if (!this.real(kw)) return undefined;
      this.need(expr, 'a condition', kw);
      return { kind: kw.image === 'when' ? ('When' as const) : ('Unless' as const), expr, range: this.from(kw.startOffset) };
    });
  });

  message = this.RULE('message', (): A.StringLit | undefined => {
    const t = this.consume(1, StringLiteral);
    return this.ACTION(() => (this.real(t) ? this.mkString(t) : undefined));
  });

  effectClause = this.RULE('effectClause', (): A.EffectClause | undefined => {
    const start = this.ACTION(() => this.s());
    return this.or(1, [
      alt(() => {
          this.consume(1, KW.deny);
          const message = this.option(1, () => this.subrule(1, this.message));
          return this.ACTION(() => (this.noteEffect(message), { kind: 'Deny' as const, message, range: this.from(start!) }));
        }),
      alt(() => {
          this.consume(2, KW.require);
          const appr = this.consume(3, KW.approval);
          let from: A.Expr | undefined;
          this.option(2, () => {
            const f = this.consume(4, KW.from);
            from = this.option(3, gated(() => !this.nextIsItemOnNewLine(f), () => this.subrule(2, this.expression)));
            this.ACTION(() => this.need(from, 'who approves (an expression)', f));
          });
          let quorum: A.ApprovalEffect['quorum'];
          this.option(20, () => {
            const q = this.consume(20, KW.quorum);
            const n = this.option(21, () => this.consume(21, NumberLiteral));
            this.ACTION(() => {
              if (!this.real(q)) return;
              if (!n || !this.real(n)) return this.missing('how many distinct approvers (a whole number)', q);
              const p = (n.payload ?? { value: 0, isInt: true }) as NumberPayload;
              quorum = { value: p.value, isInt: p.isInt, raw: n.image, range: this.rng(q.startOffset, n.startOffset + n.image.length) };
            });
          });
          let expires: A.ApprovalEffect['expires'];
          this.option(22, () => {
            const x = this.consume(22, KW.expires);
            const d = this.option(23, () => this.consume(23, Duration));
            this.ACTION(() => {
              if (!this.real(x)) return;
              if (!d || !this.real(d)) return this.missing('how long an approval stands (a duration such as `15m`)', x);
              expires = { ms: ((d.payload ?? { ms: 0 }) as DurationPayload).ms, raw: d.image, range: this.rng(x.startOffset, d.startOffset + d.image.length) };
            });
          });
          const message = this.option(4, () => this.subrule(3, this.message));
          void appr;
          return this.ACTION(() => (this.noteEffect(message), { kind: 'RequireApproval' as const, from, ...(quorum ? { quorum } : {}), ...(expires ? { expires } : {}), message, range: this.from(start!) }));
        }),
      alt(() => {
          this.consume(5, KW.warn);
          const message = this.option(5, () => this.subrule(4, this.message));
          return this.ACTION(() => (this.noteEffect(message), { kind: 'Warn' as const, message, range: this.from(start!) }));
        }),
      alt(() => {
          this.consume(6, KW.allow);
          const message = this.option(6, () => this.subrule(5, this.message));
          return this.ACTION(() => (this.noteEffect(message), { kind: 'Allow' as const, message, range: this.from(start!) }));
        }),
      alt(() => {
          const kw = this.consume(7, KW.set);
          this.ACTION(() => this.report('REIN105', '`set` is not supported yet', kw.startOffset, kw.startOffset + kw.image.length, 'transforming effects are a phase 2 feature'));
          const path = this.option(7, gated(() => !this.nextIsItemOnNewLine(kw), () => this.subrule(6, this.expression)));
          this.ACTION(() => this.need(path, 'the path to set', kw));
          const eq = this.consume(8, Eq);
          const value = this.option(8, () => this.subrule(7, this.expression));
          this.ACTION(() => this.need(value, 'a value', eq));
          const message = this.option(9, () => this.subrule(8, this.message));
          return this.ACTION(() => ({ kind: 'Set' as const, path, value, message, range: this.from(start!) }));
        }),
      alt(() => {
          const kw = this.consume(9, KW.redact);
          const path = this.option(10, gated(() => !this.nextIsItemOnNewLine(kw), () => this.subrule(9, this.expression)));
          this.ACTION(() => this.need(path, 'the path to redact', kw));
          let using: A.Expr | undefined;
          this.option(11, () => {
            const u = this.consume(10, KW.using);
            using = this.option(12, () => this.subrule(10, this.expression));
            this.ACTION(() => this.need(using, 'a detector', u));
          });
          const message = this.option(13, () => this.subrule(11, this.message));
          return this.ACTION(() => (this.noteEffect(message), { kind: 'Redact' as const, path, using, message, range: this.from(start!) }));
        }),
    ]);
  });

  // ---------------------------------------------------------------- budgets

  budgetDecl = this.RULE('budgetDecl', (): A.BudgetDecl => {
    const kw = this.consume(1, KW.budget);
    const name = this.option(9, () => this.subrule(1, this.declName));
    this.ACTION(() => !name && this.missing('a name', kw));
    const open = this.consume(2, LCurly);
    const items: A.BudgetItem[] = [];
    this.ACTION(() => (this.ctx = 'budget'));
    this.many(1, gated(() => !this.atBodyEnd(), () =>
        this.or(1, { MAX_LOOKAHEAD: 1, DEF: [
          alt(() => {
              const it = this.subrule(2, this.budgetItem);
              this.ACTION(() => it && items.push(it));
            }),
          alt(() => this.subrule(3, this.junk, { ARGS: ['budget'] }), true),
        ]})));
    this.ACTION(() => this.closeBody(open, name ? `budget \`${name.text}\`` : 'the budget'));
    this.option(1, () => this.consume(3, RCurly));
    return this.ACTION(() => ({ kind: 'BudgetDecl' as const, name, items, annotations: [], range: this.from(kw.startOffset) }))!;
  });

  budgetItem = this.RULE('budgetItem', (): A.BudgetItem | undefined => {
    const start = this.ACTION(() => this.s());
    return this.or(1, [
      alt(() => {
          const kw = this.consume(1, KW.limit);
          const amount = this.option(1, gated(() => !this.nextIsItemOnNewLine(kw), () => this.subrule(1, this.expression)));
          this.ACTION(() => this.need(amount, 'an amount', kw));
          let per: A.LimitClause['per'];
          let rolling: IToken | undefined;
          let anchored: IToken | undefined;
          this.option(2, () => {
            const perTok = this.consume(2, KW.per);
            rolling = this.option(8, () => this.consume(10, KW.rolling));
            per = this.option(7, () => this.subrule(2, this.window));
            this.ACTION(() => !per && this.missing(rolling ? 'a duration (e.g. `1h`)' : '`minute`, `hour`, `day`, `week`, `month`, `request`, `rolling` or a duration', rolling ?? perTok, rolling ? WINDOW_WORDS.slice(0, 4) : WINDOW_WORDS));
            anchored = this.option(9, () => this.consume(11, KW.anchored));
          });
          return this.ACTION(() => {
            const c: A.LimitClause = { kind: 'Limit' as const, amount, per, range: this.from(start!) };
            if (rolling && this.real(rolling)) c.rolling = { range: this.tokRange(rolling) };
            if (anchored && this.real(anchored)) c.anchored = { range: this.tokRange(anchored) };
            return c;
          });
        }),
      alt(() => {
          // A token bucket: `burst 3 refill 1 per 1s`.
          const kw = this.consume(12, KW.burst);
          const amount = this.option(10, gated(() => !this.nextIsItemOnNewLine(kw), () => this.subrule(9, this.expression)));
          this.ACTION(() => this.need(amount, 'the burst (the most the bucket holds)', kw));
          this.ACTION(() => {
            // `burst 3 refil 1 per 1s`: name the word it resembles.
            const t = this.LA(1);
            if (amount && this.real(t) && t.tokenType !== KW.refill && isNameTok(t) && suggest(t.image, ['refill']) !== undefined) this.report('REIN101', `expected \`refill\` after the burst`, t.startOffset, t.startOffset + t.image.length, 'did you mean `refill`?');
          });
          // Optional to the parser, so a missing `refill … per …` is one error, not a recovery that
          // eats the next clause (`burst 3` then `charge 1`).
          const tail = this.option(13, () => {
            const refillTok = this.consume(13, KW.refill);
            const refill = this.option(11, gated(() => !this.nextIsItemOnNewLine(refillTok), () => this.subrule(10, this.expression)));
            this.ACTION(() => this.need(refill, 'what each period adds back (e.g. `refill 1 per 1s`)', refillTok));
            const perTok = this.consume(14, KW.per);
            const per = this.option(12, () => this.subrule(11, this.window));
            this.ACTION(() => !per && this.missing('a duration (e.g. `1s`)', perTok));
            return { refill, per };
          });
          this.ACTION(() => {
            const t = this.LA(1);
            if (tail === undefined && amount && !(this.real(t) && isNameTok(t) && suggest(t.image, ['refill']) !== undefined)) this.missing('`refill AMOUNT per LENGTH` (e.g. `burst 3 refill 1 per 1s`)', this.LA(0));
          });
          const refill = tail?.refill;
          const per = tail?.per;
          return this.ACTION(() => {
            const c: A.LimitClause = { kind: 'Limit' as const, amount, per, range: this.from(start!), burst: { range: this.tokRange(kw) } };
            if (refill) c.refill = refill;
            return c;
          });
        }),
      alt(() => {
          const kw = this.consume(3, KW.charge);
          const expr = this.option(3, gated(() => !this.nextIsItemOnNewLine(kw), () => this.subrule(3, this.expression)));
          return this.ACTION(() => {
            this.need(expr, 'what a request draws (an expression)', kw);
            return { kind: 'Charge' as const, expr, range: this.from(start!) };
          });
        }),
      alt(() => {
          const kw = this.consume(4, KW.by);
          const keys: A.Expr[] = [];
          const k1 = this.option(4, gated(() => !this.nextIsItemOnNewLine(kw), () => this.subrule(4, this.expression)));
          this.ACTION(() => (k1 ? keys.push(k1) : this.missing('a key expression', kw)));
          this.many(1, () => {
            const c = this.consume(5, Comma);
            const k = this.option(5, gated(() => !this.nextIsItemOnNewLine(c), () => this.subrule(5, this.expression)));
            this.ACTION(() => (k ? keys.push(k) : this.missing('a key expression', c)));
          });
          return this.ACTION(() => ({ kind: 'By' as const, keys, range: this.from(start!) }));
        }),
      alt(() => this.subrule(6, this.condition)),
      alt(() => {
          this.consume(6, KW.warn);
          const at = this.consume(7, KW.at);
          const threshold = this.option(6, gated(() => !this.nextIsItemOnNewLine(at), () => this.subrule(7, this.expression)));
          return this.ACTION(() => {
            this.need(threshold, 'a threshold (e.g. `80%`)', at);
            return { kind: 'WarnAt' as const, threshold, range: this.from(start!) };
          });
        }),
      alt(() => {
          this.consume(8, KW.on);
          this.consume(9, KW.exceed);
          const effect = this.subrule(8, this.effectClause);
          return this.ACTION(() => ({ kind: 'OnExceed' as const, effect, range: this.from(start!) }));
        }),
    ]);
  });

  window = this.RULE('window', (): A.LimitClause['per'] => {
    return this.or(1, [
      alt(() => this.unitAction(this.consume(1, KW.minute))),
      alt(() => this.unitAction(this.consume(2, KW.hour))),
      alt(() => this.unitAction(this.consume(3, KW.day))),
      alt(() => this.unitAction(this.consume(4, KW.week))),
      alt(() => this.unitAction(this.consume(5, KW.month))),
      alt(() => {
          const t = this.consume(6, KW.request);
          return this.ACTION(() => (this.real(t) ? { kind: 'Request' as const, range: this.tokRange(t) } : undefined));
        }),
      alt(() => {
          const t = this.consume(7, Duration);
          return this.ACTION(() => (this.real(t) ? this.durationLit(t) : undefined));
        }),
    ]);
  });

  unitAction(t: IToken): A.LimitClause['per'] {
    return this.ACTION(() => (this.real(t) ? { kind: 'Unit' as const, unit: t.image as A.WindowUnit, range: this.tokRange(t) } : undefined));
  }

  // ---------------------------------------------------------------- tests

  testDecl = this.RULE('testDecl', (): A.TestDecl => {
    const kw = this.consume(1, KW.test);
    const nameTok = this.option(1, () => this.consume(2, StringLiteral));
    this.ACTION(() => {
      if (!nameTok) this.missing('a test name (a string)', kw);
    });
    const open = this.consume(3, LCurly);
    const items: A.TestItem[] = [];
    this.ACTION(() => (this.ctx = 'test'));
    this.many(1, gated(() => !this.atBodyEnd(), () =>
        this.or(1, { MAX_LOOKAHEAD: 1, DEF: [
          alt(() => {
              const it = this.subrule(1, this.testItem);
              this.ACTION(() => it && items.push(it));
            }),
          alt(() => this.subrule(2, this.junk, { ARGS: ['test'] }), true),
        ]})));
    this.ACTION(() => this.closeBody(open, 'the test'));
    this.option(2, () => this.consume(4, RCurly));
    return this.ACTION(() => ({
      kind: 'TestDecl' as const,
      name: nameTok ? this.mkString(nameTok) : undefined,
      items,
      annotations: [],
      range: this.from(kw.startOffset),
    }))!;
  });

  nameList = this.RULE('nameList', (): A.Name[] => {
    const names: A.Name[] = [];
    const n1 = this.subrule(1, this.declName);
    this.ACTION(() => n1 && names.push(n1));
    this.many(1, () => {
      this.consume(1, Comma);
      const n = this.subrule(2, this.declName);
      this.ACTION(() => n && names.push(n));
    });
    return names;
  });

  testItem = this.RULE('testItem', (): A.TestItem | undefined => {
    const start = this.ACTION(() => this.s());
    return this.or(1, [
      alt(() => {
          const kw = this.consume(1, KW.given);
          const expr = this.option(1, gated(() => !this.nextIsItemOnNewLine(kw), () => this.subrule(1, this.expression)));
          return this.ACTION(() => {
            this.need(expr, 'the request (an expression)', kw);
            return { kind: 'Given' as const, expr, range: this.from(start!) };
          });
        }),
      alt(() => {
          this.consume(2, KW.spent);
          const budget = this.subrule(2, this.declName);
          const eq = this.consume(3, Eq);
          const amount = this.option(2, gated(() => !this.nextIsItemOnNewLine(eq), () => this.subrule(3, this.expression)));
          // `spent b = 5 at "…"`: the spend was made at that time (on the same line; a line starting
          // with `at` is the test's clock).
          let atTime: IToken | undefined;
          let atKw: IToken | undefined;
          this.option(5, gated(() => this.LA(1).tokenType === KW.at && !this.newlineBetween(this.e(), this.s()), () => {
            atKw = this.consume(8, KW.at);
            atTime = this.option(6, () => this.consume(9, StringLiteral));
          }));
          return this.ACTION(() => {
            this.need(amount, 'an amount', this.real(eq) ? eq : this.LA(0));
            if (atKw && !atTime) this.missing('a time string (e.g. `"2026-01-05T10:00:00Z"`)', atKw);
            const it: A.SpentItem = { kind: 'Spent' as const, budget, amount, range: this.from(start!) };
            if (atTime) it.at = this.mkString(atTime);
            return it;
          });
        }),
      alt(() => {
          const kw = this.consume(4, KW.at);
          const t = this.option(3, () => this.consume(5, StringLiteral));
          return this.ACTION(() => {
            if (!t) this.missing('a time string (e.g. `"2026-01-05T10:00:00Z"`)', kw);
            return { kind: 'At' as const, time: t ? this.mkString(t) : undefined, range: this.from(start!) };
          });
        }),
      alt(() => {
          this.consume(6, KW.approved);
          const names = this.subrule(4, this.nameList);
          return this.ACTION(() => ({ kind: 'Approved' as const, names: names ?? [], range: this.from(start!) }));
        }),
      alt(() => {
          this.consume(7, KW.expect);
          return this.subrule(5, this.expectTail, { ARGS: [start!] });
        }),
      alt(() => {
          // `data NAME = EXPR`: the test's value of a data document
          const kw = this.consume(14, KW.data);
          const name = this.option(9, () => this.subrule(10, this.declName));
          this.ACTION(() => !name && this.missing('the name of a `data` declaration', kw));
          const eq = this.consume(15, Eq);
          const value = this.option(10, gated(() => !this.nextIsItemOnNewLine(eq), () => this.subrule(11, this.expression)));
          return this.ACTION(() => {
            this.need(value, 'the value (an expression)', this.real(eq) ? eq : this.LA(0));
            return { kind: 'DataOverride' as const, name, value, range: this.from(start!) };
          });
        }),
      alt(() => {
          // `extern name(args) = value`, `extern name = value`, `extern name(args) = error "why"`
          const kw = this.consume(8, KW.extern);
          const name = this.option(4, () => this.subrule(6, this.declName));
          this.ACTION(() => !name && this.missing('the name of an `extern def`', kw));
          let args: A.Expr[] | undefined;
          this.option(7, () => {
            this.consume(9, LParen);
            args = this.subrule(7, this.exprList, { ARGS: [RParen, 'argument'] }) ?? [];
            this.consume(10, RParen);
          });
          const eq = this.consume(11, Eq);
          let value: A.Expr | undefined;
          let fails: A.StringLit | undefined;
          this.or(2, [
            alt(() => {
                const e = this.consume(12, KW.error);
                const m = this.option(8, () => this.consume(13, StringLiteral));
                this.ACTION(() => {
                  if (m && this.real(m)) fails = this.mkString(m);
                  else this.missing('the error message (a string)', e);
                });
              }, true),
            alt(() => {
                value = this.subrule(8, this.expression);
              }),
          ]);
          return this.ACTION(() => {
            if (!value && !fails && this.real(eq)) this.missing('the value the extern returns in this test', eq);
            const it: A.ExternStubItem = { kind: 'ExternStub' as const, name, value, range: this.from(start!) };
            if (args) it.args = args;
            if (fails) it.fails = fails;
            return it;
          });
        }),
    ]);
  });

  expectTail = this.RULE('expectTail', (start: number): A.TestItem | undefined => {
    return this.or(1, [
      alt(() => {
          this.consume(1, KW.warnings);
          let none = false;
          let names: A.Name[] = [];
          this.or(2, [
            alt(() => {
                this.consume(2, KW.none);
                none = true;
              }),
            alt(() => {
                names = this.subrule(1, this.nameList) ?? [];
              }, true),
          ]);
          return this.ACTION(() => ({ kind: 'ExpectWarnings' as const, names, none, range: this.from(start) }));
        }),
      alt(() => {
          const eff = this.subrule(2, this.expectEffect);
          let by: A.Name[] = [];
          this.option(1, () => {
            this.consume(3, KW.by);
            by = this.subrule(3, this.nameList) ?? [];
          });
          let redact: A.ExpectItem['redact'];
          this.option(2, () => {
            const w = this.consume(4, KW.with);
            this.consume(5, KW.redact);
            const paths: A.Expr[] = [];
            let none = false;
            this.or(3, [
              alt(() => {
                  this.consume(6, KW.none);
                  none = true;
                }),
              alt(() => {
                  const p1 = this.subrule(4, this.expression);
                  this.ACTION(() => p1 && paths.push(p1));
                  this.many(1, () => {
                    this.consume(7, Comma);
                    const p = this.subrule(5, this.expression);
                    this.ACTION(() => p && paths.push(p));
                  });
                }, true),
            ]);
            this.ACTION(() => (redact = { paths, none, range: this.from(w.startOffset) }));
          });
          return this.ACTION(() => ({ kind: 'Expect' as const, effect: eff, by, ...(redact ? { redact } : {}), range: this.from(start) }));
        }),
    ]);
  });

  expectEffect = this.RULE('expectEffect', (): A.ExpectItem['effect'] => {
    let written: IToken | undefined;
    const t = this.or(1, [
      alt(() => this.consume(1, KW.allow)),
      alt(() => this.consume(2, KW.deny)),
      alt(() => this.consume(3, KW.require_approval)),
      alt(() => {
        // `expect require approval`: understood, but the decision effect is spelled `require_approval`
        const r = this.consume(4, KW.require);
        const a = this.consume(5, KW.approval);
        this.ACTION(() => {
          written = r;
          if (this.real(a)) this.report('REIN101', 'write `require_approval` (the decision effect) after `expect`', r.startOffset, a.startOffset + a.image.length);
        });
        return r;
      }),
    ]);
    return this.ACTION(() => {
      if (written) return { value: 'require_approval' as const, range: this.rng(written.startOffset, this.e()) };
      return this.real(t) ? { value: t.image as 'allow' | 'deny' | 'require_approval', range: this.tokRange(t) } : undefined;
    });
  });

  // ---------------------------------------------------------------- expressions

  /** Entry for an interpolation's expression: an expression, then anything left over is reported. */
  interpolation = this.RULE('interpolation', (): A.Expr | undefined => {
    const e = this.subrule(1, this.expression);
    this.ACTION(() => {
      const t = this.LA(1);
      if (this.real(t)) {
        this.report('REIN101', `unexpected ${show(t)} in the interpolation`, t.startOffset, this.eofOffset);
      }
    });
    // swallow the rest so Chevrotain does not add a second error
    this.many(1, () => this.consume(1, AnyToken));
    return e;
  });

  expression = this.RULE('expression', (): A.Expr => {
    this.ACTION(() => this.enter());
    try {
      return this.subrule(1, this.binaryExpr);
    } finally {
      this.ACTION(() => this.depth--);
    }
  });

  /**
   * All binary operators and the prefix `not` in one flat rule: `not* unary (op not* unary)*`.
   * The tree is built afterwards by precedence climbing (`buildBinary`), which keeps the rule
   * chain short (one Chevrotain rule instead of nine per operand).
   */
  binaryExpr = this.RULE('binaryExpr', (): A.Expr => {
    const items: SeqItem[] = [];
    const start = this.ACTION(() => this.s())!;
    this.or(1, [
      alt(() => {
          this.atLeastOne(1, () => {
            const n = this.consume(1, KW.not);
            this.ACTION(() => items.push({ t: 'not', tok: n }));
          });
          const first = this.option(1, gated(this.operandOk, () => this.subrule(1, this.unary)));
          this.ACTION(() => {
            if (!first) this.missing('an expression', this.LA(0));
            items.push({ t: 'atom', expr: first });
          });
        }),
      alt(() => {
          const first = this.subrule(4, this.unary);
          this.ACTION(() => items.push({ t: 'atom', expr: first }));
        }),
    ]);
    this.many(2, () => {
      const op = this.subrule(2, this.binaryOp);
      this.ACTION(() => items.push(op));
      this.many(3, () => {
        const n = this.consume(2, KW.not);
        this.ACTION(() => items.push({ t: 'not', tok: n }));
      });
      const right = this.option(2, gated(this.operandOk, () => this.subrule(3, this.unary)));
      this.ACTION(() => {
        if (!right) this.missing('an expression', this.LA(0));
        items.push({ t: 'atom', expr: right });
      });
    });
    return this.ACTION(() => this.buildBinary(items, start))!;
  });

  binaryOp = this.RULE('binaryOp', (): SeqOp => {
    return this.or(
      1,
      (this.binopAlts ??= [
        alt(() => this.opItem(this.consume(1, KW.or), 'or')),
        alt(() => this.opItem(this.consume(2, KW.and), 'and')),
        alt(() => this.opItem(this.consume(3, EqEq), '==')),
        alt(() => this.opItem(this.consume(4, NotEq), '!=')),
        alt(() => this.opItem(this.consume(5, LtEq), '<=')),
        alt(() => this.opItem(this.consume(6, GtEq), '>=')),
        alt(() => this.opItem(this.consume(7, Lt), '<')),
        alt(() => this.opItem(this.consume(8, Gt), '>')),
        alt(() => this.opItem(this.consume(9, KW.in), 'in')),
        alt(() => this.opItem(this.consume(10, KW.matches), 'matches')),
        alt(() => {
            const n = this.consume(11, KW.not);
            const i = this.consume(12, KW.in);
            // `a not b`: recovery inserts the missing `in`, a token without a position
            return this.ACTION(() => ({ t: 'op' as const, op: 'not in' as const, tok: n, end: (this.real(i) ? i : n).startOffset + (this.real(i) ? i : n).image.length }))!;
          }),
        alt(() => this.opItem(this.consume(13, KW.with), 'with')),
        alt(() => this.opItem(this.consume(14, QQ), '??')),
        alt(() => this.opItem(this.consume(15, Plus), '+')),
        alt(() => this.opItem(this.consume(16, Minus), '-')),
        alt(() => this.opItem(this.consume(17, Star), '*')),
        alt(() => this.opItem(this.consume(18, Slash), '/')),
        alt(() => this.opItem(this.consume(19, PercentOp), '%')),
      ]),
    );
  });

  opItem(tok: IToken, op: A.BinaryOp): SeqOp {
    return this.ACTION(() => ({ t: 'op' as const, op, tok, end: tok.startOffset + tok.image.length }))!;
  }

  /** Builds the expression tree of a flat operator sequence by precedence climbing. */
  buildBinary(items: SeqItem[], start: number): A.Expr {
    const st = { items, i: 0 };
    return this.climb(st, 0) ?? this.errorExpr(Math.max(start, this.e()));
  }
  errorExpr(offset: number): A.ErrorExpr {
    return { kind: 'Error', range: this.rng(offset, offset) };
  }
  climb(st: { items: SeqItem[]; i: number }, minPrec: number): A.Expr | undefined {
    let left = this.prefixed(st);
    for (;;) {
      // Bounds-checked reads: past the end an array read would go to (a possibly polluted) Array.prototype.
      const it = st.i < st.items.length ? st.items[st.i] : undefined;
      if (!it || it.t !== 'op') return left;
      const prec = PREC[it.op];
      if (prec < minPrec) return left;
      st.i++;
      const right = this.climb(st, prec + 1);
      left = this.binary(it.op, it.tok, it.end, left ?? this.errorExpr(it.tok.startOffset), right);
    }
  }
  prefixed(st: { items: SeqItem[]; i: number }): A.Expr | undefined {
    const nots: IToken[] = [];
    while (st.i < st.items.length && st.items[st.i].t === 'not') nots.push((st.items[st.i++] as SeqNot).tok);
    if (nots.length === 0) {
      const it = st.i < st.items.length ? st.items[st.i] : undefined;
      st.i++;
      return it && it.t === 'atom' ? it.expr : undefined;
    }
    if (nots.length > MAX_DEPTH) {
      const t = nots[MAX_DEPTH];
      this.report('REIN101', `expression is nested too deeply (more than ${MAX_DEPTH} levels)`, t.startOffset, t.startOffset + t.image.length);
      nots.length = MAX_DEPTH;
    }
    // `not` binds looser than comparison: its operand takes every tighter operator
    let operand = this.climb(st, NOT_PREC);
    for (let k = nots.length - 1; k >= 0; k--) {
      const n = nots[k];
      operand = { kind: 'Unary', op: 'not', operand, range: this.rng(n.startOffset, operand ? operand.range.end.offset : n.startOffset + n.image.length) };
    }
    return operand;
  }


  unary = this.RULE('unary', (): A.Expr => {
    return this.or(1, (this.unaryAlts ??= [
      alt(() => {
          const op = this.consume(1, Minus);
          this.ACTION(() => this.enter());
          try {
            const operand = this.option(1, gated(this.operandOk, () => this.subrule(1, this.unary)));
            return this.ACTION(() => {
              this.need(operand, 'an expression', op);
              return { kind: 'Unary' as const, op: '-' as const, operand, range: this.from(op.startOffset) };
            })!;
          } finally {
            this.ACTION(() => this.depth--);
          }
        }),
      alt(() => this.subrule(2, this.postfix)),
    ]));
  });

  postfix = this.RULE('postfix', (): A.Expr => {
    let e = this.subrule(1, this.primary);
    this.many(1, () => {
      this.or(1, [
        alt(() => {
            const dot = this.consume(1, Dot);
            // any word may follow `.` (LANGUAGE §8): on the same line it is always the member name
            // (`x.type`, `x.rule`, `by x.on }`); only a clause or declaration keyword on a later line
            // is taken as the next item (`when action.⏎ deny "m"` while typing)
            const prop = this.option(1, gated(() => this.memberNameOk(dot), () => this.consume(2, Word)));
            this.ACTION(() => {
              if (!prop) this.missing('a field or method name', dot);
              e = { kind: 'Member', object: e, property: prop ? this.mkName(prop) : undefined, range: this.rng(e.range.start.offset, this.e()) };
            });
          }),
        alt(() => {
            const open = this.consume(3, LBracket);
            const index = this.option(2, () => this.subrule(2, this.expression));
            this.ACTION(() => this.need(index, 'an index', open));
            const close = this.option(3, () => this.consume(4, RBracket));
            this.ACTION(() => {
              if (!close) this.missing('`]`', this.LA(0));
              e = { kind: 'Index', object: e, index, range: this.rng(e.range.start.offset, this.e()) };
            });
          }),
        alt(() => {
            const open = this.consume(5, LParen);
            const args = this.subrule(3, this.exprList, { ARGS: [RParen, 'argument'] });
            const close = this.option(4, () => this.consume(6, RParen));
            this.ACTION(() => {
              if (!close) this.missing('`,` or `)`', this.real(this.LA(0)) ? this.LA(0) : open);
              e = { kind: 'Call', callee: e, args: args ?? [], range: this.rng(e.range.start.offset, this.e()) };
            });
          }),
      ]);
    });
    return e;
  });

  /** `a, b, c,` inside brackets: items up to `close` (not consumed). Trailing comma allowed. */
  exprList = this.RULE('exprList', (close: TokenType, what: string): A.Expr[] => {
    const items: A.Expr[] = [];
    this.option(1, () => {
      const e1 = this.subrule(1, this.expression);
      this.ACTION(() => e1 && items.push(e1));
      this.many(1, () => {
        const c = this.consume(1, Comma);
        const e = this.option(2, () => this.subrule(2, this.expression));
        this.ACTION(() => {
          if (e) items.push(e);
          else if (this.LA(1).tokenType !== close) this.missing(`an ${what === 'argument' ? 'argument' : 'item'}`, c);
        });
      });
    });
    return items;
  });

  primary = this.RULE('primary', (): A.Expr => {
    return this.or(1, (this.primaryAlts ??= [
      alt(() => {
          const t = this.consume(1, NumberLiteral);
          return this.ACTION(() => {
            const p = (t.payload ?? { value: 0, isInt: true }) as NumberPayload;
            return { kind: 'Number' as const, value: p.value, isInt: p.isInt, raw: t.image, range: this.tokRange(t) };
          })!;
        }),
      alt(() => {
          const t = this.consume(2, Money);
          return this.ACTION(() => ({ kind: 'Money' as const, micros: ((t.payload ?? { micros: 0 }) as MoneyPayload).micros, raw: t.image, range: this.tokRange(t) }))!;
        }),
      alt(() => {
          const t = this.consume(3, Duration);
          return this.ACTION(() => this.durationLit(t))!;
        }),
      alt(() => {
          const t = this.consume(4, Percent);
          return this.ACTION(() => ({ kind: 'Percent' as const, value: ((t.payload ?? { value: 0 }) as PercentPayload).value, raw: t.image, range: this.tokRange(t) }))!;
        }),
      alt(() => {
          const t = this.consume(5, StringLiteral);
          return this.ACTION(() => this.mkString(t))!;
        }),
      alt(() => {
          const t = this.or(2, [alt(() => this.consume(6, KW.true)), alt(() => this.consume(7, KW.false))]);
          return this.ACTION(() => ({ kind: 'Bool' as const, value: t.image === 'true', range: this.tokRange(t) }))!;
        }),
      alt(() => {
          const t = this.consume(8, KW.null);
          return this.ACTION(() => ({ kind: 'Null' as const, range: this.tokRange(t) }))!;
        }),
      {
        // a name, or a one-parameter lambda `x => body`
        ALT: () => {
          const t = this.consume(9, Name);
          let body: A.Expr | undefined;
          const arrow = this.option(1, () => {
            const a = this.consume(10, Arrow);
            body = this.option(2, () => this.subrule(1, this.expression));
            this.ACTION(() => this.need(body, 'the lambda body', a));
            return a;
          });
          return this.ACTION(() => {
            if (arrow) return { kind: 'Lambda' as const, params: [this.mkName(t)], body, range: this.from(t.startOffset) };
            return { kind: 'NameRef' as const, name: this.mkName(t), range: this.tokRange(t) };
          })!;
        },
      },
      alt(() => this.subrule(2, this.parenOrLambda)),
      alt(() => {
          const open = this.consume(11, LBracket);
          {
            const items = this.subrule(3, this.exprList, { ARGS: [RBracket, 'item'] });
            const close = this.option(3, () => this.consume(12, RBracket));
            return this.ACTION(() => {
              if (!close) this.missing('`,` or `]`', this.real(this.LA(0)) ? this.LA(0) : open);
              return { kind: 'List' as const, items: items ?? [], range: this.from(open.startOffset) };
            })!;
          }
        }),
      alt(() => this.subrule(4, this.objectExpr)),
      alt(() => this.subrule(5, this.ifExpr)),
    ]));
  });

  durationLit(t: IToken): A.DurationLit {
    return { kind: 'Duration', ms: ((t.payload ?? { ms: 0 }) as DurationPayload).ms, raw: t.image, range: this.tokRange(t) };
  }

  /** `(expr)`, `(a, b) => body`, `() => body`. */
  parenOrLambda = this.RULE('parenOrLambda', (): A.Expr => {
    const open = this.consume(1, LParen);
    {
      const items = this.subrule(1, this.exprList, { ARGS: [RParen, 'item'] });
      const close = this.option(1, () => this.consume(2, RParen));
      let body: A.Expr | undefined;
      const arrow = this.option(2, () => {
        const a = this.consume(3, Arrow);
        body = this.option(3, () => this.subrule(2, this.expression));
        return a;
      });
      return this.ACTION(() => {
        const list = items ?? [];
        if (!close) this.missing('`)`', this.real(this.LA(0)) ? this.LA(0) : open);
        if (arrow) {
          this.need(body, 'the lambda body', arrow);
          const params: A.Name[] = [];
          for (const it of list) {
            if (it.kind === 'NameRef') params.push(it.name);
            else this.report('REIN101', 'a lambda parameter must be a name', it.range.start.offset, it.range.end.offset);
          }
          return { kind: 'Lambda' as const, params, body, range: this.from(open.startOffset) };
        }
        if (list.length === 0) {
          this.missing('an expression', open);
          return { kind: 'Paren' as const, expr: undefined, range: this.from(open.startOffset) };
        }
        if (list.length > 1) {
          this.report('REIN101', 'unexpected `,`: parentheses hold one expression (or write a lambda `(a, b) => …`)', list[0].range.end.offset, list[1].range.start.offset);
        }
        return { kind: 'Paren' as const, expr: list[0], range: this.from(open.startOffset) };
      })!;
    }
  });

  objectExpr = this.RULE('objectExpr', (): A.ObjectExpr => {
    const open = this.consume(1, LCurly);
    const entries: A.ObjectEntry[] = [];
    {
      this.many(1, () => {
        const en = this.subrule(1, this.objectEntry);
        this.ACTION(() => en && entries.push(en));
        const comma = this.option(1, () => this.consume(2, Comma));
        this.ACTION(() => {
          const next = this.LA(1).tokenType;
          if (!comma && next !== RCurly && next !== EOF && (next === StringLiteral || isWordTok(this.LA(1)))) this.missing('`,`', this.LA(0));
        });
      });
      const close = this.option(2, () => this.consume(3, RCurly));
      return this.ACTION(() => {
        if (!close) this.missing(entries.length && this.LA(0).tokenType !== Comma ? '`,` or `}`' : 'a key or `}`', this.real(this.LA(0)) ? this.LA(0) : open);
        return { kind: 'Object' as const, entries, range: this.from(open.startOffset) };
      })!;
    }
  });

  objectEntry = this.RULE('objectEntry', (): A.ObjectEntry | undefined => {
    const key = this.or(1, [
      alt(() => {
          const t = this.consume(1, Word);
          return this.ACTION(() => this.mkName(t));
        }),
      alt(() => {
          const t = this.consume(2, StringLiteral);
          return this.ACTION(() => this.mkString(t));
        }),
    ]);
    let value: A.Expr | undefined;
    const colon = this.option(1, () => this.consume(3, Colon));
    this.option(2, () => {
      value = this.subrule(1, this.expression);
    });
    return this.ACTION(() => {
      if (!key) return undefined;
      if (!colon) this.missing('`:`', this.LA(0));
      else if (!value) this.missing('a value', colon);
      return { kind: 'Entry' as const, key, value, range: this.rng(key.range.start.offset, this.e()) };
    });
  });

  ifExpr = this.RULE('ifExpr', (): A.IfExpr => {
    const kw = this.consume(1, KW.if);
    {
      const cond = this.option(1, () => this.subrule(1, this.expression));
      this.ACTION(() => this.need(cond, 'a condition', kw));
      let then: A.Expr | undefined;
      let els: A.Expr | undefined;
      const thenTok = this.option(2, () => this.consume(2, KW.then));
      this.ACTION(() => !thenTok && this.missing('`then`', this.LA(0)));
      this.option(3, () => {
        then = this.subrule(2, this.expression);
      });
      this.ACTION(() => thenTok && !then && this.missing('an expression', thenTok));
      const elseTok = this.option(4, () => this.consume(3, KW.else));
      this.ACTION(() => !elseTok && this.missing('`else`', this.LA(0)));
      this.option(5, () => {
        els = this.subrule(3, this.expression);
      });
      this.ACTION(() => elseTok && !els && this.missing('an expression', elseTok));
      return this.ACTION(() => ({ kind: 'If' as const, cond, then, else: els, range: this.from(kw.startOffset) }))!;
    }
  });
}

// ------------------------------------------------------------------ driver

let parserInstance: ReinParser | undefined;
function getParser(): ReinParser {
  return (parserInstance ??= new ReinParser());
}

/**
 * Builds a parser with Chevrotain's grammar validations on and returns its definition errors
 * (empty when the grammar is sound). The shared parser skips them to start faster; a test runs this.
 */
export function grammarErrors(): string[] {
  try {
    // Chevrotain throws "Parser Definition Errors detected" from the constructor on any error
    const p = new ReinParser(true) as unknown as { definitionErrors?: { message: string }[] };
    return (p.definitionErrors ?? []).map((e) => e.message);
  } catch (err) {
    return [(err as Error).message];
  }
}

/** Splits the token vector into declaration chunks: a chunk starts at a declaration that begins a line. */
function chunkStarts(tokens: IToken[], text: string): number[] {
  const starts = [0];
  let lineFirst = 0;
  let prevLineFirst = -1;
  for (let i = 1; i < tokens.length; i++) {
    const t = tokens[i];
    const prev = tokens[i - 1];
    let newline = false;
    for (let k = prev.startOffset + prev.image.length; k < t.startOffset; k++) {
      const c = text.charCodeAt(k);
      if (c === 10 || c === 13) {
        newline = true;
        break;
      }
    }
    if (!newline) continue;
    prevLineFirst = lineFirst;
    lineFirst = i;
    if (t.tokenType !== AnnotationName && !declKeywordTypes.has(t.tokenType)) continue;
    // a line of annotations belongs to the declaration below it
    if (tokens[prevLineFirst].tokenType === AnnotationName) continue;
    if (!startsDecl(t, tokens[i + 1], tokens[i + 2], text)) continue;
    // annotations at the end of the previous line (`let a = 1 @monitor⏎rule r …`) belong to this
    // declaration: the chunk starts at the first of them
    let j = i;
    for (;;) {
      if (tokens[j - 1]?.tokenType === AnnotationName) j -= 1;
      else if (
        tokens[j - 1]?.tokenType === RParen &&
        tokens[j - 2]?.tokenType === StringLiteral &&
        tokens[j - 3]?.tokenType === LParen &&
        tokens[j - 4]?.tokenType === AnnotationName
      ) j -= 4;
      else break;
    }
    if (j > starts[starts.length - 1]) starts.push(j);
  }
  return starts;
}

function errorRange(p: ReinParser, e: IRecognitionException): { start: number; end: number } {
  const tok = e.token;
  const prev = (e as IRecognitionException & { previousToken?: IToken }).previousToken;
  const prevOk = p.real(prev);
  if (p.real(tok) && (!prevOk || !p.newlineBetween(prev!.startOffset + prev!.image.length, tok.startOffset))) {
    return { start: tok.startOffset, end: tok.startOffset + tok.image.length };
  }
  if (prevOk) return { start: prev!.startOffset, end: prev!.startOffset + prev!.image.length };
  if (p.real(tok)) return { start: tok.startOffset, end: tok.startOffset + tok.image.length };
  return { start: p.eofOffset, end: p.eofOffset };
}

function runRule<T>(p: ReinParser, tokens: IToken[], eofOffset: number, ctx: BodyCtx, rule: () => T): T | undefined {
  p.input = tokens;
  p.eofOffset = eofOffset;
  p.depth = 0;
  p.ctx = ctx;
  let result: T | undefined;
  try {
    result = rule();
  } catch (err) {
    if (err instanceof TooDeep) {
      const t = p.real(err.token) ? err.token : undefined;
      p.report('REIN101', `expression is nested too deeply (more than ${MAX_DEPTH} levels)`, t ? t.startOffset : eofOffset, t ? t.startOffset + t.image.length : eofOffset);
    } else if (err instanceof RangeError) {
      p.report('REIN101', 'expression is nested too deeply', tokens[0]?.startOffset ?? eofOffset, eofOffset);
    } else {
      p.report('REIN101', `internal parser error: ${(err as Error)?.message ?? String(err)}`, tokens[0]?.startOffset ?? eofOffset, eofOffset);
    }
    result = undefined;
  }
  for (const e of p.errors) {
    const { start, end } = errorRange(p, e);
    p.report('REIN101', e.message, start, end);
  }
  p.input = [];
  return result;
}

function toDiagnostic(li: LineIndex, file: string, d: RawDiagnostic): Diagnostic {
  const out: Diagnostic = { file, range: li.range(d.start, Math.max(d.start, d.end)), severity: SEVERITIES[d.code], code: d.code, message: d.message };
  if (d.help) out.help = d.help;
  return out;
}

/** Parses one `.rein` source. Never throws. */
export function parse(text: string, file = 'policy.rein'): A.ParseResult {
  const p = getParser();
  const li = new LineIndex(text);
  p.text = text;
  p.li = li;
  p.diags = [];
  p.pending = [];
  const lexed = lex(text);
  const lexDiags: (RawDiagnostic & { junk?: boolean })[] = lexed.diagnostics;
  const tokens = lexed.tokens;
  const decls: A.Decl[] = [];

  const starts = chunkStarts(tokens, text);
  const interpComments: RawComment[] = [];
  for (let c = 0; c < starts.length && tokens.length > 0; c++) {
    const a = starts[c];
    const b = c + 1 < starts.length ? starts[c + 1] : tokens.length;
    const chunk = tokens.slice(a, b);
    const last = chunk[chunk.length - 1];
    p.topDecls = [];
    p.interpLevel = 0;
    const ds = runRule(p, chunk, last.startOffset + last.image.length, 'top', () => p.declarations());
    decls.push(...(ds ?? p.topDecls));
    // interpolations (may add more pending work when they contain strings themselves)
    let guard = 0;
    while (p.pending.length > 0 && guard++ < 100_000) {
      const job = p.pending.shift()!;
      if (job.level > MAX_DEPTH) {
        // Deeper `${…}` are not even lexed: each level re-reads the text of every level inside it.
        p.report('REIN101', `interpolations are nested too deeply (more than ${MAX_DEPTH} levels)`, job.node.range.start.offset, job.node.range.end.offset);
        continue;
      }
      p.interpLevel = job.level;
      const inner = lex(text.slice(job.innerStart, job.innerEnd), job.innerStart);
      lexDiags.push(...inner.diagnostics);
      // comments inside `${…}` are comments of the file too (the formatter keeps them, editors show them)
      if (inner.comments.length > 0) interpComments.push(...inner.comments);
      if (inner.tokens.length === 0) {
        p.report('REIN101', 'expected an expression inside `${…}`', job.node.range.start.offset, job.node.range.end.offset);
        continue;
      }
      const expr = runRule(p, inner.tokens, job.innerEnd, 'interp', () => p.interpolation());
      if (expr) job.node.expr = expr;
    }
  }

  // One limit for the depth of every expression tree (operator, member and call chains included), so
  // no later pass can overflow the stack (depth.ts).
  limitExprDepth(decls, (r) =>
    p.report(
      'REIN101',
      `expression is nested too deeply (more than ${MAX_EXPR_DEPTH} levels; long operator, member and call chains count): split it into \`let\`s`,
      r.start.offset,
      r.end.offset,
    ),
  );

  // merge and dedupe: at most one syntax error per start offset; a junk report that starts inside
  // an error Chevrotain (or a hand-written check) already reported is noise and is dropped
  const all = [...lexDiags, ...p.diags].sort((x, y) => x.start - y.start || x.end - y.end || Number(!!x.junk) - Number(!!y.junk));
  const precise = all.filter((d) => d.code === 'REIN101' && !d.junk);
  const final: RawDiagnostic[] = [];
  const syntaxStarts = new Set<number>();
  for (const d of all) {
    if (d.code === 'REIN101') {
      if (syntaxStarts.has(d.start)) continue;
      if (d.junk && precise.some((o) => o.start <= d.start && d.start < Math.max(o.end, o.start + 1))) continue;
      syntaxStarts.add(d.start);
    }
    final.push(d);
  }

  // Chevrotain's lookahead tables are sparse arrays: in a process whose Array.prototype (or
  // Object.prototype) has indexed properties, their holes read the polluted values and the parse is
  // wrong. Rein's own code never reads past an array's end; report the environment instead of a
  // wrong result or an internal error.
  const polluted = pollutedIndex();
  if (polluted)
    final.unshift({
      code: 'REIN101',
      message: `cannot parse reliably: ${polluted} has an indexed property (prototype pollution in this JavaScript environment)`,
      help: 'remove the property (it affects every sparse array in the process), then check again',
      start: 0,
      end: 0,
    });

  const rawComments = interpComments.length === 0 ? lexed.comments : [...lexed.comments, ...interpComments].sort((x, y) => x.start - y.start);
  const comments = rawComments.map((c) => toComment(li, c));
  attachDocs(decls, lexed.comments, text, li);

  return {
    ast: { kind: 'SourceFile', file, decls, comments, range: li.range(0, text.length) },
    diagnostics: final.map((d) => toDiagnostic(li, file, d)),
  };
}

/** `Array.prototype` or `Object.prototype` when either has an own array-index key (`"0"`, `"17"`). */
function pollutedIndex(): string | undefined {
  for (const [name, proto] of [['Array.prototype', Array.prototype], ['Object.prototype', Object.prototype]] as const) {
    for (const k of Object.getOwnPropertyNames(proto)) {
      const c = k.charCodeAt(0);
      if (c >= 48 && c <= 57) return name;
    }
  }
  return undefined;
}

function toComment(li: LineIndex, c: RawComment): A.Comment {
  return { kind: c.kind, text: c.text, range: li.range(c.start, c.end) };
}

// ------------------------------------------------------------------ doc comments

function attachDocs(decls: A.Decl[], comments: RawComment[], text: string, li: LineIndex): void {
  const docByLine = new Map<number, string>();
  for (const c of comments) {
    if (c.kind !== 'doc') continue;
    // only a `///` that is the first thing on its line
    let k = c.start - 1;
    while (k >= 0 && (text[k] === ' ' || text[k] === '\t')) k--;
    if (k >= 0 && text[k] !== '\n' && text[k] !== '\r') continue;
    const line = li.position(c.start).line;
    docByLine.set(line, c.text.replace(/^\/\/\/ ?/, '').replace(/\s+$/, ''));
  }
  if (docByLine.size === 0) return;
  // a node takes the `///` block above its line only when it is the first thing on that line, so a
  // field on the declaration's line (`input { a: int }`) or a second declaration on one line does
  // not inherit the declaration's doc
  const firstOnLine = (offset: number): boolean => {
    let k = offset - 1;
    while (k >= 0 && (text[k] === ' ' || text[k] === '\t')) k--;
    return k < 0 || text[k] === '\n' || text[k] === '\r' || text.charCodeAt(k) === 0xfeff;
  };
  const docOf = (node: A.Node): string | undefined => (firstOnLine(node.range.start.offset) ? docAbove(node.range.start.line) : undefined);
  const docAbove = (line: number): string | undefined => {
    const lines: string[] = [];
    for (let l = line - 1; docByLine.has(l); l--) lines.unshift(docByLine.get(l)!);
    return lines.length ? lines.join('\n') : undefined;
  };
  const fields = (fs: A.FieldDecl[]): void => {
    for (const f of fs) {
      const d = docOf(f);
      if (d !== undefined) f.doc = d;
      typeFields(f.type);
    }
  };
  const typeFields = (t: A.TypeExpr | undefined): void => {
    if (!t) return;
    if (t.kind === 'ObjectType') fields(t.fields);
    else if (t.kind === 'TypeName') t.args.forEach(typeFields);
  };
  for (const d of decls) {
    const doc = docOf(d);
    if (doc !== undefined) d.doc = doc;
    if (d.kind === 'InputDecl') fields(d.fields);
    else if (d.kind === 'TypeDecl') typeFields(d.type);
  }
}

// ------------------------------------------------------------------ tokens for semantic highlighting

export interface SyntaxToken {
  type: 'keyword' | 'identifier' | 'string' | 'number' | 'money' | 'duration' | 'percent' | 'operator' | 'punctuation' | 'annotation';
  text: string;
  range: Range;
}

const PUNCT = new Set<TokenType>([Dot, Comma, Colon, LParen, RParen, LBracket, RBracket, LCurly, RCurly]);
const NAME_TAKERS = new Set<TokenType>([KW.let, KW.def, KW.type, KW.rule, KW.budget, KW.spent, KW.approved, KW.data, Dot]);

/**
 * Classifies every token for semantic highlighting (strings are split around `${…}` so the
 * interpolated expression is highlighted as code). Contextual keywords used as names are reported
 * as `identifier` when the neighbours make that obvious (after `.`, before `:`, after `let`…);
 * the language server refines the rest with the AST.
 */
export function tokenize(text: string): { tokens: SyntaxToken[]; comments: A.Comment[] } {
  const li = new LineIndex(text);
  const { tokens: toks, comments } = lex(text);
  const out: SyntaxToken[] = [];
  const push = (type: SyntaxToken['type'], start: number, end: number): void => {
    if (end > start) out.push({ type, text: text.slice(start, end), range: li.range(start, end) });
  };
  const emit = (list: IToken[], depth: number): void => {
    for (let i = 0; i < list.length; i++) {
      const t = list[i];
      const tt = t.tokenType;
      const start = t.startOffset;
      const end = start + t.image.length;
      if (tt === StringLiteral) {
        const p = t.payload as StringPayload;
        let at = start;
        for (const piece of p.pieces) {
          if (piece.kind !== 'interp') continue;
          push('string', at, start + piece.start);
          push('punctuation', start + piece.start, start + piece.innerStart);
          if (depth < 20) {
            const inner = lex(text.slice(start + piece.innerStart, start + piece.innerEnd), start + piece.innerStart);
            comments.push(...inner.comments);
            emit(inner.tokens, depth + 1);
          }
          if (piece.closed) push('punctuation', start + piece.innerEnd, start + piece.end);
          at = start + piece.end;
        }
        push('string', at, end);
      } else if (tt === NumberLiteral) push('number', start, end);
      else if (tt === Money) push('money', start, end);
      else if (tt === Duration) push('duration', start, end);
      else if (tt === Percent) push('percent', start, end);
      else if (tt === AnnotationName || tt === At) push('annotation', start, end);
      else if (tt === Identifier) push('identifier', start, end);
      else if (RESERVED_SET.has(t.image) && isWordTok(t)) {
        // a reserved word is a name only as a member (`x.in`), an object key or a field (`in: 1`)
        const prev = list[i - 1];
        const next = list[i + 1];
        const asName =
          prev?.tokenType === Dot || next?.tokenType === Colon || (next?.tokenType === Question && list[i + 2]?.tokenType === Colon);
        push(asName ? 'identifier' : 'keyword', start, end);
      }
      else if (isNameTok(t)) {
        const prev = list[i - 1];
        const next = list[i + 1];
        const asName =
          (prev && NAME_TAKERS.has(prev.tokenType)) ||
          (next && (next.tokenType === Colon || next.tokenType === Arrow || (next.tokenType === Question && list[i + 2]?.tokenType === Colon)));
        push(asName ? 'identifier' : 'keyword', start, end);
      } else if (PUNCT.has(tt)) push('punctuation', start, end);
      else push('operator', start, end);
    }
  };
  emit(toks, 0);
  // comments inside `${…}` were appended after the file's: back into text order
  return { tokens: out, comments: comments.sort((x, y) => x.start - y.start).map((c) => toComment(li, c)) };
}

// keep these imports referenced for consumers of the lexer vocabulary
void DocComment;
void LineComment;
void BlockComment;

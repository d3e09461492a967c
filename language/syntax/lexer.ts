// The Rein lexer (Chevrotain). Produces the token vector for the parser, the comments, and the
// lexical diagnostics (REIN100 unexpected character, REIN102 unterminated string/comment, REIN103
// bad literal). Every literal token carries its decoded value in `payload`, so the parser never
// re-reads literal text.
//
// Keyword handling (see docs/grammar.md): every keyword is its own token type, declared before
// `Identifier` with `longer_alt: Identifier`, sorted longest first (`input` before `in`).
// Categories let the parser accept "any word" where a name is expected:
//   Word     = Identifier + contextual keywords + reserved words   (member names, keys, fields)
//   Name     = Identifier + contextual keywords                   (references, declaration names)
//   Reserved = the 12 reserved words                               (REIN104 when used as a name)
// Strings are one token found by a custom matcher that counts braces inside `${…}`; the parser
// sub-lexes and sub-parses each interpolation with offsets shifted, so ranges stay exact.

import { createToken, Lexer, type IToken, type TokenType, type CustomPatternMatcherReturn } from 'chevrotain';
import type { Comment } from './ast.js';

/** A diagnostic before it has a file and line/character positions (offsets into the full text). */
export interface RawDiagnostic {
  code: 'REIN100' | 'REIN101' | 'REIN102' | 'REIN103' | 'REIN104' | 'REIN105' | 'REIN106';
  message: string;
  start: number;
  end: number;
  help?: string;
}

// ------------------------------------------------------------------ categories

/** Every real token (used by the parser to skip junk inside a declaration body). */
export const AnyToken = createToken({ name: 'AnyToken', pattern: Lexer.NA });
/** Any word: identifiers, contextual keywords and reserved words. */
export const Word = createToken({ name: 'Word', pattern: Lexer.NA, categories: [AnyToken] });
/** A word usable as a bare name: identifiers and contextual keywords. */
export const Name = createToken({ name: 'Name', pattern: Lexer.NA, categories: [Word, AnyToken] });
/** A reserved word (never a bare name). */
export const Reserved = createToken({ name: 'Reserved', pattern: Lexer.NA, categories: [Word, AnyToken] });

export const Identifier = createToken({
  name: 'Identifier',
  pattern: /[A-Za-z_][A-Za-z0-9_]*/,
  start_chars_hint: [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_'],
  categories: [Name, Word, AnyToken],
});

// ------------------------------------------------------------------ keywords

import { RESERVED_WORDS, CONTEXTUAL_KEYWORDS } from './keywords.js';
export { RESERVED_WORDS, CONTEXTUAL_KEYWORDS };

export type ReservedWord = (typeof RESERVED_WORDS)[number];
export type ContextualKeyword = (typeof CONTEXTUAL_KEYWORDS)[number];

/** Keyword token types by their spelling. */
export const KW = {} as Record<ReservedWord | ContextualKeyword, TokenType>;

function keyword(word: string, reserved: boolean): TokenType {
  const t = createToken({
    name: reserved ? `Reserved_${word}` : `Kw_${word}`,
    pattern: new RegExp(word),
    longer_alt: Identifier,
    categories: reserved ? [Reserved, Word, AnyToken] : [Name, Word, AnyToken],
    start_chars_hint: [word.charCodeAt(0)],
  });
  (KW as Record<string, TokenType>)[word] = t;
  return t;
}

const keywordTokens: TokenType[] = [...RESERVED_WORDS.map((w) => ({ w, r: true })), ...CONTEXTUAL_KEYWORDS.map((w) => ({ w, r: false }))]
  // longest first, so `input` is tried before `in` and `require_approval` before `require`
  .sort((a, b) => b.w.length - a.w.length || (a.w < b.w ? -1 : 1))
  .map(({ w, r }) => keyword(w, r));

export const RESERVED_SET: ReadonlySet<string> = new Set(RESERVED_WORDS);
export const CONTEXTUAL_SET: ReadonlySet<string> = new Set(CONTEXTUAL_KEYWORDS);

// ------------------------------------------------------------------ trivia

export const WhiteSpace = createToken({ name: 'WhiteSpace', pattern: /[ \t\r\n\f\v\uFEFF]+/, group: Lexer.SKIPPED, line_breaks: true, start_chars_hint: [' ', '\t', '\r', '\n', '\f', '\v', '\uFEFF'] });
export const DocComment = createToken({ name: 'DocComment', pattern: /\/\/\/(?!\/)[^\n\r]*/, group: 'comments', start_chars_hint: ['/'] });
export const LineComment = createToken({ name: 'LineComment', pattern: /\/\/[^\n\r]*/, group: 'comments', start_chars_hint: ['/'] });
export const BlockComment = createToken({
  name: 'BlockComment',
  // an unterminated comment runs to the end of the input (REIN102 is reported by `lex`)
  pattern: {
    exec: (text: string, offset: number): CustomPatternMatcherReturn | null => {
      if (text.charCodeAt(offset) !== 47 || text.charCodeAt(offset + 1) !== 42) return null;
      const close = text.indexOf('*/', offset + 2);
      return [text.slice(offset, close < 0 ? text.length : close + 2)] as unknown as CustomPatternMatcherReturn;
    },
  },
  group: 'comments',
  line_breaks: true,
  start_chars_hint: ['/'],
});

// ------------------------------------------------------------------ strings

/** One piece of a scanned string, offsets relative to the token start. */
export type StringPiece =
  | { kind: 'text'; start: number; end: number; value: string }
  | { kind: 'interp'; start: number; end: number; innerStart: number; innerEnd: number; closed: boolean };

export interface StringPayload {
  pieces: StringPiece[];
  terminated: boolean;
  /** Bad escapes etc., offsets relative to the token start. */
  errors: { start: number; end: number; message: string; help?: string }[];
}

const HEX = /^[0-9A-Fa-f]+$/;

/**
 * The end of the string literal starting at `start` (which holds `"`), skipping nested `${…}` and
 * strings inside them without recursion (a string nested thousands of levels deep must not overflow
 * the stack; the parser reports nesting past its limit). Same ends as `scanString`.
 */
function skipString(text: string, start: number): { end: number; terminated: boolean } {
  // Open frames: -1 for a string, n ≥ 1 for an interpolation at brace depth n.
  const frames: number[] = [-1];
  let i = start + 1;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 10 || c === 13) return { end: i, terminated: false };
    const top = frames[frames.length - 1];
    if (top === -1) {
      if (c === 34 /* " */) {
        frames.pop();
        i++;
        if (frames.length === 0) return { end: i, terminated: true };
      } else if (c === 92 /* \ */) {
        const n = text.charCodeAt(i + 1);
        if (i + 1 >= text.length || n === 10 || n === 13) return { end: i + 1, terminated: false };
        i += 2;
      } else if (c === 36 /* $ */ && text.charCodeAt(i + 1) === 123 /* { */) {
        frames.push(1);
        i += 2;
      } else i++;
    } else {
      if (c === 123) frames[frames.length - 1] = top + 1;
      else if (c === 125) {
        if (top === 1) frames.pop();
        else frames[frames.length - 1] = top - 1;
      } else if (c === 34) frames.push(-1);
      i++;
    }
  }
  return { end: i, terminated: false };
}

/**
 * Scans a string literal starting at `start` (which holds `"`). A string ends at the closing quote;
 * a line break or the end of input first makes it unterminated (strings are single-line).
 * Inside `${…}` braces are counted and nested strings skipped, so `"${ {a: "}"}.a }"` is one token.
 */
export function scanString(text: string, start: number): { end: number; payload: StringPayload } {
  const pieces: StringPiece[] = [];
  const errors: StringPayload['errors'] = [];
  let i = start + 1;
  let textStart = i;
  let value = '';
  const flushText = (end: number): void => {
    if (end > textStart || value !== '') pieces.push({ kind: 'text', start: textStart - start, end: end - start, value });
    value = '';
  };
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) {
      flushText(i);
      return { end: i + 1, payload: { pieces, terminated: true, errors } };
    }
    if (c === 10 || c === 13) break;
    if (c === 92 /* \ */) {
      const n = text[i + 1];
      if (n === undefined || n === '\n' || n === '\r') {
        i++;
        break;
      }
      const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', '0': '\0', '"': '"', "'": "'", '\\': '\\', $: '$', '{': '{', '}': '}' };
      if (n in simple) {
        value += simple[n];
        i += 2;
        continue;
      }
      if (n === 'u') {
        let hex = '';
        let len = 2;
        if (text[i + 2] === '{') {
          const close = text.indexOf('}', i + 3);
          const nl = text.slice(i + 3, close < 0 ? i + 3 : close);
          if (close >= 0 && /^[0-9A-Fa-f]{1,6}$/.test(nl)) {
            hex = nl;
            len = close + 1 - i;
          }
        } else {
          const h = text.slice(i + 2, i + 6);
          if (h.length === 4 && HEX.test(h)) {
            hex = h;
            len = 6;
          }
        }
        const cp = hex ? parseInt(hex, 16) : NaN;
        if (hex && cp <= 0x10ffff) {
          value += String.fromCodePoint(cp);
          i += len;
          continue;
        }
        errors.push({ start: i - start, end: i + len - start, message: 'invalid unicode escape: use `\\u{1F600}` or `\\u00E9`' });
        i += len;
        continue;
      }
      errors.push({
        start: i - start,
        end: i + 2 - start,
        message: `unknown escape \`\\${n}\``,
        // \s \d \w \b … are regular-expression escapes: in a string literal the backslash is doubled
        help: /^[sSdDwWbBpPAz.+*?()[\]{}|^]$/.test(n)
          ? `in a regular expression write \`\\\\${n}\` (a string literal needs the backslash doubled); string escapes: \\n \\t \\r \\" \\\\ \\$ \\u{…}`
          : 'string escapes: \\n \\t \\r \\" \\\\ \\$ \\u{…}',
      });
      value += n;
      i += 2;
      continue;
    }
    if (c === 36 /* $ */ && text.charCodeAt(i + 1) === 123 /* { */) {
      flushText(i);
      const interpStart = i;
      let j = i + 2;
      let depth = 1;
      let closed = false;
      while (j < text.length) {
        const d = text.charCodeAt(j);
        if (d === 10 || d === 13) break;
        if (d === 123) depth++;
        else if (d === 125) {
          depth--;
          if (depth === 0) {
            closed = true;
            break;
          }
        } else if (d === 34) {
          const inner = skipString(text, j);
          if (!inner.terminated) {
            j = inner.end;
            break;
          }
          j = inner.end;
          continue;
        }
        j++;
      }
      pieces.push({
        kind: 'interp',
        start: interpStart - start,
        end: (closed ? j + 1 : j) - start,
        innerStart: interpStart + 2 - start,
        innerEnd: j - start,
        closed,
      });
      if (!closed) {
        return { end: j, payload: { pieces, terminated: false, errors } };
      }
      i = j + 1;
      textStart = i;
      continue;
    }
    // a regular character (surrogate pairs are copied unit by unit)
    value += text[i];
    i++;
  }
  flushText(i);
  return { end: i, payload: { pieces, terminated: false, errors } };
}

export const StringLiteral = createToken({
  name: 'StringLiteral',
  pattern: {
    exec: (text: string, offset: number): CustomPatternMatcherReturn | null => {
      if (text.charCodeAt(offset) !== 34) return null;
      const { end, payload } = scanString(text, offset);
      const m = [text.slice(offset, end)] as unknown as CustomPatternMatcherReturn;
      m.payload = payload;
      return m;
    },
  },
  line_breaks: false,
  start_chars_hint: ['"'],
  categories: [AnyToken],
});

// ------------------------------------------------------------------ numbers

const NUM = '[0-9][0-9_]*(?:\\.[0-9][0-9_]*)?';
export const Money = createToken({
  name: 'Money',
  pattern: /\$[0-9][0-9_]*(?:\.[0-9_]*)?(?:[A-Za-z_][A-Za-z0-9_]*)?/,
  start_chars_hint: ['$'],
  categories: [AnyToken],
});
export const Percent = createToken({
  name: 'Percent',
  // `80%` is a percent; `80%3` and `80%x` are the modulo operator
  pattern: new RegExp(`${NUM}%(?![A-Za-z0-9_$("\\[])`),
  start_chars_hint: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
  categories: [AnyToken],
});
export const Duration = createToken({
  name: 'Duration',
  pattern: new RegExp(`${NUM}(?:ms|s|m|h|d)(?![A-Za-z0-9_])`),
  start_chars_hint: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
  categories: [AnyToken],
});
export const NumberLiteral = createToken({
  name: 'NumberLiteral',
  // a trailing word (`5w`, `1e`) is lexed into the token and rejected with REIN103
  pattern: new RegExp(`${NUM}(?:[eE][+-]?[0-9][0-9_]*)?(?:[A-Za-z_][A-Za-z0-9_]*)?`),
  start_chars_hint: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
  categories: [AnyToken],
});

// ------------------------------------------------------------------ annotations, operators

export const AnnotationName = createToken({ name: 'AnnotationName', pattern: /@[A-Za-z_][A-Za-z0-9_]*/, start_chars_hint: ['@'], categories: [AnyToken] });
export const At = createToken({ name: 'At', pattern: /@/, start_chars_hint: ['@'], categories: [AnyToken] });

/** Help for characters people bring from other languages. */
function charHelp(bad: string): string | undefined {
  if (bad.startsWith('&&') || bad === '&') return 'write `and`';
  if (bad.startsWith('!')) return 'write `not` (and `!=` for "not equal")';
  if (bad.startsWith("'")) return 'strings use double quotes: `"…"`';
  if (bad.startsWith(';')) return 'Rein needs no `;`: remove it';
  if (bad.startsWith('#')) return 'comments start with `//`';
  if (bad.startsWith('`')) return 'strings use double quotes, and `${…}` interpolates: `"tool ${action.tool}"`';
  return undefined;
}

function op(name: string, text: string): TokenType {
  return createToken({ name, pattern: text, label: `\`${text}\``, categories: [AnyToken] });
}
export const EqEq = op('EqEq', '==');
export const NotEq = op('NotEq', '!=');
export const LtEq = op('LtEq', '<=');
export const GtEq = op('GtEq', '>=');
export const QQ = op('QQ', '??');
export const Arrow = op('Arrow', '=>');
export const Lt = op('Lt', '<');
export const Gt = op('Gt', '>');
export const Eq = op('Eq', '=');
export const Plus = op('Plus', '+');
export const Minus = op('Minus', '-');
export const Star = op('Star', '*');
export const Slash = op('Slash', '/');
export const PercentOp = op('PercentOp', '%');
export const Dot = op('Dot', '.');
export const Comma = op('Comma', ',');
export const Colon = op('Colon', ':');
export const LParen = op('LParen', '(');
export const RParen = op('RParen', ')');
export const LBracket = op('LBracket', '[');
export const RBracket = op('RBracket', ']');
export const LCurly = op('LCurly', '{');
export const RCurly = op('RCurly', '}');
export const Pipe = op('Pipe', '|');
export const Question = op('Question', '?');

export const allTokens: TokenType[] = [
  WhiteSpace,
  DocComment,
  LineComment,
  BlockComment,
  StringLiteral,
  Money,
  Percent,
  Duration,
  NumberLiteral,
  AnnotationName,
  At,
  ...keywordTokens,
  Identifier,
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
  // categories (no pattern) are part of the vocabulary so the parser knows them
  AnyToken,
  Word,
  Name,
  Reserved,
];

const lexer = new Lexer(allTokens, {
  positionTracking: 'onlyOffset',
  ensureOptimizations: false,
  // Validations (token patterns, categories) cost ~40 ms at every start; test/syntax/lexer-validations.test.ts runs them.
  skipValidations: true,
});

// ------------------------------------------------------------------ literal values

export interface NumberPayload {
  value: number;
  isInt: boolean;
}
export interface MoneyPayload {
  micros: number;
}
export interface DurationPayload {
  ms: number;
}
export interface PercentPayload {
  value: number;
}

const DIGITS = /^[0-9]+(?:_[0-9]+)*$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

function checkDigits(raw: string, intPart: string, fracPart: string | undefined): string | undefined {
  if (!DIGITS.test(intPart) || (fracPart !== undefined && !DIGITS.test(fracPart))) {
    return `invalid number \`${raw}\`: \`_\` may only separate digits`;
  }
  return undefined;
}

/** Decodes a numeric token into its payload; returns an error message when the literal is invalid. */
function decodeNumeric(tok: IToken): string | undefined {
  const raw = tok.image;
  const t = tok.tokenType;
  if (t === Money) {
    const m = /^\$([0-9_]+)(?:\.([0-9_]*))?([A-Za-z_][A-Za-z0-9_]*)?$/.exec(raw)!;
    tok.payload = { micros: 0 } satisfies MoneyPayload;
    if (m[3] !== undefined) return `invalid money literal \`${raw}\`: unexpected \`${m[3]}\` after the amount`;
    if (m[2] === '') return `invalid money literal \`${raw}\`: expected digits after \`.\``;
    const err = checkDigits(raw, m[1], m[2]);
    if (err) return err.replace('invalid number', 'invalid money literal');
    const whole = m[1].replace(/_/g, '');
    const frac = (m[2] ?? '').replace(/_/g, '');
    if (frac.length > 6) return `invalid money literal \`${raw}\`: at most 6 decimal places (micro-units)`;
    const micros = Number(whole) * 1_000_000 + Number(frac.padEnd(6, '0') || '0');
    if (!Number.isSafeInteger(micros)) return `money literal \`${raw}\` is too large`;
    tok.payload = { micros } satisfies MoneyPayload;
    return undefined;
  }
  if (t === Percent) {
    const body = raw.slice(0, -1);
    const [i, f] = body.split('.');
    tok.payload = { value: 0 } satisfies PercentPayload;
    const err = checkDigits(raw, i, f);
    if (err) return err;
    tok.payload = { value: Number(body.replace(/_/g, '')) / 100 } satisfies PercentPayload;
    return undefined;
  }
  if (t === Duration) {
    const m = /^([0-9_]+)(?:\.([0-9_]+))?(ms|s|m|h|d)$/.exec(raw)!;
    tok.payload = { ms: 0 } satisfies DurationPayload;
    const err = checkDigits(raw, m[1], m[2]);
    if (err) return err.replace('invalid number', 'invalid duration');
    const n = Number(`${m[1]}${m[2] !== undefined ? '.' + m[2] : ''}`.replace(/_/g, ''));
    const ms = n * UNIT_MS[m[3]];
    if (!Number.isSafeInteger(Math.round(ms))) return `invalid duration \`${raw}\`: out of range (at most ${Number.MAX_SAFE_INTEGER} ms, about 285,616 years)`;
    if (Math.abs(ms - Math.round(ms)) > 1e-9) {
      return `invalid duration \`${raw}\`: must be a whole number of milliseconds`;
    }
    tok.payload = { ms: Math.round(ms) } satisfies DurationPayload;
    return undefined;
  }
  // NumberLiteral
  const m = /^([0-9_]+)(?:\.([0-9_]+))?(?:[eE]([+-]?[0-9_]+))?([A-Za-z_][A-Za-z0-9_]*)?$/.exec(raw);
  tok.payload = { value: 0, isInt: true } satisfies NumberPayload;
  if (!m) return `invalid number \`${raw}\``;
  if (m[4] !== undefined) {
    const unit = m[4];
    if (/^(w|y|mo|min|sec|ns|us)$/.test(unit)) {
      return `invalid duration \`${raw}\`: units are \`ms\`, \`s\`, \`m\`, \`h\` and \`d\``;
    }
    return `invalid number \`${raw}\`: unexpected \`${unit}\` after the digits`;
  }
  const err = checkDigits(raw, m[1], m[2]);
  if (err) return err;
  if (m[3] !== undefined && !/^[+-]?[0-9]+$/.test(m[3])) return `invalid number \`${raw}\`: bad exponent`;
  const value = Number(raw.replace(/_/g, ''));
  if (!Number.isFinite(value)) return `number \`${raw}\` is too large`;
  const isInt = m[2] === undefined && m[3] === undefined;
  if (isInt && !Number.isSafeInteger(value)) return `integer \`${raw}\` is too large (at most 2^53 - 1)`;
  tok.payload = { value, isInt } satisfies NumberPayload;
  return undefined;
}

// ------------------------------------------------------------------ entry point

export interface LexResult {
  tokens: IToken[];
  comments: Comment[];
  /** Offsets are absolute (already shifted by `base`); comments have no line/character yet. */
  diagnostics: RawDiagnostic[];
}

export interface RawComment {
  kind: Comment['kind'];
  text: string;
  start: number;
  end: number;
}

/**
 * Lexes `text`. When `base` is given, `text` is a slice of a larger source starting at `base` and
 * every offset (tokens, comments, diagnostics) is shifted so it refers to the larger source.
 */
export function lex(text: string, base = 0): { tokens: IToken[]; comments: RawComment[]; diagnostics: RawDiagnostic[] } {
  const res = lexer.tokenize(text);
  const diagnostics: RawDiagnostic[] = [];
  for (const e of res.errors) {
    const start = e.offset + base;
    const bad = text.slice(e.offset, e.offset + e.length);
    const shown = bad.length > 20 ? bad.slice(0, 20) + '…' : bad;
    const help = charHelp(bad);
    diagnostics.push({
      code: 'REIN100',
      message: `unexpected character${bad.length === 1 ? '' : 's'} ${shown.includes('`') ? `\`\` ${shown} \`\`` : `\`${shown}\``}`,
      start,
      end: start + e.length,
      ...(help ? { help } : {}),
    });
  }
  const tokens = res.tokens;
  for (const tok of tokens) {
    if (base !== 0) {
      tok.startOffset += base;
      tok.endOffset = (tok.endOffset ?? tok.startOffset) + base;
    }
    const t = tok.tokenType;
    if (t === StringLiteral) {
      const p = tok.payload as StringPayload;
      if (!p.terminated) {
        diagnostics.push({
          code: 'REIN102',
          message: 'unterminated string',
          start: tok.startOffset,
          end: tok.startOffset + tok.image.length,
          help: 'close it with `"` on the same line (strings cannot span lines; use `\\n`)',
        });
      }
      for (const e of p.errors) {
        diagnostics.push({ code: 'REIN103', message: e.message, start: tok.startOffset + e.start, end: tok.startOffset + e.end, ...(e.help ? { help: e.help } : {}) });
      }
    } else if (t === Money || t === Percent || t === Duration || t === NumberLiteral) {
      const err = decodeNumeric(tok);
      if (err) diagnostics.push({ code: 'REIN103', message: err, start: tok.startOffset, end: tok.startOffset + tok.image.length });
    }
  }
  const comments: RawComment[] = [];
  for (const tok of (res.groups.comments ?? []) as IToken[]) {
    const start = tok.startOffset + base;
    const kind = tok.tokenType === DocComment ? 'doc' : tok.tokenType === BlockComment ? 'block' : 'line';
    comments.push({ kind, text: tok.image, start, end: start + tok.image.length });
    if (kind === 'block' && (tok.image.length < 4 || !tok.image.endsWith('*/'))) {
      diagnostics.push({
        code: 'REIN102',
        message: 'unterminated block comment',
        start,
        end: start + Math.min(tok.image.length, 2),
        help: 'close it with `*/`',
      });
    }
  }
  return { tokens, comments, diagnostics };
}

/** Start offset of a token. */
export function tokStart(t: IToken): number {
  return t.startOffset;
}
/** End offset (exclusive) of a token. */
export function tokEnd(t: IToken): number {
  return t.startOffset + t.image.length;
}

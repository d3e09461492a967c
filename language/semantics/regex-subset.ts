// The built-in `matches` engine: the common subset of RE2's syntax, with RE2's semantics, in linear
// time (docs/evaluation.md, "Regular expressions (RE2)"). It keeps re2js (46 KB gzip) out of a browser's bundle of
// `compile` for the patterns policies use: literals, `.`, classes (`[a-z]`, `[^…]`, `\d \w \s` and
// their negations, ASCII as in RE2), `^ $ \A \z \b \B`, groups (`(…)`, `(?:…)`, named), alternation,
// `* + ? {n} {n,} {n,m}` (greedy or lazy: the same yes/no), flags `i m s U` (`(?i)`, `(?i:…)`).
// Anything else (`\pL`, `\x{…}`, POSIX classes, `\Q…\E`, case folding beyond ASCII, …) is outside it:
// `subsetPattern` returns undefined and re2js decides (semantics/patterns.ts). Errors it reports are
// RE2's own messages; a pattern it is unsure about is left to re2js. test/semantics/regex-subset.test.ts
// compares it with re2js on generated patterns and inputs.
//
// Matching: a Thompson NFA over code points (a surrogate pair is one character, as in re2js), run
// as a set of states, one step per character: time linear in the input for every pattern.

import type { PolicyPattern } from './patterns.js';

/** A parse that found one of RE2's errors, with RE2's message. */
export type SubsetResult = PolicyPattern | { error: string } | undefined;

// Nodes: a character set (sorted [lo, hi] pairs), concatenation, alternation, repetition, assertion.
type Node = { t: 0; r: number[] } | { t: 1; xs: Node[] } | { t: 2; xs: Node[] } | { t: 3; x: Node; min: number; max: number; counted: number } | { t: 4; a: number };

// Assertions.
const BOT = 1; // ^ (no m), \A
const EOT = 2; // $ (no m), \z
const BOL = 3; // ^ with m
const EOL = 4; // $ with m
const WB = 5; // \b
const NWB = 6; // \B

const MAX_CP = 0x10ffff;
const DIGIT = [48, 57];
const WORD = [48, 57, 65, 90, 95, 95, 97, 122];
const SPACE = [9, 10, 12, 13, 32, 32];
/** Past these, re2js decides (its limits on repetition and size). */
const MAX_INSTS = 3000;
const MAX_DEPTH = 200;

/** Out of the subset: re2js decides. */
class Outside {}
const OUT = new Outside();

function norm(r: number[]): number[] {
  const p: [number, number][] = [];
  for (let i = 0; i < r.length; i += 2) p.push([r[i], r[i + 1]]);
  p.sort((a, b) => a[0] - b[0]);
  const out: number[] = [];
  for (const [lo, hi] of p) {
    const n = out.length;
    if (n > 0 && lo <= out[n - 1] + 1) out[n - 1] = Math.max(out[n - 1], hi);
    else out.push(lo, hi);
  }
  return out;
}

function negate(r: number[]): number[] {
  const out: number[] = [];
  let next = 0;
  for (let i = 0; i < r.length; i += 2) {
    if (r[i] > next) out.push(next, r[i] - 1);
    next = r[i + 1] + 1;
  }
  if (next <= MAX_CP) out.push(next, MAX_CP);
  return out;
}

/** RE2's simple case folding, for sets within ASCII (else outside the subset): each letter's other
 *  case, and K/k's KELVIN SIGN and S/s's LONG S. */
function fold(r: number[]): number[] {
  const add: number[] = [];
  for (let i = 0; i < r.length; i += 2) {
    if (r[i + 1] > 127) throw OUT;
    for (let c = r[i]; c <= r[i + 1]; c++) {
      const l = c | 32;
      if (l >= 97 && l <= 122) {
        add.push(c ^ 32, c ^ 32);
        if (l === 107) add.push(0x212a, 0x212a);
        if (l === 115) add.push(0x17f, 0x17f);
      }
    }
  }
  return norm(r.concat(add));
}

// RE2 reads a count only without a leading zero: `a{01}` is the literal text `a{01}`.
const REPEAT = /\{(0|[1-9]\d*)(,(0|[1-9]\d*)?)?\}/y;

/** The largest product of nested counted repetitions (`{n,m}`) inside `n`. */
function maxCount(n: Node): number {
  if (n.t === 1 || n.t === 2) {
    // A loop, not a spread: a group of 100k+ elements would overflow the call stack.
    let m = 1;
    for (const x of n.xs) m = Math.max(m, maxCount(x));
    return m;
  }
  if (n.t === 3) return Math.max(1, n.counted) * maxCount(n.x);
  return 1;
}

class Parser {
  i = 0;
  // Flags: i (fold), m (multi-line), s (dot matches \n). U swaps greediness: the same yes/no.
  fi = false;
  fm = false;
  fs = false;
  depth = 0;
  names = new Set<string>();
  constructor(readonly s: string) {}

  fail(msg: string): never {
    throw new SyntaxError('error parsing regexp: ' + msg);
  }

  alt(): Node {
    const xs = [this.cat()];
    while (this.s[this.i] === '|') {
      this.i++;
      xs.push(this.cat());
    }
    return xs.length === 1 ? xs[0] : { t: 2, xs };
  }

  cat(): Node {
    const xs: Node[] = [];
    const s = this.s;
    while (this.i < s.length && s[this.i] !== '|' && s[this.i] !== ')') {
      const at = this.i;
      const c = s[this.i];
      if (c === '*' || c === '+' || c === '?' || (c === '{' && this.repeat() !== undefined)) {
        // An operator with nothing before it (RE2's message), or after another (re2js decides).
        if (xs.length === 0) {
          if (c !== '{') this.i++;
          if (s[this.i] === '?') this.i++;
          this.fail(`missing argument to repetition operator: \`${s.slice(at, this.i)}\``);
        }
        throw OUT;
      }
      const x = this.atom();
      xs.push(this.postfix(x, at));
    }
    return xs.length === 1 ? xs[0] : { t: 1, xs };
  }

  /** `{n}`, `{n,}`, `{n,m}` at this.i: [min, max] (advancing), or undefined (a literal `{`). */
  repeat(): [number, number] | undefined {
    REPEAT.lastIndex = this.i;
    const m = REPEAT.exec(this.s);
    if (!m) return undefined;
    const min = Number(m[1]);
    const max = m[2] === undefined ? min : m[3] === undefined ? -1 : Number(m[3]);
    this.i += m[0].length;
    if (min > 1000 || max > 1000 || (max >= 0 && max < min)) this.fail(`invalid repeat count: \`${m[0]}\``);
    return [min, max];
  }

  postfix(x: Node, start: number): Node {
    const s = this.s;
    const c = s[this.i];
    let min: number;
    let max: number;
    if (c === '*') [min, max] = [0, -1];
    else if (c === '+') [min, max] = [1, -1];
    else if (c === '?') [min, max] = [0, 1];
    else if (c === '{') {
      const at = this.i;
      const r = this.repeat();
      if (r === undefined) return x;
      this.i = at;
      [min, max] = r;
    } else return x;
    // A repeated assertion, flag group or empty group: re2js decides.
    if (x.t === 4 || (x.t === 1 && x.xs.length === 0)) throw OUT;
    let counted = 0;
    if (c === '{') {
      this.repeat();
      // RE2 refuses nested counted repetitions whose counts multiply past 1000: re2js decides.
      counted = max < 0 ? min : max;
      if (counted > 0 && counted * maxCount(x) > 1000) throw OUT;
    } else this.i++;
    if (s[this.i] === '?') this.i++; // lazy: the same yes/no
    const n = s[this.i];
    if (n === '*' || n === '+' || n === '?' || (n === '{' && ((REPEAT.lastIndex = this.i), REPEAT.test(s)))) throw OUT; // nested repetition: re2js's message
    return { t: 3, x, min, max, counted };
  }

  atom(): Node {
    const s = this.s;
    const c = s[this.i];
    if (c === '(') return this.group();
    if (c === '[') return this.cls();
    this.i++;
    if (c === '.') return { t: 0, r: this.fs ? [0, MAX_CP] : [0, 9, 11, MAX_CP] };
    if (c === '^') return { t: 4, a: this.fm ? BOL : BOT };
    if (c === '$') return { t: 4, a: this.fm ? EOL : EOT };
    if (c === '\\') {
      const e = s[this.i];
      if (e === 'A') return this.i++, { t: 4, a: BOT };
      if (e === 'z') return this.i++, { t: 4, a: EOT };
      if (e === 'b') return this.i++, { t: 4, a: WB };
      if (e === 'B') return this.i++, { t: 4, a: NWB };
      return this.set(this.escape());
    }
    if (c === ')') this.fail(`unexpected ): \`${s}\``);
    this.i--;
    const cp = s.codePointAt(this.i)!;
    this.i += cp > 0xffff ? 2 : 1;
    return this.set([cp, cp]);
  }

  set(r: number[]): Node {
    return { t: 0, r: this.fi ? fold(r) : r };
  }

  /** After a backslash (this.i at the escaped character): the characters it stands for. */
  escape(): number[] {
    const s = this.s;
    const e = s[this.i];
    if (e === undefined) this.fail('trailing backslash at end of expression');
    this.i++;
    const perl = 'dDsSwW'.indexOf(e);
    if (perl >= 0) {
      const r = [DIGIT, SPACE, WORD][perl >> 1];
      if (perl & 1) {
        if (this.fi) throw OUT; // a negated class under (?i): re2js decides
        return negate(r);
      }
      return r;
    }
    const ctl = 'aftnrv'.indexOf(e);
    if (ctl >= 0) return [[7, 12, 9, 10, 13, 11][ctl], [7, 12, 9, 10, 13, 11][ctl]];
    const k = e.charCodeAt(0);
    // Punctuation stands for itself; letters and digits other than the above are RE2 escapes
    // (\x, \p, \Q, octal, …) or errors: re2js decides, but for the common mistakes RE2 names.
    if (k < 128 && !/[0-9A-Za-z]/.test(e)) return [k, k];
    if (/[ceghijklmoquyCEFGHIJKLMNORTUVXYZ]/.test(e)) this.fail(`invalid escape sequence: \`\\${e}\``);
    throw OUT;
  }

  group(): Node {
    const s = this.s;
    this.i++;
    if (++this.depth > MAX_DEPTH) throw OUT;
    const saved = [this.fi, this.fm, this.fs] as const;
    if (s[this.i] === '?') {
      const m = /^\?(?:P?<[A-Za-z_][A-Za-z0-9_]*>|([imsU]*)(?:-([imsU]+))?([:)]))/.exec(s.slice(this.i, this.i + 40));
      if (!m) throw OUT; // look-around, bad names, …: re2js's message (REIN212 names the construct)
      if (m[3] !== undefined) {
        const on = m[1] ?? '';
        const off = m[2] ?? '';
        if (on === '' && off === '' && m[3] === ')') throw OUT; // `(?)`
        for (const f of on) this.flag(f, true);
        for (const f of off) this.flag(f, false);
        this.i += m[0].length;
        if (m[3] === ')') {
          // `(?i)`: the flags hold to the end of the enclosing group.
          this.depth--;
          return { t: 1, xs: [] };
        }
      } else {
        // A name used twice is RE2's error: re2js's message.
        const name = m[0].slice(m[0].indexOf('<') + 1, -1);
        if (this.names.has(name)) throw OUT;
        this.names.add(name);
        this.i += m[0].length;
      }
    }
    const x = this.alt();
    if (s[this.i] !== ')') this.fail(`missing closing ): \`${s}\``);
    this.i++;
    [this.fi, this.fm, this.fs] = saved;
    this.depth--;
    return x;
  }

  flag(f: string, on: boolean): void {
    if (f === 'i') this.fi = on;
    else if (f === 'm') this.fm = on;
    else if (f === 's') this.fs = on;
  }

  cls(): Node {
    const s = this.s;
    const start = this.i;
    this.i++;
    const neg = s[this.i] === '^';
    if (neg) this.i++;
    if (neg && this.fi) throw OUT; // negation after folding: re2js decides
    if (s[this.i] === ']') throw OUT; // `[]…]`, `[^]…]`: a literal `]` first
    const r: number[] = [];
    for (;;) {
      if (this.i >= s.length) this.fail(`missing closing ]: \`${s.slice(start)}\``);
      const c = s[this.i];
      if (c === ']') break;
      if (c === '[' && s[this.i + 1] === ':') throw OUT; // POSIX classes
      const at = this.i;
      const lo = this.clsChar();
      if (lo.length !== 2 || lo[0] !== lo[1]) {
        r.push(...lo);
        continue;
      }
      if (s[this.i] === '-' && s[this.i + 1] !== ']' && this.i + 1 < s.length) {
        this.i++;
        const hi = this.clsChar();
        if (hi.length !== 2 || hi[0] !== hi[1]) throw OUT;
        if (hi[0] < lo[0]) this.fail(`invalid character class range: \`${s.slice(at, this.i)}\``);
        r.push(lo[0], hi[0]);
      } else r.push(...lo);
    }
    this.i++;
    let out = norm(r);
    if (this.fi) out = fold(out);
    return { t: 0, r: neg ? negate(out) : out };
  }

  /** One element of a class: a character (as [c, c]) or an escape's set. */
  clsChar(): number[] {
    const s = this.s;
    if (s[this.i] === '\\') {
      this.i++;
      if (s[this.i] === 'b' || s[this.i] === 'B' || s[this.i] === 'A' || s[this.i] === 'z') throw OUT;
      return this.escape();
    }
    const cp = s.codePointAt(this.i)!;
    this.i += cp > 0xffff ? 2 : 1;
    return [cp, cp];
  }
}

// Instructions: CHAR (a set), SPLIT (x, y), JMP (x), ASSERT (kind), MATCH.
const CHAR = 0;
const SPLIT = 1;
const JMP = 2;
const ASSERT = 3;
const MATCH = 4;

class Prog {
  op: number[] = [];
  x: number[] = [];
  y: number[] = [];
  sets: (number[] | undefined)[] = [];

  emit(op: number, x = 0, y = 0, set?: number[]): number {
    if (this.op.length >= MAX_INSTS) throw OUT;
    this.op.push(op);
    this.x.push(x);
    this.y.push(y);
    this.sets.push(set);
    return this.op.length - 1;
  }

  gen(n: Node): void {
    switch (n.t) {
      case 0:
        this.emit(CHAR, 0, 0, n.r);
        return;
      case 1:
        for (const x of n.xs) this.gen(x);
        return;
      case 2: {
        // SPLIT a, next-split … ; each branch jumps to the end.
        const jumps: number[] = [];
        for (let k = 0; k < n.xs.length; k++) {
          if (k < n.xs.length - 1) {
            const sp = this.emit(SPLIT);
            this.x[sp] = sp + 1;
            this.gen(n.xs[k]);
            jumps.push(this.emit(JMP));
            this.y[sp] = this.op.length;
          } else this.gen(n.xs[k]);
        }
        for (const j of jumps) this.x[j] = this.op.length;
        return;
      }
      case 3: {
        for (let k = 0; k < n.min; k++) this.gen(n.x);
        if (n.max < 0) {
          const sp = this.emit(SPLIT);
          this.x[sp] = sp + 1;
          this.gen(n.x);
          this.emit(JMP, sp);
          this.y[sp] = this.op.length;
        } else {
          const splits: number[] = [];
          for (let k = n.min; k < n.max; k++) {
            const sp = this.emit(SPLIT);
            this.x[sp] = sp + 1;
            splits.push(sp);
            this.gen(n.x);
          }
          for (const sp of splits) this.y[sp] = this.op.length;
        }
        return;
      }
      case 4:
        this.emit(ASSERT, n.a);
    }
  }
}

const isWord = (c: number): boolean => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || c === 95 || (c >= 97 && c <= 122);

function inSet(r: number[], c: number): boolean {
  for (let k = 0; k < r.length; k += 2) {
    if (c < r[k]) return false;
    if (c <= r[k + 1]) return true;
  }
  return false;
}

/** Literals one of which every match contains (a prefilter: `indexOf` before the automaton), or undefined. */
function literals(n: Node): string[] | undefined {
  const better = (a: string[] | undefined, b: string[] | undefined): string[] | undefined =>
    !a ? b : !b ? a : Math.min(...b.map((x) => x.length)) > Math.min(...a.map((x) => x.length)) ? b : a;
  if (n.t === 0) return n.r.length === 2 && n.r[0] === n.r[1] ? [String.fromCodePoint(n.r[0])] : undefined;
  if (n.t === 3) return n.min > 0 ? literals(n.x) : undefined;
  if (n.t === 2) {
    const all = n.xs.map(literals);
    return all.every((l) => l !== undefined) && all.length <= 8 ? ([] as string[]).concat(...(all as string[][])) : undefined;
  }
  if (n.t !== 1) return undefined;
  let best: string[] | undefined;
  let run = '';
  for (const x of n.xs) {
    if (x.t === 0 && x.r.length === 2 && x.r[0] === x.r[1]) run += String.fromCodePoint(x.r[0]);
    else {
      if (run) best = better(best, [run]);
      run = '';
      best = better(best, literals(x));
    }
  }
  return run ? better(best, [run]) : best;
}

/** A matcher for a compiled program: `test(s)` searches `s`, unanchored. */
function matcher(p: Prog, lits: string[] | undefined): PolicyPattern {
  const { op, x, y, sets } = p;
  const n = op.length;
  // ASCII tables of the sets (bit c & 31 of asc[pc][c >> 5]) for the common case.
  const asc = sets.map((r) => {
    if (!r) return undefined;
    const t = new Uint32Array(4);
    for (let c = 0; c < 128; c++) if (inSet(r, c)) t[c >> 5] |= 1 << (c & 31);
    return t;
  });
  const anchored = op[0] === ASSERT && x[0] === BOT;
  // The ASCII characters a match can start with after the text's start (when no other assertion is
  // in the way), to skip to the next candidate position while no state is alive.
  let first: Uint32Array | undefined = anchored ? undefined : new Uint32Array(4);
  {
    const todo = [0];
    const seen = new Set<number>();
    while (todo.length > 0 && first) {
      const pc = todo.pop()!;
      if (seen.has(pc)) continue;
      seen.add(pc);
      const o = op[pc];
      if (o === CHAR) for (let k = 0; k < 4; k++) first[k] |= asc[pc]![k];
      else if (o === JMP) todo.push(x[pc]);
      else if (o === SPLIT) todo.push(x[pc], y[pc]);
      else if (o === MATCH || x[pc] !== BOT) first = undefined;
    }
  }
  let cur = new Int32Array(n);
  let next = new Int32Array(n);
  const mark = new Uint32Array(n);
  const stack = new Int32Array(2 * n + 2);
  let gen = 0;
  // A new generation of marks (cleared before the counter wraps).
  const bump = (): void => {
    if (++gen === 0xffffffff) {
      mark.fill(0);
      gen = 1;
    }
  };
  let s = '';
  /** Adds to `list` (holding `count`) the states reachable from `pc0` without a character, at `pos`
   *  (whose character is `c`, -1 at the end): the new count, or -1 when one of them is MATCH. */
  const add = (list: Int32Array, count: number, pc0: number, pos: number, c: number): number => {
    let sp = 0;
    stack[sp++] = pc0;
    while (sp > 0) {
      const pc = stack[--sp];
      if (mark[pc] === gen) continue;
      mark[pc] = gen;
      const o = op[pc];
      if (o === CHAR) list[count++] = pc;
      else if (o === MATCH) return -1;
      else if (o === JMP) stack[sp++] = x[pc];
      else if (o === SPLIT) {
        stack[sp++] = y[pc];
        stack[sp++] = x[pc];
      } else {
        const a = x[pc];
        // Around the position, as re2js sees it: the code units before and at it.
        const before = pos > 0 ? s.charCodeAt(pos - 1) : -1;
        const ok =
          a === BOT ? pos === 0
          : a === EOT ? c < 0
          : a === BOL ? before < 0 || before === 10
          : a === EOL ? c < 0 || c === 10
          : (isWord(before) !== isWord(c)) === (a === WB);
        if (ok) stack[sp++] = pc + 1;
      }
    }
    return count;
  };
  return {
    test(text: string): boolean {
      // (An anchored search stops early by itself: no prefilter over the whole text.)
      if (!anchored && lits !== undefined && !lits.some((l) => text.includes(l))) return false;
      s = text;
      const len = text.length;
      let pos = 0;
      let c = len > 0 ? text.codePointAt(0)! : -1;
      let nc = 0;
      bump();
      for (;;) {
        if (nc === 0 && first !== undefined && pos > 0) {
          // No state alive: on to the next character a match can start with (any non-ASCII one is a candidate).
          let u = c;
          while (u >= 0 && u < 128 && (first[u >> 5] & (1 << (u & 31))) === 0) u = ++pos < len ? text.charCodeAt(pos) : -1;
          if (u !== c) c = pos < len ? text.codePointAt(pos)! : -1;
        }
        if (!anchored || pos === 0) {
          nc = add(cur, nc, 0, pos, c);
          if (nc < 0) return true;
        }
        if (c < 0 || (nc === 0 && anchored)) return false;
        const pos2 = pos + (c > 0xffff ? 2 : 1);
        const c2 = pos2 < len ? text.codePointAt(pos2)! : -1;
        bump();
        let nn = 0;
        for (let k = 0; k < nc; k++) {
          const pc = cur[k];
          if (c < 128 ? (asc[pc]![c >> 5] & (1 << (c & 31))) !== 0 : inSet(sets[pc]!, c)) {
            nn = add(next, nn, pc + 1, pos2, c2);
            if (nn < 0) return true;
          }
        }
        const t = cur;
        cur = next;
        next = t;
        nc = nn;
        pos = pos2;
        c = c2;
      }
    },
  };
}

/** Compile `pattern` if it is in the subset: a matcher, RE2's error for a pattern RE2 rejects (in the
 *  cases named above), or undefined (outside the subset: re2js decides). */
export function subsetPattern(pattern: string): SubsetResult {
  try {
    const p = new Parser(pattern);
    const node = p.alt();
    if (p.i < pattern.length) p.fail(`unexpected ): \`${pattern}\``);
    const prog = new Prog();
    prog.gen(node);
    prog.emit(MATCH);
    return matcher(prog, literals(node));
  } catch (e) {
    if (e instanceof SyntaxError) return { error: e.message };
    if (e === OUT) return undefined;
    throw e;
  }
}

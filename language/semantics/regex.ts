// A small static analyzer for `matches` patterns (REIN211 / REIN212).
//
// `checkPattern` first validates the pattern with the JavaScript engine (the evaluator runs it as a
// JS RegExp without flags), then parses it into a tiny AST and looks for the shapes that make a
// backtracking engine take exponential (or high-polynomial) time:
//
// 1. Nested variable-length quantifiers where the outer repetition can split the same text in
//    several ways: `(a+)+`, `(a*)*`, `(\w+\s?)*`, `(.*a){5}`. A repetition is only flagged when its
//    body has no mandatory "separator" — an atom that cannot match any character of the inner
//    quantified part — so `(\d+\.){3}` and `(a+b)*` are accepted.
// 2. Alternation under a repetition whose branches can start with the same character:
//    `(a|a)*`, `(a|ab)+`, `(\w|\d)*`.
//
// Limits (documented in docs/diagnostics.md): the analysis is a conservative heuristic over
// ASCII character sets (non-ASCII is one bucket). It does not flag polynomial blow-up from
// adjacent quantifiers (`\d*\d*\d*x`), ambiguity hidden behind back-references or look-arounds,
// and an outer bounded repetition `{n}` only counts when n ≥ 3. It may flag an alternation such as
// `(a|ab)*` that a smarter analysis would accept; rewrite it as `(ab?)*`.

/** 128 ASCII bits plus one bucket for everything else. */
class CharSet {
  bits = new Uint32Array(4);
  other = false;
  static of(fn: (c: number) => boolean, other: boolean): CharSet {
    const s = new CharSet();
    for (let c = 0; c < 128; c++) if (fn(c)) s.add(c);
    s.other = other;
    return s;
  }
  add(c: number): void {
    if (c >= 128) this.other = true;
    else this.bits[c >> 5] |= 1 << (c & 31);
  }
  addRange(a: number, b: number): void {
    for (let c = a; c <= Math.min(b, 127); c++) this.add(c);
    if (b >= 128) this.other = true;
  }
  union(o: CharSet): CharSet {
    const s = new CharSet();
    for (let i = 0; i < 4; i++) s.bits[i] = this.bits[i] | o.bits[i];
    s.other = this.other || o.other;
    return s;
  }
  negate(): CharSet {
    const s = new CharSet();
    for (let i = 0; i < 4; i++) s.bits[i] = ~this.bits[i];
    s.other = true;
    return s;
  }
  overlaps(o: CharSet): boolean {
    for (let i = 0; i < 4; i++) if (this.bits[i] & o.bits[i]) return true;
    return this.other && o.other;
  }
}

const isDigit = (c: number) => c >= 48 && c <= 57;
const isWord = (c: number) => isDigit(c) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
const isSpace = (c: number) => c === 32 || (c >= 9 && c <= 13);
const DIGIT = CharSet.of(isDigit, false);
const WORD = CharSet.of(isWord, false);
const SPACE = CharSet.of(isSpace, true);
const DOT = CharSet.of((c) => c !== 10 && c !== 13, true);
const ALL = CharSet.of(() => true, true);

type RNode =
  | { t: 'empty' }
  | { t: 'char'; set: CharSet }
  | { t: 'seq'; items: RNode[] }
  | { t: 'alt'; branches: RNode[] }
  | { t: 'group'; body: RNode }
  | { t: 'repeat'; body: RNode; min: number; max: number }
  | { t: 'assert' }
  | { t: 'backref' };

class RegexParser {
  private i = 0;
  constructor(private readonly s: string) {}
  parse(): RNode {
    const n = this.disjunction();
    return n;
  }
  private peek(): string {
    return this.s[this.i];
  }
  private disjunction(): RNode {
    const branches = [this.alternative()];
    while (this.peek() === '|') {
      this.i++;
      branches.push(this.alternative());
    }
    return branches.length === 1 ? branches[0] : { t: 'alt', branches };
  }
  private alternative(): RNode {
    const items: RNode[] = [];
    while (this.i < this.s.length && this.peek() !== '|' && this.peek() !== ')') {
      const atom = this.atom();
      items.push(this.quantifier(atom));
    }
    if (items.length === 0) return { t: 'empty' };
    return items.length === 1 ? items[0] : { t: 'seq', items };
  }
  private quantifier(atom: RNode): RNode {
    const c = this.peek();
    let min = -1;
    let max = -1;
    if (c === '*') [min, max] = [0, Infinity];
    else if (c === '+') [min, max] = [1, Infinity];
    else if (c === '?') [min, max] = [0, 1];
    else if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(this.s.slice(this.i));
      if (!m) return atom; // a literal `{` (Annex B)
      min = Number(m[1]);
      max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
      this.i += m[0].length - 1;
    } else return atom;
    this.i++;
    if (this.peek() === '?') this.i++;
    if (atom.t === 'assert') return atom;
    return { t: 'repeat', body: atom, min, max };
  }
  private atom(): RNode {
    const c = this.s[this.i++];
    switch (c) {
      case '^':
      case '$':
        return { t: 'assert' };
      case '.':
        return { t: 'char', set: DOT };
      case '(': {
        let look = false;
        if (this.s.startsWith('?:', this.i)) this.i += 2;
        else if (this.s.startsWith('?=', this.i) || this.s.startsWith('?!', this.i)) {
          this.i += 2;
          look = true;
        } else if (this.s.startsWith('?<=', this.i) || this.s.startsWith('?<!', this.i)) {
          this.i += 3;
          look = true;
        } else if (this.s.startsWith('?<', this.i)) {
          const end = this.s.indexOf('>', this.i);
          this.i = end + 1;
        }
        const body = this.disjunction();
        this.i++; // ')'
        return look ? { t: 'assert' } : { t: 'group', body };
      }
      case '[':
        return { t: 'char', set: this.charClass() };
      case '\\':
        return this.escape(false) as RNode;
      default:
        return { t: 'char', set: single(c.charCodeAt(0)) };
    }
  }
  /** After a backslash. In a class, returns a CharSet via the node. */
  private escape(inClass: boolean): RNode {
    const c = this.s[this.i++];
    switch (c) {
      case 'd':
        return { t: 'char', set: DIGIT };
      case 'D':
        return { t: 'char', set: DIGIT.negate() };
      case 'w':
        return { t: 'char', set: WORD };
      case 'W':
        return { t: 'char', set: WORD.negate() };
      case 's':
        return { t: 'char', set: SPACE };
      case 'S':
        return { t: 'char', set: CharSet.of((x) => !isSpace(x), true) };
      case 'b':
        return inClass ? { t: 'char', set: single(8) } : { t: 'assert' };
      case 'B':
        return { t: 'assert' };
      case 'n':
        return { t: 'char', set: single(10) };
      case 'r':
        return { t: 'char', set: single(13) };
      case 't':
        return { t: 'char', set: single(9) };
      case 'v':
        return { t: 'char', set: single(11) };
      case 'f':
        return { t: 'char', set: single(12) };
      case 'x': {
        const m = /^[0-9a-fA-F]{2}/.exec(this.s.slice(this.i));
        if (m) {
          this.i += 2;
          return { t: 'char', set: single(parseInt(m[0], 16)) };
        }
        return { t: 'char', set: single(120) };
      }
      case 'u': {
        const m = /^[0-9a-fA-F]{4}/.exec(this.s.slice(this.i));
        if (m) {
          this.i += 4;
          return { t: 'char', set: single(parseInt(m[0], 16)) };
        }
        return { t: 'char', set: single(117) };
      }
      case 'c':
        this.i++;
        return { t: 'char', set: ALL };
      case 'k': {
        if (!inClass && this.peek() === '<') {
          this.i = this.s.indexOf('>', this.i) + 1;
          return { t: 'backref' };
        }
        return { t: 'char', set: single(107) };
      }
      default:
        if (c >= '1' && c <= '9' && !inClass) {
          while (isDigit(this.s.charCodeAt(this.i))) this.i++;
          return { t: 'backref' };
        }
        if (c === '0') return { t: 'char', set: single(0) };
        return { t: 'char', set: single(c.charCodeAt(0)) };
    }
  }
  private classAtom(): { set: CharSet; code?: number } {
    const c = this.s[this.i++];
    if (c === '\\') {
      const n = this.escape(true);
      const set = n.t === 'char' ? n.set : ALL;
      let code: number | undefined;
      for (let k = 0; k < 128; k++) if (set.bits[k >> 5] & (1 << (k & 31))) code = code === undefined ? k : -1;
      return { set, code: code !== undefined && code >= 0 && !set.other ? code : undefined };
    }
    const code = c.charCodeAt(0);
    return { set: single(code), code };
  }
  private charClass(): CharSet {
    let neg = false;
    if (this.peek() === '^') {
      neg = true;
      this.i++;
    }
    let set = new CharSet();
    while (this.i < this.s.length && this.peek() !== ']') {
      const a = this.classAtom();
      if (this.peek() === '-' && this.s[this.i + 1] !== ']' && this.i + 1 < this.s.length) {
        this.i++;
        const b = this.classAtom();
        if (a.code !== undefined && b.code !== undefined) {
          const r = new CharSet();
          r.addRange(a.code, b.code);
          set = set.union(r);
        } else {
          set = set.union(a.set).union(b.set).union(single(45));
        }
      } else set = set.union(a.set);
    }
    this.i++; // ']'
    return neg ? set.negate() : set;
  }
}

function single(c: number): CharSet {
  const s = new CharSet();
  s.add(c);
  return s;
}

function nullable(n: RNode): boolean {
  switch (n.t) {
    case 'empty':
    case 'assert':
    case 'backref':
      return true;
    case 'char':
      return false;
    case 'seq':
      return n.items.every(nullable);
    case 'alt':
      return n.branches.some(nullable);
    case 'group':
      return nullable(n.body);
    case 'repeat':
      return n.min === 0 || nullable(n.body);
  }
}

/** Characters a match can start with. */
function first(n: RNode): CharSet {
  switch (n.t) {
    case 'empty':
    case 'assert':
      return new CharSet();
    case 'backref':
      return ALL;
    case 'char':
      return n.set;
    case 'seq': {
      let s = new CharSet();
      for (const it of n.items) {
        s = s.union(first(it));
        if (!nullable(it)) break;
      }
      return s;
    }
    case 'alt':
      return n.branches.reduce((s, b) => s.union(first(b)), new CharSet());
    case 'group':
    case 'repeat':
      return first(n.body);
  }
}

/** Every character that can occur in a match. */
function chars(n: RNode): CharSet {
  switch (n.t) {
    case 'empty':
    case 'assert':
      return new CharSet();
    case 'backref':
      return ALL;
    case 'char':
      return n.set;
    case 'seq':
      return n.items.reduce((s, b) => s.union(chars(b)), new CharSet());
    case 'alt':
      return n.branches.reduce((s, b) => s.union(chars(b)), new CharSet());
    case 'group':
    case 'repeat':
      return chars(n.body);
  }
}

/** True when every way through `n` must match a character outside `s` (outside the `skip` subtree). */
function hasSeparator(n: RNode, skip: RNode, s: CharSet): boolean {
  if (n === skip) return false;
  switch (n.t) {
    case 'char':
      return !n.set.overlaps(s);
    case 'seq':
      return n.items.some((it) => !nullable(it) && hasSeparator(it, skip, s));
    case 'alt':
      return n.branches.every((b) => hasSeparator(b, skip, s));
    case 'group':
      return hasSeparator(n.body, skip, s);
    case 'repeat':
      return n.min >= 1 && hasSeparator(n.body, skip, s);
    default:
      return false;
  }
}

function children(n: RNode): RNode[] {
  switch (n.t) {
    case 'seq':
      return n.items;
    case 'alt':
      return n.branches;
    case 'group':
    case 'repeat':
      return [n.body];
    default:
      return [];
  }
}

function findInner(n: RNode, pred: (x: RNode) => boolean, out: RNode[]): void {
  for (const c of children(n)) {
    if (pred(c)) out.push(c);
    findInner(c, pred, out);
  }
}

/** Why the pattern may backtrack catastrophically, or undefined. */
function analyze(root: RNode): string | undefined {
  const all: RNode[] = [root];
  findInner(root, () => true, all);
  for (const r of all) {
    if (r.t !== 'repeat') continue;
    if (!(r.max === Infinity || r.max >= 3)) continue;
    const inner: RNode[] = [];
    findInner(r.body, (x) => x.t === 'repeat' && x.max > 1 && x.max > x.min, inner);
    for (const i of inner) {
      if (i.t !== 'repeat') continue;
      if (!hasSeparator(r.body, i, chars(i.body))) return 'a repeated group contains another repetition that can match the same text';
    }
    if (r.max === Infinity) {
      const alts: RNode[] = [];
      if (r.body.t === 'alt') alts.push(r.body);
      findInner(r.body, (x) => x.t === 'alt', alts);
      for (const a of alts) {
        if (a.t !== 'alt') continue;
        const firsts = a.branches.map(first);
        for (let x = 0; x < firsts.length; x++)
          for (let y = x + 1; y < firsts.length; y++)
            if (firsts[x].overlaps(firsts[y])) return 'a repeated alternation has branches that can match the same text';
      }
    }
  }
  return undefined;
}

export type PatternProblem = { code: 'REIN211' | 'REIN212'; message: string };

/** Validate a `matches` pattern: syntax (REIN211) and catastrophic backtracking (REIN212). */
export function checkPattern(pattern: string): PatternProblem | undefined {
  try {
    new RegExp(pattern);
  } catch (e) {
    const msg = e instanceof Error ? e.message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '') : String(e);
    return { code: 'REIN211', message: `invalid regular expression: ${msg.charAt(0).toLowerCase()}${msg.slice(1)}` };
  }
  let why: string | undefined;
  try {
    why = analyze(new RegexParser(pattern).parse());
  } catch {
    why = undefined;
  }
  return why ? { code: 'REIN212', message: `regular expression may backtrack catastrophically: ${why}` } : undefined;
}

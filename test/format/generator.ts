// A random generator of syntactically valid Rein programs with random layout: random spacing,
// newlines, indentation and comments between tokens. Used by the formatter's property tests.
// Programs need not type-check: the formatter only needs them to parse.

import { rng, type Rng } from '../helpers/prng.js';
export { rng, type Rng };

/** A token, or a group of tokens. */
type Tok = string | Tok[];
/** A forced line break (declarations start on their own line). */
const NL = '\n';

class Gen {
  private n = 0;
  constructor(private readonly r: Rng) {}

  int(n: number): number {
    return Math.floor(this.r() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }
  chance(p: number): boolean {
    return this.r() < p;
  }

  // ------------------------------------------------------------ tokens → text

  /** Joins tokens with random whitespace and comments between them. */
  render(toks: Tok): string {
    const flat: string[] = [];
    const walk = (t: Tok) => (Array.isArray(t) ? t.forEach(walk) : flat.push(t));
    walk(toks);
    let out = '';
    let sep = false;
    for (const t of flat) {
      if (t === NL) {
        out += '\n';
        sep = false;
        continue;
      }
      if (t.startsWith('///')) {
        // a doc comment sits on its own line directly above what it documents
        out += (out === '' || out.endsWith('\n') ? '' : '\n') + t + '\n';
        sep = false;
        continue;
      }
      if (sep) out += this.separator();
      out += t;
      sep = true;
    }
    return out + this.pick(['', '\n', '\n\n', '  \n']);
  }

  private separator(): string {
    const x = this.r();
    if (x < 0.55) return ' ';
    if (x < 0.65) return '\n' + ' '.repeat(this.int(6));
    if (x < 0.7) return '\n\n' + ' '.repeat(this.int(4));
    if (x < 0.75) return '\t';
    if (x < 0.83) return ` /* c${this.n++} */ `;
    if (x < 0.9) return ` // c${this.n++}\n` + ' '.repeat(this.int(4));
    if (x < 0.93) return `\n// own c${this.n++}\n`;
    return '   ';
  }

  // ------------------------------------------------------------ names, literals

  /**
   * A name. Contextual keywords (`limit`, `type`, …) are valid names, but the parser reads a clause
   * keyword on a new line as the next clause, so random line breaks would make them invalid: they
   * appear only as field names (with a suffix) and after `.`.
   */
  word(): string {
    return this.pick(['a', 'b', 'tool', 'kind', 'x1', 'data', 'amount', 'team']);
  }
  member(): string {
    return this.pick(['a', 'tool', 'kind', 'limit', 'type', 'request', 'default', 'deny']);
  }
  decl(prefix: string): string {
    return `${prefix}${this.n++}`;
  }
  literal(): string {
    return this.pick([
      '0',
      '1_000',
      '0.5',
      '2e3',
      '$0.50',
      '$1_000',
      '$49',
      '80%',
      '5%',
      '500ms',
      '30s',
      '5m',
      '7d',
      'true',
      'false',
      'null',
      '"plain"',
      '"esc \\" \\n \\u00E9 \\$"',
      '"a `code` b"',
    ]);
  }
  /** A string with interpolations (one token: no comments or newlines inside). */
  interpString(depth: number): string {
    const sp = () => this.pick(['', ' ', '  ']);
    const inner = () => this.render0(this.expr(Math.max(0, depth - 2), true));
    const n = 1 + this.int(2);
    let s = '"';
    for (let i = 0; i < n; i++) s += `t${i} \${${sp()}${inner()}${sp()}} `;
    return s + 'end"';
  }
  /** Tokens joined with single spaces or nothing (for inside string interpolations). */
  private render0(t: Tok): string {
    const flat: string[] = [];
    const walk = (x: Tok) => (Array.isArray(x) ? x.forEach(walk) : flat.push(x));
    walk(t);
    return flat.join(' ');
  }
  str(): string {
    return this.chance(0.7) ? this.pick(['"m"', '"a message"', '"esc \\"q\\""']) : this.interpString(2);
  }

  // ------------------------------------------------------------ expressions

  /** An operand of an operator: `not …` and `if …` need parentheses there. */
  operand(depth: number, inString: boolean): Tok {
    const e = this.expr(depth, inString);
    const first = firstToken(e);
    return first === 'not' || first === 'if' || first === '-' ? ['(', e, ')'] : e;
  }

  expr(depth: number, inString = false): Tok {
    if (depth <= 0) return this.chance(0.5) ? this.literal() : this.word();
    const k = this.int(14);
    switch (k) {
      case 0:
        return this.literal();
      case 1:
        return [this.operand(depth - 1, inString), '.', this.member()];
      case 2: {
        const args: Tok[] = [];
        const n = this.int(3);
        for (let i = 0; i < n; i++) args.push(i > 0 ? [',', this.expr(depth - 1, inString)] : this.expr(depth - 1, inString));
        return [this.pick(['len', 'min', 'max', 'pii.email', 'secrets.any', 'f']), '(', args, ')'];
      }
      case 3: {
        const items: Tok[] = [];
        const n = this.int(5);
        for (let i = 0; i < n; i++) items.push(i > 0 ? [',', this.expr(depth - 1, inString)] : this.expr(depth - 1, inString));
        if (n > 0 && this.chance(0.3)) items.push(',');
        return ['[', items, ']'];
      }
      case 4: {
        const entries: Tok[] = [];
        const n = this.int(4);
        for (let i = 0; i < n; i++) {
          const key = this.chance(0.8) ? this.word() + i : `"k ${i}"`;
          entries.push([i > 0 ? ',' : [], key, ':', this.expr(depth - 1, inString)]);
        }
        if (n > 0 && this.chance(0.3)) entries.push(',');
        return ['{', entries, '}'];
      }
      case 5:
      case 6:
      case 7: {
        const op = this.pick(['or', 'and', '==', '!=', '<', '<=', '>', '>=', 'in', 'not in', 'with', '??', '+', '-', '*', '/', '%']);
        const opToks = op === 'not in' ? ['not', 'in'] : [op];
        return [this.operand(depth - 1, inString), opToks, this.operand(depth - 1, inString)];
      }
      case 8:
        return this.chance(0.5) ? ['not', this.operand(depth - 1, inString)] : ['-', this.operand(depth - 1, inString)];
      case 9:
        return ['(', this.expr(depth - 1, inString), ')'];
      case 10:
        return ['if', this.expr(depth - 1, inString), 'then', this.expr(depth - 1, inString), 'else', this.expr(depth - 1, inString)];
      case 11: {
        const method = this.pick(['any', 'all', 'count', 'filter', 'map']);
        const p = this.pick(['x', 's', 'r']);
        return [this.word(), '.', method, '(', p, '=>', this.expr(depth - 1, inString), ')'];
      }
      case 12:
        return [this.word(), '[', this.expr(depth - 1, inString), ']'];
      default:
        return inString ? this.word() : this.chance(0.5) ? this.interpString(depth) : [this.word(), 'matches', '"^[a-z]+$"'];
    }
  }

  // ------------------------------------------------------------ types

  type(depth: number): Tok {
    const k = depth <= 0 ? this.int(2) : this.int(5);
    switch (k) {
      case 0:
        return this.pick(['string', 'int', 'number', 'bool', 'money', 'duration', 'time', 'any', 'Step']);
      case 1:
        return [this.pick(['list', 'map']), '<', this.pick(['string', 'int', 'Step']), '>'];
      case 2:
        return ['"a"', '|', '"b"', this.chance(0.5) ? ['|', '"c"'] : []];
      default: {
        const fields: Tok[] = [];
        const n = 1 + this.int(4);
        for (let i = 0; i < n; i++) fields.push([this.word() + i, this.chance(0.3) ? '?' : [], ':', this.type(depth - 1), this.chance(0.5) ? ',' : []]);
        return ['{', fields, '}'];
      }
    }
  }

  // ------------------------------------------------------------ declarations

  annotations(doc = true): Tok {
    const out: Tok[] = [];
    if (doc && this.chance(0.2)) out.push(`/// doc ${this.n++}`);
    const n = this.chance(0.3) ? 1 + this.int(2) : 0;
    for (let i = 0; i < n; i++) out.push(this.chance(0.5) ? '@monitor' : this.pick(['@owner("team")', '@owner( "team" )']));
    return out;
  }

  effect(): Tok {
    switch (this.int(4)) {
      case 0:
        return ['deny', this.chance(0.7) ? this.str() : []];
      case 1:
        return ['require', 'approval', this.chance(0.6) ? ['from', this.pick(['"lead"', 'agent.team'])] : [], this.chance(0.5) ? this.str() : []];
      case 2:
        return ['warn', this.chance(0.7) ? this.str() : []];
      default:
        return ['allow', this.chance(0.3) ? this.str() : []];
    }
  }

  declaration(): Tok {
    const anns = this.annotations();
    switch (this.int(7)) {
      case 0:
        return [anns, 'let', this.decl('l'), this.chance(0.3) ? [':', this.type(1)] : [], '=', this.expr(3)];
      case 1: {
        const params: Tok[] = [];
        const n = this.int(3);
        for (let i = 0; i < n; i++) params.push([i > 0 ? ',' : [], `p${i}`, this.chance(0.7) ? [':', this.type(0)] : []]);
        return [anns, 'def', this.decl('d'), '(', params, ')', this.chance(0.3) ? [':', this.type(0)] : [], '=', this.expr(3)];
      }
      case 2:
        // no `///` here: the parser also gives a type's doc to a field on the declaration's line,
        // and formatting moves fields to their own lines (reported to the parser's owner)
        return [this.annotations(false), 'type', this.decl('T'), '=', this.type(2)];
      case 3: {
        const body: Tok[] = [];
        const n = this.int(3);
        for (let i = 0; i < n; i++) body.push([this.pick(['when', 'unless']), this.expr(3)]);
        body.splice(this.int(body.length + 1), 0, this.effect());
        return [anns, 'rule', this.decl('r'), '{', body, '}'];
      }
      case 4: {
        const items: Tok[] = [
          ['limit', this.pick(['$50', '30', '10']), this.chance(0.7) ? ['per', this.pick(['minute', 'hour', 'day', 'week', 'month', 'request', '15m'])] : []],
          ['charge', this.expr(2)],
        ];
        if (this.chance(0.6)) items.push(['by', this.expr(1), this.chance(0.4) ? [',', this.expr(1)] : []]);
        if (this.chance(0.5)) items.push([this.pick(['when', 'unless']), this.expr(2)]);
        if (this.chance(0.4)) items.push(['warn', 'at', this.pick(['80%', '50%'])]);
        if (this.chance(0.6)) items.push(['on', 'exceed', this.effect()]);
        return [anns, 'budget', this.decl('b'), '{', items, '}'];
      }
      case 5: {
        const items: Tok[] = [['given', this.expr(3)]];
        if (this.chance(0.4)) items.push(['spent', 'b1', '=', this.pick(['$49', '3'])]);
        if (this.chance(0.3)) items.push(['at', '"2026-01-05T10:00:00Z"']);
        if (this.chance(0.3)) items.push(['approved', 'r1', this.chance(0.5) ? [',', 'r2'] : []]);
        items.push(['expect', this.pick(['allow', 'deny', 'require_approval']), this.chance(0.5) ? ['by', 'r1', this.chance(0.5) ? [',', 'b2'] : []] : []]);
        if (this.chance(0.4)) items.push(['expect', 'warnings', this.chance(0.5) ? 'none' : ['b1', ',', 'b2']]);
        return [anns, 'test', `"test ${this.n++}"`, '{', items, '}'];
      }
      default:
        return [anns, 'let', this.decl('l'), '=', this.expr(4)];
    }
  }

  program(): Tok {
    const decls: Tok[] = [];
    if (this.chance(0.3)) {
      decls.push(['policy', 'p', '{', 'version', '"1.0.0"', 'default', this.pick(['allow', 'deny']), 'on', 'error', 'deny', '}']);
    }
    const fields: Tok[] = [];
    const n = 1 + this.int(3);
    for (let i = 0; i < n; i++) fields.push([this.word() + i, this.chance(0.3) ? '?' : [], ':', this.type(2)]);
    decls.push(['input', '{', fields, '}']);
    const m = 1 + this.int(5);
    for (let i = 0; i < m; i++) decls.push([NL, this.declaration()]);
    return decls;
  }
}

function firstToken(t: Tok): string | undefined {
  if (!Array.isArray(t)) return t;
  for (const x of t) {
    const f = firstToken(x);
    if (f !== undefined) return f;
  }
  return undefined;
}

/** A random valid program with random layout and comments. */
export function randomProgram(seed: number): string {
  const g = new Gen(rng(seed));
  // line comments must end their line: the separator after `// …` always has a newline; a doc
  // comment token carries its own newline
  return g.render(g.program());
}

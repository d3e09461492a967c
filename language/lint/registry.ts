// The lint registry (Langium-style validation registry): each rule is a module that registers for
// the AST node kinds it inspects and reports through an acceptor. `runLint` walks the program once
// and dispatches every node to the rules registered for its kind; `finish` hooks run after the walk
// for whole-program rules (unused declarations, duplicate conditions).

import type * as A from '../syntax/ast.js';
import { CODES, type Diagnostic, type DiagnosticData, type Range } from '../diagnostics.js';
import type { CheckedProgram } from '../semantics/program.js';

export type LintCode = 'REIN300' | 'REIN301' | 'REIN302' | 'REIN303' | 'REIN304';

/** Node kinds the walker dispatches: every declaration, rule body item and budget item. */
export type LintNode = A.Decl | A.Condition | A.EffectClause | A.BudgetItem | A.TestItem;
export type LintNodeKind = LintNode['kind'];

export interface LintContext {
  program: CheckedProgram;
  /** The file of the node being inspected. */
  file: string;
}

export interface Report {
  range: Range;
  message: string;
  /** Defaults to the file of the node being inspected. */
  file?: string;
  help?: string;
  data?: DiagnosticData;
  related?: Diagnostic['related'];
}

export type Accept = (report: Report) => void;

export interface LintRule {
  code: LintCode;
  /** kebab-case name, usable in `rein.json` instead of the code. */
  name: string;
  /** One line, shown by docs and `rein.json` errors. */
  description: string;
  /** Node kinds this rule inspects. */
  kinds: LintNodeKind[];
  /** Called for every node of a registered kind; `state` is per run (fresh for each check). */
  check?(node: LintNode, ctx: LintContext, accept: Accept, state: Map<string, unknown>): void;
  /** Called once after the walk. */
  finish?(ctx: LintContext, accept: Accept, state: Map<string, unknown>): void;
}

export class LintRegistry {
  private readonly rules: LintRule[] = [];
  private readonly byKind = new Map<string, LintRule[]>();

  register(...rules: LintRule[]): this {
    for (const r of rules) {
      this.rules.push(r);
      for (const k of r.kinds) {
        let list = this.byKind.get(k);
        if (!list) this.byKind.set(k, (list = []));
        list.push(r);
      }
    }
    return this;
  }

  all(): readonly LintRule[] {
    return this.rules;
  }

  /** Find a rule by code or by name. */
  find(key: string): LintRule | undefined {
    return this.rules.find((r) => r.code === key || r.name === key);
  }

  run(program: CheckedProgram): Diagnostic[] {
    const out: Diagnostic[] = [];
    const states = new Map<LintRule, Map<string, unknown>>();
    const stateOf = (r: LintRule) => {
      let s = states.get(r);
      if (!s) states.set(r, (s = new Map()));
      return s;
    };
    const acceptFor = (rule: LintRule, ctx: LintContext): Accept => (rep) => {
      const d: Diagnostic = {
        file: rep.file ?? ctx.file,
        range: rep.range,
        severity: CODES[rule.code].severity,
        code: rule.code,
        message: rep.message,
      };
      if (rep.help) d.help = rep.help;
      if (rep.data) d.data = rep.data;
      if (rep.related) d.related = rep.related;
      out.push(d);
    };
    const visit = (node: LintNode, ctx: LintContext) => {
      const rules = this.byKind.get(node.kind);
      if (rules) for (const r of rules) r.check?.(node, ctx, acceptFor(r, ctx), stateOf(r));
    };
    for (const f of program.files) {
      const ctx: LintContext = { program, file: f.file };
      for (const d of f.decls) {
        visit(d, ctx);
        if (d.kind === 'RuleDecl') for (const it of d.body) visit(it, ctx);
        else if (d.kind === 'BudgetDecl')
          for (const it of d.items) {
            visit(it, ctx);
            if (it.kind === 'OnExceed' && it.effect) visit(it.effect, ctx);
          }
        else if (d.kind === 'TestDecl') for (const it of d.items) visit(it, ctx);
      }
    }
    const first = program.files[0]?.file ?? '';
    for (const r of this.rules) r.finish?.({ program, file: first }, acceptFor(r, { program, file: first }), stateOf(r));
    return out;
  }
}

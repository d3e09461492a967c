// The lint registry (Langium-style validation registry): each rule is a module that registers for
// the AST node kinds it inspects and reports through an acceptor. `runLint` walks the program once
// and dispatches every node to the rules registered for its kind; `finish` hooks run after the walk
// for whole-program rules (unused declarations, duplicate conditions).

import type * as A from '../syntax/ast.js';
import { SEVERITIES, type Diagnostic, type DiagnosticData, type Range } from '../diagnostics.js';
import { walkExpr } from '../semantics/expr-walk.js';
import type { CheckedProgram } from '../semantics/program.js';

export type LintCode = 'REIN300' | 'REIN301' | 'REIN302' | 'REIN303' | 'REIN304' | 'REIN307' | 'REIN340';

/** Node kinds the walker dispatches: declarations, rule/budget/test items and expressions. */
export type LintNode = A.Decl | A.Condition | A.EffectClause | A.BudgetItem | A.TestItem | A.Expr;
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
  /** True when some rule inspects expressions (otherwise expressions are not walked at all). */
  private wantsExpressions = false;

  register(...rules: LintRule[]): this {
    for (const r of rules) {
      this.rules.push(r);
      for (const k of r.kinds) {
        let list = this.byKind.get(k);
        if (!list) this.byKind.set(k, (list = []));
        list.push(r);
        if (EXPR_KINDS.has(k)) this.wantsExpressions = true;
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
        severity: SEVERITIES[rule.code],
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
    const exprs = (e: A.Expr | undefined, ctx: LintContext) => {
      if (this.wantsExpressions && e) walkExpr(e, (x) => visit(x, ctx));
    };
    const message = (m: A.StringLit | undefined, ctx: LintContext) => exprs(m, ctx);
    const effect = (it: A.EffectClause, ctx: LintContext) => {
      visit(it, ctx);
      if (it.kind === 'RequireApproval') exprs(it.from, ctx);
      message(it.message, ctx);
    };
    for (const f of program.files) {
      const ctx: LintContext = { program, file: f.file };
      for (const d of f.decls) {
        visit(d, ctx);
        switch (d.kind) {
          case 'RuleDecl':
            for (const it of d.body) {
              if (it.kind === 'When' || it.kind === 'Unless') {
                visit(it, ctx);
                exprs((it as A.Condition).expr, ctx);
              } else effect(it as A.EffectClause, ctx);
            }
            break;
          case 'BudgetDecl':
            for (const it of d.items) {
              visit(it, ctx);
              if (it.kind === 'OnExceed') {
                if (it.effect) effect(it.effect, ctx);
              } else if (it.kind === 'Limit') exprs(it.amount, ctx);
              else if (it.kind === 'Charge' || it.kind === 'When' || it.kind === 'Unless') exprs(it.expr, ctx);
              else if (it.kind === 'By') for (const k of it.keys) exprs(k, ctx);
              else if (it.kind === 'WarnAt') exprs(it.threshold, ctx);
            }
            break;
          case 'TestDecl':
            for (const it of d.items) {
              visit(it, ctx);
              if (it.kind === 'Given') exprs(it.expr, ctx);
              else if (it.kind === 'Spent') exprs(it.amount, ctx);
            }
            break;
          case 'LetDecl':
            exprs(d.value, ctx);
            break;
          case 'DefDecl':
            exprs(d.body, ctx);
            break;
        }
      }
    }
    const first = program.files[0]?.file ?? '';
    for (const r of this.rules) r.finish?.({ program, file: first }, acceptFor(r, { program, file: first }), stateOf(r));
    return out;
  }
}

const EXPR_KINDS = new Set<string>([
  'Number', 'Money', 'Duration', 'Percent', 'String', 'Bool', 'Null', 'List', 'Object', 'NameRef',
  'Member', 'Index', 'Call', 'Lambda', 'Unary', 'Binary', 'If', 'Paren', 'Error',
]);

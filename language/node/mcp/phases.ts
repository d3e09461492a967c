// What a policy can do in each MCP phase, read once per policy from its expression IR (ir.ts), so the
// gateway skips work a policy cannot need:
//
//   - `canMatch.result` false: no rule and no budget can match a `result`-phase request. With a
//     default of `allow` such a decision is always a plain allow, so the gateway does not make it
//     (gateway.ts `resultDecisionNeeded`: the first one per policy is still made, and must be clean).
//   - `listStable`: the `list`-phase decision of a tool depends only on the request (no budget can
//     match the list phase, and no rule that can reads the time or a budget), so a session's decision
//     for a tool stays valid until the policy or the tool changes; a tools/call checks it without
//     deciding again.
//
// A rule or budget "cannot match" phase P when, reading its `when` conditions in the order they are
// evaluated (the `and` operands of every `when`, in source order), one of them is false whenever
// `phase == P` (`phase == "call"`, `phase != "result"`, `phase in ["list", "call"]`, `not …`), and
// every condition before it can neither fail nor depend on anything but the request (reads,
// constants, `==`, `in` over constants, `and`/`or`/`not`/`??`). Anything else counts as "can match":
// the analysis is conservative, never wrong the other way.

import type { Node, IrProgram } from '../../runtime/ir.js';
import { childNodes, conjuncts } from '../../runtime/ir.js';
import type { McpPhase } from './schema.js';
import { EFFECTS } from '../../runtime/effects.js';

export interface PhaseFacts {
  /** Whether some rule or budget can match a request of each phase. */
  canMatch: Record<McpPhase, boolean>;
  /** The list-phase decision is a function of the request alone (no budget, time or budget view). */
  listStable: boolean;
}

const ALL: PhaseFacts = Object.freeze({ canMatch: Object.freeze({ list: true, call: true, result: true }), listStable: false }) as PhaseFacts;

const memo = new WeakMap<object, PhaseFacts>();

/** The facts of a compiled policy (memoised per IR); everything "can match" without an IR. */
export function phaseFacts(ir: IrProgram | undefined): PhaseFacts {
  if (!ir) return ALL;
  let f = memo.get(ir);
  if (!f) {
    f = analyse(ir);
    memo.set(ir, f);
  }
  return f;
}

function analyse(ir: IrProgram): PhaseFacts {
  const phases: McpPhase[] = ['list', 'call', 'result'];
  const canMatch = { list: false, call: false, result: false };
  for (const p of phases) {
    canMatch[p] =
      ir.rules.some((r) => !excluded(whensOf(r), p)) ||
      ir.budgets.some((b) => !excluded(b.whens, p));
  }
  const listRules = ir.rules.filter((r) => !excluded(whensOf(r), 'list'));
  const listBudgets = ir.budgets.filter((b) => !excluded(b.whens, 'list'));
  const seen = { lets: new Set<number>(), defs: new Set<number>() };
  const impure = (n: Node | undefined): boolean => n !== undefined && readsState(n, ir, seen);
  const listStable =
    listBudgets.length === 0 && !listRules.some((r) => r.clauses.some((c) => impure(c.expr)) || impure(r.message) || impure(r.from));
  return { canMatch, listStable };
}

/**
 * The rules that ask for approval and can match only the `list` phase: a list has nobody to ask, and
 * such a rule never applies to a call (`rein mcp` warns about each at start).
 */
export function listOnlyApprovals(ir: IrProgram | undefined): string[] {
  if (!ir) return [];
  return ir.rules
    .filter((r) => EFFECTS[r.effect].approval)
    .filter((r) => {
      const whens = whensOf(r);
      return !excluded(whens, 'list') && excluded(whens, 'call') && excluded(whens, 'result');
    })
    .map((r) => r.name);
}

/** A rule's `when` conditions (`unless` clauses are not analysed). */
const whensOf = (r: IrProgram['rules'][number]): Node[] => r.clauses.filter((c) => c.kind === 'when').map((c) => c.expr);

/** True when the conditions (evaluated in this order) are certainly not all true when `phase == p`. */
function excluded(whens: Node[], p: McpPhase): boolean {
  for (const w of whens) {
    for (const c of conjuncts(w)) {
      if (underPhase(c, p) === false) return true;
      if (!harmless(c)) return false;
    }
  }
  return false;
}

/** The value of a condition when `phase == p`: true, false, or undefined (depends on more). */
function underPhase(n: Node, p: McpPhase): boolean | undefined {
  switch (n.k) {
    case 'const':
      return typeof n.v === 'boolean' ? n.v : undefined;
    case 'not': {
      const x = underPhase(n.x, p);
      return x === undefined ? undefined : !x;
    }
    case 'and': {
      const l = underPhase(n.l, p);
      const r = underPhase(n.r, p);
      if (l === false || r === false) return false;
      return l === true && r === true ? true : undefined;
    }
    case 'or': {
      const l = underPhase(n.l, p);
      const r = underPhase(n.r, p);
      if (l === true || r === true) return true;
      return l === false && r === false ? false : undefined;
    }
    case 'eq': {
      const v = isPhase(n.l) ? constOf(n.r) : isPhase(n.r) ? constOf(n.l) : undefined;
      if (v === undefined) return undefined;
      return (v === p) !== n.neg;
    }
    case 'in': {
      if (!isPhase(n.l)) return undefined;
      const list = constList(n.r);
      if (list === undefined) return undefined;
      return list.includes(p) !== n.neg;
    }
    default:
      return undefined;
  }
}

const isPhase = (n: Node) => n.k === 'read' && n.root === 'phase' && n.keys.length === 0;

function constOf(n: Node): unknown {
  return n.k === 'const' ? n.v : undefined;
}

function constList(n: Node): unknown[] | undefined {
  if (n.k === 'const' && Array.isArray(n.v)) return n.v;
  if (n.k === 'list' && n.items.every((i) => i.k === 'const')) return n.items.map((i) => (i as { v: unknown }).v);
  return undefined;
}

/** A condition that can neither fail nor read anything but the request (reads return null when absent). */
function harmless(n: Node): boolean {
  switch (n.k) {
    case 'const':
    case 'read':
      return true;
    case 'not':
      return harmless(n.x);
    case 'and':
    case 'or':
    case 'coalesce':
      return harmless(n.l) && harmless(n.r);
    case 'eq':
      return harmless(n.l) && harmless(n.r);
    case 'in':
      return harmless(n.l) && constList(n.r) !== undefined;
    case 'list':
      return n.items.every(harmless);
    default:
      return false;
  }
}

/** Whether an expression reads the time, a budget or an extern (a host function: a kill switch, an
 *  allowlist service — what it answers can change between calls, and it can fail once and recover),
 *  here or in a let or def it uses. */
function readsState(n: Node, ir: IrProgram, seen: { lets: Set<number>; defs: Set<number> }): boolean {
  switch (n.k) {
    case 'now':
    case 'budget':
    case 'budgetField':
    case 'extern':
      return true;
    case 'let':
      if (seen.lets.has(n.i)) return false;
      seen.lets.add(n.i);
      return readsState(ir.lets[n.i].body, ir, seen);
    case 'def':
      if (!seen.defs.has(n.i)) {
        seen.defs.add(n.i);
        if (readsState(ir.defs[n.i].body, ir, seen)) return true;
      }
      return n.args.some((a) => readsState(a, ir, seen));
    case 'call':
      // hour(…)/weekday(…) of a time read from the request are pure; `now` is caught above.
      return n.args.some((a) => readsState(a, ir, seen));
    default:
      return childNodes(n).some((c) => readsState(c, ir, seen));
  }
}
